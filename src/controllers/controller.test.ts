import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { computeHash, safeEncodeString, selectorMatches, Expectations, isPodAvailable, podFromTemplate, newControllerRef, isControlledBy } from './controller.js';
import type { Clock } from '../client/workqueue.js';

const fakeClock = (t = 0): Clock & { t: number } => ({ t, now() { return this.t; }, setTimeout: () => 0, clearTimeout: () => undefined });

describe('controller helpers', () => {
  it('hashes templates stably, safe-encoded, varying with the collision count', () => {
    const a = computeHash({ spec: { containers: [{ name: 'c', image: 'x' }] }, metadata: { labels: { app: 'a' } } });
    const b = computeHash({ metadata: { labels: { app: 'a' } }, spec: { containers: [{ image: 'x', name: 'c' }] } });
    assert.equal(a, b);
    assert.match(a, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.notEqual(computeHash({ a: 1 }, 1), computeHash({ a: 1 }));
    assert.equal(safeEncodeString('0123456789'), '456789bcdf');
  });

  it('matches label selectors with metav1 semantics', () => {
    assert.equal(selectorMatches({}, { a: 'b' }), true);
    assert.equal(selectorMatches(undefined, { a: 'b' }), false);
    assert.equal(selectorMatches({ matchLabels: { a: 'b' } }, { a: 'b', c: 'd' }), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'In', values: ['x', 'b'] }] }, { a: 'b' }), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['b'] }] }, { a: 'b' }), false);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, {}), true);
  });

  it('expectations hold a key until creates and deletes are observed or expire', () => {
    const clock = fakeClock();
    const e = new Expectations(clock, 1000);
    e.expectCreations('ns/rs', 2);
    assert.equal(e.satisfied('ns/rs'), false);
    e.creationObserved('ns/rs');
    e.creationObserved('ns/rs');
    assert.equal(e.satisfied('ns/rs'), true);
    e.expectDeletions('ns/rs', ['ns/p1']);
    e.deletionObserved('ns/rs', 'ns/p2');
    assert.equal(e.satisfied('ns/rs'), false);
    clock.t = 2000;
    assert.equal(e.satisfied('ns/rs'), true, 'expired');
  });

  it('builds pods from templates with a controller reference', () => {
    const owner = { metadata: { name: 'web-abc', namespace: 'ns', uid: 'u1' } };
    const ref = newControllerRef(owner, { apiVersion: 'apps/v1', kind: 'ReplicaSet' });
    const p = podFromTemplate({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } }, owner, ref);
    assert.equal(p.metadata.generateName, 'web-abc-');
    assert.deepEqual(p.metadata.labels, { app: 'web' });
    assert.equal(isControlledBy(p, owner), true);
    assert.equal(p.metadata.ownerReferences[0].blockOwnerDeletion, true);
  });

  it('counts a pod available only after minReadySeconds of readiness', () => {
    const p = { status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] } };
    const t = Date.parse('2024-01-01T00:00:00Z');
    assert.equal(isPodAvailable(p, 0, t), true);
    assert.equal(isPodAvailable(p, 10, t + 5000), false);
    assert.equal(isPodAvailable(p, 10, t + 10_000), true);
  });
});
