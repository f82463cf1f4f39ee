import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSkiffUp } from '../testing/cluster.js';
import { clientFromKubeconfig } from '../testing/client.js';

/** `skiff up` as users run it: SIGTERM stops it cleanly, and a restart on the same data dir keeps every object. */
/** Lifecycle, not networking or images: leave the host's network and containerd alone. */
const QUIET_NODE = ['--network-mode', 'loopback', '--runtime', 'process', '--no-ingress'];

describe('skiff up process', () => {
  it('serves health, stops on SIGTERM/SIGINT, and keeps objects across restarts', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'skiff-restart-'));
    try {
      const first = await spawnSkiffUp(['--data-dir', dir, '--api-port', '0', ...QUIET_NODE]);
      let c = await clientFromKubeconfig(path.join(dir, 'kubeconfig'));
      for (const p of ['/livez', '/readyz', '/healthz']) {
        const r = await c.request('GET', p);
        assert.equal(r.status, 200, p);
        assert.equal(r.body, 'ok');
      }
      const created = await c.request('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'survivor' }, data: { k: 'v' } });
      assert.equal(created.status, 201);
      const uid = created.json().metadata.uid;
      c.close();
      await assert.rejects(spawnSkiffUp(['--data-dir', dir, '--api-port', '0', ...QUIET_NODE]), /another skiff \(pid \d+\) is using/);
      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 0);

      const second = await spawnSkiffUp(['--data-dir', dir, '--api-port', '0', ...QUIET_NODE]);
      c = await clientFromKubeconfig(path.join(dir, 'kubeconfig'));
      const got = await c.request('GET', '/api/v1/namespaces/default/configmaps/survivor');
      assert.equal(got.status, 200);
      assert.equal(got.json().metadata.uid, uid);
      assert.equal(got.json().data.k, 'v');
      const ns = await c.request('GET', '/api/v1/namespaces');
      assert.deepEqual(ns.json().items.map((n: any) => n.metadata.name).sort(), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
      c.close();
      second.child.kill('SIGINT');
      assert.equal(await second.exited, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
