import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultedBehavior, newHistory, normalizeWithBehavior, normalizeWithoutBehavior, recordInitialRecommendation, scaleDownLimit, scaleUpLimit, storeScaleEvent, type Behavior } from './behavior.js';

const T0 = 1_000_000_000;
const WINDOW_MS = 300_000;
const lim = (n: { desiredReplicas: number; ableToScale: { reason: string }; scalingLimited: { status: string; reason: string } }) => [n.desiredReplicas, n.ableToScale.reason, n.scalingLimited.status, n.scalingLimited.reason];

test('without behavior: max(2×current, 4) limit, max and min clamps, their conditions', () => {
  const fresh = (current: number) => {
    const h = newHistory();
    recordInitialRecommendation(h, current, T0);
    return h;
  };
  assert.deepEqual(lim(normalizeWithoutBehavior(fresh(1), 1, 40, 1, 3, WINDOW_MS, T0)), [3, 'ReadyForNewScale', 'True', 'TooManyReplicas']);
  assert.deepEqual(lim(normalizeWithoutBehavior(fresh(2), 2, 10, 1, 20, WINDOW_MS, T0)), [4, 'ReadyForNewScale', 'True', 'ScaleUpLimit']);
  assert.deepEqual(lim(normalizeWithoutBehavior(fresh(8), 8, 10, 1, 20, WINDOW_MS, T0)), [10, 'ReadyForNewScale', 'False', 'DesiredWithinRange']);
  assert.deepEqual(lim(normalizeWithoutBehavior(fresh(0), 0, 0, 2, 20, WINDOW_MS, T0)), [2, 'ReadyForNewScale', 'True', 'TooFewReplicas']);
});

test('without behavior: a scale down waits out the downscale stabilization window', () => {
  const h = newHistory();
  recordInitialRecommendation(h, 3, T0);
  const n1 = normalizeWithoutBehavior(h, 3, 1, 1, 5, WINDOW_MS, T0 + 10_000);
  assert.deepEqual(lim(n1), [3, 'ScaleDownStabilized', 'False', 'DesiredWithinRange']);
  assert.match(n1.ableToScale.message, /^recent recommendations were higher than current one, applying the highest recent recommendation$/);
  // The 3 recorded at T0 ages out; the 1 recorded at T0+10s is still inside.
  assert.deepEqual(lim(normalizeWithoutBehavior(h, 3, 1, 1, 5, WINDOW_MS, T0 + WINDOW_MS + 1)), [1, 'ReadyForNewScale', 'False', 'DesiredWithinRange']);
  assert.ok(h.recommendations.length <= 2, 'an old slot is reused');
});

test('defaulted behavior: upstream v2 defaults, controller window for scale down', () => {
  assert.deepEqual(defaultedBehavior({}, 300), {
    scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
    scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
  });
  assert.equal(defaultedBehavior({ scaleDown: { stabilizationWindowSeconds: 0 } }, 300).scaleDown.stabilizationWindowSeconds, 0);
});

test('scale up limits: Max / Min / Disabled policy selection', () => {
  const h = newHistory();
  const rules = (selectPolicy: 'Max' | 'Min' | 'Disabled') => ({ ...defaultedBehavior({}, 300).scaleUp, selectPolicy });
  assert.equal(scaleUpLimit(1, h, rules('Max'), T0), 5); // max(1+4, 1×2)
  assert.equal(scaleUpLimit(1, h, rules('Min'), T0), 2);
  assert.equal(scaleUpLimit(1, h, rules('Disabled'), T0), 1);
  assert.equal(scaleUpLimit(10, h, rules('Max'), T0), 20);
  assert.equal(scaleUpLimit(3, h, { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] }, T0), 5, 'percent rounds up');
});

test('scale down limits: percent truncates, Min keeps the most pods', () => {
  const h = newHistory();
  const p = [
    { type: 'Pods' as const, value: 1, periodSeconds: 60 },
    { type: 'Percent' as const, value: 50, periodSeconds: 60 },
  ];
  assert.equal(scaleDownLimit(5, h, { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: p }, T0), 2);
  assert.equal(scaleDownLimit(5, h, { stabilizationWindowSeconds: 0, selectPolicy: 'Min', policies: p }, T0), 4);
  assert.equal(scaleDownLimit(5, h, { stabilizationWindowSeconds: 0, selectPolicy: 'Disabled', policies: p }, T0), 5);
});

test('with behavior: rate limit counts the changes made within each policy period', () => {
  const behavior: Behavior = {};
  const h = newHistory();
  recordInitialRecommendation(h, 1, T0);
  const n1 = normalizeWithBehavior(h, behavior, 1, 10, 1, 100, 300, T0);
  assert.deepEqual(lim(n1), [5, 'ReadyForNewScale', 'True', 'ScaleUpLimit']);
  assert.equal(n1.scalingLimited.message, 'the desired replica count is increasing faster than the maximum scale rate');
  storeScaleEvent(h, behavior, 1, 5, 300, T0);
  // 5 s later the period still started at 1 replica: no more room.
  assert.deepEqual(lim(normalizeWithBehavior(h, behavior, 5, 20, 1, 100, 300, T0 + 5_000)), [5, 'ReadyForNewScale', 'True', 'ScaleUpLimit']);
  // After the 15 s period: 5 → max(5+4, 10).
  assert.deepEqual(lim(normalizeWithBehavior(h, behavior, 5, 20, 1, 100, 300, T0 + 16_000)), [10, 'ReadyForNewScale', 'True', 'ScaleUpLimit']);
  assert.deepEqual(lim(normalizeWithBehavior(h, behavior, 5, 8, 1, 100, 300, T0 + 16_000)), [8, 'ReadyForNewScale', 'False', 'DesiredWithinRange']);
  assert.deepEqual(lim(normalizeWithBehavior(newHistory(), behavior, 2, 8, 1, 3, 300, T0)), [3, 'ReadyForNewScale', 'True', 'TooManyReplicas']);
});

test('with behavior: scale-down stabilization window (default and 0) and policies', () => {
  const h = newHistory();
  recordInitialRecommendation(h, 3, T0);
  const stabilized = normalizeWithBehavior(h, {}, 3, 1, 1, 5, 300, T0 + 10_000);
  assert.deepEqual(lim(stabilized), [3, 'ScaleDownStabilized', 'False', 'DesiredWithinRange']);

  const h0 = newHistory();
  recordInitialRecommendation(h0, 3, T0);
  const now0: Behavior = { scaleDown: { stabilizationWindowSeconds: 0 } };
  assert.deepEqual(lim(normalizeWithBehavior(h0, now0, 3, 1, 1, 5, 300, T0 + 10_000)), [1, 'ReadyForNewScale', 'False', 'DesiredWithinRange']);
  assert.deepEqual(lim(normalizeWithBehavior(newHistory(), now0, 3, 0, 2, 5, 300, T0)), [2, 'ReadyForNewScale', 'True', 'TooFewReplicas']);

  const onePod: Behavior = { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } };
  const hp = newHistory();
  const n = normalizeWithBehavior(hp, onePod, 5, 1, 1, 10, 300, T0);
  assert.deepEqual(lim(n), [4, 'ReadyForNewScale', 'True', 'ScaleDownLimit']);
  assert.equal(n.scalingLimited.message, 'the desired replica count is decreasing faster than the maximum scale rate');
  storeScaleEvent(hp, onePod, 5, 4, 300, T0);
  assert.deepEqual(lim(normalizeWithBehavior(hp, onePod, 4, 1, 1, 10, 300, T0 + 30_000)), [4, 'ReadyForNewScale', 'True', 'ScaleDownLimit']);
  assert.deepEqual(lim(normalizeWithBehavior(hp, onePod, 4, 1, 1, 10, 300, T0 + 61_000)), [3, 'ReadyForNewScale', 'True', 'ScaleDownLimit']);
});

test('with behavior: scale-up stabilization keeps the lowest recent recommendation', () => {
  const b: Behavior = { scaleUp: { stabilizationWindowSeconds: 60 } };
  const h = newHistory();
  recordInitialRecommendation(h, 2, T0);
  const n = normalizeWithBehavior(h, b, 2, 5, 1, 10, 300, T0 + 30_000);
  assert.deepEqual(lim(n), [2, 'ScaleUpStabilized', 'False', 'DesiredWithinRange']);
  assert.equal(n.ableToScale.message, 'recent recommendations were lower than current one, applying the lowest recent recommendation');
  // Past the window only the recommendation of 5 remains.
  assert.deepEqual(lim(normalizeWithBehavior(h, b, 2, 5, 1, 10, 300, T0 + 61_000)), [5, 'ReadyForNewScale', 'False', 'DesiredWithinRange']);
});

test('storeScaleEvent: nothing without behavior; outdated slots are reused', () => {
  const h = newHistory();
  storeScaleEvent(h, undefined, 1, 3, 300, T0);
  assert.equal(h.scaleUpEvents.length, 0);
  storeScaleEvent(h, {}, 1, 3, 300, T0);
  storeScaleEvent(h, {}, 3, 5, 300, T0 + 20_000);
  assert.equal(h.scaleUpEvents.length, 1, 'the 15 s-old event was replaced');
  assert.deepEqual(h.scaleUpEvents[0], { replicaChange: 2, timestamp: T0 + 20_000, outdated: false });
  storeScaleEvent(h, {}, 5, 2, 300, T0 + 21_000);
  assert.deepEqual(h.scaleDownEvents, [{ replicaChange: 3, timestamp: T0 + 21_000, outdated: false }]);
});
