/**
 * The Job controller against in-memory informers and a scripted API (no sockets).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobController } from './job.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');

class FakeInformer {
  readonly items = new Map<string, any>();
  addHandlers(): void {}
  get(k: string) {
    return this.items.get(k);
  }
  list() {
    return [...this.items.values()];
  }
}

function setup() {
  const jobs = new FakeInformer();
  const pods = new FakeInformer();
  const events: string[] = [];
  const writes: any[] = [];
  let conflict = false;
  const client = {
    async update(_p: string, body: any) {
      if (conflict) throw Object.assign(new Error('Operation cannot be fulfilled on jobs.batch "j": the object has been modified'), { status: 409 });
      writes.push(structuredClone(body.status));
      return { ...body, metadata: { ...body.metadata, resourceVersion: String(Number(body.metadata.resourceVersion) + 1) } };
    },
  };
  const ctx: any = {
    client,
    informers: { for: (ref: any) => (ref.resource === 'pods' ? pods : jobs) },
    recorder: () => ({ event: (_o: any, type: string, reason: string, message: string) => events.push(`${type} ${reason} ${message}`) }),
    clock: { now: () => NOW, setTimeout: () => 0, clearTimeout: () => undefined },
    identity: 't',
    log: () => undefined,
  };
  const c = new JobController(ctx);
  return { c, jobs, events, writes, setConflict: (v: boolean) => (conflict = v) };
}

test('Completed is recorded once: a sync from a stale cache whose status write conflicts records nothing', async () => {
  const f = setup();
  // Its only pod succeeded and was counted (finalizer gone, pod deleted): the Job has met its completions.
  f.jobs.items.set('default/j', {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'j', namespace: 'default', uid: 'u-j', resourceVersion: '5' },
    spec: { completions: 1, parallelism: 1, backoffLimit: 6, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u-j' } }, template: { spec: { containers: [{ name: 'c', image: 'i' }] } } },
    status: { succeeded: 1, startTime: '2026-01-01T11:59:00Z' },
  });
  await (f.c as any).reconcile('default/j');
  assert.deepEqual(f.events, ['Normal Completed Job completed']);
  assert.ok(f.writes.at(-1).conditions.some((c: any) => c.type === 'Complete' && c.status === 'True'));

  // The cache has not seen the write yet: the same sync runs again, and its write is refused.
  f.setConflict(true);
  await assert.rejects((f.c as any).reconcile('default/j'), (e: any) => e.status === 409);
  assert.deepEqual(f.events, ['Normal Completed Job completed'], 'no second Completed event');
});
