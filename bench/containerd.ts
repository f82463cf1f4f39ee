/**
 * Pod startup latency with the containerd runtime (image present: IfNotPresent), next to the
 * process runtime in the same run: one pod at a time (repeated) and a burst created at once;
 * p50/p99 from pod creation to Running observed via watch, beside upstream's SLO (p99 ≤ 5 s)
 * and the goal for the containerd burst (p99 ≤ 1.5 s). Needs root, containerd, runc, CNI.
 *
 *   node dist/bench/containerd.js [--single N] [--burst N]
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestCluster } from '../src/testing/cluster.js';
import { RestClient, configFromKubeconfig } from '../src/client/rest.js';
import { createKubelet } from '../src/kubelet/agent.js';
import { busyboxImage } from '../src/images/testimages.js';
import { containerdFixtureMissing } from '../src/runtime/containerd/testing.js';
import { ContainerdRuntime } from '../src/runtime/containerd/runtime.js';
import { containerdDir } from '../src/runtime/containerd/supervisor.js';
import { startupTimer } from './lib/startup.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

interface Result {
  singles: number[];
  bursts: number[];
  burstWall: number;
  /** CPU ms during the burst: this process (API server + kubelet + bench), containerd's process tree, the whole machine. */
  cpu: { self: number; containerd?: number; machine: number };
}

const TICK_MS = 10; // USER_HZ 100

/** utime+stime (+ reaped children) of a pid, in ms. */
function procCpuMs(pid: number): { self: number; children: number; ppid: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { self: (Number(f[11]) + Number(f[12])) * TICK_MS, children: (Number(f[13]) + Number(f[14])) * TICK_MS, ppid: Number(f[1]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU of containerd and everything under it: its shims are reparented to it (containerd is a
 * subreaper), runc and the CNI plugins are reaped by them and so counted in their children's time.
 * Snapshots key per pid so processes that come and go between two snapshots are not lost: a pid
 * gone by the second snapshot has been reaped into its parent's children time.
 */
function treeCpuMs(root: number): Map<number, number> {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const c = procCpuMs(Number(name));
    if (!c) continue;
    parent.set(Number(name), c.ppid);
    cpu.set(Number(name), c.self + c.children);
  }
  const out = new Map<number, number>();
  for (const pid of cpu.keys()) {
    for (let p: number | undefined = pid, hops = 0; p && hops < 20; p = parent.get(p), hops++) {
      if (p === root) {
        out.set(pid, cpu.get(pid)!);
        break;
      }
    }
  }
  return out;
}

function machineBusyMs(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * TICK_MS;
}

async function measure(runtime: 'process' | 'containerd', single: number, burst: number): Promise<Result> {
  const tc = await startTestCluster();
  const client = new RestClient(configFromKubeconfig(tc.kubeconfig, 'bench'));
  const node = `bench-${runtime}`;
  const dataDir = runtime === 'containerd' ? mkdtempSync('/tmp/skc-') : path.join(tc.dataDir, 'kubelet');
  const k = createKubelet(client, { nodeName: node, dataDir, runtime, podCIDR: '10.244.250.0/24', port: 0 });
  await k.start();
  const image = 'skiff.local/busybox:bench';
  if (runtime === 'containerd') {
    const file = path.join(dataDir, 'busybox.tar');
    writeFileSync(file, busyboxImage(image).archive());
    await (k.kubelet.runtime as ContainerdRuntime).start();
    const { importArchive } = await import('../src/runtime/containerd/supervisor.js');
    await importArchive((k.kubelet.runtime as ContainerdRuntime).endpoint, file);
  }

  const podObj = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
  });
  const timer = await startupTimer(client, podObj);
  const start = timer.start;

  await start('warm');
  const singles: number[] = [];
  for (let i = 0; i < single; i++) {
    await start(`single-${i}`);
    singles.push(timer.latency(`single-${i}`));
  }
  const ctrPid = runtime === 'containerd' ? Number(readFileSync(path.join(containerdDir(dataDir), 'containerd.pid'), 'utf8')) : 0;
  const tree0 = ctrPid ? treeCpuMs(ctrPid) : undefined;
  const self0 = process.cpuUsage();
  const machine0 = machineBusyMs();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: burst }, (_, i) => start(`burst-${i}`)));
  const burstWall = performance.now() - t0;
  const machine = machineBusyMs() - machine0;
  const selfUsage = process.cpuUsage(self0);
  let containerd: number | undefined;
  if (tree0) {
    const tree1 = treeCpuMs(ctrPid);
    containerd = 0;
    for (const [pid, ms] of tree1) containerd += ms - (tree0.get(pid) ?? 0);
  }
  const bursts = Array.from({ length: burst }, (_, i) => timer.latency(`burst-${i}`));

  timer.stop();
  await k.stop(); // the containerd runtime removes its pods and stops its daemon
  client.close();
  await tc.stop();
  if (runtime === 'containerd') rmSync(dataDir, { recursive: true, force: true });
  return { singles, bursts, burstWall, cpu: { self: (selfUsage.user + selfUsage.system) / 1000, containerd, machine } };
}

async function main(): Promise<void> {
  const single = arg('single', 10);
  const burst = arg('burst', 30);
  const missing = containerdFixtureMissing();
  if (missing) {
    console.log(`containerd bench skipped: ${missing}`);
    return;
  }
  const proc = await measure('process', single, burst);
  const ctr = await measure('containerd', single, burst);
  const f = (x: number) => `${x.toFixed(0)} ms`.padStart(9);
  console.log(`pod startup latency (create → Running observed via watch; image present)`);
  console.log(`                                   p50       p99    upstream SLO p99   goal p99`);
  for (const [name, r, goal] of [['process', proc, '-'], ['containerd', ctr, '≤ 1500 ms']] as const) {
    console.log(`  ${name.padEnd(10)} 1 pod (x${String(single).padEnd(3)})  ${f(pct(r.singles, 50))} ${f(pct(r.singles, 99))}    ≤ 5000 ms          -`);
    console.log(`  ${name.padEnd(10)} burst of ${String(burst).padEnd(4)} ${f(pct(r.bursts, 50))} ${f(pct(r.bursts, 99))}    ≤ 5000 ms          ${goal.padEnd(10)} (all Running after ${r.burstWall.toFixed(0)} ms)`);
  }
  console.log(`CPU during the burst, per pod (2 cores give ${((2 * ctr.burstWall) / burst).toFixed(0)} ms per pod of wall time):`);
  for (const [name, r] of [['process', proc], ['containerd', ctr]] as const) {
    const per = (ms: number) => `${(ms / burst).toFixed(1)} ms`;
    console.log(
      `  ${name.padEnd(10)} API server + kubelet + bench ${per(r.cpu.self)}` +
        (r.cpu.containerd !== undefined ? `, containerd + shims + runc + CNI ${per(r.cpu.containerd)}` : '') +
        `, whole machine (other tenants included) ${per(r.cpu.machine)}`,
    );
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
