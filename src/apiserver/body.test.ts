import { it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBody } from './body.js';
import { StatusError } from './status.js';

const json = (s: string) => decodeBody(Buffer.from(s), 'application/json') as any;
const yaml = (s: string) => decodeBody(Buffer.from(s), 'application/yaml') as any;

it('reads -0 as 0, so what is stored reads back equal to what was written', () => {
  const v = json('{"spec":{"replicas":-0,"list":[-0.0,-1e-400,1]}}');
  assert.ok(Object.is(v.spec.replicas, 0));
  assert.ok(Object.is(v.spec.list[0], 0) && Object.is(v.spec.list[1], 0));
  assert.ok(Object.is(yaml('spec: {replicas: -0}').spec.replicas, 0));
});

it('refuses numbers that cannot be represented, naming where, with a 400', () => {
  for (const [body, where] of [
    ['{"metadata":{"generation":1e999}}', 'metadata.generation'],
    ['{"spec":{"containers":[{"ports":[{"containerPort":-1e400}]}]}}', 'spec.containers[0].ports[0].containerPort'],
  ]) {
    assert.throws(
      () => json(body),
      (e: unknown) => e instanceof StatusError && e.code === 400 && e.message.includes(where),
    );
  }
  for (const body of ['spec: {x: .inf}', 'spec: {x: .nan}', 'x: [-.inf]']) assert.throws(() => yaml(body), (e: unknown) => e instanceof StatusError && e.code === 400);
  assert.deepEqual(json('{"a":[1,2.5,-3,0,"-0"]}'), { a: [1, 2.5, -3, 0, '-0'] });
});
