/**
 * Cases ported in spirit from upstream's replica_calculator_test.go (one container per pod where
 * upstream uses two: utilizations are the same).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  groupPods,
  parseGoDuration,
  podRequests,
  podMetricsFromList,
  rawResourceReplicas,
  resourceReplicas,
  type CalcOptions,
  type PodMetricsInfo,
} from './replicas.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const COOL = NOW - 3 * 60_000; // started before the (test) initialization period
const HOT = NOW - 60_000; // still in it
const OPTS: CalcOptions = { tolerance: 0.1, cpuInitializationPeriodMs: 2 * 60_000, delayOfInitialReadinessStatusMs: 10_000, now: NOW };

interface Case {
  name: string;
  currentReplicas: number;
  expectedReplicas?: number;
  expectedError?: RegExp;
  requests: string[];
  /** Milli-units per pod; pods past the end have no metric. */
  levels: number[];
  ready?: ('True' | 'False')[];
  phase?: string[];
  start?: number[];
  deleting?: boolean[];
  target: number;
  expectedUtilization?: number;
  expectedValue?: number;
}

function podsOf(c: Case): any[] {
  return c.requests.map((r, i) => ({
    metadata: { name: `pod-${i}`, ...(c.deleting?.[i] ? { deletionTimestamp: iso(NOW) } : {}) },
    spec: { containers: [{ name: 'c', resources: r ? { requests: { cpu: r } } : {} }] },
    status: {
      phase: c.phase?.[i] ?? 'Running',
      startTime: iso(c.start?.[i] ?? COOL),
      conditions: [{ type: 'Ready', status: c.ready?.[i] ?? 'True', lastTransitionTime: iso(c.start?.[i] ?? COOL) }],
    },
  }));
}

function metricsOf(c: Case): PodMetricsInfo {
  const m: PodMetricsInfo = new Map();
  c.levels.forEach((v, i) => m.set(`pod-${i}`, { value: v, timestamp: NOW, windowMs: 60_000 }));
  return m;
}

const cases: Case[] = [
  { name: 'scale up', currentReplicas: 3, expectedReplicas: 5, requests: ['1.0', '1.0', '1.0'], levels: [300, 500, 700], target: 30, expectedUtilization: 50, expectedValue: 500 },
  { name: 'scale up, unready pods count as 0% (less scale)', currentReplicas: 3, expectedReplicas: 4, ready: ['False', 'True', 'True'], requests: ['1.0', '1.0', '1.0'], levels: [300, 500, 700], target: 30, expectedUtilization: 60, expectedValue: 600 },
  { name: 'scale up, hot cpu pods count as 0% (less scale)', currentReplicas: 3, expectedReplicas: 4, ready: ['False', 'True', 'True'], start: [HOT, COOL, COOL], requests: ['1.0', '1.0', '1.0'], levels: [300, 500, 700], target: 30, expectedUtilization: 60, expectedValue: 600 },
  { name: 'unready pods flip the direction: no scale', currentReplicas: 3, expectedReplicas: 3, ready: ['False', 'True', 'False'], start: [HOT, COOL, HOT], requests: ['1.0', '1.0', '1.0'], levels: [300, 500, 700], target: 30, expectedUtilization: 50, expectedValue: 500 },
  { name: 'scale up ignores failed pods', currentReplicas: 2, expectedReplicas: 4, ready: ['True', 'True', 'False', 'False'], phase: ['Running', 'Running', 'Failed', 'Failed'], requests: ['1.0', '1.0', '1.0', '1.0'], levels: [500, 700], target: 30, expectedUtilization: 60, expectedValue: 600 },
  { name: 'scale up ignores deleted pods', currentReplicas: 2, expectedReplicas: 4, deleting: [false, false, true, true], requests: ['1.0', '1.0', '1.0', '1.0'], levels: [500, 700], target: 30, expectedUtilization: 60, expectedValue: 600 },
  { name: 'scale down', currentReplicas: 5, expectedReplicas: 3, requests: ['1.0', '1.0', '1.0', '1.0', '1.0'], levels: [100, 300, 500, 250, 250], target: 50, expectedUtilization: 28, expectedValue: 280 },
  { name: 'scale down ignores unready pods', currentReplicas: 5, expectedReplicas: 2, ready: ['True', 'True', 'True', 'False', 'False'], requests: ['1.0', '1.0', '1.0', '1.0', '1.0'], levels: [100, 300, 500, 250, 250], target: 50, expectedUtilization: 30, expectedValue: 300 },
  { name: 'tolerance: no scale within 10%', currentReplicas: 3, expectedReplicas: 3, requests: ['0.9', '1.0', '1.1'], levels: [1010, 1030, 1020], target: 100, expectedUtilization: 102, expectedValue: 1020 },
  { name: 'missing metrics: at target, no change', currentReplicas: 2, expectedReplicas: 2, requests: ['1.0', '1.0'], levels: [1000], target: 100, expectedUtilization: 100, expectedValue: 1000 },
  { name: 'missing metrics: above target, missing count 0%', currentReplicas: 2, expectedReplicas: 2, requests: ['1.0', '1.0'], levels: [1900], target: 100, expectedUtilization: 190, expectedValue: 1900 },
  { name: 'missing metrics: below target, missing count 100%', currentReplicas: 2, expectedReplicas: 2, requests: ['1.0', '1.0'], levels: [600], target: 100, expectedUtilization: 60, expectedValue: 600 },
  { name: 'missing metrics: scale down', currentReplicas: 4, expectedReplicas: 3, requests: ['1.0', '1.0', '1.0', '1.0'], levels: [400, 95], target: 100, expectedUtilization: 24, expectedValue: 247 },
  { name: 'missing metrics + unready: scale up', currentReplicas: 3, expectedReplicas: 4, ready: ['False', 'True', 'True'], requests: ['1.0', '1.0', '1.0'], levels: [100, 2000], target: 50, expectedUtilization: 200, expectedValue: 2000 },
  { name: 'missing metrics + hot cpu: scale up', currentReplicas: 3, expectedReplicas: 4, ready: ['False', 'True', 'True'], start: [HOT, COOL, COOL], requests: ['1.0', '1.0', '1.0'], levels: [100, 2000], target: 50, expectedUtilization: 200, expectedValue: 2000 },
  { name: 'missing metrics + unready: scale down', currentReplicas: 4, expectedReplicas: 3, ready: ['False', 'True', 'True', 'True'], requests: ['1.0', '1.0', '1.0', '1.0'], levels: [100, 100, 100], target: 50, expectedUtilization: 10, expectedValue: 100 },
  { name: 'missing metrics: a target over 100% fills in the target', currentReplicas: 4, expectedReplicas: 2, ready: ['False', 'True', 'True', 'True'], requests: ['1.0', '1.0', '2.0', '2.0'], levels: [200, 100, 100], target: 300, expectedUtilization: 6, expectedValue: 100 },
  { name: 'rolling update with max surge: no change', currentReplicas: 2, expectedReplicas: 2, requests: ['1.0', '1.0', '1.0'], levels: [100, 100], target: 50, expectedUtilization: 10, expectedValue: 100 },
  { name: 'no pods', currentReplicas: 1, expectedError: /^no pods returned by selector while calculating replica count$/, requests: [], levels: [], target: 100 },
  { name: 'missing cpu request', currentReplicas: 1, expectedError: /^missing request for cpu in container c of Pod pod-0$/, requests: [''], levels: [200], target: 100 },
  { name: 'every pod unready', currentReplicas: 2, expectedError: /^did not receive metrics for targeted pods \(pods might be unready\)$/, ready: ['False', 'False'], requests: ['1.0', '1.0'], levels: [100, 100], target: 50 },
];

for (const c of cases) {
  test(`resourceReplicas: ${c.name}`, () => {
    const run = () => resourceReplicas(c.currentReplicas, c.target, 'cpu', podsOf(c), metricsOf(c), undefined, OPTS);
    if (c.expectedError) return assert.throws(run, { message: c.expectedError });
    const r = run();
    assert.equal(r.replicas, c.expectedReplicas);
    assert.equal(r.utilization, c.expectedUtilization);
    assert.equal(r.rawUtilization, c.expectedValue);
  });
}

test('resourceReplicas: tolerance computed as upstream (10 pods, minimal breach vs. within margin)', () => {
  const start = 10;
  const used = start * 150;
  const requested = 2 * used;
  const perPod = requested / start;
  const requests = [perPod + 100, perPod - 100, perPod + 10, perPod - 10, perPod + 2, perPod - 2, perPod + 1, perPod - 1, perPod, perPod].map((r) => `${r}m`);
  const base: Case = { name: 't', currentReplicas: start, requests, levels: Array(10).fill(used / 10), target: 0 };
  let target = Math.abs(1 / (2 * (1 - 0.1))) + 0.01;
  const ratio = used / (requested * target);
  const r1 = resourceReplicas(start, Math.trunc(target * 100), 'cpu', podsOf(base), metricsOf(base), undefined, OPTS);
  assert.equal(r1.replicas, Math.ceil(ratio * start));
  target = Math.abs(1 / (2 * (1 - 0.1))) + 0.004;
  const r2 = resourceReplicas(start, Math.trunc(target * 100), 'cpu', podsOf(base), metricsOf(base), undefined, OPTS);
  assert.equal(r2.replicas, start);
});

test('rawResourceReplicas: AverageValue scale up, down, tolerance, missing metrics', () => {
  const c = (requests: number, levels: number[]): Case => ({ name: '', currentReplicas: requests, requests: Array(requests).fill('1'), levels, target: 0 });
  const run = (k: Case, cur: number, target: number) => rawResourceReplicas(cur, target, 'memory', podsOf(k), metricsOf(k), OPTS);
  assert.deepEqual(run(c(3, [20_000, 10_000, 30_000]), 3, 15_000), { replicas: 4, usage: 20_000 });
  assert.deepEqual(run(c(5, [12_000, 12_000, 12_000, 12_000, 12_000]), 5, 20_000), { replicas: 3, usage: 12_000 });
  assert.deepEqual(run(c(3, [20_000, 21_000, 19_000]), 3, 20_000), { replicas: 3, usage: 20_000 });
  // A missing pod counts as the target on a scale down: (10+10+20)/3 vs 20 → ceil(0.67×3) = 2.
  assert.deepEqual(run(c(3, [10_000, 10_000]), 3, 20_000), { replicas: 2, usage: 10_000 });
});

test('groupPods: upstream readiness cases', () => {
  const pod = (name: string, phase: string, startAgoMs?: number, ready?: { status: string; agoMs: number }) => ({
    metadata: { name },
    status: {
      phase,
      ...(startAgoMs !== undefined ? { startTime: iso(NOW - startAgoMs) } : {}),
      ...(ready ? { conditions: [{ type: 'Ready', status: ready.status, lastTransitionTime: iso(NOW - ready.agoMs) }] } : {}),
    },
  });
  const m = (name: string, agoMs = 0, windowMs = 60_000): PodMetricsInfo => new Map([[name, { value: 1, timestamp: NOW - agoMs, windowMs }]]);
  const g = (pods: any[], metrics: PodMetricsInfo, resource = 'cpu') => {
    const r = groupPods(pods, metrics, resource, OPTS);
    return [r.readyPodCount, [...r.unreadyPods], [...r.missingPods], [...r.ignoredPods]];
  };
  assert.deepEqual(g([pod('a', 'Succeeded')], m('a'), 'memory'), [1, [], [], []]);
  assert.deepEqual(g([pod('a', 'Succeeded', 0)], m('a')), [0, ['a'], [], []], 'no Ready condition');
  assert.deepEqual(g([pod('a', 'Succeeded', 60_000, { status: 'True', agoMs: 30_000 })], m('a', 0, 30_000)), [1, [], [], []], 'fresh sample in init period');
  assert.deepEqual(g([pod('a', 'Succeeded', 60_000, { status: 'True', agoMs: 30_000 })], m('a', 0, 60_000)), [0, ['a'], [], []], 'sample predates readiness');
  assert.deepEqual(g([pod('a', 'Succeeded', 600_000, { status: 'False', agoMs: 594_000 })], m('a')), [0, ['a'], [], []], 'never ready');
  assert.deepEqual(g([pod('a', 'Succeeded', 180_000, { status: 'True', agoMs: 180_000 })], m('a', 120_000)), [1, [], [], []], 'after init period');
  assert.deepEqual(g([pod('a', 'Succeeded', 600_000, { status: 'False', agoMs: 540_000 })], m('a')), [1, [], [], []], 'was ready once');
  assert.deepEqual(g([pod('a', 'Succeeded', 600_000, { status: 'False', agoMs: 590_000 })], m('a')), [1, [], [], []], 'unready past the readiness delay');
  assert.deepEqual(g([pod('a', 'Succeeded', 180_000)], new Map()), [0, [], ['a'], []], 'missing');
  assert.deepEqual(g([pod('a', 'Pending', 0)], m('a')), [0, ['a'], [], []], 'pending');
  assert.deepEqual(g([pod('a', 'Failed', 0)], m('a')), [0, [], [], ['a']], 'failed');
});

test('podRequests: app containers and sidecars (restartable init containers), not plain init containers', () => {
  const pod = {
    metadata: { name: 'p' },
    spec: {
      initContainers: [{ name: 'init', resources: { requests: { cpu: '1' } } }, { name: 'side', restartPolicy: 'Always', resources: { requests: { cpu: '20m' } } }],
      containers: [{ name: 'app', resources: { requests: { cpu: '100m' } } }],
    },
  };
  assert.equal(podRequests([pod], undefined, 'cpu').get('p'), 120);
  assert.equal(podRequests([pod], 'app', 'cpu').get('p'), 100);
  assert.throws(() => podRequests([pod], undefined, 'memory'), { message: 'missing request for memory in container app of Pod p' });
});

test('podMetricsFromList: pod sums, container pick, skipped pods, upstream errors', () => {
  const items = [
    { metadata: { name: 'a', namespace: 'ns' }, timestamp: '2026-01-01T12:00:00Z', window: '15.004s', containers: [{ name: 'x', usage: { cpu: '100m', memory: '1Mi' } }, { name: 'y', usage: { cpu: '250000n', memory: '2Mi' } }] },
    { metadata: { name: 'b', namespace: 'ns' }, timestamp: '2026-01-01T12:00:00Z', window: '1m0s', containers: [{ name: 'x', usage: { memory: '1Mi' } }] },
  ];
  const { metrics, timestamp } = podMetricsFromList(items, 'cpu');
  assert.equal(timestamp, NOW);
  assert.deepEqual([...metrics.keys()], ['a'], 'b has no cpu: skipped');
  assert.equal(metrics.get('a')!.value, 101);
  assert.equal(metrics.get('a')!.windowMs, 15_004);
  assert.equal(podMetricsFromList(items, 'memory').metrics.get('b')!.value, 1024 * 1024 * 1000);
  assert.equal(podMetricsFromList(items, 'cpu', 'x').metrics.get('a')!.value, 100);
  assert.throws(() => podMetricsFromList(items, 'cpu', 'y'), { message: 'failed to get container metrics: container y not present in metrics for pod ns/b' });
  assert.throws(() => podMetricsFromList([], 'cpu'), { message: 'no metrics returned from resource metrics API' });
  assert.equal(parseGoDuration('1m0.5s'), 60_500);
  assert.equal(parseGoDuration('500ms'), 500);
});
