import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteBackend, prefixEnd } from './sqlite.js';
import { backendContract } from './contract.js';
import { CompactedError } from './errors.js';
import { openBackend } from './open.js';
import { SkiffError } from '../util/errors.js';

const tempDir = () => mkdtemp(join(tmpdir(), 'skiff-sqlite-'));

backendContract('sqlite', async () => {
  const dir = await tempDir();
  const backend = SqliteBackend.open(join(dir, 'state.db'));
  return {
    backend,
    async cleanup() {
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

backendContract('sqlite :memory:', async () => {
  const backend = SqliteBackend.open(':memory:');
  return { backend, cleanup: () => backend.close() };
});

describe('sqlite backend', () => {
  it('computes prefix upper bounds in code point order', () => {
    assert.equal(prefixEnd('/a/'), '/a0');
    assert.equal(prefixEnd('a\u{10FFFF}'), 'b');
    assert.equal(prefixEnd('\uD7FF'), '\uE000');
    assert.ok(Buffer.isBuffer(prefixEnd('')));
  });

  it('is what openBackend gives for "sqlite" and for an empty datastore', async () => {
    const dir = await tempDir();
    try {
      for (const ds of ['sqlite', '']) {
        const b = await openBackend(ds, join(dir, 'data'));
        assert.equal(b.name, 'sqlite');
        assert.ok((await b.create(`/open/${ds || 'empty'}`, 'x')).ok);
        await b.close();
      }
      // Both opened the same ${dataDir}/state.db.
      const b = SqliteBackend.open(join(dir, 'data', 'state.db'));
      assert.equal(await b.count('/open/'), 2);
      await b.close();
      for (const bad of ['mysql://x', 'etcd:/host:1', 'etcd://nohost']) {
        await assert.rejects(openBackend(bad, dir), SkiffError, bad);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('replays and compacts long histories in chunks', async () => {
    const b = SqliteBackend.open(':memory:');
    try {
      // More revisions than one replay window / compaction chunk; a third of them under the watched prefix.
      const n = 45_000;
      const writes = await Promise.all(
        Array.from({ length: n }, (_, i) => b.create(i % 3 === 0 ? `/long/a/${i}` : `/long/b/${i}`, `v${i}`)),
      );
      assert.ok(writes.every((w) => w.ok));
      const events: number[] = [];
      let error: Error | undefined;
      let done!: () => void;
      const all = new Promise<void>((r) => (done = r));
      const w = b.watch('/long/a/', {
        afterRevision: 0,
        onEvents: (evs) => {
          for (const e of evs) events.push(e.kv.modRevision);
          if (events.length === n / 3 + 1) done();
        },
        onError: (err) => {
          error = err;
          done();
        },
      });
      const live = await b.create('/long/a/live', 'x');
      assert.ok(live.ok);
      await all;
      w.close();
      assert.equal(error, undefined);
      const expected = Array.from({ length: n / 3 }, (_, i) => 3 * i + 1);
      expected.push(live.revision);
      assert.deepEqual(events, expected);

      // Delete half of the b keys, then compact everything away in several chunks.
      for (let i = 1; i < n; i += 6) assert.ok((await b.delete(`/long/b/${i}`)).ok);
      const rev = await b.currentRevision();
      await b.compact(rev);
      assert.equal(await b.count('/long/'), n + 1 - Math.ceil((n - 1) / 6));
      const snapshot = await b.list('/long/', { revision: rev });
      assert.equal(snapshot.kvs.length, await b.count('/long/'));
      await assert.rejects(b.list('/long/', { revision: rev - 1 }), CompactedError);
      const rows = (b as unknown as { db: { prepare(s: string): { get(): { n: number } } } }).db
        .prepare('SELECT count(*) AS n FROM log')
        .get().n;
      assert.equal(rows, await b.count('/long/'), 'only the live versions remain in the log');
    } finally {
      await b.close();
    }
  });

  it('keeps data, revision and compaction across a reopen', async () => {
    const dir = await tempDir();
    const path = join(dir, 'state.db');
    try {
      let b = SqliteBackend.open(path);
      const a = await b.create('/k/a', 'one');
      assert.ok(a.ok);
      const c = await b.create('/k/b', 'two');
      assert.ok(c.ok);
      const d = await b.delete('/k/b');
      assert.ok(d.ok);
      // Compacting over a trailing delete removes the newest log row; the revision must survive anyway.
      await b.compact(d.revision);
      await b.close();

      b = SqliteBackend.open(path);
      assert.equal(await b.currentRevision(), d.revision);
      assert.deepEqual((await b.get('/k/a')).kv, a.kv);
      assert.equal((await b.get('/k/b')).kv, undefined);
      await assert.rejects(b.get('/k/a', { revision: d.revision - 1 }), CompactedError);
      const e = await b.create('/k/c', 'three');
      assert.ok(e.ok);
      assert.equal(e.revision, d.revision + 1);
      await b.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads values from the log, so databases that also kept them in `current` open unchanged', async () => {
    const dir = await tempDir();
    try {
      const path = join(dir, 'state.db');
      let b = SqliteBackend.open(path);
      await b.create('/v/a', 'one');
      const u = await b.update('/v/a', 'two', (await b.get('/v/a')).kv!.modRevision);
      assert.ok(u.ok);
      await b.create('/v/b', 'three');
      await b.close();
      // The earlier layout kept a copy of each value in `current`: whatever is there is not read.
      const raw = new Database(path);
      raw.prepare("UPDATE current SET value = 'stale copy'").run();
      raw.close();
      b = SqliteBackend.open(path);
      assert.equal((await b.get('/v/a')).kv?.value, 'two');
      assert.deepEqual((await b.list('/v/')).kvs.map((kv) => kv.value), ['two', 'three']);
      const d = await b.delete('/v/a');
      assert.ok(d.ok && d.prev.value === 'two');
      await b.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps every acknowledged write when the process is SIGKILLed', async () => {
    const dir = await tempDir();
    try {
      const moduleUrl = new URL('./sqlite.js', import.meta.url).href;
      const script = join(dir, 'writer.mjs');
      // Acknowledge each committed write on stdout (writeSync: nothing buffered in-process). The pipe
      // is non-blocking: when the reader falls behind (a loaded machine), writeSync says EAGAIN; retry.
      await writeFile(
        script,
        `import { writeSync } from 'node:fs';
import { SqliteBackend } from ${JSON.stringify(moduleUrl)};
const b = SqliteBackend.open(process.argv[2]);
const ack = (s) => {
  for (;;) {
    try {
      return writeSync(1, s);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
};
for (let i = 0; ; i++) {
  const r = await b.create('/kill/' + i, 'value-' + i);
  if (!r.ok) throw new Error('unexpected conflict');
  ack(i + ' ' + r.revision + '\\n');
}
`,
      );
      const dbPath = join(dir, 'state.db');
      const child = spawn(process.execPath, [script, dbPath], { stdio: ['ignore', 'pipe', 'pipe'] });
      const acked: Array<[number, number]> = [];
      let buf = '';
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
      await new Promise<void>((resolve, reject) => {
        child.on('exit', () => reject(new Error(`writer exited before being killed: ${stderr}`)));
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split('\n');
          buf = lines.pop()!;
          for (const line of lines) {
            const [i, rev] = line.split(' ').map(Number) as [number, number];
            acked.push([i, rev]);
          }
          // Kill while it is busy writing, well into the run.
          if (acked.length >= 2000) {
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      assert.equal(await exited, 'SIGKILL');

      const b = SqliteBackend.open(dbPath);
      try {
        const last = acked[acked.length - 1]!;
        assert.ok((await b.currentRevision()) >= last[1]);
        for (const [i, rev] of acked) {
          const kv = (await b.get(`/kill/${i}`)).kv;
          assert.ok(kv, `acknowledged write /kill/${i} (revision ${rev}) is missing after SIGKILL`);
          assert.equal(kv.value, `value-${i}`);
          assert.equal(kv.modRevision, rev);
        }
        // The store is usable and continues the revision sequence.
        const next = await b.create('/kill/after', 'x');
        assert.ok(next.ok);
        assert.equal(next.revision, (await b.currentRevision()));
      } finally {
        await b.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
