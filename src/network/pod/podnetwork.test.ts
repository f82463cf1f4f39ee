/**
 * One contract for every PodNetwork mode: distinct addresses from the node's range, stable for a
 * sandbox, released on tearDown and never handed out twice across a restart; in the root modes
 * each pod has its own network namespace and two pods reach each other by pod IP. Root modes run
 * only where possible, on a bridge and range unique to this run, and clean up after themselves.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { needs } from '../../testing/real.js';
import { firstOutput } from '../../testing/child.js';
import { createPodNetwork, detectNetworkMode } from './select.js';
import type { NetworkMode, PodRef } from './types.js';

const root = process.getuid?.() === 0;
const reason: Record<NetworkMode, string | undefined> = {
  loopback: undefined,
  netns: root ? undefined : 'needs root',
  cni: !root ? 'needs root' : detectNetworkMode() !== 'cni' ? 'CNI plugins (bridge, host-local, loopback, portmap) are not installed' : undefined,
};

for (const mode of ['loopback', 'netns', 'cni'] as NetworkMode[]) {
  describe(`pod network: ${mode}`, () => {
    it('gives unique, persistent addresses; root modes isolate pods in reachable namespaces', async (t) => {
      if (!needs(t, reason[mode])) return;
      const id = randomBytes(3).toString('hex');
      const dataDir = mkdtempSync(path.join(tmpdir(), 'podnet-'));
      const bridge = `skb${id}`;
      const cidr = `10.252.${parseInt(id.slice(0, 2), 16)}.0/24`;
      const opts = { dataDir, bridge, netnsPrefix: `sk${id}-` };
      const pod = (n: number): PodRef => ({ uid: `u${n}`, namespace: 'default', name: `p${n}`, sandboxId: `${id}${String(n).padStart(6, '0')}abcdef` });
      let net = createPodNetwork(mode, opts);
      try {
        await net.configure(cidr);
        const a = await net.setUp(pod(1));
        const b = await net.setUp(pod(2));
        assert.notEqual(a.ip, b.ip);
        for (const r of [a, b]) assert.ok(r.ip.startsWith(cidr.split('.').slice(0, 3).join('.') + '.'), r.ip);
        if (mode === 'loopback') assert.equal(a.listenIP, `127.${a.ip.split('.').slice(1).join('.')}`);
        else {
          assert.ok(a.netnsPath && existsSync(a.netnsPath));
          // Pod 2 serves; pod 1 connects to it by pod IP, from inside its own namespace.
          const server = spawn('ip', ['netns', 'exec', b.netnsName!, process.execPath, '-e', `require('net').createServer(s=>s.end('hi')).listen(7070,'${b.ip}',()=>console.log('up'))`], { stdio: ['ignore', 'pipe', 'pipe'] });
          try {
            await firstOutput(server, "pod 2's server");
            const out = execFileSync('ip', ['netns', 'exec', a.netnsName!, process.execPath, '-e', `const s=require('net').connect(7070,'${b.ip}');s.on('data',d=>{process.stdout.write(d);s.end()})`], { encoding: 'utf8', timeout: 5000 });
            assert.equal(out, 'hi');
          } finally {
            server.kill();
          }
        }
        await net.tearDown(pod(1));
        if (a.netnsPath) assert.ok(!existsSync(a.netnsPath), 'netns removed');
        // A restarted agent: pod 2 keeps its address; new pods never get it (nor pod 1's at once).
        await net.close();
        net = createPodNetwork(mode, opts);
        await net.configure(cidr);
        const c = await net.setUp(pod(3));
        assert.notEqual(c.ip, b.ip);
        assert.notEqual(c.ip, a.ip);
        await net.tearDown(pod(3));
        await net.tearDown(pod(2));
        await net.tearDown(pod(2));
      } finally {
        for (const n of [1, 2, 3]) await net.tearDown(pod(n)).catch(() => undefined);
        if (mode !== 'loopback') {
          try {
            execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
          } catch {
            /* never created */
          }
        }
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
}
