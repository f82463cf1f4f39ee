/**
 * kubectl exec and attach over a direct SPDY/3.1 upgrade, the kubelet side (upstream
 * kubelet/cri/streaming/remotecommand with apimachinery's httpstream): what kubectl < 1.30 speaks.
 *
 * The client POSTs with `Upgrade: SPDY/3.1` and offers protocol versions in
 * `X-Stream-Protocol-Version`; the kubelet answers 101 with the one it picked (403 when none fits).
 * Then the CLIENT opens one SPDY stream per channel, named by its `streamType` header: `error`,
 * `stdin`, `stdout`, `stderr` (never with a TTY) and, from v3 with a TTY, `resize` (a sequence of
 * `{"Width":…,"Height":…}` JSON objects). Each gets a reply; the session starts once every expected
 * stream is there (or is abandoned after 30 s). At the end the status goes to the error stream
 * (v4: a metav1.Status as JSON; older versions: the message of a failure, nothing on success) and
 * the output streams are closed (FIN), so the client reads everything before it hangs up.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { SpdySession, SpdyStream } from '../util/spdy.js';
import { STREAM_PROTOCOL_V4, type RemoteCommandOptions } from '../runtime/remotecommand.js';

export { STREAM_PROTOCOL_V4, type RemoteCommandOptions };

export const STREAM_PROTOCOL_V3 = 'v3.channel.k8s.io';
export const STREAM_PROTOCOL_V2 = 'v2.channel.k8s.io';
export const STREAM_PROTOCOL_V1 = 'channel.k8s.io';
/** The kubelet's SPDY protocols, most preferred first (upstream SupportedStreamingProtocols). */
export const SPDY_EXEC_PROTOCOLS: readonly string[] = [STREAM_PROTOCOL_V4, STREAM_PROTOCOL_V3, STREAM_PROTOCOL_V2, STREAM_PROTOCOL_V1];
/** How long the client has to open its streams (upstream DefaultStreamCreationTimeout). */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;
/** How long, after the status, the kubelet waits for the client to hang up before it does. */
export const FINISH_TIMEOUT_MS = 15 * 60_000;

/** A metav1.Status as the streaming server writes it. */
export interface RemoteCommandStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes: { reason: string; message: string }[] };
}

/** The status a session ends with: Success, or the exit code. An attach ends with Success when the container does. */
export function exitStatus(code: number, cmd: readonly string[], attach = false): RemoteCommandStatus {
  if (code === 0 || attach) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** The status when the session could not start (the runtime refused the exec or attach). */
export function internalErrorStatus(message: string): RemoteCommandStatus {
  return { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
}

/** What goes on the error stream: v4 the Status as JSON; before, only a failure's message. */
export function statusPayload(protocol: string, s: RemoteCommandStatus): Buffer | undefined {
  if (protocol === STREAM_PROTOCOL_V4) return Buffer.from(JSON.stringify(s));
  return s.status === 'Success' ? undefined : Buffer.from(s.message ?? '');
}

/** The protocols a client offers: every X-Stream-Protocol-Version value (Node joins repeats with commas). */
export function offeredProtocols(header: string | string[] | undefined): string[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/** The first protocol the client offers that the server speaks (upstream negotiateProtocol). */
export function negotiate(offered: readonly string[], server: readonly string[] = SPDY_EXEC_PROTOCOLS): string | undefined {
  return offered.find((p) => server.includes(p));
}

/**
 * The answer to an exec/attach request that is not a WebSocket: `protocol` and the raw 101 response
 * to write, or only a raw error response (403 when no protocol fits, 400 without the SPDY upgrade).
 */
export function spdyHandshake(headers: IncomingHttpHeaders, server: readonly string[] = SPDY_EXEC_PROTOCOLS): { protocol?: string; response: string } {
  const offered = offeredProtocols(headers['x-stream-protocol-version']);
  // A client that offers nothing predates negotiation: it speaks the first protocol.
  const protocol = offered.length ? negotiate(offered, server) : STREAM_PROTOCOL_V1;
  if (!protocol) {
    const body = `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${server.join(' ')}]\n`;
    return { response: rawResponse(403, 'Forbidden', body, server.map((p) => `X-Accepted-Stream-Protocol-Versions: ${p}`)) };
  }
  const connection = String(headers.connection ?? '').toLowerCase();
  const upgrade = String(headers.upgrade ?? '').toLowerCase();
  if (!connection.split(',').some((t) => t.trim() === 'upgrade') || upgrade !== 'spdy/3.1') {
    return { response: rawResponse(400, 'Bad Request', 'unable to upgrade: missing upgrade headers in request\n') };
  }
  return { protocol, response: `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n` };
}

function rawResponse(code: number, text: string, body: string, extra: string[] = []): string {
  const head = [`HTTP/1.1 ${code} ${text}`, 'Content-Type: text/plain; charset=utf-8', 'X-Content-Type-Options: nosniff', ...extra, `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}


/** Whether a protocol carries terminal sizes (v3 and later). */
export function supportsResize(protocol: string): boolean {
  return protocol === STREAM_PROTOCOL_V4 || protocol === STREAM_PROTOCOL_V3;
}

/** How many streams the client opens: error, one per requested channel, resize with a TTY (v3+). Stderr never with a TTY. */
export function expectedStreams(o: RemoteCommandOptions, protocol: string): number {
  return 1 + Number(o.stdin) + Number(o.stdout) + Number(o.stderr && !o.tty) + Number(o.tty && supportsResize(protocol));
}

export type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

/** The streams of one session as the client opens them; `add` once a stream is replied to. */
export class RemoteCommandStreams<S> {
  readonly byType: Partial<Record<StreamType, S>> = {};
  private received = 0;

  constructor(
    readonly protocol: string,
    readonly expected: number,
  ) {}

  /** Records a replied stream; false for a type this protocol does not know (ignored, as upstream). */
  add(type: string | undefined, s: S): boolean {
    const known = type === 'error' || type === 'stdin' || type === 'stdout' || type === 'stderr' || (type === 'resize' && supportsResize(this.protocol));
    if (!known) return false;
    this.byType[type as StreamType] = s;
    this.received++;
    return true;
  }

  get ready(): boolean {
    return this.received >= this.expected;
  }
}

export interface TerminalSize {
  Width: number;
  Height: number;
}

/**
 * A TerminalSize from a decoded resize message. Upstream decodes it with encoding/json into a
 * struct without tags, which matches keys case-insensitively: kubectl sends {"Width","Height"},
 * @kubernetes/client-node {"width","height"}.
 */
export function terminalSize(v: unknown): TerminalSize | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  let width: unknown;
  let height: unknown;
  for (const [k, x] of Object.entries(v)) {
    const lk = k.toLowerCase();
    if (lk === 'width') width = x;
    else if (lk === 'height') height = x;
  }
  return typeof width === 'number' && typeof height === 'number' && Number.isFinite(width) && Number.isFinite(height) ? { Width: width, Height: height } : undefined;
}

/** Splits the resize stream's bytes into the JSON objects the client writes one after another. */
export class ResizeDecoder {
  private buf = '';

  feed(chunk: Buffer | string): TerminalSize[] {
    this.buf += chunk.toString();
    const out: TerminalSize[] = [];
    let depth = 0;
    let inString = false;
    let escaped = false;
    let start = -1;
    let consumed = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const ch = this.buf[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') inString = true;
      else if (ch === '{') {
        if (depth++ === 0) start = i;
      } else if (ch === '}' && depth > 0 && --depth === 0) {
        consumed = i + 1;
        try {
          const size = terminalSize(JSON.parse(this.buf.slice(start, i + 1)));
          if (size) out.push(size);
        } catch {
          // a malformed size is skipped
        }
      }
    }
    this.buf = depth === 0 ? '' : this.buf.slice(consumed);
    return out;
  }
}

/**
 * Replies to the client's streams as they come and resolves once all `expected` are there;
 * rejects after `timeoutMs` or when the session ends first.
 */
export function acceptStreams(session: SpdySession, protocol: string, o: RemoteCommandOptions, timeoutMs = STREAM_CREATION_TIMEOUT_MS): Promise<RemoteCommandStreams<SpdyStream>> {
  const streams = new RemoteCommandStreams<SpdyStream>(protocol, expectedStreams(o, protocol));
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (e?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session.off('stream', onStream);
      session.off('close', onClose);
      if (e) reject(e);
      else resolve(streams);
    };
    const timer = setTimeout(() => finish(new Error('timed out waiting for client to create streams')), timeoutMs);
    const onClose = () => finish(new Error('connection closed before the client created its streams'));
    const onStream = (s: SpdyStream) => {
      void s.reply().then(
        () => {
          if (done) return;
          if (streams.add(s.headers.streamtype, s) && streams.ready) finish();
        },
        () => undefined,
      );
    };
    session.on('stream', onStream);
    session.on('close', onClose);
  });
}

/** What the transport-independent session (server.ts runRemoteCommand) drives. */
export interface RemoteCommandConn {
  stdout(d: Buffer): void;
  stderr(d: Buffer): void;
  /** Input from the client, delivered from now on (what arrived earlier first, in order). */
  input(h: { stdin(d: Buffer): void; stdinEnd(): void; resize(width: number, height: number): void }): void;
  /** The status, then the end of the output; the connection closes once the client has hung up. */
  finish(s: RemoteCommandStatus): void;
  /** Called once when the client goes away. */
  onClose(cb: () => void): void;
}

/** A session's SPDY streams as a RemoteCommandConn. */
export function spdyConn(session: SpdySession, streams: RemoteCommandStreams<SpdyStream>, finishTimeoutMs = FINISH_TIMEOUT_MS): RemoteCommandConn {
  const { error, stdin, stdout, stderr, resize } = streams.byType;
  // Nobody reads what the client writes on these; keep them flowing so they end.
  for (const s of [error, stdout, stderr]) s?.resume();
  for (const s of [error, stdin, stdout, stderr, resize]) s?.on('error', () => undefined);
  let finished = false;
  const write = (s: SpdyStream | undefined, d: Buffer) => {
    if (s && !finished && !s.writableEnded && !s.destroyed) s.write(d);
  };
  return {
    stdout: (d) => write(stdout, d),
    stderr: (d) => write(stderr, d),
    input(h) {
      stdin?.on('data', (d: Buffer) => !finished && h.stdin(d));
      stdin?.on('end', () => !finished && h.stdinEnd());
      if (resize) {
        const dec = new ResizeDecoder();
        resize.on('data', (d: Buffer) => {
          if (!finished) for (const sz of dec.feed(d)) h.resize(sz.Width, sz.Height);
        });
      }
    },
    finish(st) {
      if (finished) return;
      const payload = statusPayload(streams.protocol, st);
      if (payload && error && !error.writableEnded && !error.destroyed) error.write(payload);
      finished = true;
      for (const s of [stdout, stderr, error]) if (s && !s.writableEnded && !s.destroyed) s.end();
      // The client hangs up once it has read everything; one that never does is cut off.
      const t = setTimeout(() => session.close(), finishTimeoutMs);
      t.unref?.();
      session.once('close', () => clearTimeout(t));
    },
    onClose(cb) {
      if (session.isClosed) cb();
      else session.once('close', cb);
    },
  };
}
