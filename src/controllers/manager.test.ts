import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createControllerManager, enabledControllers, registerController, loadBuiltinControllers } from './manager.js';
import { until } from '../testing/wait.js';


describe('controller manager', () => {
  let c: TestCluster;
  let client: RestClient;
  before(async () => {
    c = await startTestCluster();
    client = new RestClient(configFromKubeconfig(c.kubeconfig, 'test'));
  });
  after(async () => {
    client.close();
    await c.stop();
  });

  it('selects controllers with --controllers semantics', async () => {
    await loadBuiltinControllers();
    registerController('test-off', () => ({ run() {}, stop() {} }), { enabledByDefault: false });
    assert.ok(enabledControllers(['*']).includes('serviceaccount'));
    assert.ok(!enabledControllers(['*']).includes('test-off'));
    assert.ok(enabledControllers(['*', 'test-off']).includes('test-off'));
    assert.ok(!enabledControllers(['*', '-serviceaccount']).includes('serviceaccount'));
    assert.deepEqual(enabledControllers(['serviceaccount']), ['serviceaccount']);
  });

  it('runs only the leader; the other takes over when it stops', async () => {
    const caPem = readFileSync(path.join(c.dataDir, 'pki', 'ca.crt'), 'utf8');
    // A lease far longer than any stall under load: the takeover below comes from a releasing it on stop.
    const a = createControllerManager(client, { caPem, identity: 'a', controllers: ['serviceaccount', 'root-ca-cert-publisher'], leaseDurationSeconds: 15, renewIntervalMs: 200 });
    // b's own client, to see when b has read the lease a holds (and so has had its chance to take it).
    const bClient = new RestClient(configFromKubeconfig(c.kubeconfig, 'test-b'));
    let bLeaseReads = 0;
    const get = bClient.get.bind(bClient);
    bClient.get = ((p: string, q?: any) => {
      const r = get(p, q);
      if (p.endsWith('/leases/kube-controller-manager')) r.then(() => bLeaseReads++, () => undefined);
      return r;
    }) as typeof bClient.get;
    const b = createControllerManager(bClient, { caPem, identity: 'b', controllers: ['serviceaccount'], leaseDurationSeconds: 15, renewIntervalMs: 200 });
    try {
      await a.start();
      await a.whenRunning();
      void b.start();
      // Two reads: the first attempt has been decided by the time the second starts.
      await until('b to try for the lease', () => bLeaseReads >= 2);
      assert.equal(a.isLeader, true);
      assert.equal(b.isLeader, false);
      assert.deepEqual(a.running, ['root-ca-cert-publisher', 'serviceaccount']);
      await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mgr1' } });
      await until('default SA', () => client.get('/api/v1/namespaces/mgr1/serviceaccounts/default'));
      const cm: any = await until('root CA', () => client.get('/api/v1/namespaces/mgr1/configmaps/kube-root-ca.crt'));
      assert.equal(cm.data['ca.crt'], caPem);
      assert.equal(b.isLeader, false);
      await a.stop();
      await until('b to take over the released lease', () => b.isLeader);
      await b.whenRunning();
      await client.delete('/api/v1/namespaces/mgr1/serviceaccounts/default');
      await until('default SA recreated', () => client.get('/api/v1/namespaces/mgr1/serviceaccounts/default'));
      const lease = await client.get('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager');
      assert.equal(lease.spec.holderIdentity, 'b');
    } finally {
      await b.stop();
      await a.stop();
      bClient.close();
    }
  });
});
