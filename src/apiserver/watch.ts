import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceInfo } from './resources.js';
import type { Filter, Registry } from './registry.js';
import { parseRV } from './registry.js';
import type { CacheEvent, CachedObject } from './watchcache.js';
import { CompactedError } from '../storage/errors.js';
import { StatusError } from './status.js';
import { toTable, partialObjectMetadata, type ResponseForm } from './table.js';

export interface WatchParams {
  resourceVersion?: string;
  allowWatchBookmarks: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
  form: ResponseForm;
  includeObject?: string;
}

/** Bookmarks keep idle informers' resourceVersion fresh, as upstream (which sends about one a minute). */
const BOOKMARK_INTERVAL_MS = 30_000;
/** A watcher this far behind is cut off; its client re-lists (as upstream drops slow watchers). */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

/**
 * The encoded event for plain-object watchers, built once per (object, event type, resource) and
 * shared by every watcher it goes to: fanning one change out to a thousand watchers costs one
 * serialisation, not a thousand.
 */
const chunks = new WeakMap<CachedObject, Map<string, Buffer>>();
function sharedChunk(type: string, c: CachedObject, resourceKey: string, raw: () => string): Buffer {
  let m = chunks.get(c);
  if (!m) chunks.set(c, (m = new Map()));
  const k = `${type} ${resourceKey}`;
  let b = m.get(k);
  if (!b) m.set(k, (b = Buffer.from(`{"type":"${type}","object":${raw()}}\n`)));
  return b;
}

/**
 * Serves one watch from the watch cache: the initial state (synthetic ADDED) when asked for, then
 * every later change that passes the filter, in revision order, as a chunked stream of JSON events.
 */
export async function serveWatch(req: IncomingMessage, res: ServerResponse, reg: Registry, info: ResourceInfo, filter: Filter, p: WatchParams): Promise<void> {
  const cache = reg.cache;
  const rvParam = p.resourceVersion;
  const initial = rvParam === undefined || rvParam === '' || rvParam === '0' || p.sendInitialEvents === true;
  let after = 0;
  if (rvParam && rvParam !== '0') {
    after = parseRV(rvParam);
    if (after > cache.revision) {
      await cache.waitFor(after).catch(() => {
        throw new StatusError(504, 'Timeout', `Too large resource version: ${after}, current: ${cache.revision}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
      });
    }
  } else if (rvParam !== '0') {
    await cache.sync();
  }

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  let first = true;
  let closed = false;
  const encode = (type: string, c: CachedObject): string | Buffer => {
    if (p.form === 'table') {
      const t = toTable(info, [reg.output(info, c)], { includeObject: p.includeObject, columns: first });
      first = false;
      return `{"type":"${type}","object":${JSON.stringify(t)}}\n`;
    }
    if (p.form === 'metadata') return `{"type":"${type}","object":${JSON.stringify(partialObjectMetadata(c.obj))}}\n`;
    return sharedChunk(type, c, info.custom ? info.apiVersion : info.key, () => reg.outputRaw(info, c));
  };
  let corked = false;
  const send = (chunk: string | Buffer) => {
    if (closed) return;
    // Events that arrive together (one commit, the initial snapshot) leave in one TLS write: each
    // write is a syscall and a TLS record, which cost more than encoding the event.
    if (!corked) {
      corked = true;
      res.cork();
      process.nextTick(() => {
        corked = false;
        res.uncork();
      });
    }
    res.write(chunk);
    if (res.writableLength > MAX_BUFFERED_BYTES) finish();
  };
  const sendError = (err: StatusError) => send(`{"type":"ERROR","object":${JSON.stringify(err.toStatus())}}\n`);
  const bookmark = (rv: number, initialEnd = false) => {
    const meta: any = { resourceVersion: String(rv) };
    if (initialEnd) meta.annotations = { 'k8s.io/initial-events-end': 'true' };
    const obj = { kind: info.kind, apiVersion: info.apiVersion, metadata: meta };
    send(`{"type":"BOOKMARK","object":${JSON.stringify(obj)}}\n`);
  };
  const onEvent = (ev: CacheEvent) => {
    const curMatch = ev.type !== 'DELETED' && reg.matches(info, filter, ev.object.obj);
    const prevMatch = ev.prev ? reg.matches(info, filter, ev.prev.obj) : false;
    if (ev.type === 'DELETED') {
      if (prevMatch) send(encode('DELETED', ev.object));
    } else if (curMatch && prevMatch) send(encode('MODIFIED', ev.object));
    else if (curMatch) send(encode('ADDED', ev.object));
    else if (prevMatch) send(encode('DELETED', ev.object));
  };

  // Snapshot and subscription happen in one synchronous step, so no event falls between them.
  let backlog: CacheEvent[] = [];
  let snapshot: CachedObject[] = [];
  const startRev = cache.revision;
  if (initial) {
    snapshot = cache.list(info.storageKey, reg.prefixFor(info, filter.namespace)).filter((c) => reg.matches(info, filter, c.obj));
  } else {
    try {
      backlog = cache.eventsSince(info.storageKey, after);
    } catch (e) {
      if (e instanceof CompactedError) {
        sendError(new StatusError(410, 'Expired', `too old resource version: ${after} (${cache.oldestWatchableRevision})`));
        res.end();
        return;
      }
      throw e;
    }
  }
  const unsubscribe = cache.subscribe(info.storageKey, {
    event: onEvent,
    reset: () => {
      sendError(new StatusError(410, 'Expired', 'the watch cache was reloaded; re-list'));
      finish();
    },
  });
  for (const c of snapshot) send(encode('ADDED', c));
  if (p.sendInitialEvents && p.allowWatchBookmarks) bookmark(startRev, true);
  for (const ev of backlog) onEvent(ev);

  let timeout: NodeJS.Timeout | undefined;
  const ticker = p.allowWatchBookmarks ? setInterval(() => bookmark(cache.revision), BOOKMARK_INTERVAL_MS) : undefined;
  function finish() {
    if (closed) return;
    closed = true;
    unsubscribe();
    if (ticker) clearInterval(ticker);
    if (timeout) clearTimeout(timeout);
    res.end();
  }
  if (p.timeoutSeconds && p.timeoutSeconds > 0) timeout = setTimeout(finish, p.timeoutSeconds * 1000);
  req.on('close', finish);
  res.on('close', finish);
  res.on('error', finish);
}
