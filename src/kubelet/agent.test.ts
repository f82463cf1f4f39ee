import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { until } from '../testing/wait.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { FakeRuntime } from '../runtime/fake.js';
import { createKubelet } from './agent.js';

const NODE = 'agent-test-node';

/** A fake runtime with containerd's extras: reconcile (recording what it saw) and ImageFsInfo. */
class ReconcilingRuntime extends FakeRuntime {
  kept?: Set<string>;
  sandboxesAtReconcile = -1;
  fail = false;

  async reconcile(keep: ReadonlySet<string>): Promise<unknown> {
    this.kept = new Set(keep);
    // A slow reconcile: pod syncs must still wait for it (none may create a sandbox meanwhile).
    await new Promise((r) => setTimeout(r, 300));
    this.sandboxesAtReconcile = this.sandboxes.size;
    if (this.fail) throw new Error('reconcile failed');
    return {};
  }

  async imageFsInfo() {
    return [{ mountpoint: '/', timestamp: Date.now() }];
  }
}

const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: NODE, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1000'] }] } });

describe('kubelet start-up', () => {
  let tc: TestCluster;
  let client: RestClient;
  const uids: Record<string, string> = {};

  before(async () => {
    tc = await startTestCluster();
    client = new RestClient(configFromKubeconfig(tc.kubeconfig, 'agent-test'));
    for (const name of ['live', 'done']) uids[name] = (await client.create('/api/v1/namespaces/default/pods', pod(name))).metadata.uid;
    await client.patch('/api/v1/namespaces/default/pods/done/status', { status: { phase: 'Succeeded' } }, 'merge');
  });

  after(async () => {
    await tc?.stop();
  });

  for (const fail of [false, true]) {
    it(`reconciles the runtime with the non-terminal pods bound here before any pod syncs${fail ? ' (a failure is not fatal)' : ''}, and starts image GC`, async () => {
      const rt = new ReconcilingRuntime(Date.now);
      rt.fail = fail;
      const comp = createKubelet(client, { nodeName: NODE, dataDir: path.join(tc.dataDir, `kubelet-${fail}`), runtime: rt, port: 0, podCIDR: '10.244.9.0/24' });
      try {
        await comp.start();
        assert.deepEqual(rt.kept, new Set([uids.live]));
        assert.equal(rt.sandboxesAtReconcile, 0);
        await until('the live pod has a sandbox', () => rt.sandboxes.size > 0, 20_000);
        assert.ok(comp.kubelet.imageGC?.enabled);
      } finally {
        await comp.stop();
      }
    });
  }

  it('refuses an invalid image GC policy', () => {
    assert.throws(() => createKubelet(client, { nodeName: NODE, dataDir: path.join(tc.dataDir, 'bad'), runtime: 'process', imageGCHighThresholdPercent: 50, imageGCLowThresholdPercent: 60 }), /kubelet: /);
  });
});
