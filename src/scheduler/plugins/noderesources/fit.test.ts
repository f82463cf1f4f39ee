import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterEach, mkNode, mkPod, mkWorld, scoresOf } from '../../testutil.js';
import { podRequests } from '../../resources.js';

test('NodeResourcesFit filter: requests against free allocatable', () => {
  const cases: { name: string; pod: ReturnType<typeof mkPod>; existing?: ReturnType<typeof mkPod>[]; want: string }[] = [
    { name: 'fits', pod: mkPod('p', { cpu: '1', memory: '1Gi' }), want: '' },
    { name: 'too much cpu', pod: mkPod('p', { cpu: '5' }), want: 'Insufficient cpu' },
    { name: 'cpu and memory', pod: mkPod('p', { cpu: '5', memory: '9Gi' }), want: 'Insufficient cpu, Insufficient memory' },
    { name: 'existing pods count', pod: mkPod('p', { cpu: '2' }), existing: [mkPod('e', { cpu: '3', nodeName: 'n1' })], want: 'Insufficient cpu' },
    { name: 'no requests always fit', pod: mkPod('p'), existing: [mkPod('e', { cpu: '4', nodeName: 'n1' })], want: '' },
    {
      name: 'init container max counts',
      pod: mkPod('p', { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '1' } } }], spec: { initContainers: [{ name: 'i', image: 'x', resources: { requests: { cpu: '4500m' } } }] } }),
      want: 'Insufficient cpu',
    },
    { name: 'overhead counts', pod: mkPod('p', { cpu: '3900m', spec: { overhead: { cpu: '200m' } } }), want: 'Insufficient cpu' },
    { name: 'extended resource', pod: mkPod('p', { containers: [{ name: 'c', image: 'x', resources: { requests: { 'example.com/gpu': '1' } } }] }), want: 'Insufficient example.com/gpu' },
  ];
  for (const c of cases) {
    const w = mkWorld([mkNode('n1', { cpu: '4', memory: '8Gi' })], c.existing);
    assert.equal(filterEach(w, c.pod).n1, c.want, c.name);
  }
});

test('NodeResourcesFit filter: too many pods', () => {
  const w = mkWorld([mkNode('n1', { pods: 1 })], [mkPod('e', { nodeName: 'n1' })]);
  assert.equal(filterEach(w, mkPod('p')).n1, 'Too many pods');
});

test('pod requests: sidecars add up, init containers take the max, as upstream', () => {
  const pod = mkPod('p', {
    containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '1', memory: '1Gi' } } }],
    spec: {
      initContainers: [
        { name: 'side', image: 'x', restartPolicy: 'Always', resources: { requests: { cpu: '500m' } } },
        { name: 'init', image: 'x', resources: { requests: { cpu: '2', memory: '3Gi' } } },
      ],
      overhead: { memory: '100Mi' },
    },
  });
  const r = podRequests(pod);
  // containers+sidecar = 1.5 cpu; init + earlier sidecar = 2.5 cpu → 2.5; memory max(1Gi, 3Gi) + overhead.
  assert.equal(r.milliCPU, 2500);
  assert.equal(r.memory, 3 * 1024 ** 3 + 100 * 1024 ** 2);
  assert.deepEqual([podRequests(mkPod('e'), true).milliCPU, podRequests(mkPod('e'), true).memory], [100, 200 * 1024 * 1024]);
});

test('NodeResourcesFit scoring strategies', () => {
  const nodes = [mkNode('small', { cpu: '2', memory: '4Gi' }), mkNode('big', { cpu: '8', memory: '16Gi' })];
  const pod = mkPod('p', { cpu: '1', memory: '2Gi' });
  const least = scoresOf(mkWorld(nodes), pod, 'NodeResourcesFit');
  // small: (2-1)/2 → 50 for both; big: (8-1)/8 → 87, (16-2)/16 → 87.
  assert.deepEqual(least, { small: 50, big: 87 });
  const most = scoresOf(mkWorld(nodes, [], { profile: { pluginConfig: [{ name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated' } } }] } }), pod, 'NodeResourcesFit');
  assert.deepEqual(most, { small: 50, big: 12 });
  const ratio = scoresOf(
    mkWorld(nodes, [], { profile: { pluginConfig: [{ name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: [{ utilization: 0, score: 0 }, { utilization: 100, score: 10 }] } } } }] } }),
    pod,
    'NodeResourcesFit',
  );
  assert.deepEqual(ratio, { small: 50, big: 12 });
});

test('NodeResourcesBalancedAllocation favors even cpu/memory use', () => {
  const nodes = [mkNode('a', { cpu: '4', memory: '4Gi' }), mkNode('b', { cpu: '4', memory: '16Gi' })];
  const s = scoresOf(mkWorld(nodes), mkPod('p', { cpu: '2', memory: '2Gi' }), 'NodeResourcesBalancedAllocation');
  // a: 0.5/0.5 → 100; b: 0.5/0.125 → std 0.1875 → 81.
  assert.deepEqual(s, { a: 100, b: 81 });
});

test('default cpu/memory scoring (fast path) equals the generic path over random nodes', async () => {
  const { prng } = await import('../../testutil.js');
  const rnd = prng(7);
  const cpu = () => `${Math.floor(rnd() * 8000)}m`;
  const mem = () => `${Math.floor(rnd() * 16)}Gi`;
  const nodes = Array.from({ length: 30 }, (_, i) => mkNode(`n${i}`, { cpu: i % 7 === 0 ? '0' : String(1 + Math.floor(rnd() * 16)), memory: i % 11 === 0 ? '0' : `${1 + Math.floor(rnd() * 64)}Gi` }));
  const pods = nodes.map((n, i) => mkPod(`e${i}`, { nodeName: n.metadata!.name, cpu: cpu(), memory: mem() }));
  const generic = { pluginConfig: [{ name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'memory' }, { name: 'cpu' }] } } }, { name: 'NodeResourcesBalancedAllocation', args: { resources: [{ name: 'memory' }, { name: 'cpu' }] } }] };
  for (let k = 0; k < 20; k++) {
    const p = mkPod(`p${k}`, { cpu: cpu(), memory: k % 3 ? mem() : undefined });
    for (const plugin of ['NodeResourcesFit', 'NodeResourcesBalancedAllocation']) {
      assert.deepEqual(scoresOf(mkWorld(nodes, pods), p, plugin), scoresOf(mkWorld(nodes, pods, { profile: generic }), p, plugin), plugin);
    }
  }
});
