/**
 * The data plane's HTTP/1.1 fast path on raw sockets: for the common request (HTTP/1.1, no body,
 * no upgrade, routed to a backend with endpoints) it parses the head itself, forwards it over a
 * pooled keep-alive upstream socket and passes the response bytes through, counting the body
 * only to know where it ends. node:http's per-request objects (IncomingMessage, ServerResponse,
 * ClientRequest, Agent bookkeeping) were most of the proxy's cost.
 *
 * Any other request hands the whole connection to node:http (the socket, with the bytes not yet
 * handled pushed back), so every rare case keeps exactly the slow path's behaviour.
 */
import type http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { ChunkedEnd, parseRequestHead, parseResponseHead, type RequestHead } from './http1.js';
import { match } from './match.js';
import { errorPage, HSTS_HEADER } from './steps.js';
import { backendName, type Location, type RoutingTable, type Server } from './table.js';
import type { LatencySeries, IngressMetrics } from './metrics.js';
import { coarse, CONNECT_TIMEOUT, type PoolEndpoint, type Upstream, type UpstreamOwner, type UpstreamPool } from './upstream.js';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const isH2Preface = (b: Buffer | null): boolean => !!b && b.length >= 16 && b.subarray(0, Math.min(b.length, H2_PREFACE.length)).equals(H2_PREFACE.subarray(0, Math.min(b.length, H2_PREFACE.length)));
/** node:http's default header limit; a longer head is node:http's to refuse (431). */
const MAX_HEAD = 16 * 1024;
/** Pipelined bytes buffered while a request is in flight before reading stops. */
const MAX_PENDING = 64 * 1024;
/** Up to this many body bytes go out in the same write as the response head. */
const SMALL_BODY = 8 * 1024;
/** A longer upstream response head is refused (502). */
const MAX_RESPONSE_HEAD = 64 * 1024;
const NO_SKIP: ReadonlySet<string> = new Set();
/** nginx's keepalive_timeout default. */
const KEEPALIVE_MS = 75_000;
/**
 * Client connections (plain, and the cleartext of TLS ones) read into this one buffer (net's
 * `onread`), as upstream sockets do (upstream.ts): no Buffer allocation and no stream machinery
 * per read. Callbacks run one at a time; what is kept past one is copied out.
 */
const CLIENT_BUF = Buffer.allocUnsafe(64 * 1024);
const inClientBuf = (b: Buffer | null): boolean => b !== null && b.buffer === CLIENT_BUF.buffer;

/**
 * net.Socket's private keys for an `onread` buffer and callback, read off a throwaway socket made
 * with that public option. TLS sockets made by tls.Server cannot be given `onread`; with these
 * keys (and the handle's useUserBuffer, which TLS handles have too) their cleartext reads land in
 * CLIENT_BUF all the same. Undefined where this Node lays sockets out otherwise: then TLS
 * connections read through 'data' events, as before.
 */
const ONREAD_KEYS = (() => {
  const probe = new net.Socket({ onread: { buffer: Buffer.alloc(1), callback: () => true } } as net.SocketConstructorOpts);
  const key = (d: string) => Object.getOwnPropertySymbols(probe).find((s) => s.description === d);
  const buffer = key('kBuffer');
  const callback = key('kBufferCb');
  return buffer && callback && (probe as unknown as Record<symbol, unknown>)[buffer] instanceof Buffer ? { buffer, callback } : undefined;
})();

/** Reads of a connection served on the fast path: to the FastConnection, or pushed on as copies once it has been handed over. */
function readInto(sock: () => net.Socket, conn: () => FastConnection | undefined): (n: number) => boolean {
  return (n: number) => {
    const chunk = CLIENT_BUF.subarray(0, n);
    const c = conn();
    // Handed over (and the new owner reads through the stream, as node:http does after an upgrade): pass a copy on.
    if (!c || c.handedOff) sock().push(Buffer.from(chunk));
    else c.onRead(chunk);
    return true;
  };
}

/** X-Request-ID as ingress-nginx's $request_id: 32 hex digits; a per-process random prefix and a counter keep it cheap. */
const ridPrefix = randomBytes(8).toString('hex');
let ridCounter = 0;
export const newRequestId = (): string => ridPrefix + (ridCounter++).toString(16).padStart(16, '0');

export interface FastSnapshot {
  table: RoutingTable;
  endpoints: Record<string, PoolEndpoint[]>;
}

/** What the fast path needs from the DataPlane that owns it. */
export interface FastPathHost {
  snapshot(): FastSnapshot;
  defaultBackend: PoolEndpoint | undefined;
  pick(name: string, eps: PoolEndpoint[], skip: ReadonlySet<string>, ewma?: boolean): PoolEndpoint | undefined;
  /** A response time of an endpoint of a load-balance: ewma location, in seconds. */
  observe(key: string, seconds: number): void;
  markFailed(key: string): void;
  pool: UpstreamPool;
  metrics: IngressMetrics;
  accessLog: ((line: string) => void) | undefined;
  /** Where connections go that the fast path does not handle. */
  slow: http.Server;
  /** Where connections that open with the HTTP/2 preface go (h2c with prior knowledge). */
  h2?: { emit(event: 'connection', sock: net.Socket): boolean };
  connections: Set<FastConnection>;
  /** 'https' for the HTTP/1.1 connections of the TLS listener (after the handshake). */
  scheme?: 'http' | 'https';
}

/** Per-location facts, computed on first use (a Location belongs to one snapshot). */
interface Route {
  name: string;
  eps: PoolEndpoint[] | undefined;
  series: LatencySeries;
  ewma: boolean;
  /** proxy-read-timeout and proxy-connect-timeout: the location's annotation, else the data plane's. */
  readMs: number;
  connectMs: number;
}
const routes = new WeakMap<Location, Route>();

function routeFor(host: FastPathHost, snap: FastSnapshot, server: Server, loc: Location): Route {
  let r = routes.get(loc);
  if (!r) {
    const name = backendName(loc.backend);
    const eps = loc.backend ? snap.endpoints[name] : host.defaultBackend ? [host.defaultBackend] : undefined;
    const p = loc.config.proxy;
    r = {
      name,
      eps,
      series: host.metrics.series(loc.ingress ?? '', server.hostname, loc.ingressPath),
      ewma: p.loadBalance === 'ewma',
      readMs: host.pool.readMsFor(p),
      connectMs: host.pool.connectMsFor(p),
    };
    routes.set(loc, r);
  }
  return r;
}

const enum Body {
  Head,
  None,
  Length,
  Chunked,
  Close,
}

export class FastConnection implements UpstreamOwner {
  private pending: Buffer | null = null;
  private busy = false;
  private paused = false;
  private gone = false;
  private stopping = false;
  private readonly remote: string;
  private readonly fixedForward: string;
  private lastHost = '\0';
  private lastHostBlock = '';
  private readonly scheme: 'http' | 'https';

  // The request in flight.
  private req!: RequestHead;
  private route!: Route;
  private upstreamTarget = '';
  private requestText = '';
  private requestId = '';
  private t0 = 0;
  private tried: Set<string> | null = null;
  private up: Upstream | null = null;
  private upstreamAddr = '-';
  private responded = false;
  private resBuf: Buffer | null = null;
  private body = Body.Head;
  private remaining = 0;
  private chunked: ChunkedEnd | null = null;
  private status = 0;
  private contentLength: string | undefined;
  private reusable = false;
  private closeAfter = false;
  private upPaused = false;
  /** HTTPS to a host with TLS configured: responses carry Strict-Transport-Security. */
  private hsts = false;
  /** The body bytes that came with the response head, as latin1 text (null: not converted). */
  private restText: string | null = null;

  /**
   * Serves a plain connection accepted by a `pauseOnConnect` net.Server on the fast path, reading
   * into CLIENT_BUF: node's public `onread` exists only for sockets it creates, so the accepted
   * socket's handle moves into a new net.Socket made with it (as node's own cluster and
   * child_process handle passing do), and the accepted one is destroyed without its handle (which
   * only settles the server's connection count).
   */
  static adopt(host: FastPathHost, accepted: net.Socket): void {
    const a = accepted as unknown as { _handle: unknown };
    const handle = a._handle;
    if (!handle) return void accepted.destroy();
    a._handle = null;
    accepted.destroy();
    let conn: FastConnection | undefined;
    const sock: net.Socket = new net.Socket({ handle, onread: { buffer: CLIENT_BUF, callback: readInto(() => sock, () => conn) } } as net.SocketConstructorOpts);
    conn = new FastConnection(host, sock, true);
  }

  /**
   * Serves an HTTP/1.1 connection of the TLS listener (after the handshake) on the fast path, its
   * cleartext read into CLIENT_BUF where possible (see ONREAD_KEYS). Whatever the socket read
   * before the switch is handled first.
   */
  static serveTls(host: FastPathHost, sock: net.Socket): void {
    const handle = (sock as unknown as { _handle?: { useUserBuffer?: (b: Buffer) => void } })._handle;
    if (!ONREAD_KEYS || typeof handle?.useUserBuffer !== 'function') return void new FastConnection(host, sock);
    const early: Buffer[] = [];
    for (let b: Buffer | null; (b = sock.read() as Buffer | null) !== null; ) early.push(b);
    let conn: FastConnection | undefined;
    const fields = sock as unknown as Record<symbol, unknown>;
    const cb = readInto(() => sock, () => conn);
    fields[ONREAD_KEYS.buffer] = CLIENT_BUF;
    fields[ONREAD_KEYS.callback] = cb;
    handle.useUserBuffer(CLIENT_BUF);
    conn = new FastConnection(host, sock, true);
    if (early.length) conn.onData(Buffer.concat(early));
  }

  /** Whether the buffer-reading fast path applies to TLS connections on this Node (for tests). */
  static readonly tlsReadsIntoBuffer = ONREAD_KEYS !== undefined;

  /** @internal */
  handedOff = false;

  constructor(
    private readonly host: FastPathHost,
    private readonly sock: net.Socket,
    /** Reads arrive through onRead (CLIENT_BUF), not 'data' events. */
    ownReads = false,
  ) {
    this.remote = sock.remoteAddress ?? '';
    const scheme = (this.scheme = host.scheme ?? 'http');
    this.fixedForward = `x-forwarded-port: ${sock.localPort ?? 0}\r\nx-forwarded-proto: ${scheme}\r\nx-forwarded-scheme: ${scheme}\r\nx-scheme: ${scheme}\r\n`;
    sock.setNoDelay(true);
    if (!ownReads) sock.on('data', this.onData);
    sock.on('drain', this.onDrain);
    sock.on('close', this.onClose);
    sock.on('error', this.onError);
    host.connections.add(this);
  }

  /** Ends the connection after the request in flight, if any. */
  stop(): void {
    this.stopping = true;
    if (!this.busy) this.sock.destroy();
  }

  /** A read in CLIENT_BUF: whatever is kept past this call is copied out of it. @internal */
  onRead(chunk: Buffer): void {
    this.onData(chunk);
    if (inClientBuf(this.pending)) this.pending = Buffer.from(this.pending!);
  }

  /** @internal */
  readonly onData = (chunk: Buffer): void => {
    this.seen = coarse.now;
    this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    if (this.busy) {
      if (this.pending.length > MAX_PENDING && !this.paused) {
        this.paused = true;
        this.sock.pause();
      }
      return;
    }
    this.drive();
  };

  private readonly onDrain = (): void => {
    if (this.upPaused && this.up) {
      this.upPaused = false;
      this.up.sock.resume();
    }
  };

  private readonly onClose = (): void => {
    this.gone = true;
    this.host.connections.delete(this);
    const up = this.up;
    if (up) {
      // The client left mid-response: the upstream connection is in an unknown state.
      this.up = null;
      up.owner = null;
      up.sock.destroy();
    }
  };

  private readonly onError = (): void => {
    /* 'close' follows */
  };

  /** coarse.now when the connection last did something (keep-alive timeout). */
  private seen = coarse.now;

  /** nginx's keepalive_timeout (75 s) between requests; the owner calls it every SWEEP_MS. */
  sweep(now: number): void {
    if (!this.busy && now - this.seen > KEEPALIVE_MS) this.sock.destroy();
  }

  /** Handles the buffered requests, one at a time. */
  private drive(): void {
    while (!this.busy && this.pending && !this.gone) {
      const buf = this.pending;
      // One conversion, then a string search: cheaper than searching the bytes and converting the head.
      const text = buf.toString('latin1', 0, Math.min(buf.length, MAX_HEAD + 4));
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_HEAD) this.handOff();
        return;
      }
      const head = parseRequestHead(text.length === end ? text : text.slice(0, end));
      if (!head) return this.handOff();
      const snap = this.host.snapshot();
      const r = match(snap.table, { host: head.host, target: head.target, scheme: this.scheme });
      // Redirects, errors and locations with per-request features (annotations) are node:http's.
      if (r.kind !== 'proxy' || !(this.scheme === 'http' ? r.location.plain : r.location.plainTls)) return this.handOff();
      const route = routeFor(this.host, snap, r.server, r.location);
      if (!route.eps || route.eps.length === 0) return this.handOff();
      this.pending = end + 4 < buf.length ? buf.subarray(end + 4) : null;
      this.hsts = this.scheme === 'https' && r.server.tls;
      this.begin(head, route, r.upstreamTarget, r.forwardedPrefix);
    }
    if (!this.busy && this.paused) {
      this.paused = false;
      this.sock.resume();
    }
  }

  /** Gives the connection to node:http, bytes not yet handled included. */
  private handOff(): void {
    const sock = this.sock;
    sock.off('data', this.onData);
    sock.off('drain', this.onDrain);
    sock.off('close', this.onClose);
    sock.off('error', this.onError);
    this.host.connections.delete(this);
    this.handedOff = true;
    sock.pause();
    const h2 = this.host.h2 && isH2Preface(this.pending);
    if (this.pending) sock.unshift(inClientBuf(this.pending) ? Buffer.from(this.pending) : this.pending);
    this.pending = null;
    if (h2) {
      // The HTTP/2 session reads the socket's buffered bytes itself and then its handle directly: no resume().
      this.host.h2!.emit('connection', sock);
      return;
    }
    this.host.slow.emit('connection', sock);
    sock.resume();
  }

  private begin(head: RequestHead, route: Route, upstreamTarget: string, forwardedPrefix: string | null): void {
    this.busy = true;
    this.t0 = performance.now();
    this.req = head;
    this.route = route;
    this.upstreamTarget = upstreamTarget;
    this.requestId = head.requestId || newRequestId();
    if (head.host !== this.lastHost) {
      this.lastHost = head.host;
      this.lastHostBlock = `x-real-ip: ${this.remote}\r\nx-forwarded-for: ${this.remote}\r\nx-forwarded-host: ${head.host}\r\n`;
    }
    // The same headers, in the same order, as the node:http path sends.
    this.requestText = `${head.method} ${upstreamTarget} HTTP/1.1\r\n${head.forward}x-request-id: ${this.requestId}\r\n${this.lastHostBlock}${this.fixedForward}${forwardedPrefix ? `x-forwarded-prefix: ${forwardedPrefix}\r\n` : ''}connection: keep-alive\r\n\r\n`;
    this.tried = null;
    this.upstreamAddr = '-';
    this.attempt();
  }

  private attempt(): void {
    const ep = this.host.pick(this.route.name, this.route.eps!, this.tried ?? NO_SKIP, this.route.ewma);
    if (!ep) return this.respondError(502, 'Bad Gateway');
    this.upstreamAddr = ep.key;
    this.connectTo(ep);
  }

  private connectTo(ep: PoolEndpoint): void {
    this.responded = false;
    this.resBuf = null;
    this.body = Body.Head;
    this.chunked = null;
    this.upPaused = false;
    const up = (this.up = this.host.pool.acquire(ep, this, this.route.readMs, this.route.connectMs));
    up.send(this.requestText);
  }

  upData(up: Upstream, chunk: Buffer): void {
    if (up !== this.up) return;
    if (this.body !== Body.Head) return this.passBody(chunk);
    const buf = this.resBuf ? Buffer.concat([this.resBuf, chunk]) : chunk;
    // The head and a small body usually come in one read: convert once, search the string.
    const text = buf.toString('latin1', 0, Math.min(buf.length, MAX_RESPONSE_HEAD + SMALL_BODY));
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buf.length > MAX_RESPONSE_HEAD) return this.upstreamBroken(up);
      this.resBuf = buf === chunk ? Buffer.from(chunk) : buf; // chunk is the shared read buffer
      return;
    }
    this.resBuf = null;
    const res = parseResponseHead(text.slice(0, end), this.req.method);
    if (!res || res.status === 101) return this.upstreamBroken(up);
    const rest = buf.subarray(end + 4);
    this.restText = text.length === buf.length ? text.slice(end + 4) : null;
    if (res.status < 200) {
      // Interim responses (100, 103) are dropped, as node:http's client does.
      if (rest.length) this.upData(up, rest);
      return;
    }
    this.responded = true;
    this.status = res.status;
    this.contentLength = res.contentLength;
    this.reusable = res.reusable;
    this.closeAfter = this.req.close || res.framing.kind === 'close' || this.stopping;
    switch (res.framing.kind) {
      case 'none':
        this.body = Body.None;
        break;
      case 'length':
        this.body = Body.Length;
        this.remaining = res.framing.length;
        break;
      case 'chunked':
        this.body = Body.Chunked;
        this.chunked = new ChunkedEnd();
        break;
      case 'close':
        this.body = Body.Close;
        break;
    }
    this.passBody(rest, res.head + (this.hsts ? `\r\nStrict-Transport-Security: ${HSTS_HEADER}` : '') + (this.closeAfter ? '\r\nConnection: close\r\n\r\n' : '\r\nConnection: keep-alive\r\nKeep-Alive: timeout=75\r\n\r\n'));
  }

  /** Passes body bytes on (after the response head, if given) and notices the end of the body. */
  private passBody(b: Buffer, head?: string): void {
    let done = false;
    switch (this.body) {
      case Body.None:
        if (b.length) this.reusable = false;
        done = true;
        b = b.subarray(0, 0);
        break;
      case Body.Length:
        if (b.length >= this.remaining) {
          if (b.length > this.remaining) this.reusable = false;
          b = b.subarray(0, this.remaining);
          this.remaining = 0;
          done = true;
        } else this.remaining -= b.length;
        break;
      case Body.Chunked: {
        const n = this.chunked!.feed(b);
        if (this.chunked!.failed) return this.upstreamBroken(this.up!);
        if (n >= 0) {
          if (n < b.length) this.reusable = false;
          b = b.subarray(0, n);
          done = true;
        }
        break;
      }
      case Body.Close:
        break;
    }
    // b is (part of) the shared upstream read buffer: what is written is a copy (a string or a new Buffer).
    let flowing: boolean;
    if (head === undefined) flowing = b.length === 0 || this.sock.write(b.length <= SMALL_BODY ? b.toString('latin1') : Buffer.from(b), 'latin1');
    else if (b.length <= SMALL_BODY) {
      // One write, no writev; the body is a prefix of the text already converted, when there is one.
      const t = this.restText;
      flowing = this.sock.write(b.length ? head + (t !== null ? (t.length === b.length ? t : t.slice(0, b.length)) : b.toString('latin1')) : head, 'latin1');
    }
    else {
      this.sock.cork();
      this.sock.write(head, 'latin1');
      flowing = this.sock.write(Buffer.from(b));
      this.sock.uncork();
    }
    if (!flowing && this.up && !done) {
      this.upPaused = true;
      this.up.sock.pause();
    }
    if (done) this.complete();
  }

  upGone(up: Upstream, err: NodeJS.ErrnoException | undefined, ended: boolean): void {
    if (up !== this.up) return;
    this.up = null;
    if (this.responded) {
      // A close-delimited body ends with the connection; any other body is cut short.
      if (ended && this.body === Body.Close) return this.complete();
      this.record();
      this.sock.destroy();
      return;
    }
    if (up.reused && !err?.code?.startsWith('ETIMEDOUT') && this.resBuf === null) {
      // The peer closed an idle keep-alive connection as we reused it: try again on a new one.
      return this.connectTo(up.ep);
    }
    this.failed(up.ep, err?.code ?? 'ECONNRESET');
  }

  upTimeout(up: Upstream): void {
    if (up !== this.up) return;
    this.up = null;
    up.owner = null;
    up.sock.destroy();
    if (this.responded) {
      this.record();
      this.sock.destroy();
      return;
    }
    this.failed(up.ep, 'ETIMEDOUT');
  }

  /** The upstream answered something that is not HTTP/1.x as we know it. */
  private upstreamBroken(up: Upstream): void {
    this.up = null;
    up.owner = null;
    up.sock.destroy();
    if (this.responded) {
      this.record();
      this.sock.destroy();
      return;
    }
    this.respondError(502, 'Bad Gateway');
  }

  /** Passive health as the node:http path: a connection failure marks the endpoint and moves on. */
  private failed(ep: PoolEndpoint, code: string): void {
    if (code === 'ETIMEDOUT') return this.respondError(504, 'Gateway Time-out');
    this.host.markFailed(ep.key);
    (this.tried ??= new Set()).add(ep.key);
    if (this.tried.size < this.route.eps!.length) return this.attempt();
    if (code === CONNECT_TIMEOUT) return this.respondError(504, 'Gateway Time-out');
    this.respondError(502, 'Bad Gateway');
  }

  private respondError(status: number, text: string): void {
    const body = errorPage(status);
    this.status = status;
    this.contentLength = String(body.length);
    this.reusable = false;
    this.closeAfter = this.req.close || this.stopping;
    this.responded = true;
    this.body = Body.None;
    this.sock.write(
      `HTTP/1.1 ${status} ${text}\r\ncontent-type: text/html\r\ncontent-length: ${body.length}\r\nDate: ${new Date().toUTCString()}\r\n${this.hsts ? `Strict-Transport-Security: ${HSTS_HEADER}\r\n` : ''}${this.closeAfter ? 'Connection: close' : 'Connection: keep-alive\r\nKeep-Alive: timeout=75'}\r\n\r\n${body}`,
      'latin1',
    );
    this.complete();
  }

  /** The response has been passed on completely. */
  private complete(): void {
    const up = this.up;
    this.up = null;
    if (up) {
      if (this.upPaused) up.sock.resume();
      if (this.reusable && !up.sock.destroyed) this.host.pool.release(up);
      else {
        up.owner = null;
        up.sock.destroy();
      }
    }
    this.record();
    this.busy = false;
    this.seen = coarse.now;
    if (this.gone) return;
    if (this.closeAfter || this.stopping) {
      this.sock.end();
      return;
    }
    if (this.pending || this.paused) this.drive();
  }

  private record(): void {
    const secs = (performance.now() - this.t0) / 1000;
    this.route.series.observe(this.status, secs);
    if (this.route.ewma && this.upstreamAddr !== '-') this.host.observe(this.upstreamAddr, secs);
    const log = this.host.accessLog;
    if (log) {
      const q = this.req;
      log(
        `${this.remote || '-'} - - [${new Date().toISOString()}] "${q.method} ${q.target} HTTP/1.1" ${this.status} ${this.contentLength ?? '-'} "${q.referer ?? '-'}" "${q.userAgent ?? '-'}" ${secs.toFixed(3)} [${this.route.name}] ${this.upstreamAddr} ${this.requestId}`,
      );
    }
  }
}
