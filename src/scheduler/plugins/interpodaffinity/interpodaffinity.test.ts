import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterEach, mkNode, mkPod, mkWorld, scheduleAll, scoresOf } from '../../testutil.js';

const zones = () => [
  mkNode('a1', { labels: { 'topology.kubernetes.io/zone': 'a' } }),
  mkNode('a2', { labels: { 'topology.kubernetes.io/zone': 'a' } }),
  mkNode('b1', { labels: { 'topology.kubernetes.io/zone': 'b' } }),
  mkNode('nozone'),
];
const term = (labels: Record<string, string>, key: string) => ({ labelSelector: { matchLabels: labels }, topologyKey: key });
const ZONE = 'topology.kubernetes.io/zone';
const AFF = "node(s) didn't match pod affinity rules";
const ANTI = "node(s) didn't match pod anti-affinity rules";
const EXISTING = "node(s) didn't satisfy existing pods anti-affinity rules";

test('InterPodAffinity filter: required affinity follows matching pods across the topology domain', () => {
  const db = mkPod('db', { labels: { app: 'db' }, nodeName: 'a1' });
  const pod = mkPod('web', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, ZONE)] } } } });
  assert.deepEqual(filterEach(mkWorld(zones(), [db]), pod), { a1: '', a2: '', b1: AFF, nozone: AFF });
  // No matching pod anywhere: only a pod that matches its own term may start the group.
  assert.deepEqual(filterEach(mkWorld(zones()), pod), { a1: AFF, a2: AFF, b1: AFF, nozone: AFF });
  const self = mkPod('db2', { labels: { app: 'db' }, spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, ZONE)] } } } });
  assert.deepEqual(filterEach(mkWorld(zones()), self), { a1: '', a2: '', b1: '', nozone: AFF });
});

test('InterPodAffinity filter: anti-affinity of the pod and of existing pods', () => {
  const existing = mkPod('e', { labels: { app: 'web' }, nodeName: 'a1' });
  const pod = mkPod('web', { labels: { app: 'web' }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, ZONE)] } } } });
  assert.deepEqual(filterEach(mkWorld(zones(), [existing]), pod), { a1: ANTI, a2: ANTI, b1: '', nozone: '' });
  const guard = mkPod('guard', { nodeName: 'b1', spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, 'kubernetes.io/hostname')] } } } });
  assert.deepEqual(filterEach(mkWorld(zones(), [guard]), mkPod('x', { labels: { app: 'web' } })), { a1: '', a2: '', b1: EXISTING, nozone: '' });
  // Other namespaces do not count unless the term names them.
  const other = mkPod('o', { ns: 'other', labels: { app: 'web' }, nodeName: 'a1' });
  assert.deepEqual(filterEach(mkWorld(zones(), [other]), pod), { a1: '', a2: '', b1: '', nozone: '' });
});

test('pod anti-affinity across zones: one replica per zone, the third stays pending', () => {
  const w = mkWorld(zones().slice(0, 3));
  const mk = (n: string) => mkPod(n, { labels: { app: 'web' }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, ZONE)] } } } });
  const r = scheduleAll(w, [mk('w1'), mk('w2'), mk('w3')]);
  assert.notEqual(r.w1.slice(0, 1), r.w2.slice(0, 1));
  assert.match(r.w3, /^0\/3 nodes are available: 3 node\(s\) didn't match pod anti-affinity rules\./);
});

test('InterPodAffinity score: preferred terms attract and repel by weight', () => {
  const existing = [mkPod('cache', { labels: { app: 'cache' }, nodeName: 'a1' }), mkPod('noisy', { labels: { app: 'noisy' }, nodeName: 'b1' })];
  const pod = mkPod('p', {
    spec: {
      affinity: {
        podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term({ app: 'cache' }, ZONE) }] },
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term({ app: 'noisy' }, ZONE) }] },
      },
    },
  });
  // a: +50, b: -50, nozone: 0 → normalized over [-50, 50].
  assert.deepEqual(scoresOf(mkWorld(zones(), existing), pod, 'InterPodAffinity'), { a1: 100, a2: 100, b1: 0, nozone: 50 });
});

test("InterPodAffinity score: existing pods' required terms (hardPodAffinityWeight) and preferred terms, as upstream", () => {
  const withReq = mkPod('e', { nodeName: 'a1', spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, ZONE)] } } } });
  const withPrefAnti = mkPod('f', { nodeName: 'b1', spec: { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 30, podAffinityTerm: term({ app: 'web' }, 'kubernetes.io/hostname') }] } } } });
  const withPref = mkPod('g', { nodeName: 'b1', spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term({ app: 'web' }, ZONE) }] } } } });
  const web = mkPod('web', { labels: { app: 'web' } });
  const args = (a: object) => ({ profile: { pluginConfig: [{ name: 'InterPodAffinity', args: a }] } });
  const cases: [string, ReturnType<typeof mkPod>[], object, Record<string, number>][] = [
    ['hard weight 1: the zone of a pod that requires us', [withReq], {}, { a1: 100, a2: 100, b1: 0, nozone: 0 }],
    ['hard weight 0: required terms of others do not score', [withReq], { hardPodAffinityWeight: 0 }, { a1: 0, a2: 0, b1: 0, nozone: 0 }],
    // a: +1, b1: -30, others 0 → normalized over [-30, 1].
    ["an existing pod's preferred anti-affinity repels on its host", [withReq, withPrefAnti], {}, { a1: 100, a2: 100, b1: 0, nozone: 96 }],
    // a: +5, b: +10 (zone b from g's preferred term).
    ["an existing pod's preferred affinity attracts over its zone", [withReq, withPref], { hardPodAffinityWeight: 5 }, { a1: 50, a2: 50, b1: 100, nozone: 0 }],
    ["ignorePreferredTermsOfExistingPods: an incoming pod without preferred terms skips scoring", [withReq, withPref], { ignorePreferredTermsOfExistingPods: true }, { a1: 0, a2: 0, b1: 0, nozone: 0 }],
  ];
  for (const [name, existing, a, want] of cases) assert.deepEqual(scoresOf(mkWorld(zones(), existing, args(a)), web, 'InterPodAffinity'), want, name);
});
