import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulingQueue } from './queue.js';
import { Status } from './status.js';
import { FakeClock, mkPod } from './testutil.js';

function mkQueue(clock: FakeClock) {
  return new SchedulingQueue({
    less: (a, b) => (a.pi.priority !== b.pi.priority ? a.pi.priority > b.pi.priority : a.timestamp < b.timestamp),
    preEnqueue: (pod) => ((pod.spec?.schedulingGates ?? []).length ? Status.unresolvable('gated').withPlugin('SchedulingGates') : null),
    eventsByPlugin: new Map([
      ['NodeResourcesFit', [{ resource: 'Node', actions: ['Add'] }, { resource: 'AssignedPod', actions: ['Delete'] }]],
      ['TaintToleration', [{ resource: 'Node', actions: ['UpdateNodeTaint'] }]],
    ] as any),
    clock,
  });
}

test('activeQ pops by priority, then arrival', () => {
  const c = new FakeClock();
  const q = mkQueue(c);
  q.add(mkPod('low', { priority: 1 }));
  c.step(1);
  q.add(mkPod('first', { priority: 10 }));
  c.step(1);
  q.add(mkPod('second', { priority: 10 }));
  assert.deepEqual([q.tryPop(), q.tryPop(), q.tryPop(), q.tryPop()].map((x) => x?.pi.pod.metadata!.name), ['first', 'second', 'low', undefined]);
});

test('unschedulable pods wait for an event their plugin registered for, then back off', () => {
  const c = new FakeClock();
  const q = mkQueue(c);
  q.add(mkPod('p'));
  const p = q.tryPop()!;
  p.unschedulablePlugins = new Set(['NodeResourcesFit']);
  const cycle = q.schedulingCycleNumber;
  q.addUnschedulableIfNotPresent(p, cycle);
  assert.equal(q.where(p.pi.uid), 'unschedulable');
  q.moveAllOnEvent({ resource: 'Node', action: 'UpdateNodeTaint' });
  assert.equal(q.where(p.pi.uid), 'unschedulable', 'an event nobody asked for does nothing');
  q.moveAllOnEvent({ resource: 'Node', action: 'Add' });
  assert.equal(q.where(p.pi.uid), 'backoff', 'still backing off (1 s after the first attempt)');
  c.step(1000);
  assert.equal(q.where(p.pi.uid), 'active');
});

test('backoff doubles per attempt up to the max', () => {
  const c = new FakeClock();
  const q = mkQueue(c);
  q.add(mkPod('p'));
  const p = q.tryPop()!;
  const ds = [];
  for (let i = 0; i < 6; i++) {
    ds.push(q.backoffDuration(p));
    p.attempts++;
  }
  assert.deepEqual(ds, [1000, 2000, 4000, 8000, 10000, 10000]);
});

test('an event during the cycle sends the failed pod to backoff, not unschedulable', () => {
  const c = new FakeClock();
  const q = mkQueue(c);
  q.add(mkPod('p'));
  const p = q.tryPop()!;
  const cycle = q.schedulingCycleNumber;
  q.moveAllOnEvent({ resource: 'Node', action: 'Add' });
  p.unschedulablePlugins = new Set(['NodeResourcesFit']);
  q.addUnschedulableIfNotPresent(p, cycle);
  assert.equal(q.where(p.pi.uid), 'backoff');
});

test('gated pods wait until the gates are removed', () => {
  const c = new FakeClock();
  const q = mkQueue(c);
  const gated = mkPod('g', { spec: { schedulingGates: [{ name: 'wait' }] } });
  q.add(gated);
  assert.equal(q.where(gated.metadata!.uid!), 'unschedulable');
  q.moveAllOnEvent({ resource: 'Node', action: 'Add' });
  assert.equal(q.where(gated.metadata!.uid!), 'unschedulable');
  q.update(gated, { ...gated, spec: { ...gated.spec!, schedulingGates: [] } });
  assert.equal(q.where(gated.metadata!.uid!), 'active');
});

test('pods parked too long are retried; deleted pods leave every queue', () => {
  const c = new FakeClock();
  const q = mkQueue(c);
  q.add(mkPod('p'));
  const p = q.tryPop()!;
  p.unschedulablePlugins = new Set(['TaintToleration']);
  q.addUnschedulableIfNotPresent(p, q.schedulingCycleNumber);
  c.step(5 * 60_000 + 30_000);
  assert.equal(q.where(p.pi.uid), 'active');
  q.delete(p.pi.pod);
  assert.equal(q.where(p.pi.uid), undefined);
});

test('QueueingHints: a registered event whose hint says QueueSkip leaves the pod parked', () => {
  const c = new FakeClock();
  const q = new SchedulingQueue({
    less: (a, b) => a.timestamp < b.timestamp,
    preEnqueue: () => null,
    eventsByPlugin: new Map([['NodeResourcesFit', [{ resource: 'Node', actions: ['Add'], hint: (_pi: unknown, _o: unknown, n: any) => (n.big ? 'Queue' : 'QueueSkip') }]]] as any),
    clock: c,
  });
  q.add(mkPod('p'));
  const p = q.tryPop()!;
  p.unschedulablePlugins = new Set(['NodeResourcesFit']);
  q.addUnschedulableIfNotPresent(p, q.schedulingCycleNumber);
  q.moveAllOnEvent({ resource: 'Node', action: 'Add', newObj: { big: false } });
  assert.equal(q.where(p.pi.uid), 'unschedulable');
  q.moveAllOnEvent({ resource: 'Node', action: 'Add', newObj: { big: true } });
  assert.equal(q.where(p.pi.uid), 'backoff');
});

test('an update of no specific kind wakes only plugins registered for every update', () => {
  const c = new FakeClock();
  const q = mkQueue(c);
  q.add(mkPod('p'));
  const p = q.tryPop()!;
  p.unschedulablePlugins = new Set(['NodeResourcesFit']);
  q.addUnschedulableIfNotPresent(p, q.schedulingCycleNumber);
  // A victim's graceful deletion starting frees nothing yet.
  q.moveAllOnEvent({ resource: 'AssignedPod', action: 'Update' });
  assert.equal(q.where(p.pi.uid), 'unschedulable');
  q.moveAllOnEvent({ resource: 'AssignedPod', action: 'Delete' });
  assert.equal(q.where(p.pi.uid), 'backoff');
});

test('activate moves parked and backing-off pods to activeQ at once; an in-flight one when its cycle fails', () => {
  const c = new FakeClock();
  const q = mkQueue(c);
  const park = (name: string) => {
    q.add(mkPod(name));
    const p = q.tryPop()!;
    p.unschedulablePlugins = new Set(['NodeResourcesFit']);
    q.addUnschedulableIfNotPresent(p, q.schedulingCycleNumber);
    return p;
  };
  const a = park('a');
  const b = park('b');
  q.moveAllOnEvent({ resource: 'Node', action: 'Add' });
  assert.equal(q.where(b.pi.uid), 'backoff');
  const gated = mkPod('g', { spec: { schedulingGates: [{ name: 'x' }] } });
  q.add(gated);
  q.add(mkPod('c'));
  const cq = q.tryPop()!;
  assert.equal(q.activate([a.pi.uid, b.pi.uid, gated.metadata!.uid!, cq.pi.uid]), 2);
  assert.equal(q.where(a.pi.uid), 'active');
  assert.equal(q.where(b.pi.uid), 'active');
  assert.equal(q.where(gated.metadata!.uid!), 'unschedulable', 'scheduling gates still hold it (PreEnqueue ran again)');
  cq.unschedulablePlugins = new Set(['NodeResourcesFit']);
  q.addUnschedulableIfNotPresent(cq, q.schedulingCycleNumber);
  assert.equal(q.where(cq.pi.uid), 'active');
});

test('a pod gated by a PreEnqueue plugin comes back on an event that plugin registered for, and PreEnqueue runs again', () => {
  const c = new FakeClock();
  let holding = true;
  const q = new SchedulingQueue({
    less: (a, b) => a.timestamp < b.timestamp,
    preEnqueue: () => (holding ? Status.unresolvable('waiting for the preemption for this pod to be finished').withPlugin('DefaultPreemption') : null),
    eventsByPlugin: new Map([['DefaultPreemption', [{ resource: 'AssignedPod', actions: ['Delete'] }]]] as any),
    clock: c,
  });
  const p = mkPod('p');
  q.add(p);
  assert.equal(q.where(p.metadata!.uid!), 'unschedulable');
  q.moveAllOnEvent({ resource: 'AssignedPod', action: 'Delete' });
  assert.equal(q.where(p.metadata!.uid!), 'unschedulable', 'still held');
  q.moveAllOnEvent({ resource: 'Node', action: 'Add' });
  holding = false;
  assert.equal(q.where(p.metadata!.uid!), 'unschedulable', 'an event the gating plugin did not register for');
  q.moveAllOnEvent({ resource: 'AssignedPod', action: 'Delete' });
  assert.equal(q.where(p.metadata!.uid!), 'active');
});

test('with activeQ empty, a backing-off pod is popped early; one that failed with an error is not', () => {
  const c = new FakeClock();
  const q = mkQueue(c);
  q.add(mkPod('rejected'));
  q.add(mkPod('errored'));
  const a = q.tryPop()!;
  const b = q.tryPop()!;
  const cycle = q.schedulingCycleNumber;
  q.moveAllOnEvent({ resource: 'Node', action: 'Add' });
  a.unschedulablePlugins = new Set(['NodeResourcesFit']);
  b.unschedulablePlugins = new Set();
  q.addUnschedulableIfNotPresent(a, cycle);
  q.addUnschedulableIfNotPresent(b, cycle);
  assert.equal(q.where(a.pi.uid), 'backoff');
  assert.equal(q.where(b.pi.uid), 'backoff');
  q.add(mkPod('new'));
  assert.equal(q.tryPop()?.pi.pod.metadata!.name, 'new', 'activeQ first');
  assert.equal(q.tryPop()?.pi.pod.metadata!.name, 'rejected', 'then backoffQ, before its backoff ends');
  assert.equal(q.tryPop(), undefined, 'the errored pod waits out its backoff');
  c.step(1000);
  assert.equal(q.tryPop()?.pi.pod.metadata!.name, 'errored');
});

test('a pod gated by PreEnqueue on its way to backoffQ waits in unschedulablePods', () => {
  const c = new FakeClock();
  let hold = false;
  const q = new SchedulingQueue({
    less: (a, b) => a.timestamp < b.timestamp,
    preEnqueue: () => (hold ? Status.unresolvable('preempting').withPlugin('DefaultPreemption') : null),
    eventsByPlugin: new Map([['NodeResourcesFit', [{ resource: 'Node', actions: ['Add'] }]]] as any),
    clock: c,
  });
  q.add(mkPod('p'));
  const p = q.tryPop()!;
  const cycle = q.schedulingCycleNumber;
  q.moveAllOnEvent({ resource: 'Node', action: 'Add' });
  p.unschedulablePlugins = new Set(['NodeResourcesFit']);
  hold = true;
  q.addUnschedulableIfNotPresent(p, cycle);
  assert.equal(q.where(p.pi.uid), 'unschedulable');
  assert.equal(q.tryPop(), undefined);
  hold = false;
  assert.equal(q.activate([p.pi.uid]), 1);
  assert.equal(q.tryPop()?.pi.uid, p.pi.uid);
});
