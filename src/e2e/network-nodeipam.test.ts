/**
 * Node IPAM end to end with kubectl: Nodes get a /24 of 10.244.0.0/16 as spec.podCIDR, blocks are
 * never shared, and a restarted controller manager keeps what Nodes already have.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createControllerManager } from '../controllers/manager.js';
import { until } from '../testing/wait.js';


describe('node ipam (kubectl)', () => {
  let c: TestCluster;
  let client: RestClient;
  before(async () => {
    c = await startTestCluster();
    client = new RestClient(configFromKubeconfig(c.kubeconfig, 'e2e'));
  });
  after(async () => {
    client?.close();
    await c?.stop();
  });

  it('gives each Node its own /24 and keeps them across restarts', async (t) => {
    if (!needs(t, which('kubectl') ? undefined : 'kubectl is not on PATH')) return;
    const cidrs = async () => {
      const r = await c.kubectl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.podCIDR}{"\\n"}{end}']);
      return Object.fromEntries(r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split('=')));
    };
    for (const n of ['n-a', 'n-b']) await client.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: n } });
    let mgr = createControllerManager(client, { identity: 'e2e-1', controllers: ['nodeipam'], leaseDurationSeconds: 1, renewIntervalMs: 200 });
    await mgr.start();
    const first = await until('two podCIDRs', async () => {
      const m = await cidrs();
      return m['n-a'] && m['n-b'] ? m : undefined;
    });
    assert.deepEqual(new Set(Object.values(first)), new Set(['10.244.0.0/24', '10.244.1.0/24']));
    const node = await client.get('/api/v1/nodes/n-a');
    assert.deepEqual(node.spec.podCIDRs, [node.spec.podCIDR]);
    await mgr.stop();
    // A new manager learns the used blocks from the Nodes: the third node gets a fresh one.
    await client.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n-c' } });
    mgr = createControllerManager(client, { identity: 'e2e-2', controllers: ['nodeipam'], leaseDurationSeconds: 1, renewIntervalMs: 200 });
    await mgr.start();
    const second = await until('third podCIDR', async () => ((await cidrs())['n-c'] ? cidrs() : undefined));
    assert.equal(second['n-c'], '10.244.2.0/24');
    assert.equal(second['n-a'], first['n-a']);
    await mgr.stop();
  });
});
