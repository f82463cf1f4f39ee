import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterEach, mkNode, mkPod, mkWorld, scoresOf } from '../../testutil.js';
import { toleratesTaint } from '../helper/taints.js';

test('toleration matching, as v1.Toleration.ToleratesTaint', () => {
  const taint = { key: 'k', value: 'v', effect: 'NoSchedule' };
  const cases: [object, boolean][] = [
    [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }, true],
    [{ key: 'k', value: 'v' }, true],
    [{ key: 'k', operator: 'Exists' }, true],
    [{ operator: 'Exists' }, true],
    [{ key: 'k', value: 'other' }, false],
    [{ key: 'k', operator: 'Exists', effect: 'NoExecute' }, false],
    [{ key: 'other', operator: 'Exists' }, false],
  ];
  for (const [t, want] of cases) assert.equal(toleratesTaint(t as any, taint), want, JSON.stringify(t));
});

test('TaintToleration filter: NoSchedule/NoExecute need a toleration; PreferNoSchedule does not', () => {
  const w = mkWorld([
    mkNode('clean'),
    mkNode('ns', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
    mkNode('ne', { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] }),
    mkNode('pref', { taints: [{ key: 'x', value: 'y', effect: 'PreferNoSchedule' }] }),
  ]);
  assert.deepEqual(filterEach(w, mkPod('p')), {
    clean: '',
    ns: 'node(s) had untolerated taint {dedicated: gpu}',
    ne: 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }',
    pref: '',
  });
  const tolerant = mkPod('t', { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] } });
  assert.equal(filterEach(w, tolerant).ns, '');
});

test('TaintToleration score: fewer untolerated PreferNoSchedule taints score higher', () => {
  const pref = (k: string) => ({ key: k, effect: 'PreferNoSchedule' });
  const w = mkWorld([mkNode('zero'), mkNode('one', { taints: [pref('a')] }), mkNode('two', { taints: [pref('a'), pref('b')] })]);
  assert.deepEqual(scoresOf(w, mkPod('p'), 'TaintToleration'), { zero: 100, one: 50, two: 0 });
  const tol = mkPod('t', { spec: { tolerations: [{ key: 'a', operator: 'Exists' }] } });
  assert.deepEqual(scoresOf(w, tol, 'TaintToleration'), { zero: 100, one: 100, two: 0 });
});
