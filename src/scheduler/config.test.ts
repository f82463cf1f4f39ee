import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './config.js';
import { mkNode, mkPod, mkWorld, scheduleAll } from './testutil.js';

test('profiles: defaults, disabled plugins, weights and extra profiles', () => {
  const c = parseConfig({
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    profiles: [
      { schedulerName: 'default-scheduler' },
      { schedulerName: 'no-taints', plugins: { filter: { disabled: [{ name: 'TaintToleration' }] }, score: { enabled: [{ name: 'NodeAffinity', weight: 7 }] } } },
      { schedulerName: 'bare', plugins: { multiPoint: { disabled: [{ name: '*' }], enabled: [{ name: 'PrioritySort' }, { name: 'NodeResourcesFit' }, { name: 'DefaultBinder' }] } } },
    ],
  });
  assert.deepEqual(c.profiles.map((p) => p.schedulerName), ['default-scheduler', 'no-taints', 'bare']);
  assert.ok(c.profiles[0].points.filter.some((p) => p.name === 'TaintToleration'));
  assert.ok(!c.profiles[1].points.filter.some((p) => p.name === 'TaintToleration'));
  assert.equal(c.profiles[1].points.score.find((p) => p.name === 'NodeAffinity')?.weight, 7);
  assert.equal(c.profiles[0].points.score.find((p) => p.name === 'TaintToleration')?.weight, 3);
  assert.deepEqual(c.profiles[2].points.filter.map((p) => p.name), ['PrioritySort', 'NodeResourcesFit', 'DefaultBinder']);
  assert.throws(() => parseConfig({ profiles: [{}, {}] }), /Duplicate value: "default-scheduler"/);
  assert.equal(c.leaderElection.resourceName, 'kube-scheduler');
});

test('a profile without TaintToleration places pods on tainted nodes', () => {
  const taint = [{ key: 'k', value: 'v', effect: 'NoSchedule' }];
  const w = mkWorld([mkNode('t', { taints: taint })], [], { profile: { plugins: { filter: { disabled: [{ name: 'TaintToleration' }] } } } });
  assert.deepEqual(scheduleAll(w, [mkPod('p')]), { p: 't' });
});
