import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalQuantity, compareQuantity, parseQuantity, parseQuantityExact, quantityError, QUANTITY_FORMAT_ERROR, QUANTITY_SUFFIX_ERROR } from './quantity.js';

test('parseQuantity returns numbers or undefined', () => {
  const cases: [unknown, number | undefined][] = [
    ['1', 1], ['500m', 0.5], ['1.5', 1.5], ['1k', 1000], ['1Ki', 1024], ['1Gi', 1073741824], ['1e3', 1000], ['2E', 2e18],
    [0.25, 0.25], [3, 3], ['-1', -1], ['abc', undefined], ['1.2.3', undefined], ['1Xi', undefined], ['', undefined], ['1e', undefined],
  ];
  for (const [input, want] of cases) assert.equal(parseQuantity(input), want, String(input));
});

test('quantity errors carry the decoder text', () => {
  assert.equal(quantityError('abc'), QUANTITY_FORMAT_ERROR);
  assert.equal(quantityError('1Qi'), QUANTITY_FORMAT_ERROR);
  assert.equal(quantityError('5i'), QUANTITY_SUFFIX_ERROR);
  assert.equal(quantityError('100Mi'), undefined);
});

test('canonical forms match resource.Quantity.String()', () => {
  const cases: [unknown, string][] = [
    ['0.5', '500m'], ['1000m', '1'], ['1500m', '1500m'], ['1000', '1k'], ['1500', '1500'], ['1024Mi', '1Gi'], ['1536Mi', '1536Mi'],
    ['1.5Gi', '1536Mi'], ['0.5Ki', '512'], ['0.1Ki', '102400m'], ['1e3', '1e3'], ['1e4', '10e3'], ['100M', '100M'], ['0', '0'],
    ['0.0000000001', '1n'], [2, '2'], ['12e6', '12e6'], ['12000k', '12M'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalQuantity(input), want, String(input));
});

test('quantities compare exactly', () => {
  const q = (s: string) => {
    const r = parseQuantityExact(s);
    assert.ok(typeof r !== 'string');
    return r;
  };
  assert.equal(compareQuantity(q('1'), q('1000m')), 0);
  assert.equal(compareQuantity(q('1Gi'), q('1G')), 1);
  assert.equal(compareQuantity(q('100m'), q('0.2')), -1);
});

test('parse results are shared between calls and cannot be changed; a repeated text gives the same answer', () => {
  const a = parseQuantityExact('1536Mi');
  assert.equal(parseQuantityExact('1536Mi'), a);
  assert.ok(typeof a !== 'string' && Object.isFrozen(a));
  assert.throws(() => {
    (a as any).value = 1n;
  });
  assert.equal(canonicalQuantity('1536Mi'), '1536Mi');
  assert.equal(canonicalQuantity('1536Mi'), '1536Mi');
  assert.equal(canonicalQuantity(' 1.5Gi'), '1536Mi');
  assert.equal(parseQuantityExact('1x'), parseQuantityExact('1x'));
  assert.equal(parseQuantityExact(1.5), parseQuantityExact('1.5'));
});
