import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteBackend } from '../storage/sqlite.js';
import { WatchCache, restampRaw, stampRaw, type CacheEvent } from './watchcache.js';
import { CompactedError } from '../storage/errors.js';

const obj = (name: string, v: string) => JSON.stringify({ metadata: { name, namespace: 'ns' }, data: { v } });

describe('WatchCache', () => {
  it('loads existing state, follows writes in order and stamps resourceVersions', async () => {
    const b = SqliteBackend.open(':memory:');
    await b.create('/registry/configmaps/ns/a', obj('a', '1'));
    await b.create('/registry/apps/deployments/ns/d', obj('d', '1'));
    const cache = new WatchCache(b, ['configmaps', 'apps/deployments']);
    await cache.start();
    assert.equal(cache.list('configmaps', '/registry/configmaps/').length, 1);
    assert.equal(cache.list('apps/deployments', '/registry/apps/deployments/').length, 1);
    const seen: CacheEvent[] = [];
    cache.subscribe('configmaps', { event: (e) => seen.push(e), reset: () => assert.fail('no reset expected') });
    const r1 = await b.create('/registry/configmaps/ns/b', obj('b', '1'));
    assert.ok(r1.ok);
    const cur = await b.get('/registry/configmaps/ns/a');
    await b.update('/registry/configmaps/ns/a', obj('a', '2'), cur.kv!.modRevision);
    await b.delete('/registry/configmaps/ns/b');
    await cache.sync();
    assert.deepEqual(seen.map((e) => [e.type, e.object.obj.metadata.name]), [['ADDED', 'b'], ['MODIFIED', 'a'], ['DELETED', 'b']]);
    for (const e of seen) assert.equal(e.object.obj.metadata.resourceVersion, String(e.rv));
    assert.equal(seen[1].prev?.obj.data.v, '1');
    assert.equal(JSON.parse(cache.get('/registry/configmaps/ns/a')!.raw).data.v, '2');
    // History answers "events after rv" for a watch started later.
    assert.deepEqual(cache.eventsSince('configmaps', seen[0].rv).map((e) => e.type), ['MODIFIED', 'DELETED']);
    cache.stop();
    await b.close();
  });

  it('adopts the object a writer hands it for the value it stores, and parses anything else', async () => {
    const b = SqliteBackend.open(':memory:');
    const cache = new WatchCache(b, ['configmaps']);
    await cache.start();
    const mine: any = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns' }, data: { v: '1' } };
    const value = JSON.stringify(mine);
    const release = cache.expectWrite('/registry/configmaps/ns/a', value, mine);
    await b.create('/registry/configmaps/ns/a', value);
    release();
    await cache.sync();
    const adopted = cache.get('/registry/configmaps/ns/a')!;
    assert.equal(adopted.obj, mine, 'the written object itself, not a parse of its JSON');
    assert.equal(adopted.obj.metadata.resourceVersion, String(adopted.rv));
    assert.deepEqual(JSON.parse(adopted.raw), mine);
    // A hint for another value (a concurrent writer won) is ignored; a released hint is gone.
    const stale = { ...mine, data: { v: 'stale' } };
    const releaseStale = cache.expectWrite('/registry/configmaps/ns/a', JSON.stringify(stale), stale);
    await b.update('/registry/configmaps/ns/a', obj('a', '2'), adopted.rv);
    releaseStale();
    await cache.sync();
    assert.equal(cache.get('/registry/configmaps/ns/a')!.obj.data.v, '2');
    const late = { ...mine, data: { v: '3' } };
    cache.expectWrite('/registry/configmaps/ns/b', JSON.stringify(late), late)();
    await b.create('/registry/configmaps/ns/b', JSON.stringify(late));
    await cache.sync();
    assert.notEqual(cache.get('/registry/configmaps/ns/b')!.obj, late);
    cache.stop();
    await b.close();
  });

  it('refuses watches older than its history with CompactedError', async () => {
    const b = SqliteBackend.open(':memory:');
    const cache = new WatchCache(b, ['configmaps'], 4);
    await cache.start();
    for (let i = 0; i < 10; i++) await b.create(`/registry/configmaps/ns/c${i}`, obj(`c${i}`, '1'));
    await cache.sync();
    assert.throws(() => cache.eventsSince('configmaps', 1), CompactedError);
    assert.equal(cache.eventsSince('configmaps', cache.oldestWatchableRevision).length, 4);
    cache.stop();
    await b.close();
  });
});

describe('restampRaw', () => {
  const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'd' }, data: { resourceVersion: '"7"' } };
  const value = JSON.stringify(obj);

  it('replaces the resourceVersion stampRaw put first in the metadata, and nothing else', () => {
    const raw = stampRaw(value, obj, '7')!;
    const cached = { key: 'k', obj: { ...obj, metadata: { ...obj.metadata, resourceVersion: '7' } }, raw, rv: 7 };
    const out = restampRaw(cached, '12')!;
    assert.deepEqual(JSON.parse(out), { ...obj, metadata: { ...obj.metadata, resourceVersion: '12' } });
  });

  it('gives up on JSON of another shape (the caller serialises the object)', () => {
    const other = { key: 'k', obj: { ...obj, metadata: { ...obj.metadata, resourceVersion: '7' } }, raw: '', rv: 7 };
    other.raw = JSON.stringify(other.obj);
    assert.equal(restampRaw(other, '12'), undefined);
    assert.equal(restampRaw({ ...other, obj: { metadata: {} } }, '12'), undefined);
  });
});
