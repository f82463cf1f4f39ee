import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildStatus, goLabelSelector, sameStatus, setCondition } from './status.js';
import { formatMilli, milliValue } from './quantity.js';

const T = Date.parse('2026-01-01T00:00:00Z');

test('setCondition: appended in order, transition time moves only on a status flip', () => {
  const s: any = {};
  setCondition(s, 'AbleToScale', 'True', 'SucceededGetScale', 'a', T);
  setCondition(s, 'ScalingActive', 'False', 'FailedGetResourceMetric', 'b', T);
  setCondition(s, 'AbleToScale', 'True', 'ReadyForNewScale', 'c', T + 5000);
  assert.deepEqual(s.conditions, [
    { type: 'AbleToScale', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'ReadyForNewScale', message: 'c' },
    { type: 'ScalingActive', status: 'False', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'FailedGetResourceMetric', message: 'b' },
  ]);
  setCondition(s, 'ScalingActive', 'True', 'ValidMetricFound', 'd', T + 7000);
  assert.equal(s.conditions[1].lastTransitionTime, '2026-01-01T00:00:07Z');
});

test('buildStatus: rebuilt as upstream setStatus; lastScaleTime only on rescale', () => {
  const prev = { observedGeneration: 3, lastScaleTime: '2025-12-31T00:00:00Z', conditions: [{ type: 'AbleToScale', status: 'True' }] };
  assert.deepEqual(buildStatus(prev, 2, 2, [], false, T), { lastScaleTime: '2025-12-31T00:00:00Z', currentReplicas: 2, desiredReplicas: 2, conditions: prev.conditions });
  assert.deepEqual(buildStatus({}, 0, 3, [{ type: 'Resource' }], true, T), { lastScaleTime: '2026-01-01T00:00:00Z', desiredReplicas: 3, currentMetrics: [{ type: 'Resource' }] });
  assert.ok(sameStatus({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }));
  assert.ok(!sameStatus({ a: [1, 2] }, { a: [2, 1] }));
});

test('quantities: MilliValue rounds up; DecimalSI milli formatting', () => {
  assert.equal(milliValue('50m'), 50);
  assert.equal(milliValue('0.1'), 100);
  assert.equal(milliValue('1'), 1000);
  assert.equal(milliValue('1500000n'), 2);
  assert.equal(milliValue('1Ki'), 1_024_000);
  assert.equal(milliValue(undefined), 0);
  assert.ok(Number.isNaN(milliValue('abc')));
  assert.equal(formatMilli(95), '95m');
  assert.equal(formatMilli(2000), '2');
  assert.equal(formatMilli(5_000_000_000), '5M');
  assert.equal(formatMilli(1_048_576_000), '1048576');
  assert.equal(formatMilli(0), '0');
});

test("goLabelSelector: Go's %+v of a *metav1.LabelSelector", () => {
  assert.equal(goLabelSelector(undefined), 'nil');
  assert.equal(goLabelSelector({ matchLabels: { b: '2', a: '1' } }), '&LabelSelector{MatchLabels:map[string]string{a: 1,b: 2,},MatchExpressions:[]LabelSelectorRequirement{},}');
});
