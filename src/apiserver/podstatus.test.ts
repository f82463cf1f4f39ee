import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { clientFromKubeconfig, type ApiClient } from '../testing/client.js';

const PODS = '/api/v1/namespaces/default/pods';
const MERGE = { 'content-type': 'application/merge-patch+json' };

/** pods/status as upstream's podStatusStrategy: status and metadata change, spec and ownerReferences do not. */
describe('pods/status', () => {
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

  it('keeps label and annotation changes, resets spec, ownerReferences and deletionTimestamp, backfills qosClass', async () => {
    const owner = { apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: '00000000-0000-0000-0000-000000000001' };
    const created = (await api.request('POST', PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ps', ownerReferences: [owner] }, spec: { containers: [{ name: 'c', image: 'busybox' }] } })).json();
    assert.equal(created.status.qosClass, 'BestEffort');
    const r = await api.request(
      'PATCH',
      `${PODS}/ps/status`,
      { metadata: { annotations: { a: 'b' }, labels: { l: 'v' }, ownerReferences: null, deletionTimestamp: '2030-01-01T00:00:00Z' }, spec: { activeDeadlineSeconds: 5 }, status: { phase: 'Running', qosClass: null, podIP: '10.0.0.9' } },
      MERGE,
    );
    assert.equal(r.status, 200, r.body);
    const p = r.json();
    assert.deepEqual(p.metadata.annotations, { a: 'b' });
    assert.deepEqual(p.metadata.labels, { l: 'v' });
    assert.deepEqual(p.metadata.ownerReferences, [owner]);
    assert.equal(p.metadata.deletionTimestamp, undefined);
    assert.equal(p.spec.activeDeadlineSeconds, undefined);
    assert.equal(p.status.phase, 'Running');
    assert.equal(p.status.podIP, '10.0.0.9');
    assert.equal(p.status.qosClass, 'BestEffort');
    assert.notEqual(p.metadata.resourceVersion, created.metadata.resourceVersion);
    const got = (await api.request('GET', `${PODS}/ps`)).json();
    assert.deepEqual(got, p);
  });

  it('validates the metadata a status write changes', async () => {
    await api.request('POST', PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ps2' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const bad = await api.request('PATCH', `${PODS}/ps2/status`, { metadata: { labels: { 'bad key!': 'v' } } }, MERGE);
    assert.equal(bad.status, 422, bad.body);
    const mirror = await api.request('PATCH', `${PODS}/ps2/status`, { metadata: { annotations: { 'kubernetes.io/config.mirror': 'x' } } }, MERGE);
    assert.equal(mirror.status, 422, mirror.body);
  });
});
