/**
 * Scheduler benchmark modelled on upstream scheduler_perf (test/integration/scheduler_perf,
 * config/performance-config.yaml, 5000Nodes workloads), end to end through the API server:
 * pods are created over HTTPS and count once their binding is accepted. The API server runs in its
 * own process (a fresh one per workload), the scheduler and simulated nodes in this one.
 * Also: 10,000 simulated pods Running and 10,000 simulated nodes Ready, against kwok's CI bars.
 *
 *   node dist/bench/scheduler.js [--quick | --scale 0.5] [--only Name,Name] [--cycle-only] [--verbose]
 *
 * Each measurement has a time budget (2 min; 1 min with --quick): a workload that does not finish
 * reports its rate over the budget, so the whole run stays bounded on a small machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RestClient, configFromKubeconfig } from '../src/client/rest.js';
import { Informer } from '../src/client/informer.js';
import { createScheduler } from '../src/scheduler/scheduler.js';
import { defaultConfig } from '../src/scheduler/config.js';
import { SchedulerCore } from '../src/scheduler/core.js';
import { inTreeRegistry } from '../src/scheduler/registry.js';
import { FakeClock } from '../src/scheduler/testutil.js';
import { nodeObject } from '../src/simnodes/lifecycle.js';
import { nodeIP, podCIDR } from '../src/simnodes/addressing.js';
import { Pool } from '../src/simnodes/pool.js';
import { createSimulatedNodes, registerSimulatedNodes, type SimulatedNodesOptions } from '../src/simnodes/simulator.js';
import { cpuMs } from './lib/proc.js';
import { parseSamples } from '../src/util/prometheus.js';

const argv = process.argv.slice(2);


const quick = argv.includes('--quick');
const onlyArg = argv[argv.indexOf('--only') + 1];
const only = argv.includes('--only') ? new Set(onlyArg.split(',')) : undefined;

async function apiServer(): Promise<{ kubeconfig: string; child: ChildProcess; dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'skiff-bench-sched-'));
  // SKIFF_BENCH_API_PROF=DIR: the API server writes a CPU profile there when it stops.
  const prof = process.env.SKIFF_BENCH_API_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SKIFF_BENCH_API_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, fileURLToPath(import.meta.url), '--serve', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const kubeconfig = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`API server exited with ${code}`)));
  });
  return { kubeconfig, child, dir };
}

/** CPU ms (user+system) a process has used, from /proc (0 where unavailable). */
function procCpuMs(pid: number | undefined): number {
  try {
    return cpuMs(pid!);
  } catch {
    return 0;
  }
}

/** apiserver_request_total by "VERB resource[/subresource]", scraped from /metrics (for --verbose). */
async function requestCounts(client: RestClient): Promise<Map<string, number>> {
  const res: any = await (client as any).raw('GET', '/metrics');
  let text = '';
  for await (const chunk of res) text += chunk;
  const counts = new Map<string, number>();
  for (const { name, labels, value } of parseSamples(text).samples) {
    if (name !== 'apiserver_request_total') continue;
    const key = `${labels.verb} ${labels.resource ?? ''}${labels.subresource ? '/' + labels.subresource : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + value);
  }
  return counts;
}

function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function stopServer(s: { child: ChildProcess; dir: string }): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  s.child.kill('SIGKILL');
  await rm(s.dir, { recursive: true, force: true });
}

const PAUSE = 'registry.k8s.io/pause:3.10';
/** scheduler_perf's templates/pod-default.yaml and node-default.yaml. */
const NODE_CAPACITY = { cpu: '4', memory: '32Gi', pods: '110' };
function podTemplate(name: string, ns: string, extra: { labels?: Record<string, string>; spec?: Record<string, unknown>; cpu?: string; memory?: string } = {}) {
  const req = { cpu: extra.cpu ?? '100m', memory: extra.memory ?? '500Mi' };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: extra.labels },
    spec: { containers: [{ name: 'pause', image: PAUSE, ports: [{ containerPort: 80 }], resources: { requests: req, limits: req } }], ...extra.spec },
  };
}

async function createPods(client: RestClient, ns: string, n: number, make: (i: number) => object, concurrency = 48): Promise<void> {
  const pool = new Pool(concurrency);
  const jobs: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) jobs.push(pool.run(() => client.create(`/api/v1/namespaces/${ns}/pods`, make(i))));
  await Promise.all(jobs);
}

async function ensureNamespace(client: RestClient, name: string): Promise<void> {
  await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch(() => undefined);
}

interface Workload {
  name: string;
  bar: number;
  nodes: number;
  nodeOpts?: Partial<SimulatedNodesOptions>;
  initPods: number;
  measurePods: number;
  init?: (i: number, ns: string) => object;
  measure: (i: number, ns: string) => object;
  setup?: (client: RestClient) => Promise<void>;
  /** Simulated nodes finish deleting preempted pods. */
  needsKubelet?: boolean;
}

const scaleArg = argv.includes('--scale') ? Number(argv[argv.indexOf('--scale') + 1]) : undefined;
const scale = scaleArg ?? (quick ? 0.1 : 1);
const cycleOnlyMode = argv.includes('--cycle-only');
const verbose = argv.includes('--verbose');
/** Each measurement stops after this long and reports the rate so far, so the run stays bounded. */
const BUDGET_MS = quick ? 60_000 : 120_000;
const N = (x: number) => Math.max(1, Math.round(x * scale));

const workloads: Workload[] = [
  {
    name: 'SchedulingBasic',
    bar: 270,
    nodes: N(5000),
    initPods: N(1000),
    measurePods: N(10000),
    init: (i, ns) => podTemplate(`init-${i}`, ns),
    measure: (i, ns) => podTemplate(`p-${i}`, ns),
  },
  {
    name: 'NodeAffinity',
    bar: 220,
    nodes: N(5000),
    nodeOpts: { labels: { zone: 'zone1' } },
    initPods: N(5000),
    measurePods: N(10000),
    init: (i, ns) => podTemplate(`init-${i}`, ns),
    measure: (i, ns) =>
      podTemplate(`p-${i}`, ns, {
        spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['zone1', 'zone2'] }] }] } } } },
      }),
  },
  {
    name: 'TopologySpreading',
    bar: 85,
    nodes: N(5000),
    nodeOpts: { zones: 3 },
    initPods: N(5000),
    measurePods: N(10000),
    init: (i, ns) => podTemplate(`init-${i}`, ns),
    measure: (i, ns) =>
      podTemplate(`p-${i}`, ns, {
        labels: { color: 'blue' },
        spec: { topologySpreadConstraints: [{ maxSkew: 5, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { color: 'blue' } } }] },
      }),
  },
  {
    name: 'PodAntiAffinity',
    bar: 60,
    nodes: N(5000),
    initPods: N(1000),
    measurePods: N(1000),
    init: (i, ns) => podTemplate(`init-${i}`, ns, { labels: { color: 'green' }, spec: antiAffinity('green') }),
    measure: (i, ns) => podTemplate(`p-${i}`, ns, { labels: { color: 'green' }, spec: antiAffinity('green') }),
  },
  {
    name: 'PreemptionAsync',
    bar: 160,
    nodes: N(5000),
    initPods: N(20000),
    measurePods: N(5000),
    setup: async (client) => {
      for (const [name, value] of [['low', 1], ['high', 10]] as const) await client.create('/apis/scheduling.k8s.io/v1/priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value });
    },
    // As upstream's pod-low-priority.yaml: no grace period, so a victim's DELETE removes it at once
    // (scheduler_perf runs no kubelet to finish a graceful deletion).
    init: (i, ns) => podTemplate(`low-${i}`, ns, { cpu: '900m', spec: { priorityClassName: 'low', terminationGracePeriodSeconds: 0 } }),
    measure: (i, ns) => podTemplate(`high-${i}`, ns, { cpu: '3', spec: { priorityClassName: 'high' } }),
  },
];

function antiAffinity(color: string) {
  return { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { color } }, topologyKey: 'kubernetes.io/hostname' }] } } };
}

async function runWorkload(w: Workload): Promise<{ podsPerSec: number; bound: number; ms: number }> {
  const srv = await apiServer();
  const client = new RestClient(configFromKubeconfig(srv.kubeconfig, 'bench'));
  try {
    await w.setup?.(client);
    const sim = createSimulatedNodes(client, { count: w.nodes, capacity: NODE_CAPACITY, leaseRenewMs: 0, runPods: w.needsKubelet ? 'delete-only' : false, leaderElect: false, ...w.nodeOpts });
    await sim.start();
    const sched = createScheduler(client, { leaderElect: false });
    await sched.start();
    await ensureNamespace(client, 'init');
    await ensureNamespace(client, 'measure');
    // Bound = the API server accepted the pod's Binding (counted by the scheduler as responses arrive).
    const boundCount = () => sched.core.stats.bound;
    const waitFor = async (n: number, timeoutMs: number) => {
      const deadline = performance.now() + timeoutMs;
      while (boundCount() < n && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    };
    if (w.initPods && w.init) {
      await createPods(client, 'init', w.initPods, (i) => w.init!(i, 'init'));
      await waitFor(w.initPods, 4 * BUDGET_MS);
      if (boundCount() < w.initPods) throw new Error(`${w.name}: only ${boundCount()}/${w.initPods} init pods bound`);
    }
    const base = boundCount();
    const before = { ...sched.core.stats };
    const requests0 = verbose ? await requestCounts(client) : undefined;
    const cpu0 = { self: selfCpuMs(), api: procCpuMs(srv.child.pid) };
    const t0 = performance.now();
    const hr0 = process.hrtime.bigint();
    let createdMs = 0;
    const creating = createPods(client, 'measure', w.measurePods, (i) => w.measure(i, 'measure')).then(() => (createdMs = performance.now() - t0));
    // Whether bindings queue up (API latency) or the scheduler is the one behind (active pods waiting).
    let maxInFlight = 0;
    let maxActive = 0;
    const sampler = setInterval(() => {
      maxInFlight = Math.max(maxInFlight, sched.core.bindingsInFlight);
      maxActive = Math.max(maxActive, sched.core.queue.counts().active);
    }, 50);
    await waitFor(base + w.measurePods, BUDGET_MS);
    clearInterval(sampler);
    const ms = performance.now() - t0;
    const bound = boundCount() - base;
    if (verbose) {
      const d = Object.fromEntries(Object.entries(sched.core.stats).map(([k, v]) => [k, v - (before as any)[k]]));
      // Who used the CPU: this process (scheduler, simulated nodes and the pod creator) or the API server.
      const self = selfCpuMs() - cpu0.self;
      const api = procCpuMs(srv.child.pid) - cpu0.api;
      console.error(`  ${w.name} end to end: pods created in ${(createdMs / 1000).toFixed(1)} s, all bound in ${(ms / 1000).toFixed(1)} s, ${JSON.stringify(d)}`);
      // Monotonic µs of the measured window, to cut a --cpu-prof profile to it (V8's timestamps use the same clock).
      console.error(`  window (monotonic µs): ${(hr0 / 1000n).toString()} ${(process.hrtime.bigint() / 1000n).toString()}`);
      const requests1 = await requestCounts(client);
      const perPod = [...requests1].map(([k, v]) => [k, (v - (requests0!.get(k) ?? 0)) / bound] as const).filter(([, v]) => v >= 0.01).sort((a, b) => b[1] - a[1]);
      console.error(`  API requests per bound pod: ${perPod.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
      console.error(`  CPU per bound pod: scheduler process ${(self / bound).toFixed(2)} ms, API server ${(api / bound).toFixed(2)} ms; at most ${maxInFlight} bindings in flight, ${maxActive} pods waiting in activeQ`);
    }
    await Promise.race([creating, new Promise((r) => setTimeout(r, 30_000))]);
    await sched.stop();
    await sim.stop();
    // Check against the API server itself.
    const list: any = await client.get('/api/v1/namespaces/measure/pods', { fieldSelector: 'spec.nodeName!=', limit: 100000 });
    if ((list.items ?? []).length < bound) throw new Error(`${w.name}: the API server has ${(list.items ?? []).length} bound pods, the scheduler counted ${bound}`);
    return { podsPerSec: (bound / ms) * 1000, bound, ms };
  } finally {
    client.close();
    await stopServer(srv);
  }
}

/** kwok's CI bar: 10,000 pods Running. Pods are created already bound, spread over simulated nodes. */
async function podsRunning(count: number, nodes: number): Promise<number> {
  const srv = await apiServer();
  const client = new RestClient(configFromKubeconfig(srv.kubeconfig, 'bench'));
  try {
    const sim = createSimulatedNodes(client, { count: nodes, leaseRenewMs: 0, leaderElect: false });
    await sim.start();
    const inf = new Informer(client, { group: '', version: 'v1', resource: 'pods', namespace: 'default', fieldSelector: 'status.phase=Running' });
    await inf.start();
    const t0 = performance.now();
    let at = 0;
    const finished = new Promise<void>((r) =>
      inf.addHandlers({
        add: () => {
          if (inf.size >= count && !at) {
            at = performance.now();
            r();
          }
        },
      }),
    );
    const cpu0 = { self: selfCpuMs(), api: procCpuMs(srv.child.pid) };
    await createPods(client, 'default', count, (i) => podTemplate(`run-${i}`, 'default', { spec: { nodeName: `sim-node-${i % nodes}` } }));
    const createdS = (performance.now() - t0) / 1000;
    await Promise.race([finished, new Promise((r) => setTimeout(r, 300_000))]);
    if (verbose) {
      console.error(`  pods created in ${createdS.toFixed(2)} s; CPU per pod: this process ${((selfCpuMs() - cpu0.self) / count).toFixed(2)} ms, API server ${((procCpuMs(srv.child.pid) - cpu0.api) / count).toFixed(2)} ms`);
    }
    inf.stop();
    await sim.stop();
    return ((at || performance.now()) - t0) / 1000;
  } finally {
    client.close();
    await stopServer(srv);
  }
}

/** kwok's CI bar: 10,000 nodes Ready (with their Leases). */
async function nodesReady(count: number): Promise<{ readyS: number; leasesS: number }> {
  const srv = await apiServer();
  const client = new RestClient(configFromKubeconfig(srv.kubeconfig, 'bench'));
  try {
    const t0 = performance.now();
    // Registration: each Node is created Ready, as a kubelet registers it.
    await registerSimulatedNodes(client, { count });
    const readyS = (performance.now() - t0) / 1000;
    // Then the simulator takes them over and creates every node's Lease.
    const sim = createSimulatedNodes(client, { count: 0, leaderElect: false, leaseRenewMs: 60_000, runPods: false });
    await sim.start();
    const leasesS = (performance.now() - t0) / 1000;
    const list: any = await client.get('/api/v1/nodes', { limit: 100000 });
    const ready = (list.items ?? []).filter((n: any) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
    if (ready < count) throw new Error(`only ${ready}/${count} nodes Ready`);
    await sim.stop();
    return { readyS, leasesS };
  } finally {
    client.close();
    await stopServer(srv);
  }
}

/**
 * The same workload through the scheduler core alone (no API server: bindings are acknowledged at
 * once, time is simulated for backoff): what the scheduling algorithm itself sustains.
 */
async function cycleOnly(w: Workload): Promise<number> {
  const clock = new FakeClock();
  const pods = new Map<string, any>();
  let core!: SchedulerCore;
  const prio: Record<string, number> = { low: 1, high: 10 };
  core = new SchedulerCore({
    config: defaultConfig(),
    registry: inTreeRegistry(),
    clock,
    maxInFlightBindings: 1 << 30,
    world: { pod: (k) => pods.get(k), namespaceLabels: () => undefined },
    api: {
      bind: async (p, node) => {
        const k = `${p.metadata!.namespace}/${p.metadata!.name}`;
        const cur = pods.get(k);
        const b = { ...cur, spec: { ...cur.spec, nodeName: node } };
        pods.set(k, b);
        core.onPodUpdate(cur, b);
      },
      updateStatus: async () => undefined,
      event: () => undefined,
      preemptVictim: async (v) => {
        const k = `${v.metadata!.namespace}/${v.metadata!.name}`;
        const cur = pods.get(k);
        if (!cur) return;
        pods.delete(k);
        core.onPodDelete(cur);
      },
      clearNominatedNodeName: async () => undefined,
    },
  });
  const now = new Date();
  for (let i = 0; i < w.nodes; i++) {
    const labels: Record<string, string> = { ...w.nodeOpts?.labels };
    if (w.nodeOpts?.zones) labels['topology.kubernetes.io/zone'] = `zone-${i % w.nodeOpts.zones}`;
    core.onNodeAdd(nodeObject({ name: `sim-node-${i}`, index: i, capacity: NODE_CAPACITY, labels, taints: [], ip: nodeIP(i), podCIDR: podCIDR(i) }, now));
  }
  let uid = 0;
  const add = (o: any) => {
    const p = structuredClone(o);
    p.metadata.uid = `u${++uid}`;
    p.metadata.creationTimestamp = now.toISOString();
    p.spec.schedulerName = 'default-scheduler';
    p.spec.priority = prio[p.spec.priorityClassName] ?? 0;
    p.status = { phase: 'Pending' };
    pods.set(`${p.metadata.namespace}/${p.metadata.name}`, p);
    core.onPodAdd(p);
  };
  const drain = async (target: number) => {
    let idle = 0;
    const deadline = performance.now() + BUDGET_MS;
    while (core.stats.bound < target && idle < 1000 && performance.now() < deadline) {
      let n = 0;
      while (core.scheduleNext()) if (++n % 64 === 0) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      if (n === 0) {
        clock.step(1000);
        idle++;
      }
    }
  };
  const tInit = performance.now();
  for (let i = 0; i < w.initPods && w.init; i++) add(w.init!(i, 'init'));
  await drain(w.initPods);
  const base = core.stats.bound;
  const before = { ...core.stats };
  const t0 = performance.now();
  for (let i = 0; i < w.measurePods; i++) add(w.measure(i, 'measure'));
  await drain(base + w.measurePods);
  const ms = performance.now() - t0;
  core.close();
  if (verbose) {
    const d = Object.fromEntries(Object.entries(core.stats).map(([k, v]) => [k, v - (before as any)[k]]));
    console.error(`  ${w.name} cycle only: init ${((t0 - tInit) / 1000).toFixed(1)} s, measure ${(ms / 1000).toFixed(1)} s, ${JSON.stringify(d)}`);
  }
  return ((core.stats.bound - base) / ms) * 1000;
}

function row(cols: (string | number)[], widths: number[]): string {
  return cols.map((c, i) => String(c).padEnd(widths[i])).join(' ');
}

async function main(): Promise<void> {
  console.log(`Scheduler benchmark (${quick ? 'quick: 1/10 scale' : 'full'}), end to end through the API server; goal ≥ 10× the upstream bar.`);
  console.log('"end to end": pods created over HTTPS until the API server accepted every Binding; "cycle only": the scheduler core without an API server.');
  const widths = [20, 7, 7, 9, 12, 10, 8, 16];
  console.log(row(['workload', 'nodes', 'pods', 'seconds', 'e2e pods/s', 'upstream', 'ratio', 'cycle-only pods/s'], widths));
  for (const w of workloads) {
    if (only && !only.has(w.name)) continue;
    let cyc = '';
    try {
      const c = await cycleOnly(w);
      cyc = `${c.toFixed(0)} (${(c / w.bar).toFixed(0)}×)`;
      if (cycleOnlyMode) {
        console.log(row([w.name, w.nodes, w.measurePods, '-', '-', w.bar, '-', cyc], widths));
        continue;
      }
      const r = await runWorkload(w);
      console.log(row([w.name, w.nodes, w.measurePods, (r.ms / 1000).toFixed(2), r.podsPerSec.toFixed(0), w.bar, `${(r.podsPerSec / w.bar).toFixed(1)}×`, cyc], widths));
    } catch (e) {
      console.log(row([w.name, w.nodes, w.measurePods, 'failed', (e as Error).message, w.bar, '-', cyc], widths));
    }
  }
  if (!only || only.has('PodsRunning')) {
    const n = quick ? 1000 : 10_000;
    const s = await podsRunning(n, quick ? 100 : 1000);
    console.log(`${n} simulated pods Running: ${s.toFixed(2)} s (kwok CI bar 120 s; goal ≤ 10 s)`);
  }
  if (!only || only.has('NodesReady')) {
    const n = quick ? 1000 : 10_000;
    const r = await nodesReady(n);
    console.log(`${n} simulated nodes Ready: ${r.readyS.toFixed(2)} s, with Leases: ${r.leasesS.toFixed(2)} s (kwok CI bar 180 s; goal ≤ 10 s)`);
  }
}

if (argv[0] === '--serve') {
  // Child: an API server on a free port with its own data dir.
  const { up } = await import('../src/cluster/up.js');
  // Only the API server: the scheduler and simulated nodes under test run in the parent.
  const c = await up({
    dataDir: argv[1],
    apiPort: 0,
    datastore: 'sqlite',
    host: '127.0.0.1',
    components: { controllers: false, scheduler: false, kubelet: false, ingress: false },
    disableAdmissionPlugins: ['ServiceAccount'],
  });
  // SKIFF_BENCH_API_ALLOC=FILE: V8's sampling heap profiler over every allocation, collected or not
  // (where GC pressure comes from), written to FILE (.heapprofile, Chrome DevTools) when stopped.
  const allocFile = process.env.SKIFF_BENCH_API_ALLOC;
  const writeAllocations = allocFile ? await (await import('./lib/alloc.js')).sampleAllocations(allocFile) : async () => {};
  process.stdout.write(`READY ${c.kubeconfigPath}\n`);
  process.on('SIGTERM', () => void writeAllocations().then(() => c.stop()).then(() => process.exit(0)));
  // The bench holds our stdin: if it dies without stopping us, we stop too (no orphan API server).
  process.stdin.resume();
  process.stdin.once('end', () => process.kill(process.pid, 'SIGTERM'));
} else {
  await main();
}
