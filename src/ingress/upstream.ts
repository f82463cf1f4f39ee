/**
 * Keep-alive connections to pod endpoints for the fast path: raw sockets kept per endpoint, reused
 * last-in first-out (the warmest socket first, so surplus ones time out), as nginx's `keepalive`.
 * Each socket's listeners are attached once; the exchange that owns it is a field, not a closure.
 */
import net from 'node:net';
import { PROXY_DEFAULTS, type ProxyConfig } from './annotations/proxy.js';

export interface PoolEndpoint {
  address: string;
  port: number;
  /** `address:port`, precomputed. */
  key: string;
}

/**
 * Upstream sockets read into this one buffer (net's `onread`), skipping a Buffer and the stream
 * machinery per read. Callbacks run one at a time, so one buffer per process is enough.
 */
const READ_BUF = Buffer.allocUnsafe(64 * 1024);

/**
 * A coarse clock (ms) for the fast path's idle and read timeouts: advanced by the owner's sweep
 * (see UpstreamPool.sweep), so marking activity is a field store. Node's socket timeouts re-arm a
 * timer on every read and write, four times per proxied request.
 */
export const coarse = { now: 0 };

/** The error code of a connect that took longer than proxy-connect-timeout. */
export const CONNECT_TIMEOUT = 'ECONNECTTIMEOUT';

/** What a socket reports to the exchange that currently owns it. */
export interface UpstreamOwner {
  /** `chunk` is only valid during the call (it is the shared read buffer): copy what is kept or written later. */
  upData(up: Upstream, chunk: Buffer): void;
  /** The connection ended, failed or closed before the owner released it. */
  upGone(up: Upstream, err: NodeJS.ErrnoException | undefined, ended: boolean): void;
  upTimeout(up: Upstream): void;
}

export class Upstream {
  owner: UpstreamOwner | null = null;
  /** Taken from the idle list (it may have been closed by the peer meanwhile). */
  reused = false;
  readonly sock: net.Socket;
  /** coarse.now at the last read or request sent (the read timeout, and the idle timeout in the pool). */
  seen = coarse.now;
  /** The owner's location's proxy-read-timeout and proxy-connect-timeout (the pool's while idle). */
  readMs: number;
  connectMs: number;

  constructor(
    private readonly pool: UpstreamPool,
    readonly ep: PoolEndpoint,
    connectMs: number,
  ) {
    this.readMs = pool.timeoutMs;
    this.connectMs = connectMs;
    const sock = (this.sock = net.connect({
      host: ep.address,
      port: ep.port,
      noDelay: true,
      onread: {
        buffer: READ_BUF,
        callback: (n: number, buf: Uint8Array) => {
          this.seen = coarse.now;
          if (this.owner) this.owner.upData(this, (buf as Buffer).subarray(0, n));
          else sock.destroy();
          return true;
        },
      },
    }));
    sock.on('end', () => this.gone(undefined, true));
    sock.on('error', (e: NodeJS.ErrnoException) => this.gone(e, false));
    sock.on('close', () => this.gone(undefined, false));
    pool.all.add(this);
  }

  /** Sends a request: the read timeout counts from here. */
  send(text: string): void {
    this.seen = coarse.now;
    this.sock.write(text, 'latin1');
  }

  /** proxy-connect-timeout while connecting; proxy-read-timeout while a request waits; the keep-alive timeout while idle. */
  sweep(now: number): void {
    if (this.sock.connecting) {
      // Reported as a connection failure: the exchange moves on to the next endpoint, as nginx's proxy_next_upstream timeout.
      if (now - this.seen > this.connectMs) this.sock.destroy(Object.assign(new Error('upstream timed out while connecting'), { code: CONNECT_TIMEOUT }));
      return;
    }
    if (now - this.seen <= (this.owner ? this.readMs : this.pool.timeoutMs)) return;
    if (this.owner) this.owner.upTimeout(this);
    else this.sock.destroy();
  }

  private gone(err: NodeJS.ErrnoException | undefined, ended: boolean): void {
    this.pool.forget(this);
    this.pool.all.delete(this);
    const o = this.owner;
    this.owner = null;
    if (o) o.upGone(this, err, ended);
    if (!this.sock.destroyed) this.sock.destroy();
  }
}

export class UpstreamPool {
  private readonly idle = new Map<string, Upstream[]>();
  /** Every open connection, busy or idle, for the sweep. */
  readonly all = new Set<Upstream>();

  constructor(
    readonly timeoutMs: number,
    /** proxy-connect-timeout (ingress-nginx's default: 5 s). */
    readonly connectTimeoutMs = 5000,
    private readonly maxIdle = 256,
  ) {}

  /** A location's proxy-read-timeout: its annotation, else the data plane's own setting (ingress-nginx's ConfigMap default). */
  readMsFor(p: ProxyConfig): number {
    return p.readTimeoutMs !== PROXY_DEFAULTS.readTimeoutMs ? p.readTimeoutMs : this.timeoutMs;
  }

  /** A location's proxy-connect-timeout: its annotation, else the data plane's own setting. */
  connectMsFor(p: ProxyConfig): number {
    return p.connectTimeoutMs !== PROXY_DEFAULTS.connectTimeoutMs ? p.connectTimeoutMs : this.connectTimeoutMs;
  }

  /** A connection to `ep` for `owner`, whose location's timeouts (ms) apply while it owns it. */
  acquire(ep: PoolEndpoint, owner: UpstreamOwner, readMs = this.timeoutMs, connectMs = this.connectTimeoutMs): Upstream {
    const list = this.idle.get(ep.key);
    let up = list?.pop();
    if (up) up.reused = true;
    else up = new Upstream(this, ep, connectMs);
    up.owner = owner;
    up.readMs = readMs;
    return up;
  }

  release(up: Upstream): void {
    up.owner = null;
    let list = this.idle.get(up.ep.key);
    if (!list) this.idle.set(up.ep.key, (list = []));
    list.push(up);
    if (list.length > this.maxIdle) list.shift()!.sock.destroy();
  }

  forget(up: Upstream): void {
    const list = this.idle.get(up.ep.key);
    if (!list) return;
    const i = list.lastIndexOf(up);
    if (i >= 0) list.splice(i, 1);
  }

  /** Advances the coarse clock and times out connections; the owner calls it every SWEEP_MS. */
  sweep(): void {
    const now = (coarse.now = Math.round(performance.now()));
    for (const up of this.all) up.sweep(now);
  }

  destroy(): void {
    for (const list of this.idle.values()) for (const up of [...list]) up.sock.destroy();
    this.idle.clear();
  }
}
