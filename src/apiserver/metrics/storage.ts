/**
 * Storage latency as upstream's etcd_request_duration_seconds{operation,type}, measured around the
 * Backend (etcd or SQLite alike). The wrapper adds a clock read on each side of an operation and a
 * few Map lookups (series resolved once per type and operation, see histogram.ts); watches,
 * compaction and close pass straight through.
 */
import { performance } from 'node:perf_hooks';
import type { Backend } from '../../storage/backend.js';
import { Registry } from 'prom-client';
import { HistogramFamily, type HistogramSeries } from './histogram.js';

/** Upstream's buckets for etcd_request_duration_seconds. */
export const STORAGE_DURATION_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];
const OPS = ['get', 'list', 'count', 'create', 'update', 'delete'] as const;
type Op = (typeof OPS)[number];

export class StorageMetrics {
  /** type → one series per operation (index in OPS). */
  private readonly byType = new Map<string, (HistogramSeries | undefined)[]>();
  private readonly family: HistogramFamily;

  /** The family is registered in `registry` (the API server's). */
  constructor(readonly registry: Registry = new Registry()) {
    this.family = new HistogramFamily('etcd_request_duration_seconds', '[ALPHA] Etcd request latency in seconds for each operation and object type.', STORAGE_DURATION_BUCKETS, registry);
  }

  observe(op: Op, type: string, seconds: number): void {
    let hs = this.byType.get(type);
    if (!hs) this.byType.set(type, (hs = []));
    const i = OPS.indexOf(op);
    (hs[i] ??= this.family.child(`${op}\0${type}`, { operation: op, type })).observe(seconds);
  }

  /**
   * The backend with its reads and writes timed. `typeOf` names a key's resource ("pods",
   * "deployments.apps"); keys it does not know count as "other".
   */
  instrument(b: Backend, typeOf: (key: string) => string | undefined): Backend {
    const timed = <T>(op: Op, key: string, run: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      const done = () => this.observe(op, typeOf(key) ?? 'other', (performance.now() - t0) / 1000);
      return run().then(
        (v) => (done(), v),
        (e) => {
          done();
          throw e;
        },
      );
    };
    return {
      get name() {
        return b.name;
      },
      currentRevision: () => b.currentRevision(),
      get: (key, opts) => timed('get', key, () => b.get(key, opts)),
      list: (prefix, opts) => timed('list', prefix, () => b.list(prefix, opts)),
      count: (prefix) => timed('count', prefix, () => b.count(prefix)),
      create: (key, value) => timed('create', key, () => b.create(key, value)),
      update: (key, value, rev) => timed('update', key, () => b.update(key, value, rev)),
      delete: (key, rev) => timed('delete', key, () => b.delete(key, rev)),
      watch: (prefix, opts) => b.watch(prefix, opts),
      compact: (rev) => b.compact(rev),
      close: () => b.close(),
    };
  }
}

/** "apps/deployments" → "deployments.apps", "pods" → "pods": how upstream names resources in metrics. */
export function resourceLabel(storageKey: string): string {
  const i = storageKey.indexOf('/');
  return i < 0 ? storageKey : `${storageKey.slice(i + 1)}.${storageKey.slice(0, i)}`;
}

/** A key's type label from the watch cache's storage key ("/registry/apps/deployments/…" → "deployments.apps"), cached per storage key. */
export function typeOfKey(storageKeyOf: (key: string) => string | undefined): (key: string) => string | undefined {
  const labels = new Map<string, string>();
  return (key) => {
    // A list prefix may lack the trailing slash the storage key lookup needs.
    const sk = storageKeyOf(key.endsWith('/') ? key : key + '/');
    if (sk === undefined) return undefined;
    let l = labels.get(sk);
    if (l === undefined) labels.set(sk, (l = resourceLabel(sk)));
    return l;
  };
}
