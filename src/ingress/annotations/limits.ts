/**
 * limit-rps / limit-rpm (nginx limit_req per client address, burst = rate × limit-burst-multiplier,
 * nodelay) and limit-connections (limit_conn per client address); 503 as ingress-nginx's
 * limit-req-status-code default. The limiter state is an explicit object with an injected clock.
 */
import { parseCidrs } from './sourcerange.js';
import type { Reader } from './reader.js';
import type net from 'node:net';
import { clientAddress } from './sourcerange.js';

export interface LimitConfig {
  rps: number;
  rpm: number;
  connections: number;
  burstMultiplier: number;
  /** limit-whitelist / limit-allowlist: addresses not limited. */
  exempt: net.BlockList | null;
}

export const LIMIT_STATUS = 503;

export function parseLimits(r: Reader): LimitConfig {
  const out: LimitConfig = { rps: r.int('limit-rps', 0, 0), rpm: r.int('limit-rpm', 0, 0), connections: r.int('limit-connections', 0, 0), burstMultiplier: r.int('limit-burst-multiplier', 5, 1), exempt: null };
  for (const name of ['limit-whitelist', 'limit-allowlist']) {
    const v = r.str(name);
    if (v === undefined) continue;
    const p = parseCidrs(v);
    if ('bad' in p) r.invalid(name, v, `${JSON.stringify(p.bad)} is not an IP address or CIDR`);
    else out.exempt = p.list;
  }
  return out;
}

export const limited = (c: LimitConfig): boolean => c.rps > 0 || c.rpm > 0 || c.connections > 0;

interface Bucket {
  /** Excess requests × 1000, as nginx keeps it. */
  excess: number;
  last: number;
}

/** nginx's leaky bucket (ngx_http_limit_req_module) with nodelay: at most burst + 1 at once, refilled at `rate`. */
export class RequestLimiter {
  private readonly buckets = new Map<string, Bucket>();
  constructor(private readonly now: () => number = Date.now) {}

  /** Whether a request of `key` (zone + client) is allowed at `perSecond` with `burst`. */
  take(key: string, perSecond: number, burst: number): boolean {
    const now = this.now();
    const b = this.buckets.get(key);
    if (!b) {
      this.buckets.set(key, { excess: 0, last: now });
      if (this.buckets.size > 100_000) this.sweep(now);
      return true;
    }
    const elapsed = Math.max(0, now - b.last);
    const excess = Math.max(0, b.excess - perSecond * elapsed) + 1000;
    if (excess > burst * 1000) return false;
    b.excess = excess;
    b.last = now;
    return true;
  }

  /** Drops buckets that have drained (nginx's LRU expiry). */
  private sweep(now: number): void {
    for (const [k, b] of this.buckets) if (now - b.last > 60_000) this.buckets.delete(k);
  }
}

/** Open connections per (zone, client), for limit-connections. */
export class ConnectionLimiter {
  private readonly open = new Map<string, number>();
  /** Returns a release function, or null when over the limit. */
  acquire(key: string, max: number): (() => void) | null {
    const n = this.open.get(key) ?? 0;
    if (n >= max) return null;
    this.open.set(key, n + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const m = (this.open.get(key) ?? 1) - 1;
      if (m <= 0) this.open.delete(key);
      else this.open.set(key, m);
    };
  }
}

/** The counted part of a LimitConfig: plain JSON, so another process can keep the counters. */
export type LimitCounts = Pick<LimitConfig, 'rps' | 'rpm' | 'connections' | 'burstMultiplier'>;

const noop = () => undefined;

/** The client address to count `remote` under, or null when `c` does not limit it (no limits, or exempt). */
export function limitedAddress(c: LimitConfig, remote: string): string | null {
  if (!limited(c)) return null;
  const { addr, type } = clientAddress(remote);
  return c.exempt?.check(addr, type) ? null : addr;
}

/** Whether `remote` may proceed under `c` for the location `zone`; `release` must be called when the request ends. */
export function checkLimits(c: LimitConfig, zone: string, remote: string, reqs: RequestLimiter, conns: ConnectionLimiter): { ok: boolean; release: () => void } {
  const addr = limitedAddress(c, remote);
  if (addr === null) return { ok: true, release: noop };
  return takeLimits(c, zone, addr, reqs, conns);
}

/** Counts one request of the client `addr` (already known to be limited) against the counters. */
export function takeLimits(c: LimitCounts, zone: string, addr: string, reqs: RequestLimiter, conns: ConnectionLimiter): { ok: boolean; release: () => void } {
  if (c.rps > 0 && !reqs.take(`${zone}|rps|${addr}`, c.rps, c.rps * c.burstMultiplier)) return { ok: false, release: noop };
  if (c.rpm > 0 && !reqs.take(`${zone}|rpm|${addr}`, c.rpm / 60, c.rpm * c.burstMultiplier)) return { ok: false, release: noop };
  if (c.connections > 0) {
    const release = conns.acquire(`${zone}|${addr}`, c.connections);
    if (!release) return { ok: false, release: noop };
    return { ok: true, release };
  }
  return { ok: true, release: noop };
}
