/**
 * Cluster DNS queries/s and p99: Skiff's DNS server (real UDP sockets, 1,000 Services, A and AAAA
 * mixed) with its answer cache and without, next to dnsmasq serving the same names from a hosts
 * file (a reference resolver, when installed: Debian's dnsmasq-base). The load generator runs in a
 * worker thread (64 queries in flight) so the server has a core of its own; dnsperf (Debian's
 * dnsperf) gives a second opinion when installed.
 *
 *   node dist/bench/dns.js [--quick]
 */
import dgram from 'node:dgram';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ClusterZone, type ZoneData } from '../src/network/dns/zone.js';
import { createDnsServer } from '../src/network/dns/server.js';
import { encodeQuery } from '../src/network/dns/wire.js';
import { which } from '../src/testing/real.js';

const N = 1000;
const name = (i: number) => `s${i}.default.svc.cluster.local`;
const ip4 = (i: number) => `10.96.${i >> 8}.${i & 255}`;

interface Load {
  port: number;
  seconds: number;
  inflight: number;
}
interface Result {
  qps: number;
  p99: number;
  lost: number;
}

/** The load generator (worker side): pre-encoded queries, ID patched, lost ones re-sent after 1 s. */
async function generate({ port, seconds, inflight }: Load): Promise<Result> {
  const queries = Array.from({ length: N * 4 }, (_, i) => encodeQuery(0, name(i % N), i % 4 === 3 ? 'AAAA' : 'A'));
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const sent = new Map<number, number>();
  const lat: number[] = [];
  let id = 0;
  let n = 0;
  let lost = 0;
  const end = performance.now() + seconds * 1000;
  const send = () => {
    do id = (id + 1) & 0xffff;
    while (sent.has(id));
    const q = queries[n++ % queries.length];
    q.writeUInt16BE(id, 0);
    sent.set(id, performance.now());
    sock.send(q, port, '127.0.0.1');
  };
  await new Promise<void>((resolve) => {
    sock.on('message', (m) => {
      const t = sent.get(m.readUInt16BE(0));
      if (t === undefined) return;
      sent.delete(m.readUInt16BE(0));
      lat.push(performance.now() - t);
      if (performance.now() < end) send();
      else if (!sent.size) resolve();
    });
    const sweep = setInterval(() => {
      const now = performance.now();
      for (const [k, t] of sent) {
        if (now - t < 1000) continue;
        sent.delete(k);
        lost++;
        if (now < end) send();
      }
      if (now >= end && !sent.size) resolve();
    }, 200);
    sweep.unref();
    for (let i = 0; i < inflight; i++) send();
  });
  sock.close();
  lat.sort((a, b) => a - b);
  return { qps: Math.round(lat.length / seconds), p99: lat[Math.min(lat.length - 1, Math.floor(0.99 * lat.length))] ?? NaN, lost };
}

function load(l: Load): Promise<Result> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: l });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

function staticData(cache: boolean): ZoneData {
  const svcs = new Map<string, any>();
  for (let i = 0; i < N; i++) {
    const ips = i % 2 ? [ip4(i), `fd00:10:96::${i.toString(16)}`] : [ip4(i)];
    svcs.set(`default/s${i}`, { metadata: { namespace: 'default', name: `s${i}` }, spec: { clusterIP: ips[0], clusterIPs: ips, ports: [{ name: 'http', port: 80 }] } });
  }
  return {
    service: (ns, n) => svcs.get(`${ns}/${n}`),
    namespaceExists: (ns) => ns === 'default',
    endpoints: () => [],
    serviceByIP: () => undefined,
    ...(cache ? { generation: () => 1 } : {}),
  };
}

async function skiff(cache: boolean, l: Omit<Load, 'port'>): Promise<Result> {
  const dns = createDnsServer(new ClusterZone(staticData(cache), { domain: 'cluster.local', ttl: 5 }), { host: '127.0.0.1', port: 0, upstreams: [] });
  await dns.start();
  try {
    return await load({ ...l, port: dns.port });
  } finally {
    await dns.stop();
  }
}

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** dnsmasq answering the same names (A from a hosts file, AAAA for the dual-stack half). */
async function withDnsmasq<T>(f: (port: number) => Promise<T>): Promise<T | undefined> {
  const bin = which('dnsmasq') ?? (which('/usr/sbin/dnsmasq') ? '/usr/sbin/dnsmasq' : undefined);
  if (!bin) return undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'benchdns-'));
  const hosts = path.join(dir, 'hosts');
  const lines: string[] = [];
  for (let i = 0; i < N; i++) {
    lines.push(`${ip4(i)} ${name(i)}`);
    if (i % 2) lines.push(`fd00:10:96::${i.toString(16)} ${name(i)}`);
  }
  writeFileSync(hosts, lines.join('\n') + '\n');
  const port = await freePort();
  const p = spawn(bin, ['--keep-in-foreground', '--conf-file=/dev/null', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', `--addn-hosts=${hosts}`, '--local=/cluster.local/', '--user=root', '--pid-file='], { stdio: 'ignore' });
  try {
    // Ready when it answers.
    const deadline = Date.now() + 5000;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = dgram.createSocket('udp4');
        const t = setTimeout(() => (s.close(), resolve(false)), 200);
        s.on('message', () => (clearTimeout(t), s.close(), resolve(true)));
        s.send(encodeQuery(1, name(0), 'A'), port, '127.0.0.1');
      });
      if (ok) break;
      if (Date.now() > deadline) return undefined;
    }
    return await f(port);
  } finally {
    p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** dnsperf's queries/s against a port (its own load: -c 1, -q 64), when installed. */
async function dnsperf(port: number, seconds: number): Promise<string | undefined> {
  if (!which('dnsperf')) return undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'benchdnsperf-'));
  const file = path.join(dir, 'queries');
  writeFileSync(file, Array.from({ length: N }, (_, i) => `${name(i)} ${i % 4 === 3 ? 'AAAA' : 'A'}`).join('\n') + '\n');
  try {
    const out = await new Promise<string>((resolve) => execFile('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-c', '1', '-q', '64'], (_e, stdout) => resolve(stdout)));
    const qps = /Queries per second:\s+([\d.]+)/.exec(out)?.[1];
    const avg = /Average Latency \(s\):\s+([\d.]+)/.exec(out)?.[1];
    return qps ? `${Math.round(Number(qps))} queries/s  avg ${(Number(avg) * 1000).toFixed(2)} ms` : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const l = { seconds: quick ? 1 : 3, inflight: 64 };
  const fmt = (r: Result) => `${String(r.qps).padStart(6)} queries/s  p99 ${r.p99.toFixed(2)} ms${r.lost ? `  (${r.lost} lost)` : ''}`;
  console.log(`cluster DNS, UDP, ${N} Services (half dual-stack), 3 A : 1 AAAA, ${l.inflight} in flight, ${l.seconds}s each, load generator in a worker thread; goal ≥ 20,000 queries/s`);
  console.log(`  skiff (answer cache)    ${fmt(await skiff(true, l))}`);
  console.log(`  skiff (no cache)        ${fmt(await skiff(false, l))}`);
  const ref = await withDnsmasq((port) => load({ ...l, port }));
  console.log(`  dnsmasq (reference)     ${ref ? fmt(ref) : 'not installed (apt-get install dnsmasq-base)'}`);
  if (which('dnsperf')) {
    const dns = createDnsServer(new ClusterZone(staticData(true), { domain: 'cluster.local', ttl: 5 }), { host: '127.0.0.1', port: 0, upstreams: [] });
    await dns.start();
    try {
      console.log(`  dnsperf → skiff         ${(await dnsperf(dns.port, l.seconds)) ?? 'failed'}`);
    } finally {
      await dns.stop();
    }
    const r = await withDnsmasq((port) => dnsperf(port, l.seconds));
    if (r) console.log(`  dnsperf → dnsmasq       ${r}`);
  }
}

if (isMainThread) await main();
else parentPort!.postMessage(await generate(workerData as Load));
