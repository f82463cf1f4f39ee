/**
 * etcd backend: the contract maps almost one-to-one onto etcd's KV API. Guarded writes are txns
 * (compare → put/delete, else range); watches run on one gRPC stream of our own so we see
 * etcd's compact_revision, choose watch ids, and resume after a broken stream without gaps.
 *
 * We use the etcd3 package's low-level RPC wrappers (client.kv, client.watchClient): its builders hide
 * response headers (revisions), and its Watcher drops compact_revision when etcd cancels a watch.
 */
import etcd3 from 'etcd3';
import type { IKeyValue, IRangeResponse, ITxnRequest, IWatchResponse, IWatchRequest } from 'etcd3';
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

/** etcd compare enums (rpc.proto): target CREATE=1, MOD=2; result EQUAL=0, GREATER=1. */
const TARGET_CREATE = 1;
const TARGET_MOD = 2;
const RESULT_EQUAL = 0;
const RESULT_GREATER = 1;

/** Unary calls give up after this long instead of hanging on a partitioned etcd. */
const CALL_DEADLINE_MS = 30_000;
/** Watch stream reconnect: backoff base/cap, and consecutive failures before watches are failed. */
const RECONNECT_BASE_MS = 50;
const RECONNECT_CAP_MS = 2000;
const RECONNECT_ATTEMPTS = 12;

/** Smallest byte string greater than every string starting with `prefix`; [0] means "no end". */
function rangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

const isCompacted = (err: unknown) => err instanceof Error && err.message.includes('required revision has been compacted');
const isFuture = (err: unknown) => err instanceof Error && err.message.includes('required revision is a future revision');

interface StreamLike {
  write(req: IWatchRequest): unknown;
  on(event: 'data', fn: (res: IWatchResponse) => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  on(event: 'end', fn: () => void): unknown;
  cancel(): void;
}

class EtcdWatch extends WatchHandle {
  constructor(
    private readonly hub: WatchHub,
    readonly id: number,
    readonly key: Buffer,
    readonly end: Buffer,
    delivered: number,
    opts: WatchOptions,
  ) {
    super(delivered, opts);
  }

  protected detach(): void {
    this.hub.remove(this);
  }
}

/** Multiplexes all watches of one backend over a single etcd watch stream. */
class WatchHub {
  private stream?: StreamLike;
  private connecting = false;
  private closed = false;
  private failures = 0;
  private nextId = 1;
  private readonly watches = new Map<string, EtcdWatch>();

  constructor(
    private readonly client: InstanceType<typeof etcd3.Etcd3>,
    private readonly toKv: (kv: IKeyValue) => KeyValue,
  ) {}

  add(key: Buffer, end: Buffer, opts: WatchOptions): EtcdWatch {
    const w = new EtcdWatch(this, this.nextId++, key, end, opts.afterRevision, opts);
    this.watches.set(String(w.id), w);
    if (this.stream) this.sendCreate(this.stream, w);
    else this.connect();
    return w;
  }

  remove(w: EtcdWatch): void {
    if (!this.watches.delete(String(w.id))) return;
    // The stream is ordered, so etcd has seen the create before this cancel.
    if (this.stream) this.stream.write({ cancel_request: { watch_id: w.id } });
  }

  private sendCreate(stream: StreamLike, w: EtcdWatch): void {
    stream.write({
      create_request: {
        key: w.key,
        range_end: w.end,
        start_revision: w.delivered + 1,
        prev_kv: true,
        // Periodic progress lets an idle watch advance its resume point past other prefixes' writes.
        progress_notify: true,
        watch_id: w.id,
      },
    });
  }

  private connect(): void {
    if (this.connecting || this.stream || this.closed) return;
    this.connecting = true;
    this.client.watchClient.watch().then(
      (s) => {
        this.connecting = false;
        const stream = s as unknown as StreamLike;
        if (this.closed) {
          stream.on('error', () => {});
          stream.cancel();
          return;
        }
        this.stream = stream;
        stream.on('data', (res) => {
          if (this.stream !== stream) return; // a replaced stream's leftovers; the new one resumes
          this.failures = 0;
          this.handle(res);
        });
        stream.on('error', (err) => this.down(stream, err));
        stream.on('end', () => this.down(stream, new Error('etcd closed the watch stream')));
        for (const w of this.watches.values()) this.sendCreate(stream, w);
      },
      (err: unknown) => {
        this.connecting = false;
        this.retry(err);
      },
    );
  }

  /** The stream broke: resume every watch from what it last delivered on a new stream. */
  private down(stream: StreamLike, err: unknown): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    try {
      stream.cancel();
    } catch {
      // already gone
    }
    if (!this.closed) this.retry(err);
  }

  private retry(err: unknown): void {
    if (this.closed || this.watches.size === 0) return;
    this.failures++;
    if (this.failures > RECONNECT_ATTEMPTS) {
      this.failures = 0;
      const e = new BackendUnavailableError(`etcd watch stream failed: ${(err as Error)?.message ?? err}`, {
        cause: err,
      });
      for (const w of [...this.watches.values()]) w.fail(e);
      return;
    }
    const delay = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** (this.failures - 1));
    setTimeout(() => this.connect(), delay).unref();
  }

  private handle(res: IWatchResponse): void {
    const w = this.watches.get(res.watch_id);
    if (!w) return; // closed already, or the answer to our own cancel
    const compacted = Number(res.compact_revision);
    if (compacted > 0) {
      w.fail(new CompactedError(w.delivered + 1, compacted));
      return;
    }
    if (res.canceled) {
      w.fail(new BackendUnavailableError(`etcd canceled the watch: ${res.cancel_reason || 'no reason given'}`));
      return;
    }
    if (res.events.length > 0) {
      const events: WatchEvent[] = [];
      for (const ev of res.events) {
        const modRevision = Number(ev.kv.mod_revision);
        if (modRevision <= w.delivered) continue; // replayed after a reconnect
        const prevKv = ev.prev_kv ? this.toKv(ev.prev_kv) : undefined;
        if (String(ev.type).toLowerCase() === 'delete' || (ev.type as unknown) === 1) {
          // etcd's delete event carries only key and revision; the contract wants the deleted value.
          const kv: KeyValue = {
            key: this.toKv(ev.kv).key,
            value: prevKv?.value ?? '',
            createRevision: prevKv?.createRevision ?? 0,
            modRevision,
          };
          events.push(prevKv ? { type: 'delete', kv, prevKv } : { type: 'delete', kv });
        } else {
          const kv = this.toKv(ev.kv);
          events.push(prevKv ? { type: 'put', kv, prevKv } : { type: 'put', kv });
        }
      }
      w.deliver(events);
    } else if (!res.created) {
      // A progress notification: nothing for this watch up to the header revision.
      w.delivered = Math.max(w.delivered, Number(res.header.revision));
    }
  }

  close(): void {
    this.closed = true;
    for (const w of [...this.watches.values()]) w.close();
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      s.on('error', () => {}); // cancelling surfaces as a CANCELLED error
      s.cancel();
    }
  }
}

export interface EtcdBackendOptions {
  /** Prepended to every key, so several clusters or tests can share one etcd. */
  prefix?: string;
}

export class EtcdBackend implements Backend {
  readonly name = 'etcd';
  private readonly client: InstanceType<typeof etcd3.Etcd3>;
  private readonly prefix: Buffer;
  private readonly hub: WatchHub;
  private closed = false;
  /** Highest compact revision this client has seen (etcd's range errors do not say). */
  private knownCompacted = 0;

  /** Connect and check that etcd answers. */
  static async connect(endpoints: string[], opts: EtcdBackendOptions = {}): Promise<EtcdBackend> {
    if (endpoints.length === 0) throw new SkiffError('STORAGE_BAD_ENDPOINTS', 'no etcd endpoints given');
    const b = new EtcdBackend(endpoints, opts.prefix ?? '');
    try {
      await b.currentRevision();
    } catch (err) {
      await b.close();
      throw new BackendUnavailableError(
        `cannot reach etcd at ${endpoints.join(',')}: ${(err as Error).message}; is etcd running there?`,
        { cause: err },
      );
    }
    return b;
  }

  private constructor(endpoints: string[], prefix: string) {
    this.prefix = Buffer.from(prefix);
    this.client = new etcd3.Etcd3({
      hosts: endpoints,
      // Large lists (10k pods is ~7 MB) exceed gRPC's 4 MB default; etcd itself caps requests, not responses.
      grpcOptions: { 'grpc.max_receive_message_length': 512 * 1024 * 1024 },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + CALL_DEADLINE_MS }),
    });
    this.hub = new WatchHub(this.client, (kv) => this.toKv(kv));
  }

  private keyBuf(key: string): Buffer {
    return this.prefix.length ? Buffer.concat([this.prefix, Buffer.from(key)]) : Buffer.from(key);
  }

  /** [key, range_end) of every key under `prefix`. etcd rejects an empty key, so "" becomes "\0". */
  private range(prefix: string): { key: Buffer; end: Buffer } {
    const p = this.keyBuf(prefix);
    return { key: p.length ? p : Buffer.from([0]), end: rangeEnd(p) };
  }

  private toKv(kv: IKeyValue): KeyValue {
    return {
      key: kv.key.subarray(this.prefix.length).toString('utf8'),
      value: kv.value.toString('utf8'),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }

  private check(): void {
    if (this.closed) throw new BackendUnavailableError('the etcd backend is closed');
  }

  /** Translate etcd/gRPC failures into the storage errors callers understand. */
  private async fail(err: unknown, revision?: number): Promise<never> {
    if (isCompacted(err)) {
      const requested = revision ?? 0;
      throw new CompactedError(requested, Math.max(this.knownCompacted, requested + 1), { cause: err });
    }
    if (isFuture(err)) {
      let current = (revision ?? 1) - 1;
      try {
        current = Number((await this.client.kv.range({ key: Buffer.from([0]), count_only: true })).header.revision);
      } catch {
        // keep the lower bound
      }
      throw new FutureRevisionError(revision ?? 0, current);
    }
    if (err instanceof SkiffError) throw err;
    const name = (err as Error)?.constructor?.name ?? '';
    if (
      err instanceof etcd3.GRPCGenericError ||
      err instanceof etcd3.EtcdError ||
      err instanceof etcd3.ClientClosedError ||
      err instanceof etcd3.ClientRuntimeError ||
      /Circuit|TaskCancelled/.test(name)
    ) {
      throw new BackendUnavailableError(`etcd request failed: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }

  async currentRevision(): Promise<number> {
    this.check();
    try {
      const res = await this.client.kv.range({ key: this.range('').key, count_only: true, limit: 1 });
      return Number(res.header.revision);
    } catch (err) {
      return this.fail(err);
    }
  }

  async get(key: string, opts?: { revision?: number }): Promise<GetResult> {
    this.check();
    const revision = opts?.revision && opts.revision > 0 ? opts.revision : 0;
    let res: IRangeResponse;
    try {
      res = await this.client.kv.range({ key: this.keyBuf(key), revision });
    } catch (err) {
      return this.fail(err, revision);
    }
    const kv = res.kvs[0];
    return { kv: kv ? this.toKv(kv) : undefined, revision: revision || Number(res.header.revision) };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.check();
    const revision = opts.revision && opts.revision > 0 ? opts.revision : 0;
    const { key, end } = this.range(prefix);
    let start = key;
    if (opts.startKey !== undefined && opts.startKey !== '') {
      if (!opts.startKey.startsWith(prefix)) {
        throw new SkiffError('STORAGE_INVALID_ARGUMENT', `list startKey "${opts.startKey}" must start with the prefix "${prefix}"`);
      }
      start = this.keyBuf(opts.startKey);
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    let res: IRangeResponse;
    try {
      res = await this.client.kv.range({ key: start, range_end: end, limit, revision });
    } catch (err) {
      return this.fail(err, revision);
    }
    return {
      kvs: res.kvs.map((kv) => this.toKv(kv)),
      revision: revision || Number(res.header.revision),
      more: Boolean(res.more),
    };
  }

  async count(prefix: string): Promise<number> {
    this.check();
    const { key, end } = this.range(prefix);
    try {
      return Number((await this.client.kv.range({ key, range_end: end, count_only: true })).count);
    } catch (err) {
      return this.fail(err);
    }
  }

  private async txn(req: ITxnRequest) {
    try {
      return await this.client.kv.txn(req);
    } catch (err) {
      return this.fail(err);
    }
  }

  /** The key's state from a failed txn's range response. */
  private current(res: { responses: Array<{ response_range?: IRangeResponse }> }): KeyValue | undefined {
    const kv = res.responses[0]?.response_range?.kvs[0];
    return kv ? this.toKv(kv) : undefined;
  }

  async create(key: string, value: string): Promise<WriteResult> {
    this.check();
    const k = this.keyBuf(key);
    const res = await this.txn({
      compare: [{ key: k, target: TARGET_CREATE, result: RESULT_EQUAL, create_revision: 0 }],
      success: [{ request_put: { key: k, value: Buffer.from(value) } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) return { ok: false, current: this.current(res) };
    const rev = Number(res.header.revision);
    return { ok: true, kv: { key, value, createRevision: rev, modRevision: rev }, revision: rev };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<WriteResult> {
    this.check();
    // mod_revision == 0 would match a missing key and create it; no existing key has revision 0.
    if (!(expectedModRevision > 0)) return { ok: false, current: (await this.get(key)).kv };
    const k = this.keyBuf(key);
    const res = await this.txn({
      compare: [{ key: k, target: TARGET_MOD, result: RESULT_EQUAL, mod_revision: expectedModRevision }],
      success: [{ request_put: { key: k, value: Buffer.from(value), prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) return { ok: false, current: this.current(res) };
    const rev = Number(res.header.revision);
    const prev = res.responses[0]?.response_put?.prev_kv;
    const createRevision = prev ? Number(prev.create_revision) : rev;
    return { ok: true, kv: { key, value, createRevision, modRevision: rev }, revision: rev };
  }

  async delete(key: string, expectedModRevision?: number): Promise<DeleteResult> {
    this.check();
    const k = this.keyBuf(key);
    const guard =
      expectedModRevision === undefined
        ? { key: k, target: TARGET_CREATE, result: RESULT_GREATER, create_revision: 0 } // exists
        : { key: k, target: TARGET_MOD, result: RESULT_EQUAL, mod_revision: expectedModRevision };
    const res = await this.txn({
      compare: [guard],
      success: [{ request_delete_range: { key: k, prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) return { ok: false, current: this.current(res) };
    const prev = res.responses[0]?.response_delete_range?.prev_kvs[0];
    if (!prev) return { ok: false, current: undefined };
    return { ok: true, prev: this.toKv(prev), revision: Number(res.header.revision) };
  }

  watch(prefix: string, opts: WatchOptions): Watch {
    this.check();
    const { key, end } = this.range(prefix);
    return this.hub.add(key, end, {
      ...opts,
      onError: (err) => {
        if (err instanceof CompactedError) this.knownCompacted = Math.max(this.knownCompacted, err.compacted);
        opts.onError(err);
      },
    });
  }

  async compact(revision: number): Promise<void> {
    this.check();
    if (!(revision > 0)) return;
    try {
      // Not physical: etcd refuses compacted revisions as soon as this returns; space is freed in the background.
      await this.client.kv.compact({ revision });
      this.knownCompacted = Math.max(this.knownCompacted, revision);
    } catch (err) {
      if (isCompacted(err)) return; // already compacted at or beyond: nothing to do
      return this.fail(err, revision);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.close();
    this.client.close();
  }
}
