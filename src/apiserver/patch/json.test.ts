import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch } from './json.js';
import { PatchError } from './strategic.js';

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

const pod = {
  metadata: { name: 'p', labels: { app: 'web' }, annotations: { 'example.com/owner': 'team~a' } },
  spec: {
    containers: [
      { name: 'a', image: 'nginx', env: [{ name: 'X', value: '1' }] },
      { name: 'b', image: 'busybox' },
    ],
  },
};

interface Case {
  name: string;
  original?: unknown;
  ops: unknown;
  /** Either the whole result, or a function of a copy of the original. */
  want?: unknown;
  edit?: (doc: typeof pod) => void;
  error?: string;
  status?: number;
}

const cases: Case[] = [
  {
    name: 'replace a field',
    ops: [{ op: 'replace', path: '/spec/containers/0/image', value: 'nginx:2' }],
    edit: (d) => (d.spec.containers[0]!.image = 'nginx:2'),
  },
  {
    name: 'add a label and an item at the end with -',
    ops: [
      { op: 'add', path: '/metadata/labels/tier', value: 'fe' },
      { op: 'add', path: '/spec/containers/-', value: { name: 'c', image: 'x' } },
    ],
    edit: (d) => {
      (d.metadata.labels as Record<string, string>).tier = 'fe';
      d.spec.containers.push({ name: 'c', image: 'x' });
    },
  },
  {
    name: 'add inserts before an index',
    ops: [{ op: 'add', path: '/spec/containers/1', value: { name: 'mid', image: 'm' } }],
    edit: (d) => d.spec.containers.splice(1, 0, { name: 'mid', image: 'm' }),
  },
  {
    name: 'negative indices count from the end (as upstream)',
    ops: [
      { op: 'replace', path: '/spec/containers/-1/image', value: 'last' },
      { op: 'add', path: '/spec/containers/-1', value: { name: 'end', image: 'e' } },
    ],
    edit: (d) => {
      d.spec.containers[1]!.image = 'last';
      d.spec.containers.push({ name: 'end', image: 'e' });
    },
  },
  {
    name: 'remove an item and a member',
    ops: [
      { op: 'remove', path: '/spec/containers/0/env' },
      { op: 'remove', path: '/spec/containers/1' },
    ],
    edit: (d) => {
      delete (d.spec.containers[0] as { env?: unknown }).env;
      d.spec.containers.splice(1, 1);
    },
  },
  {
    name: 'escaped keys (~1 and ~0)',
    ops: [
      { op: 'test', path: '/metadata/annotations/example.com~1owner', value: 'team~a' },
      { op: 'replace', path: '/metadata/annotations/example.com~1owner', value: 'b' },
      { op: 'add', path: '/metadata/annotations/a~0b', value: 'c' },
    ],
    edit: (d) => {
      d.metadata.annotations['example.com/owner'] = 'b';
      (d.metadata.annotations as Record<string, string>)['a~b'] = 'c';
    },
  },
  {
    name: 'move and copy',
    ops: [
      { op: 'copy', from: '/spec/containers/0/image', path: '/metadata/labels/image' },
      { op: 'move', from: '/metadata/labels/app', path: '/metadata/labels/name' },
    ],
    edit: (d) => {
      (d.metadata as Record<string, unknown>).labels = { image: 'nginx', name: 'web' };
    },
  },
  {
    name: 'replace of a missing member adds it (as upstream)',
    ops: [{ op: 'replace', path: '/spec/restartPolicy', value: 'Never' }],
    edit: (d) => ((d.spec as Record<string, unknown>).restartPolicy = 'Never'),
  },
  {
    name: 'test of null passes on a missing member (as upstream)',
    ops: [{ op: 'test', path: '/metadata/uid', value: null }],
    edit: () => {},
  },
  {
    name: 'a missing value means null',
    ops: [{ op: 'add', path: '/metadata/labels/app' }],
    edit: (d) => ((d.metadata.labels as Record<string, unknown>).app = null),
  },
  {
    name: 'replacing the root with an object',
    ops: [{ op: 'replace', path: '', value: { kind: 'Other' } }],
    want: { kind: 'Other' },
  },
  { name: 'a null patch changes nothing', ops: null, edit: () => {} },
  { name: 'an empty patch changes nothing', ops: [], edit: () => {} },
  {
    name: 'a failed test',
    ops: [{ op: 'test', path: '/metadata/name', value: 'q' }],
    error: 'testing value /metadata/name failed: test failed',
    status: 422,
  },
  {
    name: 'a failed test undoes nothing but rejects the whole patch',
    ops: [
      { op: 'replace', path: '/metadata/name', value: 'q' },
      { op: 'test', path: '/metadata/labels/app', value: 'db' },
    ],
    error: 'testing value /metadata/labels/app failed: test failed',
    status: 422,
  },
  {
    name: 'add under a missing parent',
    ops: [{ op: 'add', path: '/spec/nope/x', value: 1 }],
    error: 'add operation does not apply: doc is missing path: "/spec/nope/x": missing value',
    status: 422,
  },
  {
    name: 'remove of a missing member',
    ops: [{ op: 'remove', path: '/metadata/uid' }],
    error: "error in remove for path: '/metadata/uid': Unable to remove nonexistent key: uid: missing value",
    status: 422,
  },
  {
    name: 'replace past the end of a list',
    ops: [{ op: 'replace', path: '/spec/containers/5', value: {} }],
    error: 'replace operation does not apply: doc is missing key: /spec/containers/5: missing value',
    status: 422,
  },
  {
    name: 'add past the end of a list',
    ops: [{ op: 'add', path: '/spec/containers/3', value: {} }],
    error: "error in add for path: '/spec/containers/3': Unable to access invalid index: 3: invalid index referenced",
    status: 422,
  },
  {
    name: 'a list index that is not a number',
    ops: [{ op: 'add', path: '/spec/containers/x', value: {} }],
    error: `error in add for path: '/spec/containers/x': value was not a proper array index: 'x': strconv.Atoi: parsing "x": invalid syntax`,
    status: 422,
  },
  {
    name: 'an unknown op',
    ops: [{ op: 'frob', path: '/a' }],
    error: 'Unexpected kind: frob',
    status: 422,
  },
  {
    name: 'an op without a path',
    ops: [{ op: 'add', value: 1 }],
    error: 'add operation failed to decode path: missing value',
    status: 422,
  },
  {
    name: 'move from a missing member',
    ops: [{ op: 'move', from: '/metadata/nope', path: '/metadata/x' }],
    error: "error in move for path: 'nope': Unable to remove nonexistent key: nope: missing value",
    status: 422,
  },
  {
    name: 'a patch that is not a list',
    ops: { op: 'add', path: '/a', value: 1 },
    error: 'json: cannot unmarshal object into Go value of type jsonpatch.Patch',
    status: 400,
  },
  {
    name: 'an operation that is not an object',
    ops: ['add'],
    error: 'json: cannot unmarshal string into Go value of type jsonpatch.Operation',
    status: 400,
  },
  {
    name: 'too many operations',
    ops: Array.from({ length: 10001 }, () => ({ op: 'test', path: '/metadata/name', value: 'p' })),
    error: 'The allowed maximum operations in a JSON patch is 10000, got 10001',
    status: 413,
  },
];

describe('JSON patch', () => {
  for (const c of cases) {
    it(c.name, () => {
      const original = deepFreeze(structuredClone(c.original ?? pod));
      const ops = deepFreeze(structuredClone(c.ops));
      if (c.error) {
        assert.throws(
          () => applyJsonPatch(original, ops),
          (e: unknown) => {
            assert.ok(e instanceof PatchError, String(e));
            assert.equal(e.message, c.error);
            assert.equal(e.status, c.status);
            return true;
          },
        );
        return;
      }
      let want = c.want;
      if (c.edit) {
        const doc = structuredClone(pod);
        c.edit(doc);
        want = doc;
      }
      assert.deepStrictEqual(applyJsonPatch(original, ops), want);
    });
  }

  it('added values are copies of the patch values', () => {
    const value = { name: 'c', image: 'x' };
    const out = applyJsonPatch(pod, [{ op: 'add', path: '/spec/containers/-', value }]) as typeof pod;
    out.spec.containers[2]!.image = 'changed';
    assert.equal(value.image, 'x');
    assert.equal(pod.spec.containers.length, 2);
  });
});
