import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StorageMetrics, resourceLabel } from './storage.js';
import type { Backend } from '../../storage/backend.js';

describe('storage latency', () => {
  it('times reads and writes by operation and type, passing results and errors through', async () => {
    const calls: string[] = [];
    const inner = {
      name: 'fake',
      currentRevision: async () => 7,
      get: async (k: string) => (calls.push(`get ${k}`), { revision: 1 }),
      list: async () => ({ kvs: [], revision: 1, more: false }),
      count: async () => 3,
      create: async () => {
        throw new Error('boom');
      },
      update: async () => ({ ok: false }),
      delete: async () => ({ ok: false }),
      watch: () => ({ close() {} }),
      compact: async () => undefined,
      close: async () => undefined,
    } as unknown as Backend;
    const m = new StorageMetrics();
    const b = m.instrument(inner, (k) => (k.startsWith('/registry/pods') ? 'pods' : undefined));
    assert.equal(b.name, 'fake');
    assert.deepEqual(await b.get('/registry/pods/a/b'), { revision: 1 });
    assert.equal(await b.count('/registry/x/'), 3);
    await assert.rejects(b.create('/registry/pods/a/c', '{}'), /boom/);
    assert.deepEqual(calls, ['get /registry/pods/a/b']);
    const text = await m.registry.metrics();
    const counts = [...text.matchAll(/^etcd_request_duration_seconds_count\{operation="(\w+)",type="(\w+)"\} (\d+)$/gm)].map((x) => `${x[1]} ${x[2]} ${x[3]}`);
    assert.deepEqual(counts.sort(), ['count other 1', 'create pods 1', 'get pods 1']);
  });
  it('names resources as upstream', () => {
    assert.equal(resourceLabel('pods'), 'pods');
    assert.equal(resourceLabel('apps/deployments'), 'deployments.apps');
  });
});
