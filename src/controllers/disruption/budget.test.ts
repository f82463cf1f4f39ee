import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { computeBudget, disruptionAllowedCondition } from './budget.js';

const pod = (name: string, ready = true, extra: any = {}) => ({ metadata: { name, ...extra }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
const pdb = (spec: any, status: any = {}) => ({ metadata: { generation: 2 }, spec, status });

describe('disruption budget arithmetic', () => {
  it('minAvailable as a number counts the selected pods', () => {
    const r = computeBudget({ pdb: pdb({ minAvailable: 2 }), pods: [pod('a'), pod('b'), pod('c', false)], now: 0 });
    assert.deepEqual(r.status, { observedGeneration: 2, disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 3 });
    assert.equal(computeBudget({ pdb: pdb({ minAvailable: 1 }), pods: [pod('a'), pod('b')], now: 0 }).status.disruptionsAllowed, 1);
  });

  it('maxUnavailable and percentages use the controllers’ scale, rounding up', () => {
    assert.deepEqual(computeBudget({ pdb: pdb({ maxUnavailable: 1 }), pods: [pod('a'), pod('b'), pod('c')], expectedFromControllers: 3, now: 0 }).status.disruptionsAllowed, 1);
    const r = computeBudget({ pdb: pdb({ minAvailable: '50%' }), pods: [pod('a'), pod('b'), pod('c')], expectedFromControllers: 3, now: 0 });
    assert.equal(r.status.desiredHealthy, 2);
    assert.equal(r.status.disruptionsAllowed, 1);
    const bad = computeBudget({ pdb: pdb({ maxUnavailable: '10%' }), pods: [pod('a')], now: 0 });
    assert.equal(bad.status.disruptionsAllowed, 0);
    assert.ok(bad.error);
  });

  it('disrupted pods are not healthy until deleted; entries expire', () => {
    const t = Date.parse('2024-01-01T00:00:00Z');
    const b = pdb({ minAvailable: 1 }, { disruptedPods: { a: '2024-01-01T00:00:00Z', gone: '2024-01-01T00:00:00Z' } });
    let r = computeBudget({ pdb: b, pods: [pod('a'), pod('b')], now: t + 1000 });
    assert.deepEqual(r.status.disruptedPods, { a: '2024-01-01T00:00:00Z' });
    assert.equal(r.status.currentHealthy, 1);
    assert.equal(r.status.disruptionsAllowed, 0);
    assert.equal(r.recheckAt, t + 120_000);
    r = computeBudget({ pdb: b, pods: [pod('a'), pod('b')], now: t + 120_000 });
    assert.equal(r.status.disruptedPods, undefined);
    assert.equal(r.status.disruptionsAllowed, 1);
    r = computeBudget({ pdb: b, pods: [pod('a', true, { deletionTimestamp: 'x' }), pod('b')], now: t + 1000 });
    assert.equal(r.status.disruptedPods, undefined);
    assert.equal(r.status.currentHealthy, 1);
  });

  it('condition', () => {
    assert.deepEqual(disruptionAllowedCondition({ disruptionsAllowed: 1, observedGeneration: 2 }, [], 'T'), { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 2, lastTransitionTime: 'T' });
    const old = [{ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', lastTransitionTime: 'OLD' }];
    assert.equal(disruptionAllowedCondition({ disruptionsAllowed: 0 }, old, 'T').lastTransitionTime, 'OLD');
  });
});
