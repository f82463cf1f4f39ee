import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { clientFromKubeconfig, type ApiClient, type RawResponse } from '../testing/client.js';

const cm = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' }, ...extra });
const CMS = '/api/v1/namespaces/default/configmaps';

function assertStatus(r: RawResponse, code: number, reason: string): any {
  assert.equal(r.status, code, r.body);
  const s = r.json();
  assert.equal(s.kind, 'Status');
  assert.equal(s.status, 'Failure');
  assert.equal(s.code, code);
  assert.equal(s.reason, reason);
  return s;
}

/** REST semantics and bad input, straight over HTTPS. */
describe('API server REST semantics', () => {
  let c: TestCluster;
  let api: ApiClient;
  before(async () => {
    c = await startTestCluster();
    api = await clientFromKubeconfig(c.kubeconfig);
  });
  after(async () => {
    api.close();
    await c.stop();
  });

  it('serves /livez, /readyz and /healthz with named checks as kube-apiserver, verbose and one by one', async () => {
    const ready = await c.run(['get', '--raw', '/readyz?verbose']);
    for (const line of ['[+]ping ok', '[+]etcd ok', '[+]etcd-readiness ok', '[+]informer-sync ok', '[+]shutdown ok', 'readyz check passed']) assert.ok(ready.includes(line), ready);
    assert.equal(await c.run(['get', '--raw', '/livez']), 'ok');
    assert.equal(await c.run(['get', '--raw', '/livez/etcd']), 'ok');
    assert.match(await c.run(['get', '--raw', '/healthz?verbose&exclude=etcd']), /\[\+\]etcd excluded: ok\n[\s\S]*healthz check passed/);
    assert.equal((await api.request('GET', '/readyz/no-such-check')).status, 404);
  });

  it('answers malformed and hostile bodies with a Status and stores nothing', async () => {
    assertStatus(await api.request('POST', CMS, '{"apiVersion":"v1",'), 400, 'BadRequest');
    assertStatus(await api.request('POST', CMS, '[1,2]'), 400, 'BadRequest');
    assertStatus(await api.request('POST', CMS, 'apiVersion: v1\nkind: [', { 'content-type': 'application/yaml' }), 400, 'BadRequest');
    assertStatus(await api.request('POST', CMS, { ...cm('x'), apiVersion: 'apps/v1' }), 400, 'BadRequest');
    assertStatus(await api.request('POST', CMS, { ...cm('x'), kind: 'Secret' }), 400, 'BadRequest');
    const big = cm('big', { data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } });
    assertStatus(await api.request('POST', CMS, big), 413, 'RequestEntityTooLarge');
    const deep = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"data":' + '['.repeat(20000) + ']'.repeat(20000) + '}';
    assertStatus(await api.request('POST', CMS, deep), 400, 'BadRequest');
    assertStatus(await api.request('GET', `${CMS}?labelSelector=${encodeURIComponent('a in (')}`), 400, 'BadRequest');
    assertStatus(await api.request('GET', `${CMS}?fieldSelector=spec.nope%3Dx`), 400, 'BadRequest');
    assertStatus(await api.request('GET', '/api/v1/bogus'), 404, 'NotFound');
    assertStatus(await api.request('POST', `${CMS}?dryRun=Some`, cm('x')), 400, 'BadRequest');
    assertStatus(await api.request('POST', `${CMS}?fieldValidation=Loose`, cm('x')), 400, 'BadRequest');
    const list = (await api.request('GET', CMS)).json();
    assert.equal(list.items.length, 0);
  });

  it('accepts YAML, generateName, dryRun and reports unknown fields per fieldValidation', async () => {
    const yaml = await api.request('POST', CMS, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\n', { 'content-type': 'application/yaml' });
    assert.equal(yaml.status, 201);
    const gen = (await api.request('POST', CMS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } })).json();
    assert.match(gen.metadata.name, /^gen-[a-z0-9]{5}$/);
    const dry = await api.request('POST', `${CMS}?dryRun=All`, cm('dry'));
    assert.equal(dry.status, 201);
    assert.equal((await api.request('GET', `${CMS}/dry`)).status, 404);
    const strict = assertStatus(await api.request('POST', `${CMS}?fieldValidation=Strict`, cm('s', { bogus: 1 })), 400, 'BadRequest');
    assert.equal(strict.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"');
    const dup = assertStatus(await api.request('POST', `${CMS}?fieldValidation=Strict`, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d","name":"e"}}'), 400, 'BadRequest');
    assert.match(dup.message, /strict decoding error: duplicate field "metadata.name"/);
    const warn = await api.request('POST', `${CMS}?fieldValidation=Warn`, cm('w', { bogus: 1 }));
    assert.equal(warn.status, 201);
    assert.match(String(warn.headers['warning']), /unknown field \\"bogus\\"/);
    assert.equal(warn.json().bogus, undefined);
  });

  it('enforces resourceVersion preconditions and bumps generation on spec changes only', async () => {
    const created = (await api.request('POST', CMS, cm('occ'))).json();
    const stale = { ...created, data: { a: '2' } };
    assert.equal((await api.request('PUT', `${CMS}/occ`, stale)).status, 200);
    assertStatus(await api.request('PUT', `${CMS}/occ`, stale), 409, 'Conflict');
    assertStatus(await api.request('POST', CMS, cm('occ')), 409, 'AlreadyExists');
    assertStatus(await api.request('GET', `${CMS}/missing`), 404, 'NotFound');
    const deps = '/apis/apps/v1/namespaces/default/deployments';
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'gen' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } };
    const d1 = (await api.request('POST', deps, d)).json();
    assert.equal(d1.metadata.generation, 1);
    const d2 = (await api.request('PATCH', `${deps}/gen`, { metadata: { labels: { x: 'y' } } }, { 'content-type': 'application/merge-patch+json' })).json();
    assert.equal(d2.metadata.generation, 1);
    const d3 = (await api.request('PATCH', `${deps}/gen`, { spec: { replicas: 4 } }, { 'content-type': 'application/merge-patch+json' })).json();
    assert.equal(d3.metadata.generation, 2);
    // Status is written through /status only.
    const d4 = (await api.request('PATCH', `${deps}/gen`, { status: { replicas: 9 } }, { 'content-type': 'application/merge-patch+json' })).json();
    assert.equal(d4.status.replicas, undefined);
    const d5 = (await api.request('PATCH', `${deps}/gen/status`, { status: { replicas: 9 }, spec: { replicas: 1 } }, { 'content-type': 'application/merge-patch+json' })).json();
    assert.equal(d5.status.replicas, 9);
    assert.equal(d5.spec.replicas, 4);
    const scale = (await api.request('GET', `${deps}/gen/scale`)).json();
    assert.deepEqual([scale.kind, scale.apiVersion, scale.spec.replicas, scale.status.selector], ['Scale', 'autoscaling/v1', 4, 'a=b']);
    assertStatus(await api.request('PATCH', `${CMS}/occ`, '{"data":', { 'content-type': 'application/merge-patch+json' }), 400, 'BadRequest');
    assertStatus(await api.request('PATCH', `${CMS}/occ`, { data: 1 }, { 'content-type': 'text/plain' }), 415, 'UnsupportedMediaType');
  });

  it('pages lists with limit/continue at one resourceVersion', async () => {
    for (let i = 0; i < 7; i++) await api.request('POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: `page-${i}` } });
    const names: string[] = [];
    let cont = '';
    let rv = '';
    for (let pages = 0; ; pages++) {
      const r = (await api.request('GET', `/api/v1/namespaces/default/secrets?limit=3${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`)).json();
      if (!rv) {
        rv = r.metadata.resourceVersion;
        // Written after the first page: must not appear in later pages of this list.
        await api.request('POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'page-9' } });
      } else assert.equal(r.metadata.resourceVersion, rv);
      names.push(...r.items.map((s: any) => s.metadata.name));
      cont = r.metadata.continue;
      if (!cont) break;
      assert.ok(pages < 5);
    }
    assert.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6']);
    assertStatus(await api.request('GET', '/api/v1/namespaces/default/secrets?limit=1&continue=garbage'), 400, 'BadRequest');
  });

  it('binds pods once and deletes with finalizers and grace as upstream', async () => {
    const pods = '/api/v1/namespaces/default/pods';
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bindme' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
    assert.equal((await api.request('POST', pods, pod)).status, 201);
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bindme' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' } };
    assert.equal((await api.request('POST', `${pods}/bindme/binding`, binding)).status, 201);
    const bound = (await api.request('GET', `${pods}/bindme`)).json();
    assert.equal(bound.spec.nodeName, 'node-1');
    assert.equal(bound.status.conditions.find((x: any) => x.type === 'PodScheduled').status, 'True');
    assertStatus(await api.request('POST', `${pods}/bindme/binding`, binding), 409, 'Conflict');
    // A scheduled pod is deleted gracefully: marked, and left for its kubelet.
    const del = await api.request('DELETE', `${pods}/bindme`);
    assert.equal(del.status, 202);
    assert.ok(del.json().metadata.deletionTimestamp);
    assert.equal(del.json().metadata.deletionGracePeriodSeconds, 30);
    const now = await api.request('DELETE', `${pods}/bindme`, { gracePeriodSeconds: 0 });
    assert.equal(now.status, 200);
    assert.equal((await api.request('GET', `${pods}/bindme`)).status, 404);

    await api.request('POST', CMS, cm('fin', { metadata: { name: 'fin', finalizers: ['example.com/hold'] } }));
    const marked = await api.request('DELETE', `${CMS}/fin`);
    assert.equal(marked.status, 202);
    assert.ok(marked.json().metadata.deletionTimestamp);
    assert.equal((await api.request('GET', `${CMS}/fin`)).status, 200);
    const released = await api.request('PATCH', `${CMS}/fin`, { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(released.status, 200);
    assert.equal((await api.request('GET', `${CMS}/fin`)).status, 404);
    assertStatus(await api.request('DELETE', `${CMS}/occ`, { preconditions: { uid: 'nope' } }), 409, 'Conflict');
  });

  it('serves watches from a resourceVersion in order, and Tables', async () => {
    const start = (await api.request('GET', CMS)).json().metadata.resourceVersion;
    await api.request('POST', CMS, cm('w1'));
    await api.request('PATCH', `${CMS}/w1`, { data: { a: '2' } }, { 'content-type': 'application/merge-patch+json' });
    await api.request('DELETE', `${CMS}/w1`);
    const events = await new Promise<any[]>((resolve, reject) => {
      const out: any[] = [];
      api.request('GET', `${CMS}?watch=true&resourceVersion=${start}&timeoutSeconds=1`).then((r) => {
        for (const line of r.body.split('\n').filter(Boolean)) out.push(JSON.parse(line));
        resolve(out);
      }, reject);
    });
    assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
    assert.deepEqual(rvs, [...rvs].sort((a, b) => a - b));
    const table = (await api.request('GET', '/api/v1/namespaces', undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' })).json();
    assert.equal(table.kind, 'Table');
    assert.deepEqual(table.columnDefinitions.map((col: any) => col.name), ['Name', 'Status', 'Age']);
    assert.equal(table.rows[0].object.kind, 'PartialObjectMetadata');
    const agg = await api.request('GET', '/apis', undefined, { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' });
    assert.match(String(agg.headers['content-type']), /apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList/);
    const anon = await clientFromKubeconfig(c.kubeconfig, { anonymous: true });
    assert.equal((await anon.request('GET', '/version')).status, 200);
    assertStatus(await anon.request('GET', CMS), 403, 'Forbidden');
    anon.close();
  });
});

describe('API server subresources: eviction, namespace finalize, priority admission', () => {
  let c: TestCluster;
  let api: ApiClient;
  before(async () => {
    c = await startTestCluster();
    api = await clientFromKubeconfig(c.kubeconfig);
  });
  after(async () => {
    api.close();
    await c.stop();
  });

  it('evicts only within a PodDisruptionBudget', async () => {
    const pods = '/api/v1/namespaces/default/pods';
    for (const name of ['ev-a', 'ev-b']) {
      await api.request('POST', pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'ev' } }, spec: { containers: [{ name: 'c', image: 'i' }] } });
      await api.request('PATCH', `${pods}/${name}/status`, { status: { phase: 'Running' } }, { 'content-type': 'application/merge-patch+json' });
    }
    const pdbs = '/apis/policy/v1/namespaces/default/poddisruptionbudgets';
    await api.request('POST', pdbs, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'ev' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'ev' } } } });
    await api.request('PATCH', `${pdbs}/ev/status`, { status: { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, observedGeneration: 1 } }, { 'content-type': 'application/merge-patch+json' });
    const eviction = (name: string) => ({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } });
    assert.equal((await api.request('POST', `${pods}/ev-a/eviction`, eviction('ev-a'))).status, 201);
    assert.equal((await api.request('GET', `${pods}/ev-a`)).status, 404);
    assertStatus(await api.request('POST', `${pods}/ev-b/eviction`, eviction('ev-b')), 429, 'TooManyRequests');
    assert.equal((await api.request('GET', `${pods}/ev-b`)).status, 200);
  });

  it('keeps a deleted namespace Terminating until its finalizers are cleared', async () => {
    await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    const del = await api.request('DELETE', '/api/v1/namespaces/doomed');
    assert.equal(del.status, 202);
    const ns = (await api.request('GET', '/api/v1/namespaces/doomed')).json();
    assert.equal(ns.status.phase, 'Terminating');
    assert.deepEqual(ns.spec.finalizers, ['kubernetes']);
    assertStatus(await api.request('POST', '/api/v1/namespaces/doomed/configmaps', cm('late')), 403, 'Forbidden');
    const fin = await api.request('PUT', '/api/v1/namespaces/doomed/finalize', { ...ns, spec: { finalizers: [] } });
    assert.equal(fin.status, 200, fin.body);
    assert.equal((await api.request('GET', '/api/v1/namespaces/doomed')).status, 404);
  });

  it('resolves priorityClassName to a priority', async () => {
    const pods = '/api/v1/namespaces/default/pods';
    const p = (await api.request('POST', pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'prio' }, spec: { priorityClassName: 'system-cluster-critical', containers: [{ name: 'c', image: 'i' }] } })).json();
    assert.equal(p.spec.priority, 2000000000);
    assertStatus(await api.request('POST', pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'noprio' }, spec: { priorityClassName: 'nope', containers: [{ name: 'c', image: 'i' }] } }), 403, 'Forbidden');
  });
});

describe('API server concurrency', () => {
  let c: TestCluster;
  let api: ApiClient;
  before(async () => {
    c = await startTestCluster();
    api = await clientFromKubeconfig(c.kubeconfig);
  });
  after(async () => {
    api.close();
    await c.stop();
  });

  it('retries unconditional patches on conflict, but not a stale resourceVersion precondition', async () => {
    const created = (await api.request('POST', CMS, cm('race'))).json();
    const patches = Array.from({ length: 20 }, (_, i) => api.request('PATCH', `${CMS}/race`, { data: { [`k${i}`]: String(i) } }, { 'content-type': 'application/merge-patch+json' }));
    const results = await Promise.all(patches);
    assert.deepEqual(results.map((r) => r.status), Array(20).fill(200));
    const final = (await api.request('GET', `${CMS}/race`)).json();
    assert.equal(Object.keys(final.data).length, 21);
    const stale = await api.request('PATCH', `${CMS}/race`, { metadata: { resourceVersion: created.metadata.resourceVersion }, data: { x: 'y' } }, { 'content-type': 'application/merge-patch+json' });
    assertStatus(stale, 409, 'Conflict');
  });
});
