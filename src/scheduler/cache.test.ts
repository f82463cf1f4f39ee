import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cache } from './cache.js';
import { newPodInfo } from './podinfo.js';
import { mkNode, mkPod, prng } from './testutil.js';

const names = (xs: { name: string }[]) => xs.map((x) => x.name).sort();

test('the lists of nodes with affinity pods stay equal to filtering every node, through random pod and node churn', () => {
  const rand = prng(7);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const cache = new Cache();
  const nodes = Array.from({ length: 12 }, (_, i) => `n${i}`);
  const live = new Set<string>();
  const pods = new Map<string, string>(); // uid → node
  const kinds = [
    {},
    { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { a: 'b' } }, topologyKey: 'kubernetes.io/hostname' }] } } },
    { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: { labelSelector: { matchLabels: { a: 'b' } }, topologyKey: 'zone' } }] } } },
    { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { a: 'b' } }, topologyKey: 'zone' }] } } },
  ];
  for (let step = 0; step < 3000; step++) {
    const r = rand();
    if (r < 0.1) {
      const n = pick(nodes);
      cache.addNode(mkNode(n, { labels: { zone: `z${Math.floor(rand() * 3)}` } }));
      live.add(n);
    } else if (r < 0.15 && live.size) {
      const n = pick([...live]);
      cache.removeNode(mkNode(n));
      live.delete(n);
    } else if (r < 0.6) {
      const n = pick(nodes);
      const p = mkPod(`p${step}`, { nodeName: n, labels: { a: 'b' }, spec: pick(kinds) });
      cache.addPod(newPodInfo(p));
      pods.set(p.metadata!.uid!, n);
    } else if (pods.size) {
      const uid = pick([...pods.keys()]);
      cache.removePod(uid);
      pods.delete(uid);
    }
    if (step % 7 === 0 || r >= 0.6) {
      const all = cache.nodes();
      assert.deepEqual(names(cache.withScoredAffinity()), names(all.filter((ni) => ni.podsWithScoredAffinity.length > 0)), `step ${step}`);
      assert.deepEqual(names(cache.withRequiredAntiAffinity()), names(all.filter((ni) => ni.podsWithRequiredAntiAffinity.length > 0)), `step ${step}`);
    }
  }
});

test('a pod with only required anti-affinity is not among the pods scored from', () => {
  const cache = new Cache();
  cache.addNode(mkNode('n1'));
  const anti = mkPod('a', { nodeName: 'n1', spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {}, topologyKey: 'kubernetes.io/hostname' }] } } } });
  cache.addPod(newPodInfo(anti));
  assert.deepEqual(cache.withScoredAffinity(), []);
  assert.deepEqual(names(cache.withRequiredAntiAffinity()), ['n1']);
});
