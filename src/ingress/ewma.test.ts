import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ewma } from './ewma.js';

describe('ewma load balancing', () => {
  it('decays toward each response time over 10 s and prefers the faster of two', () => {
    let now = 0;
    const e = new Ewma(() => now, () => 0);
    e.observe('a', 1);
    assert.equal(e.score('a'), 0); // no time passed: the first sample has no weight yet
    now = 10_000;
    e.observe('a', 1);
    assert.ok(Math.abs(e.score('a') - (1 - Math.exp(-1))) < 1e-9);
    now = 20_000;
    assert.ok(Math.abs(e.score('a') - (1 - Math.exp(-1)) * Math.exp(-1)) < 1e-9, 'the score decays without samples');
    // A new endpoint starts at the average of the known ones' recorded averages (as ingress-nginx).
    assert.ok(Math.abs(e.score('b') - (1 - Math.exp(-1))) < 1e-9);
    e.observe('b', 5);
    now = 30_000;
    e.observe('b', 5);
    const eps = [{ key: 'a' }, { key: 'b' }];
    assert.equal(e.pick(eps)!.key, 'a');
    assert.equal(e.pick([{ key: 'b' }])!.key, 'b');
    assert.equal(e.pick([]), undefined);
  });

  it('draws two distinct candidates', () => {
    const draws = [0.99, 0.99];
    const e = new Ewma(() => 0, () => draws.shift() ?? 0);
    // i = 2, j = floor(0.99 * 2) = 1: c vs b, equal scores keep the first draw.
    assert.equal(e.pick([{ key: 'a' }, { key: 'b' }, { key: 'c' }])!.key, 'c');
  });
});
