import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAge, humanDuration } from './duration.js';
import { NOW, ago } from './testutil.js';

test('formatAge follows duration.HumanDuration', () => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, '<unknown>'],
    ['', '<unknown>'],
    ['not a time', '<unknown>'],
    ['0001-01-01T00:00:00Z', '<unknown>'],
    [ago(0), '0s'],
    [ago(5), '5s'],
    [ago(119), '119s'],
    [ago(120), '2m'],
    [ago(182), '3m2s'],
    [ago(599), '9m59s'],
    [ago(600), '10m'],
    [ago(179 * 60 + 59), '179m'],
    [ago(3 * 3600), '3h'],
    [ago(5 * 3600 + 10 * 60 + 30), '5h10m'],
    [ago(8 * 3600), '8h'],
    [ago(47 * 3600 + 59 * 60), '47h'],
    [ago(48 * 3600), '2d'],
    [ago(50 * 3600), '2d2h'],
    [ago(8 * 86400), '8d'],
    [ago(400 * 86400), '400d'],
    [ago(730 * 86400), '2y'],
    [ago(800 * 86400), '2y70d'],
    [ago(3000 * 86400), '8y'],
    // Clock skew: up to 2s in the future is "now", beyond that it is invalid.
    [ago(-1), '0s'],
    [ago(-3), '<invalid>'],
  ];
  for (const [ts, want] of cases) assert.equal(formatAge(ts, NOW), want, `age of ${ts}`);
});

test('humanDuration truncates like Go integer conversions', () => {
  assert.equal(humanDuration(-1500), '0s');
  assert.equal(humanDuration(-2500), '<invalid>');
  assert.equal(humanDuration(1999), '1s');
  assert.equal(humanDuration(125_900), '2m5s');
});

test('formatAge accepts MicroTime precision', () => {
  assert.equal(formatAge('2024-06-01T11:59:30.123456Z', NOW), '29s');
});
