import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planStatefulSet, revisionForOrdinal, ordinalOf, type PodState } from './ordering.js';

const ok = (revision = 'r1'): PodState => ({ terminating: false, failed: false, healthy: true, revision });
const starting = (revision = 'r1'): PodState => ({ terminating: false, failed: false, healthy: false, revision });
const base = { updateStrategy: 'RollingUpdate' as const, partition: 0, updateRevision: 'r1' };
const pods = (...xs: [number, PodState][]) => new Map(xs);

describe('statefulset ordering', () => {
  it('OrderedReady creates one at a time, each after its predecessor is healthy', () => {
    assert.deepEqual(planStatefulSet({ ...base, replicas: 3, ordered: true, pods: pods() }), { create: [0], delete: [] });
    assert.deepEqual(planStatefulSet({ ...base, replicas: 3, ordered: true, pods: pods([0, starting()]) }), { create: [], delete: [] });
    assert.deepEqual(planStatefulSet({ ...base, replicas: 3, ordered: true, pods: pods([0, ok()]) }), { create: [1], delete: [] });
    assert.deepEqual(planStatefulSet({ ...base, replicas: 3, ordered: true, pods: pods([0, ok()], [2, ok()]) }), { create: [1], delete: [] });
  });

  it('Parallel creates and deletes all at once', () => {
    assert.deepEqual(planStatefulSet({ ...base, replicas: 3, ordered: false, pods: pods() }), { create: [0, 1, 2], delete: [] });
    assert.deepEqual(planStatefulSet({ ...base, replicas: 1, ordered: false, pods: pods([0, ok()], [1, starting()], [2, ok()]) }), { create: [], delete: [2, 1] });
  });

  it('OrderedReady scales down from the highest ordinal, one at a time', () => {
    assert.deepEqual(planStatefulSet({ ...base, replicas: 1, ordered: true, pods: pods([0, ok()], [1, ok()], [2, ok()]) }), { create: [], delete: [2] });
    assert.deepEqual(planStatefulSet({ ...base, replicas: 1, ordered: true, pods: pods([0, ok()], [1, ok()], [2, { ...ok(), terminating: true }]) }), { create: [], delete: [] });
    // While 0 is unhealthy nothing above it is removed.
    assert.deepEqual(planStatefulSet({ ...base, replicas: 1, ordered: true, pods: pods([0, starting()], [1, ok()]) }), { create: [], delete: [] });
  });

  it('replaces failed pods', () => {
    assert.deepEqual(planStatefulSet({ ...base, replicas: 2, ordered: true, pods: pods([0, { ...ok(), failed: true }], [1, ok()]) }), { create: [], delete: [0] });
  });

  it('rolls updates from the highest ordinal down to the partition, one healthy step at a time', () => {
    const all = (r0: string, r1: string, r2: string) => pods([0, ok(r0)], [1, ok(r1)], [2, ok(r2)]);
    const upd = { ...base, updateRevision: 'r2', replicas: 3, ordered: true };
    assert.deepEqual(planStatefulSet({ ...upd, pods: all('r1', 'r1', 'r1') }), { create: [], delete: [2] });
    assert.deepEqual(planStatefulSet({ ...upd, pods: all('r1', 'r1', 'r2') }), { create: [], delete: [1] });
    assert.deepEqual(planStatefulSet({ ...upd, pods: pods([0, ok('r1')], [1, ok('r1')], [2, starting('r2')]) }), { create: [], delete: [] });
    assert.deepEqual(planStatefulSet({ ...upd, partition: 2, pods: all('r1', 'r1', 'r2') }), { create: [], delete: [] });
    assert.deepEqual(planStatefulSet({ ...upd, updateStrategy: 'OnDelete', pods: all('r1', 'r1', 'r1') }), { create: [], delete: [] });
    // Parallel still updates one pod at a time.
    assert.deepEqual(planStatefulSet({ ...upd, ordered: false, pods: all('r1', 'r1', 'r1') }), { create: [], delete: [2] });
  });

  it('revision of new pods and ordinals', () => {
    assert.equal(revisionForOrdinal(0, 'RollingUpdate', 2, 'cur', 'upd'), 'cur');
    assert.equal(revisionForOrdinal(2, 'RollingUpdate', 2, 'cur', 'upd'), 'upd');
    assert.equal(revisionForOrdinal(0, 'OnDelete', 2, 'cur', 'upd'), 'upd');
    assert.equal(ordinalOf('web', 'web-12'), 12);
    assert.equal(ordinalOf('web', 'web-x'), undefined);
    assert.equal(ordinalOf('web', 'web-01'), undefined);
    assert.equal(ordinalOf('web', 'webby-1'), undefined);
  });
});
