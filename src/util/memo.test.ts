import { it } from 'node:test';
import assert from 'node:assert/strict';
import { memoByText } from './memo.js';

it('memoByText computes each text once, undefined results included, and starts over past its limit', () => {
  const calls: string[] = [];
  const f = memoByText((t) => (calls.push(t), t === 'none' ? undefined : t.length), 2);
  assert.equal(f('ab'), 2);
  assert.equal(f('ab'), 2);
  assert.equal(f('none'), undefined);
  assert.equal(f('none'), undefined);
  assert.deepEqual(calls, ['ab', 'none']);
  f('xyz'); // a third text: the memory starts over
  f('ab');
  assert.deepEqual(calls, ['ab', 'none', 'xyz', 'ab']);
});
