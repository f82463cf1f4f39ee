import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawnSkiffUp } from '../testing/cluster.js';
import { clientFromKubeconfig } from '../testing/client.js';

/** `skiff up` as users run it: SIGTERM stops it cleanly, and a restart on the same data dir keeps every object. */
/** Lifecycle, not networking or images: leave the host's network and containerd alone. */
const QUIET_NODE = ['--network-mode', 'loopback', '--runtime', 'process', '--no-ingress'];

/** The exit code, or a failure if the process is still running after 60 s (the caller's finally kills it). */
function exitCode(p: { exited: Promise<number | null> }, what: string): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not exit within 60 s`)), 60_000);
  });
  return Promise.race([p.exited, deadline]).finally(() => clearTimeout(timer));
}

describe('skiff up process', () => {
  it('serves health, stops on SIGTERM/SIGINT, and keeps objects across restarts', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'skiff-restart-'));
    const children: ChildProcess[] = [];
    try {
      const first = await spawnSkiffUp(['--data-dir', dir, '--api-port', '0', ...QUIET_NODE]);
      children.push(first.child);
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
      assert.equal(await exitCode(first, 'skiff up after SIGTERM'), 0);

      const second = await spawnSkiffUp(['--data-dir', dir, '--api-port', '0', ...QUIET_NODE]);
      children.push(second.child);
      c = await clientFromKubeconfig(path.join(dir, 'kubeconfig'));
      const got = await c.request('GET', '/api/v1/namespaces/default/configmaps/survivor');
      assert.equal(got.status, 200);
      assert.equal(got.json().metadata.uid, uid);
      assert.equal(got.json().data.k, 'v');
      const ns = await c.request('GET', '/api/v1/namespaces');
      assert.deepEqual(ns.json().items.map((n: any) => n.metadata.name).sort(), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
      c.close();
      second.child.kill('SIGINT');
      assert.equal(await exitCode(second, 'skiff up after SIGINT'), 0);
    } finally {
      // A skiff up that did not stop would keep the data dir (and this file) alive.
      for (const ch of children) if (ch.exitCode === null && ch.signalCode === null) ch.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
