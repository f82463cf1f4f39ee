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

test('a pod class that fit nowhere is re-checked only on nodes that changed, with the same answer as a full scan', () => {
  const w = mkWorld([mkNode('a', { cpu: '1' }), mkNode('b', { cpu: '1' }), mkNode('c', { cpu: '1' })], [mkPod('x', { cpu: '1', nodeName: 'a' }), mkPod('y', { cpu: '1', nodeName: 'b', uid: 'uid-y' }), mkPod('z', { cpu: '1', nodeName: 'c' })]);
  const msg = '0/3 nodes are available: 3 Insufficient cpu.';
  const r1 = scheduleIn(w, mkPod('p1', { cpu: '1' }));
  assert.equal(r1.kind === 'unschedulable' && r1.fitError.message(), msg);
  const r2 = scheduleIn(w, mkPod('p2', { cpu: '1' }));
  assert.equal(r2.kind === 'unschedulable' && r2.fitError.message(), msg);
  assert.deepEqual(r2.kind === 'unschedulable' && [...r2.fitError.unschedulablePlugins], ['NodeResourcesFit']);
  // Room on b: the re-check sees it.
  w.cache.removePod('uid-y');
  const r3 = scheduleIn(w, mkPod('p3', { cpu: '1' }));
  assert.equal(r3.kind === 'scheduled' && r3.node, 'b');
  // A higher-priority pod nominated to b takes the room again: no fit, as a full scan would say.
  const { newPodInfo } = require_();
  w.nominated.set('b', [newPodInfo(mkPod('vip', { cpu: '1', priority: 100 }))]);
  const r4 = scheduleIn(w, mkPod('p4', { cpu: '1' }));
  assert.equal(r4.kind === 'unschedulable' && r4.fitError.message(), msg);
  w.nominated.delete('b');
  assert.equal(scheduleIn(w, mkPod('p5', { cpu: '1' })).kind, 'scheduled');
});
