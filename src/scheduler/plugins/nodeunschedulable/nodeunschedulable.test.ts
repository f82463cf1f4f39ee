import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterEach, mkNode, mkPod, mkWorld } from '../../testutil.js';

test('NodeUnschedulable and NodeName', () => {
  const w = mkWorld([mkNode('a'), mkNode('cordoned', { unschedulable: true })]);
  assert.deepEqual(filterEach(w, mkPod('p')), { a: '', cordoned: 'node(s) were unschedulable' });
  const tolerant = mkPod('t', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
  assert.deepEqual(filterEach(w, tolerant), { a: '', cordoned: '' });
  const named = mkPod('n', { spec: { nodeName: 'a' } });
  assert.deepEqual(filterEach(w, named), { a: '', cordoned: 'node(s) were unschedulable' });
  const w2 = mkWorld([mkNode('a'), mkNode('b')]);
  assert.deepEqual(filterEach(w2, mkPod('n', { spec: { nodeName: 'b' } })), { a: "node(s) didn't match the requested node name", b: '' });
});
