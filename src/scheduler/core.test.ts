import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from './config.js';
import { SchedulerCore, nodeUpdateActions, type SchedulerApi } from './core.js';
import { inTreeRegistry } from './registry.js';
import { FakeClock, mkNode, mkPod } from './testutil.js';
import type { Pod } from './types.js';

/** The core with a recording fake API and an in-memory pod store standing in for the informer. */
function setup(o: { preemptVictim?: SchedulerApi['preemptVictim'] } = {}) {
  const pods = new Map<string, Pod>();
  const calls: string[] = [];
  const clock = new FakeClock();
  let core!: SchedulerCore;
  const api: SchedulerApi = {
    bind: async (p, node) => {
      calls.push(`bind ${p.metadata!.name} ${node}`);
      const cur = pods.get(`default/${p.metadata!.name}`)!;
      const bound = { ...cur, spec: { ...cur.spec!, nodeName: node } };
      pods.set(`default/${p.metadata!.name}`, bound);
      core.onPodUpdate(cur, bound);
    },
    updateStatus: async (p, c, nn) => void calls.push(`status ${p.metadata!.name} ${c.reason}${nn !== undefined ? ` nominated=${nn}` : ''}`),
    event: (p, type, reason, msg) => void calls.push(`event ${p.metadata!.name} ${reason}: ${msg}`),
    preemptVictim: async (v, p, node) => {
      calls.push(`preempt ${v.metadata!.name} for ${p.metadata!.name} on ${node}`);
      pods.delete(`default/${v.metadata!.name}`);
      core.onPodDelete(v);
    },
    clearNominatedNodeName: async (p) => void calls.push(`clear ${p.metadata!.name}`),
  };
  if (o.preemptVictim) api.preemptVictim = o.preemptVictim;
  core = new SchedulerCore({ config: defaultConfig(), registry: inTreeRegistry(), api, clock, rand: () => 0.99, world: { pod: (k) => pods.get(k), namespaceLabels: () => undefined } });
  const add = (p: Pod) => {
    pods.set(`default/${p.metadata!.name}`, p);
    core.onPodAdd(p);
  };
  const settle = async () => {
    while (core.scheduleNext()) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return { core, pods, calls, clock, add, settle };
}

test('binds, records Scheduled, and requeues an unschedulable pod until a node is added', async () => {
  const w = setup();
  w.core.onNodeAdd(mkNode('n1', { cpu: '1' }));
  w.add(mkPod('small', { cpu: '500m' }));
  w.add(mkPod('big', { cpu: '2' }));
  await w.settle();
  assert.deepEqual(w.calls, [
    'bind small n1',
    'event small Scheduled: Successfully assigned default/small to n1',
    'event big FailedScheduling: 0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    'status big Unschedulable',
  ]);
  assert.equal(w.core.queue.where(w.pods.get('default/big')!.metadata!.uid!), 'unschedulable');
  w.calls.length = 0;
  w.core.onNodeAdd(mkNode('n2', { cpu: '4' }));
  w.clock.step(1000);
  await w.settle();
  assert.deepEqual(w.calls.slice(0, 1), ['bind big n2']);
});

test('preemption nominates the node, deletes the victim, then binds the preemptor', async () => {
  const w = setup();
  w.core.onNodeAdd(mkNode('n1', { cpu: '1' }));
  w.add(mkPod('low', { cpu: '800m', priority: 1 }));
  await w.settle();
  w.calls.length = 0;
  w.add(mkPod('high', { cpu: '800m', priority: 100 }));
  await w.settle();
  // The victims are deleted asynchronously (as upstream's async preemption), so order is not fixed.
  assert.deepEqual(w.calls.slice(0, 3).sort(), [
    'event high FailedScheduling: 0/1 nodes are available: 1 Insufficient cpu.',
    'preempt low for high on n1',
    'status high Unschedulable nominated=n1',
  ]);
  w.clock.step(1000);
  await w.settle();
  assert.ok(w.calls.includes('bind high n1'), w.calls.join('\n'));
});

test('node heartbeats are not cluster events; taint changes are', () => {
  const a = mkNode('n');
  const b = structuredClone(a);
  assert.deepEqual(nodeUpdateActions(a, b), []);
  b.spec = { taints: [{ key: 'k', effect: 'NoSchedule' }] };
  b.metadata!.labels!.x = 'y';
  assert.deepEqual(nodeUpdateActions(a, b), ['UpdateNodeLabel', 'UpdateNodeTaint']);
});

test('async preemption: the preemptor is held back while its victims are evicted, and woken after the last eviction even without a deletion event', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const evicted: string[] = [];
  // Victims already gone from the API: their evictions return without any deletion event.
  const w = setup({
    preemptVictim: async (v) => {
      await gate;
      evicted.push(v.metadata!.name!);
    },
  });
  w.core.onNodeAdd(mkNode('n1', { cpu: '1' }));
  w.add(mkPod('v1', { cpu: '400m', priority: 1 }));
  w.add(mkPod('v2', { cpu: '400m', priority: 1 }));
  await w.settle();
  const high = mkPod('high', { cpu: '800m', priority: 100 });
  w.add(high);
  await w.settle();
  const uid = high.metadata!.uid!;
  // Something moves it while the evictions are in flight: PreEnqueue holds it.
  w.core.queue.activate([uid]);
  assert.equal(w.core.queue.where(uid), 'unschedulable');
  release();
  for (let i = 0; i < 10 && w.core.queue.where(uid) !== 'active'; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(evicted.sort(), ['v1', 'v2']);
  assert.equal(w.core.queue.where(uid), 'active');
});
