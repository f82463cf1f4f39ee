/**
 * The resource quota controller against in-memory informers and a scripted API (no sockets).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceQuotaController } from './controller.js';

class FakeInformer {
  readonly items = new Map<string, any>();
  readonly handlers: any[] = [];
  addHandlers(h: any): void {
    this.handlers.push(h);
  }
  get(k: string) {
    return this.items.get(k);
  }
  list() {
    return [...this.items.values()];
  }
}

function setup(hard: Record<string, string>, status?: any) {
  const quotas = new FakeInformer();
  const pods = new FakeInformer();
  const services = new FakeInformer();
  const writes: any[] = [];
  const gets: string[] = [];
  const configmaps = [{ metadata: { name: 'a', namespace: 'ns' } }, { metadata: { name: 'b', namespace: 'ns' } }];
  quotas.items.set('ns/rq', { metadata: { name: 'rq', namespace: 'ns', resourceVersion: '3' }, spec: { hard }, status });
  const client = {
    async get(p: string) {
      gets.push(p);
      if (p === '/api/v1/namespaces/ns/configmaps') return { items: configmaps };
      if (p === '/apis/apps') return { preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } };
      if (p === '/apis/apps/v1/namespaces/ns/deployments') return { items: [{ metadata: { name: 'd', namespace: 'ns' } }] };
      throw Object.assign(new Error('not found'), { status: 404 });
    },
    async update(p: string, body: any) {
      writes.push([p, structuredClone(body.status)]);
      return body;
    },
  };
  const ctx: any = {
    client,
    informers: { for: (ref: any) => ({ resourcequotas: quotas, pods, services })[ref.resource as 'pods'] },
    recorder: () => ({ event: () => undefined }),
    clock: { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined },
    identity: 't',
    log: () => undefined,
  };
  const c = new ResourceQuotaController(ctx);
  const sync = () => (c as any).reconcile('ns/rq');
  const pod = (name: string, memory: string, phase = 'Running', ns = 'ns') => ({
    metadata: { name, namespace: ns },
    spec: { containers: [{ name: 'c', resources: { limits: { memory } } }] },
    status: { phase },
  });
  return { c, sync, quotas, pods, services, writes, gets, pod };
}

test('recounts used after deletions and finished pods, in the quantities\' format', async () => {
  const f = setup({ pods: '5', 'limits.memory': '1Gi' }, { hard: { pods: '5', 'limits.memory': '1Gi' }, used: { pods: '3', 'limits.memory': '384Mi' } });
  f.pods.items.set('ns/a', f.pod('a', '128Mi'));
  f.pods.items.set('ns/b', f.pod('b', '128Mi', 'Succeeded'));
  f.pods.items.set('other/c', f.pod('c', '128Mi', 'Running', 'other'));
  await f.sync();
  assert.deepEqual(f.writes, [['/api/v1/namespaces/ns/resourcequotas/rq/status', { hard: { pods: '5', 'limits.memory': '1Gi' }, used: { pods: '1', 'limits.memory': '128Mi' } }]]);
});

test('writes nothing when status already says the same amounts, in any format', async () => {
  const f = setup({ 'limits.memory': '1Gi' }, { hard: { 'limits.memory': '1024Mi' }, used: { 'limits.memory': '134217728' } });
  f.pods.items.set('ns/a', f.pod('a', '128Mi'));
  await f.sync();
  assert.deepEqual(f.writes, []);
});

test('takes a changed spec.hard into status', async () => {
  const f = setup({ pods: '10' }, { hard: { pods: '2' }, used: { pods: '0' } });
  await f.sync();
  assert.deepEqual(f.writes.map((w) => w[1]), [{ hard: { pods: '10' }, used: { pods: '0' } }]);
});

test('lists the objects of other counted resources, by their group\'s preferred version', async () => {
  const f = setup({ configmaps: '10', 'count/deployments.apps': '3', 'count/widgets.example.com': '1' });
  await f.sync();
  assert.deepEqual(f.writes.map((w) => w[1]), [{ hard: { configmaps: '10', 'count/deployments.apps': '3', 'count/widgets.example.com': '1' }, used: { configmaps: '2', 'count/deployments.apps': '1', 'count/widgets.example.com': '0' } }]);
  assert.ok(f.gets.includes('/apis/apps/v1/namespaces/ns/deployments'));
});

test('a pod deleted or finishing enqueues the quotas of its namespace that count pods', () => {
  const f = setup({ pods: '5' });
  const queued: string[] = [];
  (f.c as any).enqueue = (q: any) => queued.push(q.metadata.name);
  const h = f.pods.handlers[0];
  h.update(f.pod('a', '1Mi'), f.pod('a', '1Mi'));
  assert.deepEqual(queued, [], 'a status change that frees nothing');
  h.update(f.pod('a', '1Mi'), f.pod('a', '1Mi', 'Failed'));
  h.delete(f.pod('a', '1Mi'));
  h.delete(f.pod('x', '1Mi', 'Running', 'other'));
  assert.deepEqual(queued, ['rq', 'rq']);
});
