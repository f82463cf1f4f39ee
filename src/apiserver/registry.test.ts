import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { SqliteBackend } from '../storage/sqlite.js';
import { WatchCache } from './watchcache.js';
import { RESOURCES, findResource } from './resources.js';

// The in-place check is on in the suite (npm test sets it); this file turns it on for itself too.
process.env.SKIFF_VERIFY_CACHE_HINTS = '1';
const { Registry, sharedMutationErrors, patchStatus } = await import('./registry.js');
import { PatchError } from './patch/strategic.js';
import { forbidden } from './admission/util.js';
import type { AdmissionPlugin } from './admission/types.js';

const PODS = findResource('', 'v1', 'pods')!;
const NAMESPACES = findResource('', 'v1', 'namespaces')!;

describe('Registry.mutateShared, and writes that share parts with the stored object', () => {
  let backend: SqliteBackend;
  let cache: WatchCache;
  let reg: InstanceType<typeof Registry>;
  const cached = (name: string) => cache.get(reg.keyFor(PODS, 'default', name))!;

  before(async () => {
    backend = SqliteBackend.open(':memory:');
    cache = new WatchCache(backend, [...new Set(RESOURCES.map((r) => r.storageKey))]);
    await cache.start();
    reg = new Registry(backend, cache, []);
    await reg.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }, {});
    for (const name of ['a', 'b', 'c']) {
      await reg.create(PODS, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1'] }] } }, { forResponse: true });
    }
  });
  after(async () => {
    cache.stop();
    await backend.close();
  });

  it('stores the new object and shares what it did not change with the one before', async () => {
    await cache.sync();
    const before = cached('a');
    const raw = before.raw;
    await reg.mutateShared(PODS, 'default', 'a', (pod) => ({ ...pod, spec: { ...pod.spec, nodeName: 'n1' } }), { forResponse: true });
    await cache.sync();
    const after = cached('a');
    assert.equal(after.obj.spec.nodeName, 'n1');
    assert.ok(after.rv > before.rv);
    assert.equal(after.obj.metadata.resourceVersion, String(after.rv));
    // Not copied: the containers are the very objects the earlier version holds.
    assert.equal(after.obj.spec.containers, before.obj.spec.containers);
    // The earlier version is as it was (watchers may still be sending it).
    assert.equal(before.raw, raw);
    assert.deepEqual(JSON.parse(before.raw), before.obj);
    assert.deepEqual(JSON.parse(after.raw), after.obj);
    await tick();
    assert.equal(sharedMutationErrors(), 0);
  });

  it('stores what the mutation returns as it is: no defaulting reaches into the parts it shares (upstream binding writes to storage directly)', async () => {
    // A stored pod that is not fully defaulted (older data, a webhook's addition): limits without requests.
    const key = reg.keyFor(PODS, 'default', 'raw');
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'raw', namespace: 'default', uid: 'u-raw', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { limits: { cpu: '1' } } }] }, status: { phase: 'Pending' } };
    await backend.create(key, JSON.stringify(pod));
    await cache.sync();
    await reg.mutateShared(PODS, 'default', 'raw', (p) => ({ ...p, spec: { ...p.spec, nodeName: 'n1' } }), { forResponse: true });
    await cache.sync();
    assert.deepEqual(cached('raw').obj.spec.containers[0].resources, { limits: { cpu: '1' } });
    await tick();
    assert.equal(sharedMutationErrors(), 0);
  });

  it('refuses to be handed back the cached object itself', async () => {
    await assert.rejects(reg.mutateShared(PODS, 'default', 'b', (pod) => pod), /return a new object/);
    await tick();
  });

  it('reports a change made in place to the cached object (a caller bug)', async () => {
    const errors = sharedMutationErrors();
    const log = console.error;
    console.error = () => undefined;
    try {
      await reg.mutateShared(PODS, 'default', 'c', (pod) => {
        pod.metadata.labels.app = 'changed';
        return { ...pod };
      });
      await tick();
      await tick();
    } finally {
      console.error = log;
    }
    assert.equal(sharedMutationErrors(), errors + 1);
  });
});

describe('Registry update and list details, as upstream', () => {
  let backend: SqliteBackend;
  let cache: WatchCache;
  let reg: InstanceType<typeof Registry>;
  const CONFIGMAPS = findResource('', 'v1', 'configmaps')!;

  before(async () => {
    backend = SqliteBackend.open(':memory:');
    cache = new WatchCache(backend, [...new Set(RESOURCES.map((r) => r.storageKey))]);
    await cache.start();
    reg = new Registry(backend, cache, []);
    await reg.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }, {});
    for (const name of ['a', 'b', 'c', 'd']) await reg.create(CONFIGMAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { n: name } } }, {});
  });
  after(async () => {
    cache.stop();
    await backend.close();
  });

  it('a uid in an update is a precondition (409 when it is not the object\'s)', async () => {
    const cur = (await reg.get(CONFIGMAPS, 'default', 'a')).obj;
    await assert.rejects(reg.update(CONFIGMAPS, 'default', 'a', { ...cur, metadata: { ...cur.metadata, uid: 'wrong' }, data: { x: '1' } }, {}), (e: any) => {
      assert.equal(e.code, 409);
      assert.equal(e.message, `Operation cannot be fulfilled on configmaps "a": StorageError: invalid object, Code: 4, Key: /registry/configmaps/default/a, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: wrong, UID in object meta: ${cur.metadata.uid}`);
      return true;
    });
    const updated = await reg.update(CONFIGMAPS, 'default', 'a', { ...cur, data: { x: '1' } }, {});
    assert.deepEqual(updated.data, { x: '1' });
    // Against an absent object the precondition fails too (409, not 404), as upstream.
    await assert.rejects(reg.update(CONFIGMAPS, 'default', 'gone', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gone', uid: 'u1' } }, {}), (e: any) => {
      assert.equal(e.code, 409);
      assert.match(e.message, /Precondition failed: UID in precondition: u1, UID in object meta: $/);
      return true;
    });
  });

  it('a page of a list without selectors says how many items follow (remainingItemCount)', async () => {
    const first = await reg.list(CONFIGMAPS, 'default', { limit: 1 });
    assert.deepEqual([first.items.length, first.remainingItemCount], [1, 3]);
    const all = await reg.list(CONFIGMAPS, 'default', { limit: 10 });
    assert.equal(all.remainingItemCount, undefined);
    // With a selector the count would be a guess: upstream leaves it out.
    const selected = await reg.list(CONFIGMAPS, 'default', { limit: 1, labelSelector: 'n' });
    assert.ok(selected.continue);
    assert.equal(selected.remainingItemCount, undefined);
  });
});

describe('Registry refusals, worded as upstream', () => {
  const CONFIGMAPS = findResource('', 'v1', 'configmaps')!;

  it('an admission refusal of an object with generateName names the prefix (the name is generated after admission upstream)', async () => {
    const backend = SqliteBackend.open(':memory:');
    const cache = new WatchCache(backend, [...new Set(RESOURCES.map((r) => r.storageKey))]);
    await cache.start();
    const refuse: AdmissionPlugin = { name: 'Refuse', handles: (req) => req.info.key === 'configmaps', validate: (req) => { throw forbidden(req, 'not today'); } };
    const reg = new Registry(backend, cache, [refuse]);
    try {
      await reg.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }, {});
      await assert.rejects(reg.create(CONFIGMAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'web-' } }, {}), (e: any) => {
        assert.equal(e.message, 'configmaps "web-" is forbidden: not today');
        assert.equal(e.details.name, 'web-');
        return true;
      });
      await assert.rejects(reg.create(CONFIGMAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'named' } }, {}), /configmaps "named" is forbidden: not today/);
    } finally {
      cache.stop();
      await backend.close();
    }
  });

  it('creating in a terminating namespace is Forbidden on the object, with the NamespaceTerminating cause', async () => {
    const backend = SqliteBackend.open(':memory:');
    const cache = new WatchCache(backend, [...new Set(RESOURCES.map((r) => r.storageKey))]);
    await cache.start();
    const reg = new Registry(backend, cache, []);
    try {
      await reg.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'going', finalizers: ['example.com/hold'] } }, {});
      await reg.delete(NAMESPACES, undefined, 'going', {});
      await cache.sync();
      await assert.rejects(reg.create(CONFIGMAPS, 'going', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'newone' } }, {}), (e: any) => {
        assert.equal(e.code, 403);
        assert.equal(e.message, 'configmaps "newone" is forbidden: unable to create new content in namespace going because it is being terminated');
        assert.deepEqual(e.toStatus().details, { name: 'newone', kind: 'configmaps', causes: [{ reason: 'NamespaceTerminating', message: 'namespace going is being terminated', field: 'metadata.namespace' }] });
        return true;
      });
    } finally {
      cache.stop();
      await backend.close();
    }
  });

  it('a patch error upstream does not classify is a 500 without a reason', () => {
    const e = patchStatus(new PatchError('map: map[image:x] does not contain declared merge key: name', 500));
    assert.deepEqual([e.code, e.toStatus().reason], [500, '']);
  });
});
