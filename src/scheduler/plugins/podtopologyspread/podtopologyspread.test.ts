import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileLabelSelector } from '../../labels.js';
import { filterEach, mkNode, mkPod, mkWorld, scheduleAll, scoresOf } from '../../testutil.js';

const ZONE = 'topology.kubernetes.io/zone';
const nodes = () => [
  mkNode('a1', { labels: { [ZONE]: 'a' } }),
  mkNode('a2', { labels: { [ZONE]: 'a' } }),
  mkNode('b1', { labels: { [ZONE]: 'b' } }),
  mkNode('b2', { labels: { [ZONE]: 'b' } }),
];
const spread = (o: { maxSkew?: number; key?: string; when?: string; minDomains?: number } = {}) => ({
  topologySpreadConstraints: [{ maxSkew: o.maxSkew ?? 1, topologyKey: o.key ?? ZONE, whenUnsatisfiable: o.when ?? 'DoNotSchedule', labelSelector: { matchLabels: { app: 'x' } }, minDomains: o.minDomains }],
});
const placed = (name: string, node: string, labels = { app: 'x' }) => mkPod(name, { labels, nodeName: node });
const SKEW = "node(s) didn't match pod topology spread constraints";

test('PodTopologySpread filter: maxSkew against the least loaded domain', () => {
  const w = mkWorld(nodes(), [placed('p1', 'a1'), placed('p2', 'a2')]);
  assert.deepEqual(filterEach(w, mkPod('new', { labels: { app: 'x' }, spec: spread() })), { a1: SKEW, a2: SKEW, b1: '', b2: '' });
  assert.deepEqual(filterEach(w, mkPod('new', { labels: { app: 'x' }, spec: spread({ maxSkew: 2 }) })), { a1: SKEW, a2: SKEW, b1: '', b2: '' });
  assert.deepEqual(filterEach(w, mkPod('new', { labels: { app: 'x' }, spec: spread({ maxSkew: 3 }) })), { a1: '', a2: '', b1: '', b2: '' });
  // A pod the selector does not match does not add to the skew.
  assert.deepEqual(filterEach(w, mkPod('new', { labels: { app: 'y' }, spec: spread({ maxSkew: 2 }) })), { a1: '', a2: '', b1: '', b2: '' });
});

test('PodTopologySpread filter: nodes without the key, and minDomains', () => {
  const w = mkWorld([...nodes(), mkNode('bare')], [placed('p1', 'a1')]);
  const r = filterEach(w, mkPod('new', { labels: { app: 'x' }, spec: spread() }));
  assert.equal(r.bare, "node(s) didn't match pod topology spread constraints (missing required label)");
  // With minDomains 3 but only 2 zones the global minimum is 0: zone a (1 pod) + this pod = skew 2 > 1.
  const w2 = mkWorld(nodes(), [placed('p1', 'a1')]);
  assert.deepEqual(filterEach(w2, mkPod('new', { labels: { app: 'x' }, spec: spread({ minDomains: 3 }) })), { a1: SKEW, a2: SKEW, b1: '', b2: '' });
});

test('topology spread placements: 4 pods over 2 zones go 2/2', () => {
  const w = mkWorld(nodes());
  const pods = [1, 2, 3, 4].map((i) => mkPod(`p${i}`, { labels: { app: 'x' }, spec: spread() }));
  const r = scheduleAll(w, pods);
  const perZone = { a: 0, b: 0 };
  for (const n of Object.values(r)) perZone[n[0] as 'a' | 'b']++;
  assert.deepEqual(perZone, { a: 2, b: 2 });
});

test('PodTopologySpread score: soft constraints and system defaults prefer emptier domains', () => {
  const w = mkWorld(nodes(), [placed('p1', 'a1'), placed('p2', 'a1')]);
  const s = scoresOf(w, mkPod('new', { labels: { app: 'x' }, spec: spread({ when: 'ScheduleAnyway' }) }), 'PodTopologySpread');
  assert.ok(s.b1 > s.a1 && s.b1 === s.b2 && s.a1 === s.a2, JSON.stringify(s));
  // No constraints: the system defaults apply to pods selected by a Service/ReplicaSet.
  const sel = compileLabelSelector({ matchLabels: { app: 'x' } });
  const w2 = mkWorld(nodes(), [placed('p1', 'a1'), placed('p2', 'a1')], { selectors: (p) => (sel(p.metadata?.labels) ? [sel] : []) });
  const d = scoresOf(w2, mkPod('new', { labels: { app: 'x' } }), 'PodTopologySpread');
  assert.ok(d.b1 > d.a2 && d.a2 > d.a1, JSON.stringify(d));
  const none = scoresOf(w2, mkPod('lonely', { labels: { app: 'z' } }), 'PodTopologySpread');
  assert.deepEqual(none, { a1: 0, a2: 0, b1: 0, b2: 0 });
});

test('PodTopologySpread score: system default constraints (hostname skew 3, zone skew 5) with upstream numbers', () => {
  // Raw: a1 = 2·ln6 + 2 + 2·ln4 + 4 → 12; a2 = 2 + 2·ln4 + 4 → 9; b = 2 + 4 → 6; normalized 100·(max+min−s)/max.
  const sel = compileLabelSelector({ matchLabels: { app: 'x' } });
  const w = mkWorld(nodes(), [placed('p1', 'a1'), placed('p2', 'a1')], { selectors: (p) => (sel(p.metadata?.labels) ? [sel] : []) });
  assert.deepEqual(scoresOf(w, mkPod('new', { labels: { app: 'x' } }), 'PodTopologySpread'), { a1: 50, a2: 75, b1: 100, b2: 100 });
  // defaultingType List without constraints: no defaults at all.
  const list = mkWorld(nodes(), [placed('p1', 'a1')], { selectors: () => [sel], profile: { pluginConfig: [{ name: 'PodTopologySpread', args: { defaultingType: 'List' } }] } });
  assert.deepEqual(scoresOf(list, mkPod('new', { labels: { app: 'x' } }), 'PodTopologySpread'), { a1: 0, a2: 0, b1: 0, b2: 0 });
});
