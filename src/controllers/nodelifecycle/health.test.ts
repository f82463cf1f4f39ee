import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { observeHealth, staleConditions, desiredTaints, reconcileTaints, evictionTime } from './health.js';

const node = (ready?: string, extra: any = {}) => ({
  metadata: { name: 'n', creationTimestamp: '2024-01-01T00:00:00Z' },
  spec: extra.spec ?? {},
  status: { conditions: ready ? [{ type: 'Ready', status: ready, lastHeartbeatTime: extra.hb ?? 'h1' }, ...(extra.conds ?? [])] : [] },
});
const lease = (renew: string) => ({ spec: { renewTime: renew } });

describe('node health', () => {
  it('a Lease renewal or heartbeat is a sign of life; silence for the grace period makes the node Unknown', () => {
    let rec = observeHealth(undefined, node('True'), lease('r1'), 1000);
    assert.equal(rec.probeTimestamp, 1000);
    rec = observeHealth(rec, node('True'), lease('r2'), 5000);
    assert.equal(rec.probeTimestamp, 5000);
    rec = observeHealth(rec, node('True'), lease('r2'), 9000);
    assert.equal(rec.probeTimestamp, 5000);
    assert.equal(staleConditions(node('True'), rec, 45_000, 40_000, 60_000, 'T'), undefined);
    const conds = staleConditions(node('True'), rec, 45_001, 40_000, 60_000, 'T')!;
    const ready = conds.find((c) => c.type === 'Ready');
    assert.deepEqual([ready.status, ready.reason, ready.message, ready.lastHeartbeatTime], ['Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.', 'h1']);
    assert.equal(conds.find((c) => c.type === 'MemoryPressure').reason, 'NodeStatusNeverUpdated');
    // Already Unknown everywhere: nothing more to write.
    assert.equal(staleConditions({ ...node('True'), status: { conditions: conds } }, rec, 99_000, 40_000, 60_000, 'T'), undefined);
    // A node that never posted status gets the startup grace period.
    assert.equal(staleConditions(node(), { probeTimestamp: 0 }, 50_000, 40_000, 60_000, 'T'), undefined);
    assert.ok(staleConditions(node(), { probeTimestamp: 0 }, 60_001, 40_000, 60_000, 'T'));
  });

  it('conditions map to taints; only managed taints are touched', () => {
    assert.deepEqual(desiredTaints(node('True')), []);
    assert.deepEqual(desiredTaints(node('False')).map((t) => `${t.key}:${t.effect}`), ['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']);
    assert.deepEqual(desiredTaints(node('Unknown', { spec: { unschedulable: true }, conds: [{ type: 'DiskPressure', status: 'True' }] })).map((t) => `${t.key}:${t.effect}`), [
      'node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/disk-pressure:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
    const mine = { key: 'dedicated', value: 'x', effect: 'NoSchedule' };
    const next = reconcileTaints([mine], desiredTaints(node('Unknown')), 'T')!;
    assert.deepEqual(next, [mine, { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: 'T' }]);
    assert.equal(reconcileTaints(next, desiredTaints(node('Unknown')), 'T2'), undefined);
    assert.deepEqual(reconcileTaints(next, desiredTaints(node('True')), 'T3'), [mine]);
  });

  it('eviction time from tolerations', () => {
    const taints = [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-01-01T00:00:00Z' }];
    const t0 = Date.parse('2024-01-01T00:00:00Z');
    assert.equal(evictionTime([], [], 5), undefined);
    assert.equal(evictionTime(taints, [], 5), 5);
    assert.equal(evictionTime(taints, [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }], 5), t0 + 300_000);
    assert.equal(evictionTime(taints, [{ operator: 'Exists' }], 5), 'never');
    assert.equal(evictionTime([{ key: 'x', effect: 'NoSchedule' }], [], 5), undefined);
  });
});
