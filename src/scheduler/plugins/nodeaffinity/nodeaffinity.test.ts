import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterEach, mkNode, mkPod, mkWorld, scoresOf } from '../../testutil.js';

const nodes = () => [
  mkNode('a', { labels: { zone: 'z1', disk: 'ssd', gen: '3' } }),
  mkNode('b', { labels: { zone: 'z2', disk: 'hdd', gen: '5' } }),
  mkNode('c', { labels: { zone: 'z3' } }),
];
const req = (...terms: object[]) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });
const MISS = "node(s) didn't match Pod's node affinity/selector";

test('NodeAffinity filter: nodeSelector and required terms', () => {
  const cases: [string, Record<string, unknown>, Record<string, string>][] = [
    ['nodeSelector', { nodeSelector: { disk: 'ssd' } }, { a: '', b: MISS, c: MISS }],
    ['In', req({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z2', 'z3'] }] }), { a: MISS, b: '', c: '' }],
    ['NotIn matches missing keys', req({ matchExpressions: [{ key: 'disk', operator: 'NotIn', values: ['ssd'] }] }), { a: MISS, b: '', c: '' }],
    ['Exists', req({ matchExpressions: [{ key: 'disk', operator: 'Exists' }] }), { a: '', b: '', c: MISS }],
    ['DoesNotExist', req({ matchExpressions: [{ key: 'disk', operator: 'DoesNotExist' }] }), { a: MISS, b: MISS, c: '' }],
    ['Gt', req({ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] }), { a: MISS, b: '', c: MISS }],
    ['terms are ORed', req({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z3'] }] }), { a: '', b: MISS, c: '' }],
    ['an empty term matches nothing', req({}), { a: MISS, b: MISS, c: MISS }],
    ['matchFields restricts in PreFilter', req({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] }), { a: 'excluded by PreFilter', b: '', c: 'excluded by PreFilter' }],
  ];
  for (const [name, spec, want] of cases) assert.deepEqual(filterEach(mkWorld(nodes()), mkPod('p', { spec })), want, name);
});

test('NodeAffinity score: preferred term weights, normalized to 100', () => {
  const spec = {
    affinity: {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
          { weight: 30, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z2'] }] } },
        ],
      },
    },
  };
  assert.deepEqual(scoresOf(mkWorld(nodes()), mkPod('p', { spec }), 'NodeAffinity'), { a: 33, b: 100, c: 0 });
});

test('NodeAffinity addedAffinity from the profile args', () => {
  const w = mkWorld(nodes(), [], {
    profile: { pluginConfig: [{ name: 'NodeAffinity', args: { addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }] } } } }] },
  });
  assert.deepEqual(filterEach(w, mkPod('p')), { a: '', b: "node(s) didn't match scheduler-enforced node affinity", c: "node(s) didn't match scheduler-enforced node affinity" });
});
