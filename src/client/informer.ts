import { ApiError, RestClient, resourcePath } from './rest.js';

export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface EventHandlers<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

/** "ns/name" or "name": the key controllers queue. */
export function keyOf(obj: { metadata?: { namespace?: string; name?: string } }): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : `${m.name}`;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * List-then-watch mirror of one resource, as client-go's shared informer: handlers see every change
 * in order; a watch that expires (410) re-lists and emits the difference. Cached objects are shared
 * with every reader: treat them as read-only.
 */
export class Informer<T extends { metadata?: any } = any> {
  private readonly store = new Map<string, T>();
  private readonly handlers: EventHandlers<T>[] = [];
  private rv = '';
  private abort?: AbortController;
  private stopped = false;
  private synced = false;
  private syncWaiters: (() => void)[] = [];

  constructor(
    private readonly client: RestClient,
    readonly ref: ResourceRef,
  ) {}

  addHandlers(h: EventHandlers<T>): void {
    this.handlers.push(h);
    // A late handler still sees the current state, as client-go's AddEventHandler does.
    if (this.synced) for (const o of this.store.values()) h.add?.(o);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  get size(): number {
    return this.store.size;
  }

  get resourceVersion(): string {
    return this.rv;
  }

  /** Starts the loop; resolves once the first list has been delivered. */
  start(): Promise<void> {
    void this.run();
    return this.waitForSync();
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((r) => this.syncWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private get path(): string {
    const r = this.ref;
    return resourcePath(r.group, r.version, r.resource, r.namespace);
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (!this.stopped) {
      try {
        if (!this.rv) await this.relist();
        backoff = 100;
        await this.watchOnce();
      } catch (e) {
        if (this.stopped) return;
        if (e instanceof ApiError && e.status === 410) {
          this.rv = '';
          continue;
        }
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  private async relist(): Promise<void> {
    const seen = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page: any = await this.client.get(this.path, { limit: 500, continue: cont, labelSelector: this.ref.labelSelector, fieldSelector: this.ref.fieldSelector });
      for (const o of page.items ?? []) seen.set(keyOf(o), o);
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (cont);
    for (const [k, old] of this.store) {
      if (!seen.has(k)) {
        this.store.delete(k);
        for (const h of this.handlers) h.delete?.(old);
      }
    }
    for (const [k, o] of seen) {
      const old = this.store.get(k);
      this.store.set(k, o);
      if (!old) for (const h of this.handlers) h.add?.(o);
      else if (old.metadata?.resourceVersion !== o.metadata?.resourceVersion) for (const h of this.handlers) h.update?.(old, o);
    }
    this.rv = rv;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters) w();
      this.syncWaiters = [];
    }
  }

  private async watchOnce(): Promise<void> {
    this.abort = new AbortController();
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    await this.client.watch(
      this.path,
      { resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds, labelSelector: this.ref.labelSelector, fieldSelector: this.ref.fieldSelector },
      (ev) => this.apply(ev),
      this.abort.signal,
    );
  }

  private apply(ev: { type: string; object: any }): void {
    if (ev.type === 'ERROR') {
      const s = ev.object;
      throw new ApiError(s?.code ?? 500, s?.reason ?? '', s?.message ?? 'watch error', s);
    }
    const o = ev.object as T;
    const rv = o?.metadata?.resourceVersion;
    if (rv) this.rv = rv;
    if (ev.type === 'BOOKMARK') return;
    const k = keyOf(o);
    const old = this.store.get(k);
    if (ev.type === 'DELETED') {
      this.store.delete(k);
      for (const h of this.handlers) h.delete?.(o);
    } else {
      this.store.set(k, o);
      if (old) for (const h of this.handlers) h.update?.(old, o);
      else for (const h of this.handlers) h.add?.(o);
    }
  }
}
