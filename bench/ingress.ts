/**
 * Ingress data plane vs nginx (2 workers, keep-alive upstream), same backend, same run, with wrk:
 * requests/s and p50/p99; then configuration-change latency and failed requests during changes
 * (Skiff swaps a snapshot in every worker; nginx reloads on SIGHUP, as ingress-nginx does).
 *
 * The machine is shared, so throughput is measured in rounds that alternate which proxy goes
 * first; each round gives a ratio, and the table shows medians with the per-round range. CPU time
 * per request (the proxy processes' user+system time over the requests served) is also shown:
 * unlike requests/s it barely moves with other load on the machine. The same rounds then run over
 * TLS (HTTP/1.1, keep-alive, one handshake per connection) against nginx's `listen … ssl`.
 *
 *   node dist/bench/ingress.js [--quick] [--duration 5] [--connections 64] [--rounds 3]
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg } from 'node:os';
import { buildTable, backendName } from '../src/ingress/table.js';
import { renderNginxConf } from '../src/ingress/nginxconf.js';
import { startNginx, freePort, nginxMissing, type NginxProcess } from '../src/ingress/peers.js';
import { DataPlaneWorkers } from '../src/ingress/workers.js';
import { ing } from '../src/ingress/fixtures.js';
import type { Endpoint } from '../src/ingress/dataplane.js';
import { which } from '../src/testing/real.js';
import { selfSignedCert } from '../src/ingress/selfsigned.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
/** --quick: one short round, for checking during development that plain routing did not slow down. */
const QUICK = process.argv.includes('--quick');
const DURATION = arg('duration', QUICK ? 2 : 5);
const CONNS = arg('connections', 64);
const ROUNDS = Math.max(1, arg('rounds', QUICK ? 1 : 3));

interface WrkResult {
  /** CPU microseconds the proxy spent per request (user, system). */
  cpu?: { user: number; sys: number };
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

function wrk(url: string, seconds: number, host = 'bench.test'): Promise<WrkResult> {
  // wrk sends SNI from the URL's host: a name, so both proxies see the same handshake.
  url = url.replace('https://127.0.0.1:', 'https://localhost:');
  return new Promise((resolve, reject) => {
    execFile('wrk', ['-t2', `-c${CONNS}`, `-d${seconds}s`, '--latency', '-H', `Host: ${host}`, url], { timeout: (seconds + 30) * 1000 }, (err, out) => {
      if (err) return reject(err);
      const ms = (re: RegExp) => {
        const m = re.exec(out);
        if (!m) return NaN;
        const v = Number(m[1]);
        return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
      };
      const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      resolve({
        requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN),
        rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
        p50: ms(/50%\s+([\d.]+)(us|ms|s)/),
        p99: ms(/99%\s+([\d.]+)(us|ms|s)/),
        errors: errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
        non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
      });
    });
  });
}

/** utime and stime of processes, in clock ticks (1/100 s). */
function cpuTicks(pids: number[]): { user: number; sys: number } {
  let user = 0;
  let sys = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      user += Number(f[11]);
      sys += Number(f[12]);
    } catch {
      /* gone */
    }
  }
  return { user, sys };
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** wrk, plus the CPU time the given processes spent per request meanwhile. */
async function wrkCpu(url: string, seconds: number, pids: () => number[]): Promise<WrkResult> {
  const ps = pids();
  const before = cpuTicks(ps);
  const r = await wrk(url, seconds);
  const after = cpuTicks(ps);
  return { ...r, cpu: { user: ((after.user - before.user) * 10_000) / r.requests, sys: ((after.sys - before.sys) * 10_000) / r.requests } };
}

function status(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { host: 'bench.test', connection: 'close' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function timeUntilRoutes(port: number, path: string, change: () => Promise<void> | void): Promise<number> {
  const t0 = performance.now();
  await change();
  for (;;) {
    if ((await status(port, path)) === 200) return performance.now() - t0;
    if (performance.now() - t0 > 10_000) return NaN;
  }
}

const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

async function main() {
  const missing = nginxMissing() ?? (which('wrk') ? undefined : 'wrk is not installed');
  if (missing) {
    console.log(`ingress bench skipped: ${missing}`);
    return;
  }
  // The backend: a one-worker nginx answering 200 from memory, so the backend costs both proxies the same.
  const backendPort = await freePort();
  const backend = await startNginx(
    (dir) => `worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log; daemon off; events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server { listen 127.0.0.1:${backendPort}; location / { return 200 "ok\\n"; } } }\n`,
    [backendPort],
  );
  const eps: Endpoint[] = [{ address: '127.0.0.1', port: backendPort }];
  const ingresses = (n: number) => [ing({ name: 'bench', host: 'bench.test', paths: Array.from({ length: n }, (_, i) => ({ path: i === 0 ? '/' : `/v${i}`, service: 'backend' })) })];
  const cfgFor = (n: number) => {
    const list = ingresses(n);
    const table = buildTable(list);
    const endpoints: Record<string, Endpoint[]> = {};
    for (const s of table.servers.values()) for (const l of s.locations) if (l.backend) endpoints[backendName(l.backend)] = eps;
    return { list, table, endpoints };
  };
  const nginxPort = await freePort();
  const nginxTlsPort = await freePort();
  const defaultBackend = eps[0];
  const pair = await selfSignedCert();
  const nginxConf = (n: number, dir: string) => {
    writeFileSync(`${dir}/tls.crt`, pair.cert);
    writeFileSync(`${dir}/tls.key`, pair.key);
    const tls = { port: nginxTlsPort, certFile: `${dir}/tls.crt`, keyFile: `${dir}/tls.key` };
    return renderNginxConf({ dir, workers: 2, sites: [{ table: cfgFor(n).table, port: nginxPort, endpoints: cfgFor(n).endpoints, defaultBackend, tls }] });
  };
  let nginx: NginxProcess | undefined;
  let skiff: DataPlaneWorkers | undefined;
  try {
    nginx = await startNginx((dir) => nginxConf(1, dir), [nginxPort, nginxTlsPort]);
    skiff = new DataPlaneWorkers({ httpPort: 0, httpsPort: await freePort(), defaultCert: pair, host: '127.0.0.1', workers: 2 });
    await skiff.start();
    const c1 = cfgFor(1);
    skiff.apply({ ingresses: c1.list, endpoints: c1.endpoints });
    await skiff.applied();
    const skiffPort = skiff.ports.http;
    const skiffTlsPort = skiff.ports.https;

    // Other load on the machine moves requests/s and p99 (not CPU per request): shown with the figures.
    const loadBefore = loadavg()[0];
    await wrk(`http://127.0.0.1:${nginxPort}/`, 1);
    await wrk(`http://127.0.0.1:${skiffPort}/`, 1);
    const nginxPids = () => childPids(nginx!.child.pid!);
    const skiffPids = () => skiff!.pids();
    const rounds = async (nginxUrl: string, skiffUrl: string) => {
      const ns: WrkResult[] = [];
      const ss: WrkResult[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        if (round % 2 === 0) {
          ns.push(await wrkCpu(nginxUrl, DURATION, nginxPids));
          ss.push(await wrkCpu(skiffUrl, DURATION, skiffPids));
        } else {
          ss.push(await wrkCpu(skiffUrl, DURATION, skiffPids));
          ns.push(await wrkCpu(nginxUrl, DURATION, nginxPids));
        }
      }
      return { ns, ss };
    };
    const { ns, ss } = await rounds(`http://127.0.0.1:${nginxPort}/`, `http://127.0.0.1:${skiffPort}/`);
    await wrk(`https://127.0.0.1:${nginxTlsPort}/`, 1);
    await wrk(`https://127.0.0.1:${skiffTlsPort}/`, 1);
    const tlsRuns = await rounds(`https://127.0.0.1:${nginxTlsPort}/`, `https://127.0.0.1:${skiffTlsPort}/`);
    const med = (xs: number[]) => pct(xs, 50);
    const summary = (xs: WrkResult[]) => ({ rps: med(xs.map((x) => x.rps)), p50: med(xs.map((x) => x.p50)), p99: med(xs.map((x) => x.p99)), cpu: med(xs.map((x) => x.cpu!.user + x.cpu!.sys)), user: med(xs.map((x) => x.cpu!.user)), sys: med(xs.map((x) => x.cpu!.sys)) });
    const n = summary(ns);
    const s = summary(ss);
    const total = (x: WrkResult) => x.cpu!.user + x.cpu!.sys;
    const ratiosOf = (ss: WrkResult[], ns: WrkResult[], k: 'rps' | 'p50' | 'p99' | 'cpu') => ss.map((x, i) => (k === 'cpu' ? total(x) / total(ns[i]) : x[k] / ns[i][k]));
    const ratios = (k: 'rps' | 'p50' | 'p99' | 'cpu') => ratiosOf(ss, ns, k);
    const tn = summary(tlsRuns.ns);
    const ts = summary(tlsRuns.ss);
    const tratios = (k: 'rps' | 'p50' | 'p99' | 'cpu') => ratiosOf(tlsRuns.ss, tlsRuns.ns, k);
    const range = (xs: number[]) => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;

    // A location with per-request annotations (CORS, limits off) takes node:http instead of the fast path: Skiff alone, for scale.
    const annotated = ing({ name: 'annotated', host: 'annotated.test', paths: [{ path: '/', service: 'backend' }], annotations: { 'enable-cors': 'true' } });
    skiff.apply({ ingresses: [...c1.list, annotated], endpoints: c1.endpoints });
    await skiff.applied();
    const ann = await wrk(`http://127.0.0.1:${skiffPort}/`, DURATION, 'annotated.test');
    skiff.apply({ ingresses: c1.list, endpoints: c1.endpoints });
    await skiff.applied();

    // Config changes: 10 each, time until the new path answers.
    const skiffLat: number[] = [];
    const nginxLat: number[] = [];
    for (let i = 2; i <= 11; i++) {
      const c = cfgFor(i);
      skiffLat.push(await timeUntilRoutes(skiffPort, `/v${i - 1}`, () => skiff!.apply({ ingresses: c.list, endpoints: c.endpoints })));
      nginxLat.push(await timeUntilRoutes(nginxPort, `/v${i - 1}`, () => nginx!.reload(nginxConf(i, nginx!.dir))));
    }
    // Failed requests while the configuration changes 5 times per second for the whole wrk run.
    const churn = async (apply: (i: number) => Promise<void> | void, seconds: number) => {
      const end = Date.now() + seconds * 1000;
      for (let i = 12; Date.now() < end; i++) {
        await apply(i % 2 ? 12 : 13);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const [sc] = await Promise.all([wrk(`http://127.0.0.1:${skiffPort}/`, DURATION), churn((i) => { const c = cfgFor(i); skiff!.apply({ ingresses: c.list, endpoints: c.endpoints }); }, DURATION)]);
    const [nc] = await Promise.all([wrk(`http://127.0.0.1:${nginxPort}/`, DURATION), churn((i) => nginx!.reload(nginxConf(i, nginx!.dir)), DURATION)]);

    console.log(`ingress data plane, wrk -t2 -c${CONNS} -d${DURATION}s × ${ROUNDS} alternating rounds, same backend (nginx return 200), same run; medians`);
    console.log(`machine load average (1 min) ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after (2 cores; above ~3 other work skews requests/s and p99)`);
    console.log(`                         skiff (2 workers)      nginx 1.22 (2 workers)   ratio of medians (per-round range)`);
    console.log(`requests/s               ${f(s.rps, 0).padEnd(22)} ${f(n.rps, 0).padEnd(24)} ${f(s.rps / n.rps)}× (${range(ratios('rps'))}) (goal ≥ 0.8×)`);
    console.log(`p50 ms                   ${f(s.p50).padEnd(22)} ${f(n.p50).padEnd(24)} ${f(s.p50 / n.p50)}× (${range(ratios('p50'))})`);
    console.log(`p99 ms                   ${f(s.p99).padEnd(22)} ${f(n.p99).padEnd(24)} ${f(s.p99 / n.p99)}× (${range(ratios('p99'))}) (goal ≤ 1.5×)`);
    console.log(`CPU µs/request (usr+sys) ${`${f(s.cpu, 1)} (${f(s.user, 1)}+${f(s.sys, 1)})`.padEnd(22)} ${`${f(n.cpu, 1)} (${f(n.user, 1)}+${f(n.sys, 1)})`.padEnd(24)} ${f(s.cpu / n.cpu)}× (${range(ratios('cpu'))})`);
    console.log(`HTTPS requests/s         ${f(ts.rps, 0).padEnd(22)} ${f(tn.rps, 0).padEnd(24)} ${f(ts.rps / tn.rps)}× (${range(tratios('rps'))})`);
    console.log(`HTTPS p99 ms             ${f(ts.p99).padEnd(22)} ${f(tn.p99).padEnd(24)} ${f(ts.p99 / tn.p99)}× (${range(tratios('p99'))})`);
    console.log(`HTTPS CPU µs/request     ${`${f(ts.cpu, 1)} (${f(ts.user, 1)}+${f(ts.sys, 1)})`.padEnd(22)} ${`${f(tn.cpu, 1)} (${f(tn.user, 1)}+${f(tn.sys, 1)})`.padEnd(24)} ${f(ts.cpu / tn.cpu)}× (${range(tratios('cpu'))})`);
    console.log(`config change p50/max ms ${`${f(pct(skiffLat, 50), 1)} / ${f(Math.max(...skiffLat), 1)}`.padEnd(22)} ${`${f(pct(nginxLat, 50), 1)} / ${f(Math.max(...nginxLat), 1)}`.padEnd(24)} (goal ≤ 50 ms)`);
    console.log(`failed during changes    ${`${sc.errors + sc.non2xx} of ${f(sc.rps * DURATION, 0)}`.padEnd(22)} ${`${nc.errors + nc.non2xx} of ${f(nc.rps * DURATION, 0)}`.padEnd(24)} (goal 0; 5 changes/s)`);
    console.log(`requests/s during changes ${f(sc.rps, 0).padEnd(21)} ${f(nc.rps, 0)}`);
    const perRound = (ss: WrkResult[], ns: WrkResult[]) => ss.map((x, i) => `${f(x.rps / ns[i].rps)}/${f(x.p99 / ns[i].p99)}`).join(' ');
    console.log(`per round, in order (requests/s ratio / p99 ratio): HTTP ${perRound(ss, ns)}; HTTPS ${perRound(tlsRuns.ss, tlsRuns.ns)}`);
    console.log(`annotated location (enable-cors, node:http path): ${f(ann.rps, 0)} requests/s, p50 ${f(ann.p50)} ms, p99 ${f(ann.p99)} ms, ${ann.errors + ann.non2xx} failed (skiff only)`);
  } finally {
    await skiff?.stop();
    await nginx?.stop();
    await backend.stop();
  }
}

await main();
