import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdBackend } from './etcd.js';
import { backendContract } from './contract.js';
import { BackendUnavailableError } from './errors.js';
import { etcdMissing, startEtcd, type EtcdInstance } from '../testing/etcd.js';
import type { WatchEvent } from './backend.js';
import { parseEtcdDatastore } from './open.js';
import { SkiffError } from '../util/errors.js';

/** Wait until `cond` holds; guards against hangs only. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Retry a write while etcd is coming back (the client may refuse calls for a moment). */
async function eventually<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof BackendUnavailableError) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
import { needs } from '../testing/real.js';

const missing = etcdMissing();

if (missing) {
  test('etcd backend', (t) => {
    needs(t, missing);
  });
} else {
  // One etcd for the whole file; each test gets its own key prefix.
  let etcd: EtcdInstance;
  let n = 0;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });

  backendContract('etcd', async () => {
    const backend = await EtcdBackend.connect(etcd.endpoints, { prefix: `/contract-${n++}` });
    return { backend, cleanup: () => backend.close() };
  });

  describe('etcd backend', () => {
    it('resumes watches without gaps or duplicates when the stream breaks', async () => {
      const b = await EtcdBackend.connect(etcd.endpoints, { prefix: '/resume' });
      const events: WatchEvent[] = [];
      let error: Error | undefined;
      const w = b.watch('/k/', {
        afterRevision: await b.currentRevision(),
        onEvents: (evs) => events.push(...evs),
        onError: (err) => (error = err),
      });
      try {
        assert.ok((await b.create('/k/1', 'a')).ok);
        await until(() => events.length === 1, 'the first event');
        // Break the gRPC stream under the watch, as a network blip would.
        (b as unknown as { hub: { stream: { cancel(): void } } }).hub.stream.cancel();
        assert.ok((await b.create('/k/2', 'b')).ok);
        assert.ok((await b.create('/k/3', 'c')).ok);
        await until(() => events.length >= 3, 'events after the break');
        // Then a real etcd restart.
        await etcd.restart();
        assert.ok((await eventually(() => b.create('/k/4', 'd'))).ok);
        await until(() => events.length >= 4 || error !== undefined, 'events after the restart');
        assert.equal(error, undefined);
        assert.deepEqual(events.map((e) => e.kv.key), ['/k/1', '/k/2', '/k/3', '/k/4']);
        const revs = events.map((e) => e.kv.modRevision);
        assert.deepEqual(revs, [...revs].sort((x, y) => x - y));
      } finally {
        w.close();
        await b.close();
      }
    });

    it('parses etcd datastore values', () => {
      assert.deepEqual(parseEtcdDatastore('etcd://127.0.0.1:2379'), ['http://127.0.0.1:2379']);
      assert.deepEqual(parseEtcdDatastore('etcd://a.example:1,b:2,[::1]:3'), [
        'http://a.example:1',
        'http://b:2',
        'http://[::1]:3',
      ]);
      for (const bad of ['etcd://', 'etcd://host', 'etcd://host:0', 'etcd://host:99999', 'etcd://a:1,,b:2', 'etcd://h:1/x']) {
        assert.throws(() => parseEtcdDatastore(bad), SkiffError, bad);
      }
    });

    it('keeps prefixed stores apart', async () => {
      const a = await EtcdBackend.connect(etcd.endpoints, { prefix: '/iso-a' });
      const b = await EtcdBackend.connect(etcd.endpoints, { prefix: '/iso-b' });
      try {
        assert.ok((await a.create('/k', 'from a')).ok);
        assert.equal((await b.get('/k')).kv, undefined);
        assert.equal(await b.count(''), 0);
        assert.deepEqual((await a.list('')).kvs.map((kv) => kv.key), ['/k']);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('fails clearly when etcd is unreachable', async () => {
      // Port 9 (discard) on loopback: nothing listens there.
      await assert.rejects(EtcdBackend.connect(['http://127.0.0.1:9']), BackendUnavailableError);
    });
  });
}
