/**
 * Network figures, each beside the goal: pod network setup (p50/p99) per mode, service
 * proxy rule update after one endpoint change with 1,000 Services (nftables in root, the
 * user-space relay otherwise), and cluster DNS queries/s and p99 from a Node UDP load generator.
 *
 *   node dist/bench/network.js [--quick]
 */
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPodNetwork, detectNetworkMode } from '../src/network/pod/select.js';
import type { NetworkMode } from '../src/network/pod/types.js';
import { NftablesBackend } from '../src/network/proxy/nftables.js';
import type { ServicePort } from '../src/network/proxy/model.js';
import { ClusterZone, type ZoneData } from '../src/network/dns/zone.js';
import { encodeQuery, encodeResponse, parseQuery, TYPE } from '../src/network/dns/wire.js';

const quick = process.argv.includes('--quick');
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function podSetup(mode: NetworkMode): Promise<void> {
  const id = randomBytes(3).toString('hex');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'benchnet-'));
  const net = createPodNetwork(mode, { dataDir, bridge: `skb${id}`, netnsPrefix: `sk${id}-` });
  const n = quick ? 10 : 40;
  const times: number[] = [];
  try {
    await net.configure(`10.253.${parseInt(id.slice(0, 2), 16)}.0/24`);
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await net.setUp({ uid: `u${i}`, namespace: 'default', name: `p${i}`, sandboxId: `${String(i).padStart(6, '0')}${id}` });
      times.push(performance.now() - t0);
    }
  } finally {
    for (let i = 0; i < n; i++) await net.tearDown({ uid: `u${i}`, namespace: 'default', name: `p${i}`, sandboxId: `${String(i).padStart(6, '0')}${id}` }).catch(() => undefined);
    if (mode !== 'loopback') {
      try {
        execFileSync('ip', ['link', 'del', `skb${id}`], { stdio: 'ignore' });
      } catch {
        /* none */
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`pod network setup (${mode}, ${n} pods): p50 ${ms(pct(times, 50))}  p99 ${ms(pct(times, 99))}   goal: p99 ≤ 50 ms`);
}

function services(n: number, epsPer: number, bump = -1): ServicePort[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `bench/s${i}:http`,
    namespace: 'bench',
    name: `s${i}`,
    portName: 'http',
    clusterIP: `10.96.${(i >> 8) + 10}.${i & 255}`,
    port: 80,
    protocol: 'TCP' as const,
    endpoints: Array.from({ length: epsPer - (i === bump ? 1 : 0) }, (_, j) => ({ ip: `10.244.${i >> 6}.${((i & 63) << 2) + j}`, port: 8080, ready: true, serving: true, terminating: false })),
  }));
}

async function proxyUpdate(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('service proxy rule update: nftables needs root; skipped');
    return;
  }
  const table = `skiff-bench-${randomBytes(3).toString('hex')}`;
  const b = new NftablesBackend(table, { clusterCIDR: '10.244.0.0/16' });
  try {
    let t0 = performance.now();
    await b.sync(services(1000, 3));
    const full = performance.now() - t0;
    const times: number[] = [];
    for (let k = 0; k < (quick ? 5 : 20); k++) {
      t0 = performance.now();
      await b.sync(services(1000, 3, k % 2 === 0 ? 500 + k : -1));
      times.push(performance.now() - t0);
    }
    console.log(`service proxy (nftables, 1,000 Services × 3 endpoints): initial sync ${ms(full)}; one endpoint change p50 ${ms(pct(times, 50))}  p99 ${ms(pct(times, 99))}   goal: ≤ 100 ms`);
  } finally {
    await b.close();
  }
}

async function dnsQps(): Promise<void> {
  const svcs = new Map<string, any>();
  for (let i = 0; i < 1000; i++) svcs.set(`default/s${i}`, { metadata: { namespace: 'default', name: `s${i}` }, spec: { clusterIP: `10.96.${i >> 8}.${i & 255}`, ports: [] } });
  const data: ZoneData = { service: (ns, n) => svcs.get(`${ns}/${n}`), namespaceExists: () => true, endpoints: () => [], serviceByIP: () => undefined, endpointByIP: () => undefined };
  const zone = new ClusterZone(data, { domain: 'cluster.local', ttl: 30 });
  // The server's hot path without informers: the same parse → resolve → encode as server.ts.
  const sock = dgram.createSocket('udp4');
  sock.on('message', (m, r) => {
    const q = parseQuery(m);
    const a = zone.resolve(q.questions[0])!;
    sock.send(encodeResponse({ id: q.id, rd: q.rd, aa: true, ra: true, questions: q.questions, ...a }), r.port, r.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  const client = dgram.createSocket('udp4');
  const sent = new Map<number, number>();
  const lat: number[] = [];
  let done = 0;
  const seconds = quick ? 1 : 3;
  const until = performance.now() + seconds * 1000;
  let id = 0;
  const send = () => {
    if (performance.now() > until) return;
    id = (id + 1) & 0xffff;
    sent.set(id, performance.now());
    client.send(encodeQuery(id, `s${id % 1000}.default.svc.cluster.local`, TYPE.A), port, '127.0.0.1');
  };
  const finished = new Promise<void>((resolve) => {
    client.on('message', (m) => {
      const rid = m.readUInt16BE(0);
      const t = sent.get(rid);
      if (t !== undefined) {
        lat.push(performance.now() - t);
        sent.delete(rid);
        done++;
      }
      if (performance.now() > until) {
        if (!sent.size) resolve();
        return;
      }
      send();
    });
    setTimeout(resolve, seconds * 1000 + 2000).unref();
  });
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
  for (let i = 0; i < 64; i++) send();
  await finished;
  client.close();
  sock.close();
  console.log(`cluster DNS (UDP, 64 in flight, ${seconds}s, one core with the load generator): ${Math.round(done / seconds)} queries/s  p99 ${ms(pct(lat, 99))}   goal: ≥ 20,000 qps  (reference resolver: none on this machine)`);
}

const modes: NetworkMode[] = ['loopback'];
if (process.getuid?.() === 0) modes.push('netns');
if (detectNetworkMode() === 'cni') modes.push('cni');
for (const m of modes) await podSetup(m);
await proxyUpdate();
await dnsQps();
