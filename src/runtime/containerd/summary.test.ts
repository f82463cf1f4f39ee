import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statsSummary } from './summary.js';
import type { ContainerStats } from '../cri.js';

const NS = 1e9;
const stat = (id: string, pod: string, container: string, cpu: number, mem: number): ContainerStats => ({
  id,
  metadata: { name: container, attempt: 0 },
  labels: { 'io.kubernetes.pod.name': pod, 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': `uid-${pod}`, 'io.kubernetes.container.name': container },
  annotations: {},
  timestamp: 100 * NS,
  cpu: { usageCoreNanoSeconds: cpu, usageNanoCores: cpu / 10 },
  memory: { workingSetBytes: mem, usageBytes: mem * 2 },
  writableLayer: { usedBytes: 4096, inodesUsed: 3 },
});

describe('stats summary (stats/v1alpha1 from CRI)', () => {
  it('groups containers into pods by the kubelet labels and sums pod CPU and memory', () => {
    const s = statsSummary({
      nodeName: 'n1',
      stats: [stat('a', 'web', 'app', 1000, 10), stat('b', 'web', 'sidecar', 500, 5), stat('c', 'db', 'pg', 7, 1), { ...stat('x', 'x', 'x', 1, 1), labels: {} }],
      containers: [
        { id: 'a', createdAt: 50 * NS },
        { id: 'b', createdAt: 40 * NS },
        { id: 'c', createdAt: 60 * NS },
      ],
      imageFs: { time: 't', capacityBytes: 100, availableBytes: 40, usedBytes: 7 },
    });
    assert.deepEqual(s.node, { nodeName: 'n1', runtime: { imageFs: { time: 't', capacityBytes: 100, availableBytes: 40, usedBytes: 7 } } });
    assert.deepEqual(s.pods.map((p) => p.podRef), [
      { name: 'db', namespace: 'default', uid: 'uid-db' },
      { name: 'web', namespace: 'default', uid: 'uid-web' },
    ]);
    const web = s.pods[1];
    assert.equal(web.startTime, new Date(40_000).toISOString(), 'the earliest container');
    assert.deepEqual(web.containers.map((c) => c.name), ['app', 'sidecar']);
    assert.equal(web.cpu?.usageCoreNanoSeconds, 1500);
    assert.equal(web.cpu?.usageNanoCores, 150);
    assert.equal(web.memory?.workingSetBytes, 15);
    assert.equal(web.memory?.usageBytes, 30);
    assert.deepEqual(web.containers[0].rootfs, { time: new Date(100_000).toISOString(), usedBytes: 4096, inodesUsed: 3, capacityBytes: 100, availableBytes: 40 });
  });
});
