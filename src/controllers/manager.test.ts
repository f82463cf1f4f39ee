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
    const a = createControllerManager(client, { caPem, identity: 'a', controllers: ['serviceaccount', 'root-ca-cert-publisher'], leaseDurationSeconds: 2, renewIntervalMs: 200 });
    await a.start();
    await a.whenRunning();
    const b = createControllerManager(client, { caPem, identity: 'b', controllers: ['serviceaccount'], leaseDurationSeconds: 2, renewIntervalMs: 200 });
    void b.start();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false);
    assert.deepEqual(a.running, ['root-ca-cert-publisher', 'serviceaccount']);
    await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mgr1' } });
    await until('default SA', () => client.get('/api/v1/namespaces/mgr1/serviceaccounts/default'));
    const cm: any = await until('root CA', () => client.get('/api/v1/namespaces/mgr1/configmaps/kube-root-ca.crt'));
    assert.equal(cm.data['ca.crt'], caPem);
    await a.stop();
    await b.whenRunning();
    assert.equal(b.isLeader, true);
    await client.delete('/api/v1/namespaces/mgr1/serviceaccounts/default');
    await until('default SA recreated', () => client.get('/api/v1/namespaces/mgr1/serviceaccounts/default'));
    const lease = await client.get('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager');
    assert.equal(lease.spec.holderIdentity, 'b');
    await b.stop();
  });
});
