import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { clientFromKubeconfig, type ApiClient } from '../testing/client.js';

const SVCS = '/api/v1/namespaces/default/services';

/**
 * Writes are committed in groups after the requests that issued them: allocations made by
 * concurrent requests must not hand out the same address or port twice meanwhile.
 */
describe('concurrent allocations', () => {
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

  const statuses = async (make: (i: number) => unknown) => (await Promise.all(Array.from({ length: 6 }, (_, i) => api.request('POST', SVCS, make(i))))).map((r) => r.status).sort();

  it('one requested clusterIP, one requested nodePort: one Service each', async () => {
    assert.deepEqual(await statuses((i) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: `ip-${i}` }, spec: { clusterIP: '10.96.0.77', ports: [{ port: 80 }] } })), [201, 422, 422, 422, 422, 422]);
    assert.deepEqual(await statuses((i) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: `np-${i}` }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30077 }] } })), [201, 422, 422, 422, 422, 422]);
  });

  it('allocated addresses are all different', async () => {
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => api.request('POST', SVCS, { apiVersion: 'v1', kind: 'Service', metadata: { name: `auto-${i}` }, spec: { type: 'NodePort', ports: [{ port: 80 }] } })));
    const svcs = rs.map((r) => r.json());
    assert.equal(new Set(svcs.map((s) => s.spec.clusterIP)).size, 20);
    assert.equal(new Set(svcs.map((s) => s.spec.ports[0].nodePort)).size, 20);
  });
});
