import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderResourceMetrics, renderCadvisorMetrics, KubeletMetrics } from './metrics.js';
import { ProcessGroupStats, parseProcPidStat } from './nodestats.js';
import { parseSamples } from '../util/prometheus.js';
import type { Summary } from '../runtime/containerd/summary.js';

const T = '2026-01-02T03:04:05.000Z';
const summary: Summary = {
  node: { nodeName: 'n1', cpu: { time: T, usageCoreNanoSeconds: 5e9 }, memory: { time: T, workingSetBytes: 1000 } },
  pods: [
    {
      podRef: { name: 'p', namespace: 'd', uid: 'u1' },
      startTime: T,
      containers: [{ name: 'c', startTime: T, cpu: { time: T, usageCoreNanoSeconds: 2.5e9 }, memory: { time: T, workingSetBytes: 2048, usageBytes: 4096 } }],
      cpu: { time: T, usageCoreNanoSeconds: 2.5e9 },
      memory: { time: T, workingSetBytes: 2048 },
    },
  ],
};

describe('kubelet /metrics/resource and /metrics/cadvisor', () => {
  it('writes upstream names, labels and timestamps', () => {
    const { samples, types } = parseSamples(renderResourceMetrics(summary));
    const get = (n: string) => samples.find((s) => s.name === n)!;
    assert.deepEqual(get('container_cpu_usage_seconds_total'), { name: 'container_cpu_usage_seconds_total', labels: { container: 'c', namespace: 'd', pod: 'p' }, value: 2.5, timestampMs: Date.parse(T) });
    assert.equal(get('container_memory_working_set_bytes').value, 2048);
    assert.equal(get('container_start_time_seconds').value, Date.parse(T) / 1000);
    assert.equal(get('node_cpu_usage_seconds_total').value, 5);
    assert.equal(get('node_memory_working_set_bytes').value, 1000);
    assert.deepEqual(get('pod_cpu_usage_seconds_total').labels, { namespace: 'd', pod: 'p' });
    assert.equal(get('pod_memory_working_set_bytes').value, 2048);
    assert.equal(get('resource_scrape_error').value, 0);
    assert.equal(types.get('node_cpu_usage_seconds_total'), 'counter');
    assert.equal(parseSamples(renderResourceMetrics(undefined, true)).samples.find((s) => s.name === 'resource_scrape_error')!.value, 1);
  });
  it('cadvisor series carry container, pod, namespace, image and name', () => {
    const { samples } = parseSamples(renderCadvisorMetrics({ summary, containers: [{ id: 'abc', podUid: 'u1', name: 'c', image: 'busybox' }], memoryLimits: new Map([['u1/c', 64 * 1024 * 1024]]) }));
    const lim = samples.find((s) => s.name === 'container_spec_memory_limit_bytes')!;
    assert.equal(lim.value, 64 * 1024 * 1024);
    assert.deepEqual(lim.labels, { container: 'c', id: '/kubepods/podu1/abc', image: 'busybox', name: 'abc', namespace: 'd', pod: 'p' });
    assert.equal(samples.find((s) => s.name === 'container_memory_usage_bytes')!.value, 4096);
    assert.equal(samples.find((s) => s.name === 'container_cpu_usage_seconds_total')!.labels.cpu, 'total');
  });
  it('kubelet /metrics counts pods and containers, pod start and worker durations, process defaults', async () => {
    const m = new KubeletMetrics('n1');
    const rt = {
      listPodSandbox: async () => [{ id: 's1', metadata: { name: 'p', uid: 'u1', namespace: 'd', attempt: 0 }, state: 'SANDBOX_READY' as const, createdAt: 1e9 }],
      listContainers: async () => [{ id: 'c1', podSandboxId: 's1', metadata: { name: 'c', attempt: 0 }, image: { image: 'x' }, imageRef: 'x', state: 'CONTAINER_RUNNING' as const, createdAt: 3.5e9 }],
    };
    m.observePodStart(2.5);
    m.observePodWorker('create', 0.02);
    const text = await m.render(rt);
    const { samples, types } = parseSamples(text);
    assert.equal(samples.find((s) => s.name === 'kubelet_running_pods')!.value, 1);
    assert.equal(samples.find((s) => s.name === 'kubelet_running_containers' && s.labels.container_state === 'running')!.value, 1);
    assert.equal(types.get('kubelet_pod_start_duration_seconds'), 'histogram');
    assert.match(text, /^kubelet_pod_start_duration_seconds_bucket\{le="3"\} 1$/m);
    assert.match(text, /^kubelet_pod_start_duration_seconds_sum 2.5$/m);
    assert.match(text, /^kubelet_pod_worker_duration_seconds_count\{operation="create"\} 1$/m);
    assert.equal(samples.find((s) => s.name === 'kubelet_node_name')!.labels.node, 'n1');
    assert.ok(samples.some((s) => s.name === 'process_cpu_seconds_total'));
  });
});

describe('process group stats (the process runtime\'s containers)', () => {
  it('parses /proc/PID/stat, names with spaces and parentheses included', () => {
    const st = parseProcPidStat(42, '42 (sh (x) y) S 1 42 42 0 -1 4194560 100 0 0 0 30 20 5 5 20 0 1 0 123 2000000 300 18446744073709551615');
    assert.deepEqual(st, { pid: 42, pgid: 42, cpuNs: 60 * 1e7, rssBytes: 300 * 4096 });
  });
  it('sums a group\'s processes and rates CPU between samples', () => {
    let now = 1000;
    let ticks = 10;
    const stat = (pid: number, pgid: number, utime: number) => `${pid} (p) S 1 ${pgid} ${pgid} 0 -1 0 0 0 0 0 ${utime} 0 0 0 20 0 1 0 1 1 10`;
    const files: Record<string, () => string> = { '/proc/10/stat': () => stat(10, 10, ticks), '/proc/11/stat': () => stat(11, 10, 5), '/proc/12/stat': () => stat(12, 12, 99) };
    const g = new ProcessGroupStats((f) => files[f](), () => [10, 11, 12, 13], () => now);
    const a = g.collect([10]).get(10)!;
    assert.equal(a.usageCoreNanoSeconds, 15 * 1e7);
    assert.equal(a.workingSetBytes, 20 * 4096);
    assert.equal(a.usageNanoCores, undefined);
    now += 1000;
    ticks += 50;
    const b = g.collect([10]).get(10)!;
    assert.equal(b.usageNanoCores, 500_000_000);
  });
});
