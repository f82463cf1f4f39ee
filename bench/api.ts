/**
 * API server benchmark: mutating latency at a fixed request rate, LIST of 10,000 pods, watch fan-out
 * to 1,000 watchers, and `skiff up` → /readyz. Each figure is printed for the embedded (sqlite)
 * and the etcd datastore from the same run, with the goal beside it.
 *
 *   node dist/bench/api.js [--quick]
 */
import https from 'node:https';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { clientFromKubeconfig, type ApiClient } from '../src/testing/client.js';
import { spawnSkiffUp } from '../src/testing/cluster.js';
import { startEtcd, etcdMissing } from '../src/testing/etcd.js';
import { cpuMs } from './lib/proc.js';

const quick = process.argv.includes('--quick');
// Without the controller manager no default ServiceAccounts exist, which ServiceAccount admission requires for pods.
const CONTROL_PLANE_ONLY = ['--no-kubelet', '--disable-scheduler', '--disable-controller-manager', '--disable-admission-plugins', 'ServiceAccount'];

type Client = ApiClient;
const client = (kubeconfigPath: string, _server: string) => clientFromKubeconfig(kubeconfigPath);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'bench' } },
  spec: { containers: [{ name: 'c', image: 'nginx:1.27', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
});

/** Open-loop load: requests are started on schedule whatever the latency, as a real client mix would. */
async function mutatingLatency(c: Client, rate: number, seconds: number, prefix = 'lat') {
  const lat: Record<string, number[]> = { create: [], get: [], update: [] };
  const total = rate * seconds;
  const interval = 1000 / rate;
  const inflight: Promise<void>[] = [];
  const t0 = performance.now();
  let created = 0;
  for (let i = 0; i < total; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const kind = i % 3 === 0 || created < 5 ? 'create' : i % 3 === 1 ? 'get' : 'update';
    const n = kind === 'create' ? created++ : Math.floor(Math.random() * Math.max(1, created - 2));
    inflight.push(
      (async () => {
        const s = performance.now();
        if (kind === 'create') await c.request('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${prefix}-${n}` }, data: { v: '0' } });
        else if (kind === 'get') await c.request('GET', `/api/v1/namespaces/default/configmaps/${prefix}-${n}`);
        else await c.request('PATCH', `/api/v1/namespaces/default/configmaps/${prefix}-${n}`, { data: { v: String(i) } }, { 'content-type': 'application/merge-patch+json' });
        lat[kind].push(performance.now() - s);
      })(),
    );
  }
  await Promise.all(inflight);
  return lat;
}

async function createPods(c: Client, n: number) {
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < n) {
        const i = next++;
        const r = await c.request('POST', '/api/v1/namespaces/default/pods', pod(`p-${i}`));
        if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.body}`);
      }
    }),
  );
}

async function listLatency(c: Client, runs: number) {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    const r = await c.request('GET', '/api/v1/namespaces/default/pods');
    if (r.status !== 200) throw new Error(`list failed ${r.status}`);
    xs.push(performance.now() - s);
  }
  return xs;
}


/** N watchers on configmaps; each event's delivery time is measured from just before the write. */
async function watchFanout(c: Client, watchers: number, events: number) {
  const sent = new Map<string, number>();
  const lat: number[] = [];
  let ready = 0;
  const reqs: import('node:http').ClientRequest[] = [];
  const agent = new https.Agent({ ...(c.agent as any).options, keepAlive: false, maxSockets: Infinity });
  const rv = JSON.parse((await c.request('GET', '/api/v1/namespaces/default/configmaps?limit=1')).body).metadata.resourceVersion;
  await new Promise<void>((resolve) => {
    for (let w = 0; w < watchers; w++) {
      const req = https.request({ host: c.base.hostname, port: c.base.port, agent, path: `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}&labelSelector=fan=out` }, (res) => {
        let buf = '';
        res.on('data', (d) => {
          buf += d;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            const ev = JSON.parse(line);
            const t = sent.get(ev.object.metadata.name);
            if (t !== undefined) lat.push(performance.now() - t);
          }
        });
        if (++ready === watchers) resolve();
      });
      req.end();
      reqs.push(req);
    }
  });
  for (let i = 0; i < events; i++) {
    const name = `fan-${i}`;
    sent.set(name, performance.now());
    await c.request('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { fan: 'out' } } });
    await new Promise((r) => setTimeout(r, 20));
  }
  const deadline = Date.now() + 10_000;
  while (lat.length < watchers * events && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const r of reqs) r.destroy();
  agent.destroy();
  return { lat, expected: watchers * events };
}

/** From spawning `skiff up` to the first /readyz that answers ok (polled every 5 ms). */
async function timeToReady(datastore: string): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'skiff-bench-up-'));
  const port = await freePort();
  const agent = new https.Agent({ rejectUnauthorized: false, keepAlive: false });
  const t0 = performance.now();
  const s = await spawnSkiffUp(['--data-dir', dir, '--api-port', String(port), '--datastore', datastore, '--network-mode', 'loopback', '--runtime', 'process', '--no-ingress'], { waitForUp: false });
  let ms = NaN;
  for (let i = 0; i < 6000; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/readyz', agent }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
    });
    if (ok) {
      ms = performance.now() - t0;
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  agent.destroy();
  s.child.kill('SIGTERM');
  await s.exited;
  await rm(dir, { recursive: true, force: true });
  return ms;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
    srv.on('error', reject);
  });
}

async function runFor(datastore: string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'skiff-bench-'));
  // The API server alone: no scheduler, controllers or kubelet acting on the benchmark's objects.
  const s = await spawnSkiffUp(['--data-dir', dir, '--api-port', '0', '--datastore', datastore, ...CONTROL_PLANE_ONLY]);
  const c = await client(path.join(dir, 'kubeconfig'), s.server);
  try {
    // Warm-up (connections, lazily loaded schemas) is not measured.
    await mutatingLatency(c, 500, 1, 'warm');
    const lat = await mutatingLatency(c, 500, quick ? 2 : 6);
    const nPods = quick ? 2000 : 10_000;
    // The API server's CPU per pod create (32 in flight): steadier than latency on a shared machine.
    const cpu0 = cpuMs(s.child.pid!);
    await createPods(c, nPods);
    const createCpu = (cpuMs(s.child.pid!) - cpu0) / nPods;
    const list = await listLatency(c, quick ? 3 : 5);
    const fan = await watchFanout(c, quick ? 200 : 1000, quick ? 5 : 10);
    const startup = await timeToReady(datastore);
    return { lat, nPods, createCpu, list, fan, startup };
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
    c.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const f = (x: number) => `${x.toFixed(1)} ms`;

async function main() {
  const results: Record<string, Awaited<ReturnType<typeof runFor>>> = {};
  results.sqlite = await runFor('sqlite');
  const missing = etcdMissing();
  let etcd: Awaited<ReturnType<typeof startEtcd>> | undefined;
  if (!missing) {
    etcd = await startEtcd();
    try {
      results.etcd = await runFor(`etcd://${etcd.endpoints.map((e) => e.replace(/^https?:\/\//, '')).join(',')}`);
    } finally {
      await etcd.stop();
    }
  } else console.log(`(etcd datastore skipped: ${missing})`);
  const rows: [string, (r: (typeof results)['sqlite']) => string, string][] = [
    ['create p50 / p99 @500 mutating req/s', (r) => `${f(pct(r.lat.create, 50))} / ${f(pct(r.lat.create, 99))}`, 'p99 ≤ 10 ms (upstream SLO 1 s)'],
    ['get p50 / p99', (r) => `${f(pct(r.lat.get, 50))} / ${f(pct(r.lat.get, 99))}`, 'p99 ≤ 10 ms'],
    ['update (patch) p50 / p99', (r) => `${f(pct(r.lat.update, 50))} / ${f(pct(r.lat.update, 99))}`, 'p99 ≤ 10 ms'],
    ['API server CPU per pod create', (r) => `${(r.createCpu * 1000).toFixed(0)} µs (${r.nPods} creates, 32 in flight)`, '-'],
    ['LIST pods (median)', (r) => `${f(pct(r.list, 50))} for ${r.nPods} pods`, '≤ 300 ms for 10,000'],
    ['watch delivery p50 / p99', (r) => `${f(pct(r.fan.lat, 50))} / ${f(pct(r.fan.lat, 99))} (${r.fan.lat.length}/${r.fan.expected} events)`, 'p99 ≤ 100 ms, 1,000 watchers'],
    ['skiff up → /readyz', (r) => f(r.startup), '≤ 1 s (k3s: tens of s; envtest 5–15 s)'],
  ];
  console.log(`\n${'figure'.padEnd(40)}${'sqlite'.padEnd(44)}${'etcd'.padEnd(44)}goal`);
  for (const [name, fmt, goal] of rows) {
    console.log(`${name.padEnd(40)}${fmt(results.sqlite).padEnd(44)}${(results.etcd ? fmt(results.etcd) : '-').padEnd(44)}${goal}`);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
