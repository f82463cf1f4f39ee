import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cache } from './cache.js';
import { parseConfig } from './config.js';
import { SchedulerCore, type SchedulerApi } from './core.js';
import type { Handle } from './interface.js';
import { newPodInfo } from './podinfo.js';
import { inTreeRegistry } from './registry.js';
import { Code, Status } from './status.js';
import { FakeClock, mkNode, mkPod } from './testutil.js';
import type { Pod } from './types.js';
import { goDuration } from './waitingpods.js';

/** The core with a fake API; `confirm` false makes bindings succeed without the informer ever showing them. */
function setup(o: { permitWaitMs?: number; ttlMs?: number; confirm?: boolean } = {}) {
  const pods = new Map<string, Pod>();
  const calls: string[] = [];
  const clock = new FakeClock();
  let handle!: Handle;
  const registry = inTreeRegistry().register('Gate', (_a, h) => {
    handle = h;
    return { name: 'Gate', permit: () => ({ status: new Status(Code.Wait), timeoutMs: o.permitWaitMs ?? 5000 }) };
  });
  const config = parseConfig(o.permitWaitMs !== undefined ? { profiles: [{ plugins: { permit: { enabled: [{ name: 'Gate' }] } } }] } : {});
  let core!: SchedulerCore;
  const api: SchedulerApi = {
    bind: async (p, node) => {
      calls.push(`bind ${p.metadata!.name} ${node}`);
      if (o.confirm === false) return;
      const cur = pods.get(`default/${p.metadata!.name}`)!;
      const bound = { ...cur, spec: { ...cur.spec!, nodeName: node } };
      pods.set(`default/${p.metadata!.name}`, bound);
      core.onPodUpdate(cur, bound);
    },
    updateStatus: async (p, c) => void calls.push(`status ${p.metadata!.name} ${c.reason}`),
    event: (p, _type, reason, msg) => void calls.push(`event ${p.metadata!.name} ${reason}: ${msg}`),
    preemptVictim: async () => undefined,
    clearNominatedNodeName: async () => undefined,
  };
  core = new SchedulerCore({ config, registry, api, clock, rand: () => 0.99, assumedPodTtlMs: o.ttlMs, world: { pod: (k) => pods.get(k), namespaceLabels: () => undefined } });
  const add = (p: Pod) => {
    pods.set(`default/${p.metadata!.name}`, p);
    core.onPodAdd(p);
  };
  const settle = async () => {
    while (core.scheduleNext()) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return { core, pods, calls, clock, add, settle, handle: () => handle };
}

test('Permit Wait holds the pod on its node until the plugin allows it', async () => {
  const w = setup({ permitWaitMs: 5000 });
  w.core.onNodeAdd(mkNode('n1', { cpu: '1' }));
  const p = mkPod('p', { cpu: '600m' });
  w.add(p);
  await w.settle();
  assert.deepEqual(w.calls, []);
  const wp = w.handle().getWaitingPod!(p.metadata!.uid!);
  assert.ok(wp);
  assert.deepEqual(wp.pendingPlugins(), ['Gate']);
  // Waiting takes no binding slot.
  assert.equal(w.core.bindingsInFlight, 0);
  // The room stays reserved while it waits: a second pod does not fit.
  w.add(mkPod('q', { cpu: '600m' }));
  await w.settle();
  assert.match(w.calls[0], /^event q FailedScheduling: 0\/1 nodes are available: 1 Insufficient cpu\./);
  w.calls.length = 0;
  wp.allow('Gate');
  await w.settle();
  assert.deepEqual(w.calls.slice(0, 2), ['bind p n1', 'event p Scheduled: Successfully assigned default/p to n1']);
  assert.equal(w.core.waitingPods.size, 0);
});

test('Permit Wait times out into Unschedulable, frees the room and requeues the pod', async () => {
  const w = setup({ permitWaitMs: 2000 });
  w.core.onNodeAdd(mkNode('n1', { cpu: '1' }));
  const p = mkPod('p', { cpu: '600m' });
  w.add(p);
  await w.settle();
  w.clock.step(2000);
  await w.settle();
  assert.deepEqual(w.calls, ['event p FailedScheduling: rejected due to timeout after waiting 2s at plugin Gate', 'status p Unschedulable']);
  assert.equal(w.core.cache.podCount(), 0);
  // Back in the queue; freeing its room was a cluster event during its attempt, so it backs off rather than parks.
  assert.equal(w.core.queue.where(p.metadata!.uid!), 'backoff');
  assert.equal(w.core.waitingPods.size, 0);
});

test('a rejected waiting pod fails with the plugin message', async () => {
  const w = setup({ permitWaitMs: 60_000 });
  w.core.onNodeAdd(mkNode('n1', { cpu: '1' }));
  const p = mkPod('p', { cpu: '600m' });
  w.add(p);
  await w.settle();
  w.handle().iterateOverWaitingPods!((wp) => wp.reject('Gate', 'gang incomplete'));
  await w.settle();
  assert.deepEqual(w.calls, ['event p FailedScheduling: gang incomplete', 'status p Unschedulable']);
  assert.equal(w.core.cache.podCount(), 0);
});

test('an assumed pod whose binding is never confirmed expires after the TTL, and its room is used again', async () => {
  const w = setup({ ttlMs: 30_000, confirm: false });
  w.core.onNodeAdd(mkNode('n1', { cpu: '1' }));
  w.add(mkPod('p', { cpu: '600m' }));
  await w.settle();
  assert.deepEqual(w.calls.slice(0, 1), ['bind p n1']);
  assert.equal(w.core.cache.podCount(), 1);
  w.clock.step(29_000);
  assert.equal(w.core.cache.podCount(), 1);
  w.clock.step(2_000);
  assert.equal(w.core.cache.podCount(), 0);
  w.calls.length = 0;
  w.add(mkPod('q', { cpu: '600m' }));
  await w.settle();
  assert.deepEqual(w.calls.slice(0, 1), ['bind q n1']);
});

test('cache expiry: only after the binding finished, never once confirmed, never with TTL 0', () => {
  let now = 0;
  const c = new Cache({ assumedPodTtlMs: 1000, now: () => now });
  c.addNode(mkNode('n1'));
  const a = newPodInfo(mkPod('a', { nodeName: 'n1' }));
  const b = newPodInfo(mkPod('b', { nodeName: 'n1' }));
  const d = newPodInfo(mkPod('d', { nodeName: 'n1' }));
  c.assumePod(a);
  c.assumePod(b);
  c.assumePod(d);
  c.finishBinding(b.uid);
  c.finishBinding(d.uid);
  c.addPod(d);
  now = 5000;
  // a: binding still in flight; d: confirmed by the informer.
  assert.deepEqual(c.cleanupExpiredAssumedPods().map((p) => p.key), [b.key]);
  assert.equal(c.podCount(), 2);
  assert.equal(c.get('n1')!.pods.length, 2);

  const never = new Cache({ now: () => now });
  never.addNode(mkNode('n1'));
  never.assumePod(a);
  never.finishBinding(a.uid);
  now = 1e12;
  assert.deepEqual(never.cleanupExpiredAssumedPods(), []);
});

test('Go duration strings for permit timeouts', () => {
  assert.equal(goDuration(500), '500ms');
  assert.equal(goDuration(2000), '2s');
  assert.equal(goDuration(1500), '1.5s');
  assert.equal(goDuration(90_000), '1m30s');
  assert.equal(goDuration(15 * 60_000), '15m0s');
  assert.equal(goDuration(3_600_000), '1h0m0s');
});
