/**
 * SQLite backend (kine-like): an append-only `log` of every write plus a `current` table naming the
 * latest revision of each live key (its value is that log row's). Reads at the latest revision go
 * through `current`; reads at older revisions and watch replays read the log. Watches are in-process
 * and fed after each commit.
 *
 * One process owns the database file: revisions are assigned from an in-memory counter.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve as resolvePath } from 'node:path';
import { Worker } from 'node:worker_threads';
import type {
  Backend,
  DeleteResult,
  GetResult,
  KeyValue,
  ListOptions,
  ListResult,
  Watch,
  WatchEvent,
  WatchOptions,
  WriteResult,
} from './backend.js';
import { BackendUnavailableError, CompactedError, FutureRevisionError } from './errors.js';
import { SkiffError } from '../util/errors.js';
import { WatchHandle } from './watchhandle.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  rev INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  value TEXT NOT NULL,          -- for a delete: the value that was deleted
  create_rev INTEGER NOT NULL,  -- for a delete: the deleted version's create revision
  prev_rev INTEGER NOT NULL,    -- mod revision of the version this write replaced (0: none)
  deleted INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS log_key_rev ON log (key, rev);
CREATE TABLE IF NOT EXISTS current (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  create_rev INTEGER NOT NULL,
  mod_rev INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

/**
 * Watch replay reads at most REPLAY_CHUNK rows from a window of REPLAY_WINDOW revisions per step, and
 * compaction handles COMPACT_CHUNK revisions per transaction, so neither blocks the event loop for long.
 */
const REPLAY_CHUNK = 1000;
const REPLAY_WINDOW = 20_000;
const COMPACT_CHUNK = 10_000;

/**
 * Exclusive upper bound of the keys starting with `prefix`, in UTF-8 byte order (= code point order).
 * An empty BLOB sorts after every TEXT value in SQLite, so it stands for "no upper bound".
 */
export function prefixEnd(prefix: string): string | Buffer {
  const cps = Array.from(prefix);
  while (cps.length > 0) {
    let cp = cps.pop()!.codePointAt(0)! + 1;
    if (cp === 0xd800) cp = 0xe000; // skip the surrogate range: not encodable in UTF-8
    if (cp <= 0x10ffff) return cps.join('') + String.fromCodePoint(cp);
  }
  return Buffer.alloc(0);
}

/**
 * Checkpoints (copying the WAL into the database file, with fsyncs) run on a worker thread's own
 * connection, so the event loop never stalls on them; PASSIVE checkpoints never block our writer.
 * The main connection's auto-checkpoint stays as a backstop at a higher threshold should the worker lag.
 */
const CHECKPOINT_INTERVAL_MS = 250;
const BACKSTOP_CHECKPOINT_PAGES = 16_000;
const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* the next round retries */ }
}, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

function startCheckpointer(path: string): Worker {
  const worker = new Worker(CHECKPOINTER_SOURCE, {
    eval: true,
    workerData: {
      module: createRequire(import.meta.url).resolve('better-sqlite3'),
      path: resolvePath(path),
      intervalMs: CHECKPOINT_INTERVAL_MS,
    },
  });
  worker.unref();
  // Losing the checkpointer only moves checkpoints back onto the main connection's backstop.
  worker.on('error', () => {});
  return worker;
}

/** A write transaction's outcome, and the event to publish once it has committed. */
interface Written<R> {
  result: R;
  event?: WatchEvent;
}

interface PendingWrite {
  run(): Written<unknown>;
  resolve(result: unknown): void;
  reject(err: unknown): void;
}

interface CurrentRow {
  key: string;
  value: string;
  create_rev: number;
  mod_rev: number;
}
interface LogRow {
  rev: number;
  key: string;
  value: string;
  create_rev: number;
  prev_rev: number;
  deleted: number;
  prev_value: string | null;
}

const toKv = (r: CurrentRow): KeyValue => ({
  key: r.key,
  value: r.value,
  createRevision: r.create_rev,
  modRevision: r.mod_rev,
});

function logRowToEvent(r: LogRow): WatchEvent {
  if (r.deleted) {
    // The deleted version is fully described by the tombstone row itself.
    return {
      type: 'delete',
      kv: { key: r.key, value: r.value, createRevision: r.create_rev, modRevision: r.rev },
      prevKv: { key: r.key, value: r.value, createRevision: r.create_rev, modRevision: r.prev_rev },
    };
  }
  const ev: WatchEvent = {
    type: 'put',
    kv: { key: r.key, value: r.value, createRevision: r.create_rev, modRevision: r.rev },
  };
  if (r.prev_rev !== 0 && r.prev_value !== null) {
    ev.prevKv = { key: r.key, value: r.prev_value, createRevision: r.create_rev, modRevision: r.prev_rev };
  }
  return ev;
}

function validateKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new SkiffError('STORAGE_INVALID_KEY', 'storage keys must be non-empty strings');
  }
}

class SqliteWatch extends WatchHandle {
  /** While true, events come from the log rather than the live feed. */
  catchingUp = true;

  constructor(
    private readonly owner: SqliteBackend,
    readonly prefix: string,
    opts: WatchOptions,
  ) {
    super(opts.afterRevision, opts);
  }

  protected detach(): void {
    this.owner.detach(this);
  }
}

export class SqliteBackend implements Backend {
  readonly name = 'sqlite';
  private readonly db: Database.Database;
  private rev: number;
  private compactRev: number;
  private closed = false;
  private readonly watches = new Set<SqliteWatch>();
  /** Committed events not yet handed to live watches; flushed in a microtask, in revision order. */
  private pending: WatchEvent[] = [];
  private flushScheduled = false;

  private readonly st: ReturnType<SqliteBackend['prepare']>;
  /** Revision of the last write applied inside the open batch transaction (= rev outside a batch). */
  private nextRev: number;
  /** Writes waiting for the next group commit. */
  private queue: PendingWrite[] = [];
  private readonly txBatch: (ops: PendingWrite[]) => Written<unknown>[];
  private readonly txSingle: (op: PendingWrite) => Written<unknown>;
  private readonly txCompactChunk: (upTo: number) => void;

  /** Open (creating if needed) the database at `path`; ':memory:' gives a throwaway store. */
  static open(path: string): SqliteBackend {
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(path);
    } catch (err) {
      throw new BackendUnavailableError(`cannot open sqlite database ${path}: ${(err as Error).message}`, { cause: err });
    }
    const backend = new SqliteBackend(db);
    if (path !== ':memory:' && path !== '') backend.checkpointer = startCheckpointer(path);
    return backend;
  }

  private checkpointer?: Worker;

  private constructor(db: Database.Database) {
    this.db = db;
    // WAL + NORMAL: a commit is in the OS page cache once it returns, so it survives the process being
    // killed (only a power loss can drop the latest commits); much faster than FULL.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = OFF');
    db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
    db.pragma('journal_size_limit = 67108864'); // shrink the WAL file back to 64 MiB after a burst
    db.exec(SCHEMA);
    this.st = this.prepare();
    const meta = (name: string): number =>
      (this.st.getMeta.get(name) as { value: number } | undefined)?.value ?? 0;
    this.compactRev = meta('compact_rev');
    // A compaction may delete the newest rows (tombstones), so the compact revision bounds it too.
    const maxRev = (db.prepare('SELECT max(rev) AS r FROM log').get() as { r: number | null }).r ?? 0;
    this.rev = Math.max(maxRev, this.compactRev);

    this.nextRev = this.rev;
    this.txBatch = db.transaction((ops: PendingWrite[]) => ops.map((op) => op.run()));
    this.txSingle = db.transaction((op: PendingWrite) => op.run());

    this.txCompactChunk = db.transaction((upTo: number) => {
      this.st.compactRange.run({ upTo, from: this.compactRev });
      this.st.setMeta.run('compact_rev', upTo);
      this.compactRev = upTo;
    });
  }

  private prepare() {
    const db = this.db;
    return {
      getMeta: db.prepare('SELECT value FROM meta WHERE name = ?'),
      setMeta: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
      // `current` points at each live key's latest log row, whose value it is: values are written once
      // (to the log), not twice. Its own value column is left empty (databases written before hold a
      // copy there, unused: the log has the same value at mod_rev, which compaction always keeps).
      getCurrent: db.prepare(
        'SELECT c.key, l.value, c.create_rev, c.mod_rev FROM current AS c JOIN log AS l ON l.rev = c.mod_rev WHERE c.key = ?',
      ),
      insertCurrent: db.prepare(
        "INSERT INTO current (key, value, create_rev, mod_rev) VALUES (?, '', ?, ?) ON CONFLICT (key) DO NOTHING",
      ),
      // Read the guarded row (its old value becomes prevKv); overwritten in the same transaction.
      getCurrentIf: db.prepare(
        'SELECT c.key, l.value, c.create_rev, c.mod_rev FROM current AS c JOIN log AS l ON l.rev = c.mod_rev WHERE c.key = ? AND c.mod_rev = ?',
      ),
      setCurrent: db.prepare("UPDATE current SET value = '', mod_rev = ? WHERE key = ?"),
      deleteCurrent: db.prepare('DELETE FROM current WHERE key = ?'),
      insertLog: db.prepare(
        'INSERT INTO log (rev, key, value, create_rev, prev_rev, deleted) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      listCurrent: db.prepare(
        'SELECT c.key, l.value, c.create_rev, c.mod_rev FROM current AS c JOIN log AS l ON l.rev = c.mod_rev WHERE c.key >= ? AND c.key < ? ORDER BY c.key LIMIT ?',
      ),
      countCurrent: db.prepare('SELECT count(*) AS n FROM current WHERE key >= ? AND key < ?').pluck(),
      getAt: db.prepare(
        'SELECT key, value, create_rev, rev AS mod_rev, deleted FROM log WHERE key = ? AND rev <= ? ORDER BY rev DESC LIMIT 1',
      ),
      // The newest version of each key at or below the revision, skipping keys deleted by then. Walking
      // the (key, rev) index keeps key order, so LIMIT stops early; the planner may otherwise pick a
      // revision-range scan plus sort over the whole log.
      listAt: db.prepare(`
        SELECT key, value, create_rev, rev AS mod_rev FROM log AS l INDEXED BY log_key_rev
        WHERE key >= @start AND key < @end AND rev <= @rev AND deleted = 0
          AND rev = (SELECT max(rev) FROM log WHERE key = l.key AND rev <= @rev)
        ORDER BY key LIMIT @limit`),
      replay: db.prepare(`
        SELECT l.rev, l.key, l.value, l.create_rev, l.prev_rev, l.deleted, p.value AS prev_value
        FROM log AS l LEFT JOIN log AS p ON p.rev = l.prev_rev AND l.deleted = 0
        WHERE l.rev > @after AND l.rev <= @upTo AND l.key >= @start AND l.key < @end
        ORDER BY l.rev LIMIT @limit`),
      // For keys written in (old compact, upTo]: drop every version at or below upTo that a newer one at or
      // below upTo supersedes, and the tombstones themselves. Live latest versions stay.
      compactRange: db.prepare(`
        DELETE FROM log WHERE rev <= @upTo
          AND key IN (SELECT key FROM log WHERE rev > @from AND rev <= @upTo)
          AND (deleted = 1 OR rev < (SELECT max(rev) FROM log AS n WHERE n.key = log.key AND n.rev <= @upTo))`),
    };
  }

  private currentKv(key: string): KeyValue | undefined {
    const row = this.st.getCurrent.get(key) as CurrentRow | undefined;
    return row && toKv(row);
  }

  private check(): void {
    if (this.closed) throw new BackendUnavailableError('the sqlite backend is closed');
  }

  /** Validate a read revision: 0/undefined is latest; compacted and future revisions fail. */
  private readRevision(revision: number | undefined): number {
    if (!revision || revision <= 0) return this.rev;
    if (revision < this.compactRev) throw new CompactedError(revision, this.compactRev);
    if (revision > this.rev) throw new FutureRevisionError(revision, this.rev);
    return revision;
  }

  async currentRevision(): Promise<number> {
    this.check();
    return this.rev;
  }

  async get(key: string, opts?: { revision?: number }): Promise<GetResult> {
    this.check();
    const rev = this.readRevision(opts?.revision);
    if (rev === this.rev) return { kv: this.currentKv(key), revision: rev };
    const row = this.st.getAt.get(key, rev) as (CurrentRow & { deleted: number }) | undefined;
    return { kv: row && !row.deleted ? toKv(row) : undefined, revision: rev };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.check();
    const rev = this.readRevision(opts.revision);
    let start = prefix;
    if (opts.startKey !== undefined && opts.startKey !== '') {
      if (!opts.startKey.startsWith(prefix)) {
        throw new SkiffError('STORAGE_INVALID_ARGUMENT', `list startKey "${opts.startKey}" must start with the prefix "${prefix}"`);
      }
      start = opts.startKey;
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const end = prefixEnd(prefix);
    // One extra row tells whether more remain.
    const rows = (
      rev === this.rev
        ? this.st.listCurrent.all(start, end, limit ? limit + 1 : -1)
        : this.st.listAt.all({ start, end, rev, limit: limit ? limit + 1 : -1 })
    ) as CurrentRow[];
    const more = limit > 0 && rows.length > limit;
    if (more) rows.length = limit;
    return { kvs: rows.map(toKv), revision: rev, more };
  }

  async count(prefix: string): Promise<number> {
    this.check();
    return this.st.countCurrent.get(prefix, prefixEnd(prefix)) as number;
  }

  async create(key: string, value: string): Promise<WriteResult> {
    this.check();
    validateKey(key);
    return this.enqueue((): Written<WriteResult> => {
      const rev = this.nextRev + 1;
      if (this.st.insertCurrent.run(key, rev, rev).changes === 0) {
        return { result: { ok: false, current: this.currentKv(key) } };
      }
      this.st.insertLog.run(rev, key, value, rev, 0, 0);
      this.nextRev = rev;
      const kv: KeyValue = { key, value, createRevision: rev, modRevision: rev };
      return { result: { ok: true, kv, revision: rev }, event: { type: 'put', kv } };
    });
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<WriteResult> {
    this.check();
    validateKey(key);
    return this.enqueue((): Written<WriteResult> => {
      const rev = this.nextRev + 1;
      const prev = this.st.getCurrentIf.get(key, expectedModRevision) as CurrentRow | undefined;
      if (!prev) return { result: { ok: false, current: this.currentKv(key) } };
      this.st.setCurrent.run(rev, key);
      this.st.insertLog.run(rev, key, value, prev.create_rev, prev.mod_rev, 0);
      this.nextRev = rev;
      const kv: KeyValue = { key, value, createRevision: prev.create_rev, modRevision: rev };
      return { result: { ok: true, kv, revision: rev }, event: { type: 'put', kv, prevKv: toKv(prev) } };
    });
  }

  async delete(key: string, expectedModRevision?: number): Promise<DeleteResult> {
    this.check();
    validateKey(key);
    return this.enqueue((): Written<DeleteResult> => {
      const rev = this.nextRev + 1;
      const prev = (
        expectedModRevision === undefined
          ? this.st.getCurrent.get(key)
          : this.st.getCurrentIf.get(key, expectedModRevision)
      ) as CurrentRow | undefined;
      if (!prev) return { result: { ok: false, current: this.currentKv(key) } };
      this.st.deleteCurrent.run(key);
      this.st.insertLog.run(rev, key, prev.value, prev.create_rev, prev.mod_rev, 1);
      this.nextRev = rev;
      const prevKv = toKv(prev);
      const kv: KeyValue = { key, value: prev.value, createRevision: prev.create_rev, modRevision: rev };
      return { result: { ok: true, prev: prevKv, revision: rev }, event: { type: 'delete', kv, prevKv } };
    });
  }

  /**
   * Group commit: writes issued in the same event-loop turn (every request whose bytes arrived in one
   * poll phase) share one transaction, applied in call order; the commit runs in the check phase
   * (setImmediate) right after. Each request is handled in its own I/O callback, so committing in a
   * microtask would give every request its own transaction. A write is acknowledged only after its
   * transaction committed.
   */
  private enqueue<R>(run: () => Written<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (r: unknown) => void, reject });
      if (this.queue.length === 1) setImmediate(() => this.commitQueue());
    });
  }

  private commitQueue(): void {
    const ops = this.queue;
    this.queue = [];
    if (ops.length === 0) return;
    if (this.closed) {
      for (const op of ops) op.reject(new BackendUnavailableError('the sqlite backend is closed'));
      return;
    }
    let written: Written<unknown>[];
    try {
      written = this.txBatch(ops);
    } catch (err) {
      this.nextRev = this.rev; // rolled back
      if (ops.length === 1) {
        ops[0]!.reject(err);
        return;
      }
      // One failing write must not fail the others: redo them one transaction each.
      for (const op of ops) {
        try {
          this.settle(op, this.txSingle(op));
        } catch (e) {
          this.nextRev = this.rev;
          op.reject(e);
        }
      }
      return;
    }
    for (let i = 0; i < ops.length; i++) this.settle(ops[i]!, written[i]!);
  }

  /** After a commit: advance the revision, tell watchers, acknowledge. */
  private settle(op: PendingWrite, w: Written<unknown>): void {
    if (w.event) {
      this.rev = w.event.kv.modRevision;
      this.publish(w.event);
    }
    op.resolve(w.result);
  }

  async compact(revision: number): Promise<void> {
    this.check();
    if (revision > this.rev) throw new FutureRevisionError(revision, this.rev);
    // In chunks, each its own transaction and itself a valid compaction, yielding in between.
    while (this.compactRev < revision && !this.closed) {
      this.txCompactChunk(Math.min(revision, this.compactRev + COMPACT_CHUNK));
      if (this.compactRev < revision) await new Promise((r) => setImmediate(r));
    }
  }

  watch(prefix: string, opts: WatchOptions): Watch {
    this.check();
    const w = new SqliteWatch(this, prefix, opts);
    this.watches.add(w);
    // Catch up from the log asynchronously: the caller gets its handle before any callback runs.
    setImmediate(() => this.catchUp(w));
    return w;
  }

  /** Feed a watch from the log in chunks until it reaches the latest revision, then switch it to live. */
  private catchUp(w: SqliteWatch): void {
    if (w.closed || this.closed) return;
    if (w.delivered < this.compactRev) {
      w.fail(new CompactedError(w.delivered + 1, this.compactRev));
      return;
    }
    const latest = this.rev;
    if (w.delivered >= latest) {
      w.catchingUp = false; // pending live events at or below `delivered` are filtered out by flush()
      return;
    }
    // A bounded revision window keeps each synchronous read short even when few rows match the prefix.
    const windowEnd = Math.min(latest, w.delivered + REPLAY_WINDOW);
    const rows = this.st.replay.all({
      after: w.delivered,
      upTo: windowEnd,
      start: w.prefix,
      end: prefixEnd(w.prefix),
      limit: REPLAY_CHUNK,
    }) as LogRow[];
    w.deliver(rows.map(logRowToEvent));
    if (w.closed) return;
    // A short read covered the whole window, matching or not.
    if (rows.length < REPLAY_CHUNK) w.delivered = windowEnd;
    if (w.delivered >= latest) w.catchingUp = false;
    else setImmediate(() => this.catchUp(w));
  }

  /** @internal */
  detach(w: SqliteWatch): void {
    this.watches.delete(w);
  }

  private publish(ev: WatchEvent): void {
    if (this.watches.size === 0) return;
    this.pending.push(ev);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const events = this.pending;
    this.pending = [];
    for (const w of [...this.watches]) {
      if (w.catchingUp || w.closed) continue;
      const mine = events.filter((e) => e.kv.modRevision > w.delivered && e.kv.key.startsWith(w.prefix));
      w.deliver(mine);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.commitQueue(); // writes already issued still land
    this.closed = true;
    for (const w of [...this.watches]) w.close();
    this.pending = [];
    const cp = this.checkpointer;
    if (cp) {
      // Stop the checkpointer first: the last connection to close folds the WAL back into the file.
      const exited = new Promise((r) => cp.once('exit', r));
      cp.ref(); // keep the process alive until it has exited
      cp.postMessage('close');
      await exited;
    }
    this.db.close();
  }
}
