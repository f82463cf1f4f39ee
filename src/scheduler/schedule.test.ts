import { test } from 'node:test';
import assert from 'node:assert/strict';
import { numFeasibleNodesToFind } from './schedule.js';
import { mkNode, mkPod, mkWorld, scheduleAll, scheduleIn } from './testutil.js';

test('FailedScheduling message: upstream histogram, sorted', () => {
  const cp = [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }];
  const w = mkWorld([mkNode('small', { cpu: '1' }), mkNode('cp1', { taints: cp }), mkNode('cp2', { taints: cp })]);
  const r = scheduleIn(w, mkPod('big', { cpu: '2' }));
  assert.equal(r.kind, 'unschedulable');
  assert.equal((r as any).fitError.message(), '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }.');
  assert.deepEqual([...(r as any).fitError.unschedulablePlugins].sort(), ['NodeResourcesFit', 'TaintToleration']);
});

test('no nodes is an error, as upstream', () => {
  const r = scheduleIn(mkWorld([]), mkPod('p'));
  assert.deepEqual([r.kind, (r as any).message], ['error', 'no nodes available to schedule pods']);
});

test('percentageOfNodesToScore: adaptive, at least 100 nodes', () => {
  assert.deepEqual([50, 100, 1000, 5000, 6000, 10_000].map((n) => numFeasibleNodesToFind(0, n)), [50, 100, 420, 500, 300, 500]);
  assert.equal(numFeasibleNodesToFind(50, 5000), 2500);
  assert.equal(numFeasibleNodesToFind(0, 100_000), 5000);
});

test('filtering stops at enough feasible nodes and resumes where it stopped', () => {
  const nodes = Array.from({ length: 300 }, (_, i) => mkNode(`n${String(i).padStart(3, '0')}`));
  const w = mkWorld(nodes);
  const r1 = scheduleIn(w, mkPod('a'));
  // 300 nodes: 50 - 300/125 = 48% → 144 nodes.
  assert.equal(r1.kind === 'scheduled' && r1.evaluated, 144);
  assert.equal(w.ctx.nextStartNodeIndex, 144);
  scheduleIn(w, mkPod('b'));
  assert.equal(w.ctx.nextStartNodeIndex, 288);
});

test('least-allocated spreads equal pods over equal nodes', () => {
  const w = mkWorld([mkNode('a', { cpu: '2' }), mkNode('b', { cpu: '2' })]);
  const r = scheduleAll(w, [1, 2, 3, 4].map((i) => mkPod(`p${i}`, { cpu: '500m', memory: '100Mi' })));
  const count = { a: 0, b: 0 } as Record<string, number>;
  for (const n of Object.values(r)) count[n]++;
  assert.deepEqual(count, { a: 2, b: 2 });
  assert.match(scheduleAll(w, [mkPod('big', { cpu: '1500m' })]).big, /^0\/2 nodes are available: 2 Insufficient cpu\.$/);
});

test('nominated pods of higher priority keep their room', () => {
  const w = mkWorld([mkNode('n', { cpu: '2' })]);
  const { newPodInfo } = require_();
  w.nominated.set('n', [newPodInfo(mkPod('vip', { cpu: '2', priority: 100 }))]);
  const r = scheduleIn(w, mkPod('low', { cpu: '1', priority: 1 }));
  assert.equal(r.kind, 'unschedulable');
  const r2 = scheduleIn(w, mkPod('higher', { cpu: '1', priority: 200 }));
  assert.equal(r2.kind, 'scheduled');
});

import * as podinfo from './podinfo.js';
function require_() {
  return podinfo;
}
