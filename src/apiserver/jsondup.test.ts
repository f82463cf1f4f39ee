import { it } from 'node:test';
import assert from 'node:assert/strict';
import { findDuplicateKeys, internals } from './jsondup.js';

it('finds duplicate keys with upstream-style paths', () => {
  assert.deepEqual(findDuplicateKeys('{"a":1,"b":{"c":1,"c":2},"a":3}'), ['b.c', 'a']);
  assert.deepEqual(findDuplicateKeys('{"spec":{"containers":[{"name":"x"},{"name":"y","name":"z"}]}}'), ['spec.containers[1].name']);
  assert.deepEqual(findDuplicateKeys('{"a":"x\\"y","b":["{\\"a\\":1}"],"k\\u0041":1,"kA":2}'), ['kA']);
  assert.deepEqual(findDuplicateKeys('{"a":[1,2,{"a":1}],"b":"a"}'), []);
});

it('finds what the decoding scan finds, on random nested bodies with repeated keys', () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const names = ['a', 'b', 'name', 'spec', 'x', 'containers', 'k'.repeat(20)];
  const value = (depth: number): string => {
    const r = rand(depth > 3 ? 3 : 6);
    if (r === 0) return String(rand(100));
    if (r === 1) return JSON.stringify(names[rand(names.length)] + ':{,}[]');
    if (r === 2) return 'null';
    if (r === 3) return `[${Array.from({ length: rand(4) }, () => value(depth + 1)).join(',')}]`;
    const keys = Array.from({ length: rand(r === 5 ? 40 : 6) }, (_, i) => (r === 5 ? `k${rand(60)}` : names[rand(names.length)]) + (i % 7 === 6 ? '' : ''));
    return `{${keys.map((k) => `${JSON.stringify(k)} : ${value(depth + 1)}`).join(' ,')}}`;
  };
  let withDuplicates = 0;
  for (let i = 0; i < 1000; i++) {
    const text = value(0);
    const found = findDuplicateKeys(text);
    assert.deepEqual(found, internals.findDuplicateKeysDecoding(text), text);
    if (found.length) withDuplicates++;
  }
  assert.ok(withDuplicates > 20, `only ${withDuplicates} bodies had duplicates`);
});
