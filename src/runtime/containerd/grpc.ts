/**
 * Unary gRPC over node:http2, which is all CRI needs (every CRI call Skiff makes is unary; exec
 * and attach stream over the URL CRI returns). grpc-js spends about 0.3 ms of CPU per call in
 * its channel, resolver, retry and interceptor layers, ~4× what this costs; the kubelet makes a
 * dozen CRI calls per pod, so in a burst of pods that was a fifth of the node agent's CPU.
 *
 * One HTTP/2 connection per channel, opened on first use and again after it drops (a restarted
 * containerd); referenced only while calls are in flight, so an idle channel keeps no process alive.
 */
import http2 from 'node:http2';
import net from 'node:net';

/** gRPC status codes (the subset CRI answers with, and those this client produces). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const NAMES = Object.fromEntries(Object.entries(GrpcStatus).map(([k, v]) => [v, k]));

/** As grpc-js's ServiceError: `code`, `details` (the server's message) and a message naming both. */
export class GrpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${code} ${NAMES[code] ?? 'UNKNOWN'}: ${details}`);
  }
}

/** HTTP status → gRPC code when a response carries no grpc-status (as the gRPC spec maps them). */
function httpToGrpc(status: number): number {
  if (status === 400) return GrpcStatus.INTERNAL;
  if (status === 401) return GrpcStatus.UNAUTHENTICATED;
  if (status === 403) return GrpcStatus.PERMISSION_DENIED;
  if (status === 404) return GrpcStatus.UNIMPLEMENTED;
  if (status === 429 || status === 502 || status === 503 || status === 504) return GrpcStatus.UNAVAILABLE;
  return GrpcStatus.UNKNOWN;
}

function decodeMessage(m: unknown): string {
  if (typeof m !== 'string') return '';
  try {
    return decodeURIComponent(m);
  } catch {
    return m;
  }
}

export class UnaryChannel {
  private session?: http2.ClientHttp2Session;
  private inFlight = 0;
  private closed = false;

  /** `target`: `unix:/path/to.sock`, `unix:///path/to.sock`, a plain path, or `host:port`. */
  constructor(private readonly target: string) {}

  private connect(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const t = this.target;
    const sock = t.startsWith('unix://') ? t.slice('unix://'.length) : t.startsWith('unix:') ? t.slice('unix:'.length) : t.startsWith('/') ? t : undefined;
    const s = sock ? http2.connect('http://localhost', { createConnection: () => net.connect(sock) }) : http2.connect(`http://${t}`);
    // Errors reach the calls through their streams; a dropped connection is replaced on next use.
    const drop = () => {
      if (this.session === s) this.session = undefined;
    };
    s.on('error', drop);
    s.on('close', drop);
    s.on('goaway', drop);
    if (this.inFlight === 0) s.unref();
    this.session = s;
    return s;
  }

  private track(delta: number): void {
    this.inFlight += delta;
    const s = this.session;
    if (!s || s.destroyed) return;
    if (this.inFlight === 0) s.unref();
    else if (delta > 0 && this.inFlight === 1) s.ref();
  }

  /** One unary call: `body` is the serialized request; resolves with the serialized response. */
  call(path: string, body: Buffer, deadlineMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new GrpcError(GrpcStatus.CANCELLED, 'channel closed'));
      const timeoutMs = Math.max(1, Math.ceil(deadlineMs - Date.now()));
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.connect().request({
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': `${Math.min(timeoutMs, 99_999_999)}m`,
        });
      } catch (e) {
        return reject(new GrpcError(GrpcStatus.UNAVAILABLE, (e as Error).message));
      }
      this.track(1);
      let done = false;
      const finish = (err: GrpcError | undefined, res?: Buffer) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.track(-1);
        if (err) reject(err);
        else resolve(res!);
      };
      const timer = setTimeout(() => {
        finish(new GrpcError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded'));
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }, timeoutMs);
      const chunks: Buffer[] = [];
      let httpStatus = 0;
      let code: number | undefined;
      let message = '';
      const status = (h: http2.IncomingHttpHeaders) => {
        if (h['grpc-status'] !== undefined) {
          code = Number(h['grpc-status']);
          message = decodeMessage(h['grpc-message']);
        }
      };
      stream.on('response', (h) => {
        httpStatus = Number(h[':status']);
        status(h); // a trailers-only response carries its status in the headers
      });
      stream.on('trailers', status);
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('error', (e) => finish(new GrpcError(GrpcStatus.UNAVAILABLE, e.message)));
      stream.on('close', () => {
        if (code === undefined) {
          const why = httpStatus && httpStatus !== 200 ? `HTTP ${httpStatus}` : `stream closed (code ${stream.rstCode ?? 0})`;
          return finish(new GrpcError(httpStatus && httpStatus !== 200 ? httpToGrpc(httpStatus) : GrpcStatus.UNAVAILABLE, why));
        }
        if (code !== GrpcStatus.OK) return finish(new GrpcError(code, message));
        const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        if (buf.length < 5) return finish(new GrpcError(GrpcStatus.INTERNAL, 'no response message'));
        if (buf[0] !== 0) return finish(new GrpcError(GrpcStatus.INTERNAL, 'compressed response message (none was offered)'));
        finish(undefined, buf.subarray(5, 5 + buf.readUInt32BE(1)));
      });
      const frame = Buffer.allocUnsafe(5 + body.length);
      frame[0] = 0;
      frame.writeUInt32BE(body.length, 1);
      body.copy(frame, 5);
      stream.end(frame);
    });
  }

  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
  }
}
