import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';

/** Error bodies arrive as the raw JSON text. */
const body = (e: any) => (typeof e.body === 'string' ? JSON.parse(e.body) : e.body);

async function failure(p: Promise<unknown>): Promise<k8s.ApiException<any>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof k8s.ApiException) return e;
    throw e;
  }
  assert.fail('the request succeeded');
}

/** What @kubernetes/client-node's typed APIs see of requests a real API server answers in a particular way. */
describe('@kubernetes/client-node API behaviour', () => {
  let c: TestCluster;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  before(async () => {
    c = await startTestCluster();
    kc = new k8s.KubeConfig();
    kc.loadFromFile(c.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
  });
  after(async () => {
    await c.stop();
  });

  it('binds a pod with createNamespacedBinding (POST namespaces/NS/bindings), as custom schedulers do', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'unbound' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
    const r = await core.createNamespacedBinding({ namespace: 'default', body: { metadata: { name: 'unbound' }, target: { kind: 'Node', name: 'node-a' } } });
    assert.equal(r.kind, 'Status');
    const pod = await core.readNamespacedPod({ name: 'unbound', namespace: 'default' });
    assert.equal(pod.spec!.nodeName, 'node-a');
    assert.equal(pod.status!.conditions!.find((x) => x.type === 'PodScheduled')!.status, 'True');
    const again = await failure(core.createNamespacedBinding({ namespace: 'default', body: { metadata: { name: 'unbound' }, target: { kind: 'Node', name: 'node-b' } } }));
    assert.equal(again.code, 409);
    assert.equal(body(again).message, 'pod unbound is already assigned to node "node-a"');
    const missing = await failure(core.createNamespacedBinding({ namespace: 'default', body: { metadata: { name: 'ghost' }, target: { kind: 'Node', name: 'node-a' } } }));
    assert.equal(missing.code, 404);
    const resources = await core.getAPIResources();
    assert.deepEqual(
      resources.resources.filter((x) => x.name === 'bindings').map((x) => ({ namespaced: x.namespaced, kind: x.kind, verbs: x.verbs })),
      [{ namespaced: true, kind: 'Binding', verbs: ['create'] }],
    );
  });

  it('answers bad list options with a 422 on ListOptions.meta.k8s.io', async () => {
    const e = await failure(core.listNamespacedConfigMap({ namespace: 'default', resourceVersionMatch: 'Exact' }));
    assert.equal(e.code, 422);
    assert.equal(body(e).message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
    const list = await core.listNamespacedConfigMap({ namespace: 'default' });
    const exact = await core.listNamespacedConfigMap({ namespace: 'default', resourceVersion: list.metadata!.resourceVersion, resourceVersionMatch: 'Exact' });
    assert.equal(exact.metadata!.resourceVersion, list.metadata!.resourceVersion);
  });

  it('stores times as upstream: a Date written to a Time field reads back to the second; a MicroTime needs V1MicroTime', async () => {
    const ev = await core.createNamespacedEvent({
      namespace: 'default',
      body: { metadata: { name: 'e1' }, involvedObject: { kind: 'Pod', name: 'x', namespace: 'default' }, reason: 'R', message: 'm', firstTimestamp: new Date('2026-01-02T03:04:05.678Z'), lastTimestamp: new Date('2026-01-02T03:04:05.678Z'), count: 1, source: { component: 'test' } },
    });
    assert.equal(ev.firstTimestamp!.toISOString(), '2026-01-02T03:04:05.000Z');
    const leases = kc.makeApiClient(k8s.CoordinationV1Api);
    // A plain Date has milliseconds, which metav1.MicroTime's layout refuses (the client's V1MicroTime pads them).
    const e = await failure(leases.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'l' }, spec: { holderIdentity: 'me', renewTime: new Date('2026-01-02T03:04:05.678Z') as k8s.V1MicroTime } } }));
    assert.equal(e.code, 400);
    assert.equal(body(e).message, 'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-01-02T03:04:05.678Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".678Z" as ".000000"');
    const l = await leases.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'l' }, spec: { holderIdentity: 'me', renewTime: new k8s.V1MicroTime('2026-01-02T03:04:05.678Z') } } });
    assert.equal(String(l.spec!.renewTime), '2026-01-02T03:04:05.678000Z');
  });

  it('gets Status bodies without empty details fields', async () => {
    const e = await failure(core.readNamespacedConfigMap({ name: 'nope', namespace: 'default' }));
    assert.deepEqual(body(e), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'configmaps "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'configmaps' }, code: 404 });
  });
});
