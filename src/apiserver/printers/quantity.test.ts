import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatQuantity } from './quantity.js';

test('quantities print in canonical form', () => {
  const cases: Array<[unknown, string]> = [
    [undefined, '0'],
    ['0', '0'],
    ['0Gi', '0'],
    ['1', '1'],
    ['10', '10'],
    ['1500', '1500'],
    ['2000', '2k'],
    ['1000m', '1'],
    ['500m', '500m'],
    ['0.5', '500m'],
    ['1.5', '1500m'],
    ['100m', '100m'],
    ['1n', '1n'],
    ['0.1n', '1n'],
    ['1.5M', '1500k'],
    ['1G', '1G'],
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1.5Gi', '1536Mi'],
    ['1000Ki', '1000Ki'],
    ['0.5Ki', '512'],
    ['1Ki', '1Ki'],
    ['1e3', '1e3'],
    ['1.5e3', '1500'],
    ['12e6', '12e6'],
    ['-1', '-1'],
    [4, '4'],
    ['garbage', 'garbage'],
  ];
  for (const [q, want] of cases) assert.equal(formatQuantity(q), want, `quantity ${String(q)}`);
});
