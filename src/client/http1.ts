import net from 'node:net';
import tls from 'node:tls';

/** A complete response: status and the body decoded as UTF-8. */
export interface Http1Response {
  status: number;
  body: string;
}

export interface Http1PoolOptions {
  host: string;
  port: number;
  secureContext: tls.SecureContext;
  /** Read on every dispatch, so a caller may change it later (as with https.Agent.maxSockets). */
  maxSockets: () => number;
}

interface Pending {
  method: string;
  /** The whole request (head and body) as written to the socket. */
  wire: string;
  resolve(r: Http1Response): void;
  reject(e: Error): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** An idle connection older than this is not reused: the API server drops idle ones after 65 s. */
const MAX_IDLE_MS = 30_000;
const MAX_HEAD_BYTES = 1 << 20;

const enum Body {
  Length,
  Chunked,
  UntilClose,
}

const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailer,
}

function abortError(signal: AbortSignal): Error {
  const e: Error & { code?: string; cause?: unknown } = new Error('The operation was aborted');
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  e.cause = signal.reason;
  return e;
}

function hangUp(cause?: Error): Error {
  const e: Error & { code?: string } = new Error(cause?.message ?? 'socket hang up');
  e.code = (cause as any)?.code ?? 'ECONNRESET';
  return e;
}

/**
 * A keep-alive pool of HTTP/1.1-over-TLS connections for complete request/response exchanges (not
 * streams). Node's http client builds a ClientRequest, an IncomingMessage stream and a dozen
 * listeners per call; the API clients of the scheduler and the simulated nodes make thousands of
 * small calls a second, so this writes each request with one socket write and parses the answer
 * in place: a status line, a few headers, a Content-Length or chunked body.
 */
export class Http1Pool {
  private readonly conns = new Set<Conn>();
  /** Most recently used last: reusing the warmest connection lets the others expire. */
  private readonly idle: Conn[] = [];
  private readonly queue: Pending[] = [];
  private closed = false;
  /**
   * The newest TLS session ticket the server gave: a new connection resumes it, which halves the
   * handshake's CPU on both ends (no certificate signing or chain checks; the server keeps the
   * client certificate in the session). https.Agent does the same for the watches.
   */
  session?: Buffer;

  constructor(readonly o: Http1PoolOptions) {}

  request(method: string, wire: string, signal?: AbortSignal): Promise<Http1Response> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(hangUp());
      if (signal?.aborted) return reject(abortError(signal));
      const p: Pending = { method, wire, resolve, reject, signal };
      if (signal) {
        p.onAbort = () => this.abort(p);
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.dispatch(p);
    });
  }

  /** Sends on an idle connection, a new one, or queues. */
  dispatch(p: Pending): void {
    const now = performance.now();
    while (this.idle.length) {
      const c = this.idle.pop()!;
      if (now - c.idleSince > MAX_IDLE_MS) {
        c.destroy();
        continue;
      }
      c.send(p, true);
      return;
    }
    if (this.conns.size < this.o.maxSockets()) {
      const c = new Conn(this);
      this.conns.add(c);
      c.send(p, false);
      return;
    }
    this.queue.push(p);
  }

  private abort(p: Pending): void {
    const i = this.queue.indexOf(p);
    if (i >= 0) this.queue.splice(i, 1);
    else for (const c of this.conns) if (c.cur === p) c.destroy();
    p.reject(abortError(p.signal!));
  }

  /** A connection finished an exchange and can take another. */
  released(c: Conn): void {
    const next = this.queue.shift();
    if (next) return c.send(next, true);
    c.idleSince = performance.now();
    this.idle.push(c);
  }

  /** A connection is gone (closed by either side). */
  gone(c: Conn): void {
    this.conns.delete(c);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    // Its slot is free: a queued request may open a new connection.
    if (this.queue.length && !this.closed) this.dispatch(this.queue.shift()!);
  }

  destroy(): void {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(hangUp());
    for (const c of [...this.conns]) c.destroy();
  }
}

class Conn {
  readonly socket: tls.TLSSocket;
  cur?: Pending;
  idleSince = 0;
  private reused = false;
  private gotBytes = false;
  private error?: Error;
  // Response parsing state.
  private inHead = true;
  private pending?: Buffer;
  private status = 0;
  private keepAlive = true;
  private mode = Body.Length;
  private left = 0;
  private chunkState = Chunk.Size;
  private body: Buffer[] = [];

  constructor(private readonly pool: Http1Pool) {
    const { host, port, secureContext } = pool.o;
    this.socket = tls.connect({ host, port, secureContext, servername: net.isIP(host) ? undefined : host, session: pool.session });
    this.socket.on('session', (s: Buffer) => (pool.session = s));
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', (e) => (this.error = e));
    this.socket.on('end', () => this.onEnd());
    this.socket.on('close', () => this.onClose());
  }

  send(p: Pending, reused: boolean): void {
    this.cur = p;
    this.reused = reused;
    this.gotBytes = false;
    this.inHead = true;
    this.pending = undefined;
    this.body = [];
    if (reused) this.socket.ref();
    this.socket.write(p.wire);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    const p = this.cur;
    if (!p) {
      // Nothing was asked: the server is confused; don't reuse the connection.
      this.socket.destroy();
      return;
    }
    this.gotBytes = true;
    while (this.inHead) {
      const b = this.pending ? Buffer.concat([this.pending, d]) : d;
      const i = b.indexOf('\r\n\r\n');
      if (i < 0) {
        this.pending = b;
        if (b.length > MAX_HEAD_BYTES) this.fail(new Error('response head too large'));
        return;
      }
      this.pending = undefined;
      if (!this.parseHead(b.toString('latin1', 0, i), p.method)) return;
      d = b.subarray(i + 4);
    }
    this.feed(d);
  }

  /** Returns false when the response was failed. */
  private parseHead(head: string, method: string): boolean {
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]);
    if (!m) {
      this.fail(new Error(`bad HTTP status line: ${lines[0].slice(0, 80)}`));
      return false;
    }
    const status = Number(m[2]);
    let keepAlive = m[1] === '1';
    let length = -1;
    let chunked = false;
    for (let k = 1; k < lines.length; k++) {
      const line = lines[k];
      const c = line.indexOf(':');
      if (c <= 0) continue;
      const name = line.slice(0, c).toLowerCase();
      if (name === 'content-length') length = Number(line.slice(c + 1).trim());
      else if (name === 'transfer-encoding') chunked = /chunked/i.test(line.slice(c + 1));
      else if (name === 'connection') keepAlive = !/close/i.test(line.slice(c + 1)) && (keepAlive || /keep-alive/i.test(line.slice(c + 1)));
    }
    if (status < 200) return true; // 1xx: the real answer follows.
    this.inHead = false;
    this.status = status;
    this.keepAlive = keepAlive;
    this.body = [];
    if (method === 'HEAD' || status === 204 || status === 304) {
      this.mode = Body.Length;
      this.left = 0;
    } else if (chunked) {
      this.mode = Body.Chunked;
      this.chunkState = Chunk.Size;
    } else if (length >= 0 && Number.isFinite(length)) {
      this.mode = Body.Length;
      this.left = length;
    } else {
      this.mode = Body.UntilClose;
      this.keepAlive = false;
    }
    return true;
  }

  private feed(d: Buffer): void {
    if (this.mode === Body.Length) {
      if (d.length > this.left) this.keepAlive = false; // bytes past the body: not reusable
      if (d.length) this.body.push(this.left < d.length ? d.subarray(0, this.left) : d);
      this.left -= Math.min(this.left, d.length);
      if (this.left === 0) this.finish();
    } else if (this.mode === Body.UntilClose) {
      if (d.length) this.body.push(d);
    } else this.feedChunked(d);
  }

  private feedChunked(d: Buffer): void {
    while (d.length) {
      if (this.chunkState === Chunk.Data) {
        const take = Math.min(this.left, d.length);
        this.body.push(d.subarray(0, take));
        this.left -= take;
        d = d.subarray(take);
        if (this.left === 0) {
          this.chunkState = Chunk.DataEnd;
          this.left = 2;
        }
        continue;
      }
      if (this.chunkState === Chunk.DataEnd) {
        const n = Math.min(this.left, d.length);
        this.left -= n;
        d = d.subarray(n);
        if (this.left === 0) this.chunkState = Chunk.Size;
        continue;
      }
      // A size line or a trailer line.
      const b = this.pending ? Buffer.concat([this.pending, d]) : d;
      const i = b.indexOf('\r\n');
      if (i < 0) {
        this.pending = b;
        if (b.length > MAX_HEAD_BYTES) this.fail(new Error('chunk header too large'));
        return;
      }
      this.pending = undefined;
      d = b.subarray(i + 2);
      if (this.chunkState === Chunk.Trailer) {
        if (i === 0) {
          if (d.length) this.keepAlive = false;
          this.finish();
          return;
        }
        continue;
      }
      const size = parseInt(b.toString('latin1', 0, i), 16);
      if (!Number.isFinite(size) || size < 0) {
        this.fail(new Error('bad chunk size'));
        return;
      }
      if (size === 0) this.chunkState = Chunk.Trailer;
      else {
        this.chunkState = Chunk.Data;
        this.left = size;
      }
    }
  }

  private finish(): void {
    const p = this.cur!;
    const chunks = this.body;
    const body = chunks.length === 0 ? '' : chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
    const status = this.status;
    this.cur = undefined;
    this.body = [];
    this.inHead = true;
    if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    if (this.keepAlive) {
      this.socket.unref();
      this.pool.released(this);
    } else this.socket.destroy();
    p.resolve({ status, body });
  }

  private fail(e: Error): void {
    const p = this.cur;
    this.cur = undefined;
    this.socket.destroy();
    if (p) {
      if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
      p.reject(e);
    }
  }

  private onEnd(): void {
    if (this.cur && !this.inHead && this.mode === Body.UntilClose) this.finish();
    this.socket.end();
  }

  private onClose(): void {
    const p = this.cur;
    this.cur = undefined;
    this.pool.gone(this);
    if (!p) return;
    if (p.signal?.aborted) return; // already rejected by abort()
    if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    // A kept-alive connection the server closed before answering: a GET can safely go again.
    if (this.reused && !this.gotBytes && (p.method === 'GET' || p.method === 'HEAD')) {
      if (p.onAbort) p.signal!.addEventListener('abort', p.onAbort, { once: true });
      this.pool.dispatch(p);
      return;
    }
    p.reject(hangUp(this.error));
  }
}
