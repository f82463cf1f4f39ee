import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fenceposts, maxUnavailable, newRSNewReplicas, equalIgnoreHash, calculateStatus } from './util.js';
import { podsToDelete } from '../replicaset/ranking.js';

const dep = (replicas: number, ru?: any) => ({ metadata: { generation: 1 }, spec: { replicas, strategy: { type: 'RollingUpdate', rollingUpdate: ru } } });
const rs = (spec: number, available = spec) => ({ spec: { replicas: spec }, status: { replicas: spec, availableReplicas: available, readyReplicas: available } });

describe('deployment arithmetic', () => {
  it('resolves maxSurge up and maxUnavailable down, never both zero', () => {
    assert.deepEqual(fenceposts(dep(3)), [1, 0]);
    assert.deepEqual(fenceposts(dep(10)), [3, 2]);
    assert.deepEqual(fenceposts(dep(3, { maxSurge: 0, maxUnavailable: 0 })), [0, 1]);
    assert.equal(maxUnavailable(dep(2, { maxUnavailable: 5 })), 2);
  });

  it('scales the new ReplicaSet up within maxSurge', () => {
    const d = dep(3);
    assert.equal(newRSNewReplicas(d, [rs(3), rs(0)], rs(0)), 1);
    assert.equal(newRSNewReplicas(d, [rs(3), rs(1)], rs(1)), 1);
    assert.equal(newRSNewReplicas(d, [rs(2), rs(1)], rs(1)), 2);
  });

  it('compares templates ignoring the hash label and empty fields', () => {
    assert.ok(equalIgnoreHash({ metadata: { labels: { a: 'b', 'pod-template-hash': 'x' } }, spec: {} }, { metadata: { labels: { a: 'b' }, creationTimestamp: null } }));
    assert.ok(!equalIgnoreHash({ spec: { x: 1 } }, { spec: { x: 2 } }));
  });

  it('reports Available from maxUnavailable', () => {
    const s = calculateStatus([rs(3, 2)], undefined, dep(3), 't');
    assert.equal(s.conditions[0].reason, 'MinimumReplicasUnavailable');
    assert.equal(calculateStatus([rs(3, 3)], undefined, dep(3), 't').conditions[0].reason, 'MinimumReplicasAvailable');
  });

  it('deletes unscheduled, then pending, then not-ready, then newer pods first', () => {
    const pod = (name: string, o: any) => ({ metadata: { name, creationTimestamp: o.created ?? '2024-01-01T00:00:00Z' }, spec: { nodeName: o.node }, status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] } });
    const pods = [
      pod('old-ready', { node: 'n1' }),
      pod('new-ready', { node: 'n1', created: '2024-01-02T00:00:00Z' }),
      pod('not-ready', { node: 'n1', ready: false }),
      pod('pending', { node: 'n1', phase: 'Pending', ready: false }),
      pod('unscheduled', { phase: 'Pending', ready: false }),
    ];
    assert.deepEqual(podsToDelete(pods, pods, 4).map((p) => p.metadata.name), ['unscheduled', 'pending', 'not-ready', 'new-ready']);
  });
});
