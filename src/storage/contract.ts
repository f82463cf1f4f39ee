/**
 * The storage contract as a test suite: every backend must pass it unchanged. Tests only assume
 * revisions relative to what they observe, so a backend may share its store (e.g. one etcd) between tests.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, KeyValue, WatchEvent } from './backend.js';
import { CompactedError, FutureRevisionError } from './errors.js';

export interface BackendFixture {
  backend: Backend;
  cleanup(): Promise<void>;
}

/** Guard against hangs only; no test asserts on timing. */
const HANG_GUARD_MS = 15_000;

/** Collects a watch's events and lets a test wait for a count of them. */
class Collector {
  readonly events: WatchEvent[] = [];
  error?: Error;
  private waiters: Array<() => void> = [];
  readonly watch;

  constructor(backend: Backend, prefix: string, afterRevision: number) {
    this.watch = backend.watch(prefix, {
      afterRevision,
      onEvents: (evs) => {
        this.events.push(...evs);
        this.wake();
      },
      onError: (err) => {
        this.error = err;
        this.wake();
      },
    });
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** Resolve once at least n events arrived (or reject on a watch error). */
  async waitFor(n: number): Promise<WatchEvent[]> {
    const deadline = Date.now() + HANG_GUARD_MS;
    while (this.events.length < n) {
      if (this.error) throw this.error;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`watch: got ${this.events.length} of ${n} events: ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.events.slice(0, n);
  }

  async waitForError(): Promise<Error> {
    const deadline = Date.now() + HANG_GUARD_MS;
    while (!this.error) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`watch: expected an error, got events ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.error;
  }

  close(): void {
    this.watch.close();
  }
}

function okWrite<T extends { ok: boolean }>(r: T): Extract<T, { ok: true }> {
  assert.equal(r.ok, true, `expected the write to succeed: ${JSON.stringify(r)}`);
  return r as Extract<T, { ok: true }>;
}

function assertFailed(r: { ok: boolean; current?: KeyValue }, current: KeyValue | undefined): void {
  assert.equal(r.ok, false, `expected the precondition to fail: ${JSON.stringify(r)}`);
  assert.deepEqual(r.current, current);
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const keysOf = (kvs: KeyValue[]) => kvs.map((kv) => kv.key);

export function backendContract(name: string, make: () => Promise<BackendFixture>): void {
  describe(`storage contract: ${name}`, () => {
    /** Run a test body against a fresh backend, always cleaning up. */
    const withBackend = (fn: (b: Backend) => Promise<void>) => async () => {
      const f = await make();
      try {
        await fn(f.backend);
      } finally {
        await f.cleanup();
      }
    };

    it('counts every write with one global revision', withBackend(async (b) => {
      const r0 = await b.currentRevision();
      const c = okWrite(await b.create('/r/a', '1'));
      assert.equal(c.revision, r0 + 1);
      assert.deepEqual(c.kv, { key: '/r/a', value: '1', createRevision: r0 + 1, modRevision: r0 + 1 });
      const u = okWrite(await b.update('/r/a', '2', c.kv.modRevision));
      assert.equal(u.revision, r0 + 2);
      assert.deepEqual(u.kv, { key: '/r/a', value: '2', createRevision: r0 + 1, modRevision: r0 + 2 });
      const c2 = okWrite(await b.create('/r/b', 'x'));
      assert.equal(c2.revision, r0 + 3);
      const d = okWrite(await b.delete('/r/a'));
      assert.equal(d.revision, r0 + 4);
      assert.deepEqual(d.prev, u.kv);
      // Failed preconditions write nothing.
      assert.equal((await b.create('/r/b', 'y')).ok, false);
      assert.equal((await b.update('/r/b', 'y', 1)).ok, false);
      assert.equal((await b.delete('/r/missing')).ok, false);
      assert.equal(await b.currentRevision(), r0 + 4);
      const g = await b.get('/r/b');
      assert.equal(g.revision, r0 + 4);
      assert.deepEqual(g.kv, c2.kv);
    }));

    it('assigns distinct consecutive revisions to concurrent writes', withBackend(async (b) => {
      const r0 = await b.currentRevision();
      const n = 50;
      const results = await Promise.all(Array.from({ length: n }, (_, i) => b.create(`/conc/${i}`, `v${i}`)));
      const revs = results.map((r) => okWrite(r).revision).sort((x, y) => x - y);
      assert.deepEqual(revs, Array.from({ length: n }, (_, i) => r0 + 1 + i));
      assert.equal(await b.count('/conc/'), n);
    }));

    it('get returns the stored key value or nothing', withBackend(async (b) => {
      const missing = await b.get('/g/none');
      assert.equal(missing.kv, undefined);
      assert.equal(missing.revision, await b.currentRevision());
      const c = okWrite(await b.create('/g/one', 'hello'));
      const g = await b.get('/g/one');
      assert.deepEqual(g.kv, c.kv);
      assert.equal(g.revision, c.revision);
    }));

    it('create only creates an absent key', withBackend(async (b) => {
      const c = okWrite(await b.create('/c/k', 'first'));
      const again = await b.create('/c/k', 'second');
      assert.equal(again.ok, false);
      assert.deepEqual(!again.ok && again.current, c.kv);
      assert.equal((await b.get('/c/k')).kv?.value, 'first');
      // After a delete the key can be created again, with a new create revision.
      okWrite(await b.delete('/c/k'));
      const re = okWrite(await b.create('/c/k', 'third'));
      assert.equal(re.kv.createRevision, re.revision);
      assert.ok(re.kv.createRevision > c.kv.createRevision);
    }));

    it('update is guarded by the mod revision', withBackend(async (b) => {
      const c = okWrite(await b.create('/u/k', 'v1'));
      const u1 = okWrite(await b.update('/u/k', 'v2', c.kv.modRevision));
      const stale = await b.update('/u/k', 'v3', c.kv.modRevision);
      assert.equal(stale.ok, false);
      assert.deepEqual(!stale.ok && stale.current, u1.kv);
      const missing = await b.update('/u/none', 'v', c.kv.modRevision);
      assertFailed(missing, undefined);
      // 0 never matches: update must not create.
      assertFailed(await b.update('/u/none', 'v', 0), undefined);
      assert.equal((await b.get('/u/none')).kv, undefined);
      assert.equal((await b.get('/u/k')).kv?.value, 'v2');
    }));

    it('delete is guarded by the mod revision when one is given', withBackend(async (b) => {
      const c = okWrite(await b.create('/d/k', 'v1'));
      const u = okWrite(await b.update('/d/k', 'v2', c.kv.modRevision));
      const stale = await b.delete('/d/k', c.kv.modRevision);
      assert.equal(stale.ok, false);
      assert.deepEqual(!stale.ok && stale.current, u.kv);
      const d = okWrite(await b.delete('/d/k', u.kv.modRevision));
      assert.deepEqual(d.prev, u.kv);
      assert.equal((await b.get('/d/k')).kv, undefined);
      assertFailed(await b.delete('/d/k'), undefined);
      assertFailed(await b.delete('/d/k', d.revision), undefined);
    }));

    it('lists and counts keys under a prefix in byte order', withBackend(async (b) => {
      const keys = ['/p/a/2', '/p/a/1', '/p/a/10', '/p/ab/1', '/p/b/1', '/p/a', '/p/a/é', '/p/a/z', '/p/a/😀', '/p/a/\uffff'];
      for (const k of keys) okWrite(await b.create(k, `v:${k}`));
      const expected = keys.filter((k) => k.startsWith('/p/a/')).sort(byteOrder);
      const l = await b.list('/p/a/');
      assert.deepEqual(keysOf(l.kvs), expected);
      assert.equal(l.more, false);
      assert.equal(l.revision, await b.currentRevision());
      for (const kv of l.kvs) assert.equal(kv.value, `v:${kv.key}`);
      assert.equal(await b.count('/p/a/'), expected.length);
      assert.equal(await b.count('/p/'), keys.length);
      assert.deepEqual(keysOf((await b.list('/p/')).kvs), [...keys].sort(byteOrder));
      assert.deepEqual((await b.list('/p/zzz/')).kvs, []);
      assert.equal(await b.count('/p/zzz/'), 0);
    }));

    it('pages consistently with limit, startKey and revision while writes happen', withBackend(async (b) => {
      const n = 10;
      for (let i = 0; i < n; i++) okWrite(await b.create(`/pg/k${i}`, `v${i}`));
      const first = await b.list('/pg/', { limit: 3 });
      assert.equal(first.more, true);
      assert.deepEqual(keysOf(first.kvs), ['/pg/k0', '/pg/k1', '/pg/k2']);
      const snapshot = first.revision;
      const seen = [...first.kvs];
      let page = first;
      let i = 0;
      while (page.more) {
        // Writes between pages must not show up in pages read at the snapshot revision.
        const victim = (await b.get(`/pg/k${n - 1 - i}`)).kv;
        if (victim) okWrite(await b.update(victim.key, 'changed', victim.modRevision));
        okWrite(await b.create(`/pg/k${i}-new`, 'new'));
        if (i === 1) okWrite(await b.delete('/pg/k8'));
        const last = page.kvs[page.kvs.length - 1]!.key;
        page = await b.list('/pg/', { limit: 3, startKey: last + '\x00', revision: snapshot });
        assert.equal(page.revision, snapshot);
        seen.push(...page.kvs);
        i++;
      }
      assert.deepEqual(keysOf(seen), Array.from({ length: n }, (_, j) => `/pg/k${j}`));
      assert.deepEqual(seen.map((kv) => kv.value), Array.from({ length: n }, (_, j) => `v${j}`));
      assert.equal(page.kvs.length, 1);
      // An exactly full last page reports no more.
      const exact = await b.list('/pg/', { limit: 10, revision: snapshot });
      assert.equal(exact.kvs.length, 10);
      assert.equal(exact.more, false);
      // Latest state reflects the writes.
      const now = await b.list('/pg/');
      assert.ok(now.revision > snapshot);
      assert.ok(!keysOf(now.kvs).includes('/pg/k8'));
      assert.ok(keysOf(now.kvs).includes('/pg/k0-new'));
    }));

    it('reads at an old revision see the state of that revision', withBackend(async (b) => {
      okWrite(await b.create('/filler', 'f')); // so that a.revision - 1 is a real revision, not "latest"
      const a = okWrite(await b.create('/old/a', 'a1'));
      const del = okWrite(await b.create('/old/del', 'd1'));
      const at = (await b.currentRevision());
      okWrite(await b.update('/old/a', 'a2', a.kv.modRevision));
      okWrite(await b.delete('/old/del'));
      okWrite(await b.create('/old/new', 'n1'));
      const past = await b.list('/old/', { revision: at });
      assert.equal(past.revision, at);
      assert.deepEqual(past.kvs, [a.kv, del.kv]);
      assert.deepEqual((await b.get('/old/a', { revision: at })).kv, a.kv);
      assert.equal((await b.get('/old/a', { revision: at })).revision, at);
      assert.deepEqual((await b.get('/old/del', { revision: at })).kv, del.kv);
      assert.equal((await b.get('/old/new', { revision: at })).kv, undefined);
      assert.equal((await b.get('/old/a', { revision: a.revision - 1 })).kv, undefined);
      const now = await b.list('/old/');
      assert.deepEqual(keysOf(now.kvs), ['/old/a', '/old/new']);
      assert.equal(now.kvs[0]!.value, 'a2');
      const future = (await b.currentRevision()) + 100;
      await assert.rejects(b.list('/old/', { revision: future }), FutureRevisionError);
      await assert.rejects(b.get('/old/a', { revision: future }), FutureRevisionError);
    }));

    it('watch delivers ordered events with deletes and prevKv', withBackend(async (b) => {
      const start = await b.currentRevision();
      const w = new Collector(b, '/w/', start);
      try {
        const c = okWrite(await b.create('/w/k', 'v1'));
        okWrite(await b.create('/other/k', 'ignored'));
        const u = okWrite(await b.update('/w/k', 'v2', c.kv.modRevision));
        const d = okWrite(await b.delete('/w/k'));
        const c2 = okWrite(await b.create('/w/k', 'v3'));
        const evs = await w.waitFor(4);
        assert.deepEqual(evs, [
          { type: 'put', kv: c.kv },
          { type: 'put', kv: u.kv, prevKv: c.kv },
          { type: 'delete', kv: { ...u.kv, modRevision: d.revision }, prevKv: u.kv },
          { type: 'put', kv: c2.kv },
        ]);
        assert.equal(w.error, undefined);
      } finally {
        w.close();
      }
    }));

    it('watch delivers many concurrent writes strictly in revision order', withBackend(async (b) => {
      const start = await b.currentRevision();
      const w = new Collector(b, '/wm/', start);
      try {
        const n = 200;
        await Promise.all(Array.from({ length: n }, (_, i) => b.create(`/wm/${i}`, String(i))));
        const evs = await w.waitFor(n);
        const revs = evs.map((e) => e.kv.modRevision);
        assert.deepEqual(revs, Array.from({ length: n }, (_, i) => start + 1 + i));
        // No stray extra events afterwards either: a marker write arrives next.
        okWrite(await b.create('/wm/marker', 'm'));
        const all = await w.waitFor(n + 1);
        assert.equal(all[n]!.kv.key, '/wm/marker');
      } finally {
        w.close();
      }
    }));

    it('watch replays history from an old revision, then follows live', withBackend(async (b) => {
      const start = await b.currentRevision();
      const c = okWrite(await b.create('/h/a', '1'));
      const u = okWrite(await b.update('/h/a', '2', c.kv.modRevision));
      okWrite(await b.create('/elsewhere', 'x'));
      const d = okWrite(await b.delete('/h/a'));
      const w = new Collector(b, '/h/', start);
      try {
        const l = okWrite(await b.create('/h/b', 'live'));
        const evs = await w.waitFor(4);
        assert.deepEqual(evs, [
          { type: 'put', kv: c.kv },
          { type: 'put', kv: u.kv, prevKv: c.kv },
          { type: 'delete', kv: { ...u.kv, modRevision: d.revision }, prevKv: u.kv },
          { type: 'put', kv: l.kv },
        ]);
      } finally {
        w.close();
      }
      // Starting in the middle of history skips what came before.
      const mid = new Collector(b, '/h/', u.revision);
      try {
        const evs = await mid.waitFor(2);
        assert.deepEqual(evs.map((e) => e.kv.modRevision), [d.revision, (await b.get('/h/b')).kv!.modRevision]);
      } finally {
        mid.close();
      }
    }));

    it('compaction drops old revisions for reads and watches', withBackend(async (b) => {
      const start = await b.currentRevision();
      const a = okWrite(await b.create('/cp/a', 'a1'));
      const a2 = okWrite(await b.update('/cp/a', 'a2', a.kv.modRevision));
      okWrite(await b.create('/cp/gone', 'g'));
      okWrite(await b.delete('/cp/gone'));
      const keep = okWrite(await b.create('/cp/keep', 'k'));
      const at = keep.revision;
      const after = okWrite(await b.update('/cp/a', 'a3', a2.kv.modRevision));
      await b.compact(at);
      await assert.rejects(b.list('/cp/', { revision: start + 1 }), CompactedError);
      await assert.rejects(b.get('/cp/a', { revision: at - 1 }), CompactedError);
      // The compacted revision itself stays readable, with every live key's value as of then.
      const snap = await b.list('/cp/', { revision: at });
      assert.deepEqual(snap.kvs, [a2.kv, keep.kv]);
      assert.deepEqual((await b.list('/cp/')).kvs, [after.kv, keep.kv]);
      const early = new Collector(b, '/cp/', start);
      const err = await early.waitForError();
      assert.ok(err instanceof CompactedError, `expected CompactedError, got ${err}`);
      assert.deepEqual(early.events, []);
      // A watch from the compacted revision still sees later history, prevKv included.
      const w = new Collector(b, '/cp/', at);
      try {
        const evs = await w.waitFor(1);
        assert.deepEqual(evs, [{ type: 'put', kv: after.kv, prevKv: a2.kv }]);
      } finally {
        w.close();
      }
      // Compacting again at or below is harmless; compacting the future is refused.
      await b.compact(at);
      await b.compact(at - 1);
      await assert.rejects(b.compact((await b.currentRevision()) + 100), FutureRevisionError);
      assert.equal(await b.count('/cp/'), 2);
    }));

    it('a closed watch receives nothing more', withBackend(async (b) => {
      const start = await b.currentRevision();
      const closed = new Collector(b, '/cl/', start);
      const open = new Collector(b, '/cl/', start);
      try {
        okWrite(await b.create('/cl/a', '1'));
        await closed.waitFor(1);
        closed.close();
        closed.close(); // idempotent
        okWrite(await b.create('/cl/b', '2'));
        okWrite(await b.create('/cl/c', '3'));
        // Once the open watch has seen both writes, the closed one would have too.
        await open.waitFor(3);
        assert.equal(closed.events.length, 1);
        assert.equal(closed.error, undefined);
      } finally {
        open.close();
      }
    }));

    it('closing the backend stops its watches', async () => {
      const f = await make();
      try {
        const w = new Collector(f.backend, '/bc/', await f.backend.currentRevision());
        okWrite(await f.backend.create('/bc/a', '1'));
        await w.waitFor(1);
        await f.backend.close();
        // Give any straggling delivery a chance to (wrongly) happen.
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(w.events.length, 1);
        assert.equal(w.error, undefined);
      } finally {
        await f.cleanup();
      }
    });

    it('stores unicode and large values unchanged', withBackend(async (b) => {
      const values = [
        '',
        'plain',
        'héllo wörld ✓ 日本語 한국어 العربية',
        '😀🚀 \u{1F9D1}\u200D\u{1F680} e\u0301',
        'nul:\u0000:tab\t:nl\n:quote"\\',
        JSON.stringify({ kind: 'ConfigMap', data: { 'ключ': 'значение' } }),
        'x'.repeat(256 * 1024),
      ];
      const w = new Collector(b, '/uni/', await b.currentRevision());
      try {
        for (const [i, v] of values.entries()) okWrite(await b.create(`/uni/${i}-ключ-🔑`, v));
        for (const [i, v] of values.entries()) assert.equal((await b.get(`/uni/${i}-ключ-🔑`)).kv?.value, v);
        const l = await b.list('/uni/');
        assert.deepEqual(l.kvs.map((kv) => kv.value), values);
        const evs = await w.waitFor(values.length);
        assert.deepEqual(evs.map((e) => e.kv.value), values);
        assert.deepEqual(evs.map((e) => e.kv.key), values.map((_, i) => `/uni/${i}-ключ-🔑`));
      } finally {
        w.close();
      }
    }));
  });
}
