import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpuQuantity, decimalQuantity, goDuration, memoryQuantity } from './quantity.js';

describe('metrics API quantities (apimachinery canonical form, as metrics-server writes them)', () => {
  it('CPU in nanocores', () => {
    assert.equal(cpuQuantity(0), '0');
    assert.equal(cpuQuantity(123456), '123456n');
    assert.equal(cpuQuantity(123000), '123u');
    assert.equal(cpuQuantity(1_000_000), '1m');
    assert.equal(cpuQuantity(1_500_000_000), '1500m');
    assert.equal(cpuQuantity(2_000_000_000), '2');
    assert.equal(cpuQuantity(1578431373), '1578431373n');
    assert.equal(cpuQuantity(10), '10n');
    assert.equal(decimalQuantity(5, 3), '5k');
  });
  it('memory as a binary quantity', () => {
    assert.equal(memoryQuantity(0), '0');
    assert.equal(memoryQuantity(1000), '1k');
    assert.equal(memoryQuantity(500), '500');
    assert.equal(memoryQuantity(1024), '1Ki');
    assert.equal(memoryQuantity(1470464), '1436Ki');
    assert.equal(memoryQuantity(12345), '12345');
    assert.equal(memoryQuantity(64 * 1024 * 1024), '64Mi');
    assert.equal(memoryQuantity(3 * 1024 ** 3), '3Gi');
  });
  it('windows as Go durations', () => {
    assert.equal(goDuration(15e9), '15s');
    assert.equal(goDuration(1.02e9), '1.02s');
    assert.equal(goDuration(20.049e9), '20.049s');
    assert.equal(goDuration(60.5e9), '1m0.5s');
    assert.equal(goDuration(3723e9), '1h2m3s');
    assert.equal(goDuration(500e6), '500ms');
    assert.equal(goDuration(0), '0s');
  });
});
