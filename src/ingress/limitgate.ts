/**
 * Where limit-rps / limit-rpm / limit-connections are counted. nginx keeps limit_req and
 * limit_conn zones in shared memory, so all workers of one ingress-nginx pod count together. Node
 * workers share no memory, so the primary keeps the counters (`LimitServer`) and each worker asks it
 * (`RemoteGate`), one IPC round trip per request of a limited location only; a lone DataPlane
 * counts itself (`LocalGate`). Splitting the limit (limit/N per worker) would need no round trip,
 * but a client on one keep-alive connection reaches one worker and would get a 1/N share.
 */
import { ConnectionLimiter, RequestLimiter, limitedAddress, takeLimits, type LimitConfig, type LimitCounts } from './annotations/limits.js';

export type LimitVerdict = (ok: boolean, release: () => void) => void;

export interface LimitGate {
  /** Calls `then` once with the verdict (at once when nothing needs counting); `release` when the request ends. */
  check(c: LimitConfig, zone: string, remote: string, then: LimitVerdict): void;
}

const noop = () => undefined;

export class LocalGate implements LimitGate {
  constructor(
    private readonly reqs = new RequestLimiter(),
    private readonly conns = new ConnectionLimiter(),
  ) {}

  check(c: LimitConfig, zone: string, remote: string, then: LimitVerdict): void {
    const addr = limitedAddress(c, remote);
    if (addr === null) return then(true, noop);
    const r = takeLimits(c, zone, addr, this.reqs, this.conns);
    then(r.ok, r.release);
  }
}

/** Worker → primary. */
export type LimitRequest = { type: 'limit'; id: number; counts: LimitCounts; zone: string; addr: string } | { type: 'limit-release'; id: number };
/** Primary → worker. */
export interface LimitReply {
  type: 'limit-verdict';
  id: number;
  ok: boolean;
  /** A connection slot is held until the worker sends limit-release with this id. */
  held: boolean;
}

/** The worker's side: asks the primary through `send`; `onReply` gets the primary's answers. */
export class RemoteGate implements LimitGate {
  private nextId = 0;
  private readonly waiting = new Map<number, LimitVerdict>();

  constructor(private readonly send: (m: LimitRequest) => void) {}

  check(c: LimitConfig, zone: string, remote: string, then: LimitVerdict): void {
    const addr = limitedAddress(c, remote);
    if (addr === null) return then(true, noop);
    const id = ++this.nextId;
    this.waiting.set(id, then);
    this.send({ type: 'limit', id, counts: { rps: c.rps, rpm: c.rpm, connections: c.connections, burstMultiplier: c.burstMultiplier }, zone, addr });
  }

  onReply(m: LimitReply): void {
    const then = this.waiting.get(m.id);
    if (!then) return;
    this.waiting.delete(m.id);
    let released = false;
    const release = m.held ? () => void (released || ((released = true), this.send({ type: 'limit-release', id: m.id }))) : noop;
    then(m.ok, release);
  }
}

/** The primary's side: one set of counters for all workers; a worker's held slots go with it. */
export class LimitServer {
  private readonly reqs: RequestLimiter;
  private readonly conns = new ConnectionLimiter();
  /** Per worker: request id → release of a held connection slot. */
  private readonly held = new Map<unknown, Map<number, () => void>>();

  constructor(now: () => number = Date.now) {
    this.reqs = new RequestLimiter(now);
  }

  /** Handles a worker's message; returns the reply to send back, if any. */
  handle(worker: unknown, m: LimitRequest): LimitReply | undefined {
    if (m.type === 'limit-release') {
      const h = this.held.get(worker);
      h?.get(m.id)?.();
      h?.delete(m.id);
      return undefined;
    }
    const r = takeLimits(m.counts, m.zone, m.addr, this.reqs, this.conns);
    const holds = r.ok && m.counts.connections > 0;
    if (holds) {
      let h = this.held.get(worker);
      if (!h) this.held.set(worker, (h = new Map()));
      h.set(m.id, r.release);
    }
    return { type: 'limit-verdict', id: m.id, ok: r.ok, held: holds };
  }

  /** A worker exited: its connections are gone. */
  workerGone(worker: unknown): void {
    for (const release of this.held.get(worker)?.values() ?? []) release();
    this.held.delete(worker);
  }
}
