/**
 * The storage contract every backend implements: a revisioned key-value store with etcd semantics.
 *
 * - One global revision counts every write (create, update, delete); each write gets the next revision.
 * - Values are opaque strings (the API server stores JSON).
 * - Reads may be served "at" an older revision until it is compacted; compacted revisions fail with
 *   {@link CompactedError}.
 * - Watches deliver every change with revision > `afterRevision`, strictly ordered by revision.
 */
export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that created this key (since its last deletion). */
  createRevision: number;
  /** Revision of the last write to this key. */
  modRevision: number;
}

export interface GetResult {
  kv?: KeyValue;
  /** The store's revision the read was served at. */
  revision: number;
}

export interface ListOptions {
  /** Read at this revision (0/undefined: latest). Fails with CompactedError if compacted. */
  revision?: number;
  /** At most this many keys (0/undefined: no limit). */
  limit?: number;
  /** Continue from this key (inclusive), which must start with the prefix. */
  startKey?: string;
}

export interface ListResult {
  /** Keys in ascending byte order. */
  kvs: KeyValue[];
  /** The revision the list was served at (pass it back to page consistently). */
  revision: number;
  /** True when keys remain after the last one returned. */
  more: boolean;
}

export type WriteResult =
  | { ok: true; kv: KeyValue; revision: number }
  /** The precondition failed; `current` is the key's present state (absent if it does not exist). */
  | { ok: false; current?: KeyValue };

export type DeleteResult =
  | { ok: true; prev: KeyValue; revision: number }
  | { ok: false; current?: KeyValue };

export interface WatchEvent {
  type: 'put' | 'delete';
  /** For 'put': the new state. For 'delete': key, the deleted value, and modRevision = the delete's revision. */
  kv: KeyValue;
  /** The state before this event, when there was one. */
  prevKv?: KeyValue;
}

export interface WatchOptions {
  /** Deliver events with revision strictly greater than this. */
  afterRevision: number;
  /** Called with batches of events, in revision order. Never called after close(). */
  onEvents(events: WatchEvent[]): void;
  /** Called once when the watch can no longer continue (e.g. CompactedError); the watch is then closed. */
  onError(err: Error): void;
}

export interface Watch {
  close(): void;
}

export interface Backend {
  /** A short name, e.g. "sqlite" or "etcd". */
  readonly name: string;
  /** The revision of the latest write (0 in an empty store). */
  currentRevision(): Promise<number>;
  get(key: string, opts?: { revision?: number }): Promise<GetResult>;
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Number of keys under prefix at the latest revision. */
  count(prefix: string): Promise<number>;
  /** Create only if the key does not exist. */
  create(key: string, value: string): Promise<WriteResult>;
  /** Replace the value only if the key's modRevision equals expectedModRevision. */
  update(key: string, value: string, expectedModRevision: number): Promise<WriteResult>;
  /** Delete, if expectedModRevision is given only when it matches. */
  delete(key: string, expectedModRevision?: number): Promise<DeleteResult>;
  watch(prefix: string, opts: WatchOptions): Watch;
  /** Drop history at and below `revision` (the latest value of every live key is kept). */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}
