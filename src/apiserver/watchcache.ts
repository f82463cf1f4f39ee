import { isDeepStrictEqual } from 'node:util';
import type { Backend, KeyValue, Watch, WatchEvent } from '../storage/backend.js';
import { CompactedError } from '../storage/errors.js';

/**
 * SKIFF_VERIFY_CACHE_HINTS=1 (the test suite sets it): every object the registry hands the cache
 * is compared with what parsing the stored value gives, and a difference is reported.
 */
const VERIFY_HINTS = process.env.SKIFF_VERIFY_CACHE_HINTS === '1';
let mismatches = 0;

/** How many written objects differed from their stored JSON in this process (with SKIFF_VERIFY_CACHE_HINTS=1). */
export function cacheHintMismatches(): number {
  return mismatches;
}

/**
 * One object as the cache holds it. `obj` is shared by every reader and must be treated as read-only;
 * `raw` is its JSON with metadata.resourceVersion filled in, so lists and watches send it without
 * serialising again.
 */
export interface CachedObject {
  readonly key: string;
  readonly obj: any;
  readonly raw: string;
  readonly rv: number;
}

export interface CacheEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  rv: number;
  /** Storage key of the resource ("pods", "apps/deployments"). */
  storageKey: string;
  /** New state (ADDED/MODIFIED) or the last state stamped with the delete's revision (DELETED). */
  object: CachedObject;
  /** State before the event, if any. */
  prev?: CachedObject;
}

export interface CacheListener {
  event(ev: CacheEvent): void;
  /** The cache lost its history and reloaded: the watcher must end with 410 so its client re-lists. */
  reset(): void;
}

export const REGISTRY_PREFIX = '/registry/';

/**
 * An in-memory mirror of everything under /registry/, fed by a single backend watch, as the
 * kube-apiserver watch cache: lists and watches are served from memory, the backend sees one watch.
 */
export class WatchCache {
  private readonly byResource = new Map<string, Map<string, CachedObject>>();
  private readonly listeners = new Map<string, Set<CacheListener>>();
  private history: CacheEvent[] = [];
  private historyHead = 0;
  /** Events with rv > historyStart are all in `history`. */
  private historyStart = 0;
  private rev = 0;
  private watch?: Watch;
  private waiters: { rv: number; resolve(): void }[] = [];
  private failed?: Error;
  private storageKeys: Set<string>;
  /** Objects the registry is storing right now, by key, with the JSON it stores (see expectWrite). */
  private readonly writing = new Map<string, { value: string; obj: any }>();

  constructor(
    private readonly backend: Backend,
    storageKeys: Iterable<string>,
    private readonly historyLimit = 50_000,
  ) {
    this.storageKeys = new Set(storageKeys);
  }

  get revision(): number {
    return this.rev;
  }

  /** Load everything and start following the backend. */
  async start(): Promise<void> {
    // Load into fresh maps and swap them in at once, so readers never see a half-loaded cache.
    const loaded = new Map<string, Map<string, CachedObject>>();
    let startKey: string | undefined;
    let revision = 0;
    for (;;) {
      const page = await this.backend.list(REGISTRY_PREFIX, { limit: 2000, startKey, revision });
      revision = page.revision;
      for (const kv of page.kvs) {
        const sk = this.storageKeyOf(kv.key);
        if (!sk) continue;
        let m = loaded.get(sk);
        if (!m) loaded.set(sk, (m = new Map()));
        m.set(kv.key, toCached(kv));
      }
      if (!page.more || page.kvs.length === 0) break;
      startKey = page.kvs[page.kvs.length - 1].key + '\0';
    }
    this.byResource.clear();
    for (const [k, v] of loaded) this.byResource.set(k, v);
    this.history = [];
    this.historyHead = 0;
    this.rev = revision;
    this.historyStart = revision;
    this.follow(revision);
  }

  private follow(after: number): void {
    this.watch = this.backend.watch(REGISTRY_PREFIX, {
      afterRevision: after,
      onEvents: (events) => this.apply(events),
      onError: (err) => {
        // The history we follow is gone (or the backend failed): reload, and tell every watcher to
        // re-list with an in-stream 410, as upstream does when its cache reinitialises.
        this.failed = err;
        void this.restart();
      },
    });
  }

  private async restart(): Promise<void> {
    this.watch?.close();
    this.watch = undefined;
    for (;;) {
      try {
        await this.start();
        this.failed = undefined;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    for (const set of this.listeners.values()) for (const l of [...set]) l.reset();
  }

  stop(): void {
    this.watch?.close();
    this.watch = undefined;
  }

  private apply(events: WatchEvent[]): void {
    for (const ev of events) {
      const rv = ev.kv.modRevision;
      if (rv <= this.rev) continue;
      this.rev = rv;
      const sk = this.storageKeyOf(ev.kv.key);
      if (!sk) continue;
      const map = this.mapFor(sk);
      const prev = map.get(ev.kv.key);
      let cev: CacheEvent;
      if (ev.type === 'put') {
        const w = this.writing.get(ev.kv.key);
        const cur = w !== undefined && w.value === ev.kv.value ? this.adopt(ev.kv, w.obj) : toCached(ev.kv);
        map.set(ev.kv.key, cur);
        cev = { type: prev ? 'MODIFIED' : 'ADDED', rv, storageKey: sk, object: cur, prev };
      } else {
        map.delete(ev.kv.key);
        const last = prev ?? (ev.prevKv ? toCached(ev.prevKv) : toCached(ev.kv));
        cev = { type: 'DELETED', rv, storageKey: sk, object: restamp(last, rv), prev: last };
      }
      this.record(cev);
      const ls = this.listeners.get(sk);
      if (ls) for (const l of ls) l.event(cev);
    }
    if (this.waiters.length) {
      const ready = this.waiters.filter((w) => w.rv <= this.rev);
      this.waiters = this.waiters.filter((w) => w.rv > this.rev);
      for (const w of ready) w.resolve();
    }
  }

  /**
   * The registry is about to store `value`, the JSON of `obj`. When the backend's event for that
   * value arrives, the cache takes `obj` rather than parsing what it just serialised: `obj` then
   * belongs to the cache (read-only, shared with every reader), so the writer must hold no other
   * reference through which it could change. Call the returned function once the write settled.
   */
  expectWrite(key: string, value: string, obj: any): () => void {
    const entry = { value, obj };
    this.writing.set(key, entry);
    return () => {
      if (this.writing.get(key) === entry) this.writing.delete(key);
    };
  }

  private adopt(kv: KeyValue, obj: any): CachedObject {
    this.writing.delete(kv.key);
    if (VERIFY_HINTS) {
      const parsed = JSON.parse(kv.value);
      if (!isDeepStrictEqual(obj, parsed)) {
        mismatches++;
        console.error(`watch cache: the object written to ${kv.key} differs from its stored JSON (a registry bug):\n  object: ${JSON.stringify(obj)}\n  keys:   ${JSON.stringify(keysWithUndefined(obj))}\n  stored: ${kv.value}`);
        return fromDecoded(kv, parsed);
      }
    }
    return fromDecoded(kv, obj);
  }

  private record(ev: CacheEvent): void {
    this.history.push(ev);
    if (this.history.length - this.historyHead > this.historyLimit) {
      this.historyStart = this.history[this.historyHead].rv;
      this.historyHead++;
      // Compact the array now and then rather than shifting on every event.
      if (this.historyHead > this.historyLimit / 2) {
        this.history = this.history.slice(this.historyHead);
        this.historyHead = 0;
      }
    }
  }

  /** Resolve once the cache has seen revision `rv` (or reject after `timeoutMs`). */
  waitFor(rv: number, timeoutMs = 3000): Promise<void> {
    if (rv <= this.rev) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`Too large resource version: ${rv}, current: ${this.rev}`));
      }, timeoutMs);
      const waiter = {
        rv,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Wait until the cache reflects every write acknowledged so far (a consistent read). */
  async sync(): Promise<void> {
    await this.waitFor(await this.backend.currentRevision());
  }

  get(key: string): CachedObject | undefined {
    const sk = this.storageKeyOf(key);
    return sk ? this.byResource.get(sk)?.get(key) : undefined;
  }

  /** All objects of a resource whose key starts with prefix, in key order. */
  list(storageKey: string, prefix: string): CachedObject[] {
    const map = this.byResource.get(storageKey);
    if (!map) return [];
    const out: CachedObject[] = [];
    for (const [k, v] of map) if (k.startsWith(prefix)) out.push(v);
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  count(storageKey: string): number {
    return this.byResource.get(storageKey)?.size ?? 0;
  }

  /**
   * Events of a resource with rv > after, or CompactedError when the cache no longer has them all
   * (the client must re-list).
   */
  eventsSince(storageKey: string, after: number): CacheEvent[] {
    if (after < this.historyStart) throw new CompactedError(after, this.historyStart);
    const out: CacheEvent[] = [];
    // History is sorted by rv: binary-search the first event after `after`.
    let lo = this.historyHead;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid].rv <= after) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.history.length; i++) if (this.history[i].storageKey === storageKey) out.push(this.history[i]);
    return out;
  }

  /** Oldest revision from which a watch can still be started. */
  get oldestWatchableRevision(): number {
    return this.historyStart;
  }

  subscribe(storageKey: string, l: CacheListener): () => void {
    let set = this.listeners.get(storageKey);
    if (!set) this.listeners.set(storageKey, (set = new Set()));
    set.add(l);
    return () => set!.delete(l);
  }

  private mapFor(sk: string): Map<string, CachedObject> {
    let m = this.byResource.get(sk);
    if (!m) this.byResource.set(sk, (m = new Map()));
    return m;
  }

  /** "/registry/apps/deployments/ns/x" → "apps/deployments"; "/registry/pods/ns/x" → "pods". */
  storageKeyOf(key: string): string | undefined {
    const rest = key.slice(REGISTRY_PREFIX.length);
    const i = rest.indexOf('/');
    if (i < 0) return undefined;
    const first = rest.slice(0, i);
    if (this.storageKeys.has(first)) return first;
    const j = rest.indexOf('/', i + 1);
    const two = j < 0 ? rest : rest.slice(0, j);
    if (this.storageKeys.has(two)) return two;
    // Custom resources live under "<group>/<plural>", and every CRD group has a dot.
    return j > 0 && first.includes('.') ? two : undefined;
  }

  get lastError(): Error | undefined {
    return this.failed;
  }
}

export function toCached(kv: KeyValue): CachedObject {
  return fromDecoded(kv, JSON.parse(kv.value));
}

/** A stored value whose decoded form is `obj` (which becomes the cached object) → the cache's entry. */
function fromDecoded(kv: KeyValue, obj: any): CachedObject {
  const rv = String(kv.modRevision);
  const raw = stampRaw(kv.value, obj, rv);
  obj.metadata ??= {};
  obj.metadata.resourceVersion = rv;
  return { key: kv.key, obj, raw: raw ?? JSON.stringify(obj), rv: kv.modRevision };
}

/** Paths of properties whose value is undefined (JSON drops them; a parsed object has none). */
function keysWithUndefined(v: unknown, path = '', out: string[] = []): string[] {
  if (v === null || typeof v !== 'object') return out;
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) out.push(`${path}.${k}`);
    else keysWithUndefined(x, `${path}.${k}`, out);
  }
  return out;
}

/**
 * The stored JSON with metadata.resourceVersion spliced in, without serialising the object again:
 * possible when the value starts with apiVersion, kind and metadata (the order the registry writes)
 * and carries no resourceVersion of its own. `obj` is the parsed value, which proves the prefix is
 * the top level's. Undefined when the value has another shape.
 */
export function stampRaw(value: string, obj: any, rv: string): string | undefined {
  if (obj === null || typeof obj !== 'object') return undefined;
  const meta = obj.metadata;
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || meta === null || typeof meta !== 'object' || Array.isArray(meta) || 'resourceVersion' in meta) return undefined;
  const prefix = `{"apiVersion":${JSON.stringify(obj.apiVersion)},"kind":${JSON.stringify(obj.kind)},"metadata":{`;
  if (!value.startsWith(prefix)) return undefined;
  const rest = value.slice(prefix.length);
  return `${prefix}"resourceVersion":"${rv}"${rest.startsWith('}') ? '' : ','}${rest}`;
}

/** An object to store, with apiVersion, kind and metadata first (so the watch cache can stamp its JSON cheaply). */
export function storageOrder(obj: any): any {
  const { apiVersion, kind, metadata, ...rest } = obj;
  return { apiVersion, kind, metadata, ...rest };
}

function restamp(c: CachedObject, rv: number): CachedObject {
  const obj = { ...c.obj, metadata: { ...c.obj.metadata, resourceVersion: String(rv) } };
  return { key: c.key, obj, raw: restampRaw(c, String(rv)) ?? JSON.stringify(obj), rv };
}

/**
 * The cached JSON with its resourceVersion replaced, when it sits where stampRaw put it (first in
 * the top-level metadata): a deletion event then costs no serialisation of the whole object.
 */
export function restampRaw(c: CachedObject, rv: string): string | undefined {
  const o = c.obj;
  if (typeof o?.apiVersion !== 'string' || typeof o.kind !== 'string') return undefined;
  const head = `{"apiVersion":${JSON.stringify(o.apiVersion)},"kind":${JSON.stringify(o.kind)},"metadata":{"resourceVersion":`;
  const old = `${head}${JSON.stringify(o.metadata?.resourceVersion)}`;
  if (typeof o.metadata?.resourceVersion !== 'string' || !c.raw.startsWith(old)) return undefined;
  return `${head}"${rv}"${c.raw.slice(old.length)}`;
}
