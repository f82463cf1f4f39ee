import { it } from 'node:test';
import assert from 'node:assert/strict';
import { findDuplicateKeys } from './jsondup.js';

it('finds duplicate keys with upstream-style paths', () => {
  assert.deepEqual(findDuplicateKeys('{"a":1,"b":{"c":1,"c":2},"a":3}'), ['b.c', 'a']);
  assert.deepEqual(findDuplicateKeys('{"spec":{"containers":[{"name":"x"},{"name":"y","name":"z"}]}}'), ['spec.containers[1].name']);
  assert.deepEqual(findDuplicateKeys('{"a":"x\\"y","b":["{\\"a\\":1}"],"k\\u0041":1,"kA":2}'), ['kA']);
  assert.deepEqual(findDuplicateKeys('{"a":[1,2,{"a":1}],"b":"a"}'), []);
});
