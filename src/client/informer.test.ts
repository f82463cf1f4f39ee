import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { RestClient, configFromKubeconfig } from './rest.js';
import { Informer } from './informer.js';

describe('Informer', () => {
  let c: TestCluster;
  let client: RestClient;
  before(async () => {
    c = await startTestCluster();
    client = new RestClient(configFromKubeconfig(c.kubeconfig, 'informer-test'));
  });
  after(async () => {
    client.close();
    await c.stop();
  });

  it('lists, then follows every change in order', async () => {
    await client.create('/api/v1/namespaces/default/configmaps', { metadata: { name: 'a' } });
    const inf = new Informer(client, { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' });
    const seen: string[] = [];
    inf.addHandlers({
      add: (o) => seen.push(`add ${o.metadata.name}`),
      update: (_o, n) => seen.push(`update ${n.metadata.name} ${n.data?.v}`),
      delete: (o) => seen.push(`delete ${o.metadata.name}`),
    });
    await inf.start();
    assert.deepEqual(seen, ['add a']);
    for (let i = 0; i < 5; i++) await client.patch('/api/v1/namespaces/default/configmaps/a', { data: { v: String(i) } });
    await client.delete('/api/v1/namespaces/default/configmaps/a');
    const deadline = Date.now() + 5000;
    while (seen.length < 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    inf.stop();
    assert.deepEqual(seen, ['add a', 'update a 0', 'update a 1', 'update a 2', 'update a 3', 'update a 4', 'delete a']);
    assert.equal(inf.size, 0);
  });
});
