import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cache } from './cache.js';
import { compileLabelSelector } from './labels.js';
import { newPodInfo } from './podinfo.js';
import { countByTopology, type CountSpec } from './topocount.js';
import { filterEach, mkNode, mkPod, mkWorld, pick, prng, type TestWorld } from './testutil.js';
import type { Node, Pod } from './types.js';

const ZONE = 'topology.kubernetes.io/zone';
const HOST = 'kubernetes.io/hostname';



function randomNode(r: () => number, name: string): Node {
  const labels: Record<string, string> = {};
  if (r() < 0.9) labels[ZONE] = pick(r, ['z1', 'z2', 'z3']);
  if (r() < 0.5) labels.disk = pick(r, ['ssd', 'hdd']);
  const taints = r() < 0.2 ? [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' as const }] : undefined;
  return mkNode(name, { labels, taints });
}

function antiTerm(color: string, key: string) {
  return { labelSelector: { matchLabels: { color } }, topologyKey: key };
}

function randomExisting(r: () => number, name: string, node: string): Pod {
  const color = pick(r, ['red', 'blue', 'green']);
  const spec: Record<string, unknown> = {};
  if (r() < 0.35) spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [antiTerm(pick(r, ['red', 'blue']), pick(r, [ZONE, HOST]))] } };
  // Now and then a term with a namespaceSelector, which the cache cannot group.
  else if (r() < 0.03) spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ ...antiTerm('blue', ZONE), namespaceSelector: { matchLabels: { team: 'x' } } }] } };
  const p = mkPod(name, { ns: pick(r, ['default', 'other']), labels: { color, tier: pick(r, ['a', 'b']) }, nodeName: node, spec });
  if (r() < 0.1) (p.metadata as { deletionTimestamp?: string }).deletionTimestamp = '2026-01-01T00:00:00Z';
  return p;
}

function randomIncoming(r: () => number, name: string): Pod {
  const color = pick(r, ['red', 'blue', 'green']);
  const spec: Record<string, unknown> = {};
  const kind = pick(r, ['spread', 'spread2', 'anti', 'aff', 'both']);
  if (kind.startsWith('spread') || kind === 'both') {
    const c: Record<string, unknown> = { maxSkew: pick(r, [1, 2]), topologyKey: pick(r, [ZONE, HOST]), whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { color } } };
    if (r() < 0.3) c.nodeTaintsPolicy = 'Honor';
    if (r() < 0.3) c.nodeAffinityPolicy = 'Ignore';
    if (r() < 0.3) c.matchLabelKeys = ['tier'];
    if (r() < 0.2) c.minDomains = 3;
    const cs = [c];
    if (kind === 'spread2') cs.push({ maxSkew: 1, topologyKey: HOST, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { color } } });
    spec.topologySpreadConstraints = cs;
    if (r() < 0.3) spec.nodeSelector = { disk: 'ssd' };
  }
  if (kind === 'anti' || kind === 'both') spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [antiTerm(color, pick(r, [ZONE, HOST]))] } };
  if (kind === 'aff') spec.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [antiTerm(color, pick(r, [ZONE, HOST])), antiTerm(color, ZONE)] } };
  return mkPod(name, { ns: pick(r, ['default', 'other']), labels: { color, tier: pick(r, ['a', 'b']) }, spec });
}

/** Applies one random change to both worlds (the same change). */
function mutate(r: () => number, ws: TestWorld[], live: Map<string, Pod>, nodes: Map<string, Node>, seq: { n: number }): void {
  const x = r();
  const names = [...nodes.keys()];
  if (x < 0.45 && names.length) {
    const p = randomExisting(r, `e${seq.n++}`, pick(r, names));
    live.set(p.metadata!.uid!, p);
    for (const w of ws) w.cache.addPod(newPodInfo(p));
  } else if (x < 0.7 && live.size) {
    const uid = pick(r, [...live.keys()]);
    live.delete(uid);
    for (const w of ws) w.cache.removePod(uid);
  } else if (x < 0.8 && names.length) {
    const old = nodes.get(pick(r, names))!;
    const n = randomNode(r, old.metadata!.name!);
    nodes.set(n.metadata!.name!, n);
    for (const w of ws) w.cache.updateNode(old, n);
  } else if (x < 0.87 && names.length > 2) {
    const old = nodes.get(pick(r, names))!;
    nodes.delete(old.metadata!.name!);
    for (const w of ws) w.cache.removeNode(old);
  } else {
    const n = randomNode(r, `n${seq.n++}`);
    nodes.set(n.metadata!.name!, n);
    for (const w of ws) w.cache.addNode(n);
  }
}

test('incremental PodTopologySpread and InterPodAffinity PreFilter agree with the naive counts on random clusters', () => {
  for (let seed = 1; seed <= 16; seed++) {
    const r = prng(seed);
    const nodes = new Map<string, Node>();
    for (let i = 0; i < 12; i++) nodes.set(`n${i}`, randomNode(r, `n${i}`));
    const live = new Map<string, Pod>();
    const nsLabels = { other: { team: 'x' } };
    const fast = mkWorld([...nodes.values()], [], { nsLabels });
    const naive = mkWorld([...nodes.values()], [], { naive: true, nsLabels });
    const seq = { n: 100 };
    for (let step = 0; step < 80; step++) {
      const k = 1 + Math.floor(r() * 4);
      for (let i = 0; i < k; i++) mutate(r, [fast, naive], live, nodes, seq);
      const pod = randomIncoming(r, `in${step}`);
      assert.deepEqual(filterEach(fast, pod), filterEach(naive, pod), `seed ${seed} step ${step}: ${JSON.stringify(pod.spec)}`);
    }
  }
});

test('topologyCounts follows adds, removals, label changes and node deletion, and survives a trimmed change log', () => {
  const r = prng(99);
  const nodes = new Map<string, Node>();
  for (let i = 0; i < 8; i++) nodes.set(`n${i}`, randomNode(r, `n${i}`));
  const w = mkWorld([...nodes.values()]);
  const live = new Map<string, Pod>();
  const red = compileLabelSelector({ matchLabels: { color: 'red' } });
  const specs: CountSpec[] = [
    { key: 'zone-red', topologyKey: ZONE, matches: (p) => red(p.pod.metadata?.labels) },
    { key: 'host-red-all', topologyKey: HOST, matches: (p) => red(p.pod.metadata?.labels), includeTerminating: true },
    { key: 'zone-untainted', topologyKey: ZONE, matches: () => true, eligible: (n) => !n.spec?.taints?.length },
  ];
  const seq = { n: 100 };
  const check = (c: Cache, at: string) => {
    for (const s of specs) assert.deepEqual(new Map([...c.topologyCounts(s)].sort()), new Map([...countByTopology(c.nodes(), s)].sort()), `${s.key} ${at}`);
  };
  for (let step = 0; step < 200; step++) {
    mutate(r, [w], live, nodes, seq);
    if (step % 3 === 0) check(w.cache, `step ${step}`);
  }
  // More changes than the log keeps: the index rebuilds instead of missing some.
  for (let i = 0; i < 9000; i++) mutate(r, [w], live, nodes, seq);
  check(w.cache, 'after trimming');
});
