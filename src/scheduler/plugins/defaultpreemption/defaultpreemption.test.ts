import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../../interface.js';
import { newPodInfo } from '../../podinfo.js';
import { mkNode, mkPod, mkWorld, scheduleIn } from '../../testutil.js';
import { pickCandidate, selectVictimsOnNode } from './defaultpreemption.js';

function preempt(nodes: ReturnType<typeof mkNode>[], pods: ReturnType<typeof mkPod>[], pod: ReturnType<typeof mkPod>, pdbs: any[] = []) {
  const w = mkWorld(nodes, pods, { pdbs });
  const r = scheduleIn(w, pod);
  assert.equal(r.kind, 'unschedulable');
  const fe = (r as any).fitError;
  const pf = w.fwk.runPostFilter(r.state, newPodInfo(pod), fe.statuses);
  if (pf.status.code !== 0) fe.postFilterMsg = pf.status.message;
  return { node: pf.result?.nominatedNodeName, message: fe.message(), w };
}

test('preemption picks the node whose victims matter least', () => {
  const nodes = [mkNode('n1', { cpu: '2' }), mkNode('n2', { cpu: '2' })];
  const pods = [
    mkPod('mid', { cpu: '2', priority: 50, nodeName: 'n1' }),
    mkPod('low1', { cpu: '1', priority: 10, nodeName: 'n2' }),
    mkPod('low2', { cpu: '1', priority: 10, nodeName: 'n2' }),
  ];
  const r = preempt(nodes, pods, mkPod('high', { cpu: '1', priority: 100 }));
  // n2: lowest highest-victim priority (10), and only one of its pods needs to go.
  assert.equal(r.node, 'n2');
  assert.equal(r.message, '0/2 nodes are available: 2 Insufficient cpu.');
});

test('victims: remove all lower-priority pods, then reprieve the most important that still fit', () => {
  const w = mkWorld([mkNode('n', { cpu: '4' })], [
    mkPod('a', { cpu: '1', priority: 1, nodeName: 'n' }),
    mkPod('b', { cpu: '1', priority: 5, nodeName: 'n' }),
    mkPod('c', { cpu: '2', priority: 3, nodeName: 'n' }),
    mkPod('keep', { cpu: '0', priority: 500, nodeName: 'n' }),
  ]);
  const pi = newPodInfo(mkPod('p', { cpu: '2', priority: 100 }));
  const state = new CycleState();
  w.fwk.runPreFilter(state, pi, w.cache.nodes());
  const r = selectVictimsOnNode(w.handle, state, pi, w.cache.get('n')!.clone(), []);
  assert.equal(r.status, null);
  // b (5) is reprieved first, then c (3) does not fit back, then a (1) fits back.
  assert.deepEqual(r.victims.map((v) => v.pod.metadata!.name), ['c']);
});

test('PDB-protected pods are reprieved first and violations are counted', () => {
  const w = mkWorld([mkNode('n', { cpu: '2' })], [mkPod('guarded', { cpu: '1', priority: 1, nodeName: 'n', labels: { app: 'db' } }), mkPod('free', { cpu: '1', priority: 1, nodeName: 'n' })]);
  const pdbs = [{ metadata: { namespace: 'default', name: 'pdb' }, spec: { selector: { matchLabels: { app: 'db' } } }, status: { disruptionsAllowed: 0 } }];
  const pi = newPodInfo(mkPod('p', { cpu: '1', priority: 100 }));
  const state = new CycleState();
  w.fwk.runPreFilter(state, pi, w.cache.nodes());
  const r = selectVictimsOnNode(w.handle, state, pi, w.cache.get('n')!.clone(), [{ namespace: 'default', matches: (l: any) => l?.app === 'db', allowed: 0, disrupted: new Set() }] as any);
  assert.deepEqual(r.victims.map((v) => v.pod.metadata!.name), ['free']);
  assert.equal(r.violations, 0);
  void pdbs;
});

test('candidate order: PDB violations, then top victim priority, sum, count', () => {
  const v = (p: number) => newPodInfo(mkPod(`v${p}`, { priority: p }));
  const c = pickCandidate([
    { node: 'violates', victims: [v(1)], numPDBViolations: 1 },
    { node: 'high', victims: [v(50)], numPDBViolations: 0 },
    { node: 'many', victims: [v(10), v(10)], numPDBViolations: 0 },
    { node: 'few', victims: [v(10)], numPDBViolations: 0 },
  ]);
  assert.equal(c?.node, 'few');
});

test('preemption messages when it cannot help', () => {
  const taint = [{ key: 'k', value: 'v', effect: 'NoSchedule' }];
  const r = preempt([mkNode('n1', { cpu: '1' }), mkNode('n2', { cpu: '1', taints: taint })], [], mkPod('p', { cpu: '2', priority: 10 }));
  assert.equal(r.node, '');
  assert.equal(
    r.message,
    '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {k: v}. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
  );
  const never = preempt([mkNode('n1', { cpu: '1' })], [mkPod('low', { cpu: '1', priority: 1, nodeName: 'n1' })], mkPod('p', { cpu: '1', priority: 10, spec: { preemptionPolicy: 'Never' } }));
  assert.equal(never.message, '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.');
});

test('a nominated pod waits while lower-priority pods terminate by preemption on its node (not other deletions)', async () => {
  const { notEligible, terminatingByPreemption } = await import('./defaultpreemption.js');
  const { newPodInfo } = await import('../../podinfo.js');
  const { Status } = await import('../../status.js');
  const preempted = { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' };
  const victim = (name: string, conds: object[]) => mkPod(name, { nodeName: 'n1', priority: 1, status: { phase: 'Running', conditions: conds } });
  const deleting = (p: ReturnType<typeof mkPod>) => ({ ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } });
  const high = newPodInfo(mkPod('high', { priority: 10, status: { nominatedNodeName: 'n1' } }));
  const cases: [string, ReturnType<typeof mkPod>, string | undefined][] = [
    ['a victim terminating by preemption', deleting(victim('v', [preempted])), 'not eligible due to a terminating pod on the nominated node.'],
    ['a pod deleted for another reason', deleting(victim('v', [])), undefined],
    ['a preempted pod not yet deleting', victim('v', [preempted]), undefined],
  ];
  for (const [name, pod, want] of cases) {
    const w = mkWorld([mkNode('n1')], [pod]);
    assert.equal(terminatingByPreemption(pod), want !== undefined, name);
    assert.equal(notEligible(w.handle, high, new Map()), want, name);
  }
  // The nominated node rejected for good: preempt again elsewhere.
  const w = mkWorld([mkNode('n1')], [cases[0][1]]);
  assert.equal(notEligible(w.handle, high, new Map([['n1', Status.unresolvable('x')]])), undefined);
});

test('a victim whose DELETE returned counts as terminating until it expires from the evicted set', async () => {
  const { notEligible, EvictedVictims } = await import('./defaultpreemption.js');
  const { newPodInfo } = await import('../../podinfo.js');
  // Deleted at once (no grace period): the cache still holds it, without a deletionTimestamp.
  const victim = mkPod('v', { nodeName: 'n1', priority: 1, status: { phase: 'Running' } });
  const high = newPodInfo(mkPod('high', { priority: 10, status: { nominatedNodeName: 'n1' } }));
  const w = mkWorld([mkNode('n1')], [victim]);
  let now = 0;
  const evicted = new EvictedVictims(() => now, 1000);
  assert.equal(notEligible(w.handle, high, new Map(), evicted), undefined);
  evicted.add(victim.metadata!.uid!);
  assert.equal(notEligible(w.handle, high, new Map(), evicted), 'not eligible due to a terminating pod on the nominated node.');
  now = 1000;
  assert.equal(notEligible(w.handle, high, new Map(), evicted), undefined, 'an expired entry no longer holds the preemptor back');
  evicted.add('other');
  assert.equal(evicted.size, 1, 'adding drops the expired entries');
});
