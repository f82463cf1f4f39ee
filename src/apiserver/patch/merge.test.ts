import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch } from './merge.js';
import { PatchError } from './strategic.js';

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

interface Case {
  name: string;
  original: unknown;
  patch: unknown;
  want?: unknown;
  error?: string;
  status?: number;
}

const cases: Case[] = [
  {
    name: 'kubectl scale: {"spec":{"replicas":N}}',
    original: { metadata: { name: 'web' }, spec: { replicas: 1, paused: false } },
    patch: { spec: { replicas: 3 } },
    want: { metadata: { name: 'web' }, spec: { replicas: 3, paused: false } },
  },
  {
    name: 'objects merge recursively; null deletes',
    original: { metadata: { labels: { a: '1', b: '2' }, annotations: { x: 'y' } } },
    patch: { metadata: { labels: { b: null, c: '3' }, annotations: null } },
    want: { metadata: { labels: { a: '1', c: '3' } } },
  },
  {
    name: 'arrays are replaced, not merged',
    original: { spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '2' }] } },
    patch: { spec: { containers: [{ name: 'a', image: '9' }] } },
    want: { spec: { containers: [{ name: 'a', image: '9' }] } },
  },
  {
    name: 'nulls are pruned from added values, inside arrays too; null array items stay',
    original: { spec: {} },
    patch: { spec: { tolerations: [{ key: 'a', value: null }, null], selector: { a: null, b: { c: null, d: 1 } } } },
    want: { spec: { tolerations: [{ key: 'a' }, null], selector: { b: { d: 1 } } } },
  },
  {
    name: 'a null member of the original counts as absent',
    original: { spec: { selector: null } },
    patch: { spec: { selector: { a: 1, b: null } } },
    want: { spec: { selector: { a: 1 } } },
  },
  {
    name: 'an object replacing a scalar has its nulls pruned',
    original: { spec: { strategy: 'Recreate' } },
    patch: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: null } } },
    want: { spec: { strategy: { type: 'RollingUpdate' } } },
  },
  {
    name: 'a non-object replacing an object is taken as is (upstream prunes nothing there)',
    original: { spec: { strategy: { type: 'Recreate' } } },
    patch: { spec: { strategy: [{ a: null }] } },
    want: { spec: { strategy: [{ a: null }] } },
  },
  {
    name: 'deleting a missing member is a no-op',
    original: { a: 1 },
    patch: { b: null },
    want: { a: 1 },
  },
  {
    name: 'an empty patch changes nothing',
    original: { a: { b: [1] } },
    patch: {},
    want: { a: { b: [1] } },
  },
  {
    name: 'a non-object original counts as {}',
    original: 'text',
    patch: { a: 1, b: null },
    want: { a: 1 },
  },
  {
    name: 'an array patch replaces the document',
    original: { a: 1 },
    patch: [{ x: null, y: 1 }],
    want: [{ y: 1 }],
  },
  { name: 'a null patch is rejected', original: { a: 1 }, patch: null, error: 'Invalid JSON Patch', status: 400 },
  { name: 'a scalar patch is rejected', original: { a: 1 }, patch: 5, error: 'Invalid JSON Patch', status: 400 },
];

describe('JSON merge patch', () => {
  for (const c of cases) {
    it(c.name, () => {
      const original = deepFreeze(structuredClone(c.original));
      const patch = deepFreeze(structuredClone(c.patch));
      if (c.error) {
        assert.throws(
          () => applyMergePatch(original, patch),
          (e: unknown) => e instanceof PatchError && e.message === c.error && e.status === c.status,
        );
        return;
      }
      assert.deepStrictEqual(applyMergePatch(original, patch), c.want);
    });
  }

  it('returns a fresh value that shares nothing with its inputs', () => {
    const original = { spec: { template: { metadata: { labels: { a: '1' } } } } };
    const patch = { spec: { added: { list: [1] } } };
    const out = applyMergePatch(original, patch) as { spec: { template: { metadata: { labels: Record<string, string> } }; added: { list: number[] } } };
    out.spec.template.metadata.labels.a = 'changed';
    out.spec.added.list.push(2);
    assert.equal(original.spec.template.metadata.labels.a, '1');
    assert.deepEqual(patch.spec.added.list, [1]);
  });
});
