import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deepCopy } from './clone.js';

test('deepCopy copies JSON values deeply and keeps undefined members', () => {
  const v = { a: [1, { b: 'x' }, null], c: { d: true, e: undefined }, f: 0 };
  const c = deepCopy(v);
  assert.deepStrictEqual(c, v);
  assert.notEqual(c.a, v.a);
  assert.notEqual(c.a[1], v.a[1]);
  assert.ok('e' in c.c);
  (c.a[1] as any).b = 'y';
  assert.equal((v.a[1] as any).b, 'x');
});

test('deepCopy keeps a "__proto__" member as data', () => {
  const v = JSON.parse('{"__proto__":{"polluted":1},"x":1}');
  const c = deepCopy(v);
  assert.equal(Object.getPrototypeOf(c), Object.prototype);
  assert.deepStrictEqual(Object.keys(c), ['__proto__', 'x']);
  assert.equal(JSON.stringify(c), JSON.stringify(v));
});
