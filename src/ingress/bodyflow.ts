/**
 * Request bodies on their way to the upstream, as nginx treats them: a body of unknown length is
 * read whole first (proxy_request_buffering on) so that proxy-body-size can refuse it with 413
 * before any upstream sees it, and sending is guarded by proxy-send-timeout, a timer that runs
 * only while a write to the upstream waits (nginx: "between two successive write operations").
 */
import type { Readable, Writable } from 'node:stream';

/**
 * Reads `src` to its end; `done(body)` with the whole body, or `done(null)` as soon as it passes
 * `limit` bytes (0: unlimited). After `null` the rest of `src` is left unread.
 */
export function bufferBody(src: Readable, limit: number, done: (body: Buffer | null) => void): void {
  const parts: Buffer[] = [];
  let n = 0;
  const onData = (c: Buffer) => {
    n += c.length;
    if (limit > 0 && n > limit) {
      src.off('data', onData);
      src.off('end', onEnd);
      src.pause();
      return done(null);
    }
    parts.push(c);
  };
  const onEnd = () => done(Buffer.concat(parts, n));
  src.on('data', onData);
  src.on('end', onEnd);
}

/** Calls `over()` once when more than `limit` bytes (0: unlimited) have passed through `src`, which streams on. */
export function watchBodySize(src: Readable, limit: number, over: () => void): void {
  if (limit <= 0) return;
  let n = 0;
  const onData = (c: Buffer) => {
    n += c.length;
    if (n > limit) {
      src.off('data', onData);
      over();
    }
  };
  src.on('data', onData);
}

/** What a proxy writes the request into: http.ClientRequest or an HTTP/2 client stream. */
export interface UpstreamWritable extends Writable {
  /** ClientRequest: the connection, once assigned (the send timer waits while it connects). */
  socket?: { connecting?: boolean } | null;
}

/**
 * Sends `body` (a stream, a whole buffer, or nothing) into `up` with nginx's send timeout: each time
 * a write has to wait for the upstream to read, a timer of `ms` starts, stopped by the next drain or
 * by the end of the request; if it fires, `onTimeout()` (the caller gives up on the upstream: 504).
 * While the connection is still being made the connect timeout applies instead.
 */
export function sendBody(up: UpstreamWritable, body: Readable | Buffer | null, ms: number, onTimeout: () => void): void {
  let timer: NodeJS.Timeout | undefined;
  const disarm = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const fire = () => {
    timer = undefined;
    if (up.destroyed || up.writableFinished) return;
    // ClientRequest's socket is null until assigned; HTTP/2 streams have none (their session is connected).
    if (up.socket === null || up.socket?.connecting) return void (timer = setTimeout(fire, ms));
    onTimeout();
  };
  const arm = () => {
    if (!timer && !up.destroyed) timer = setTimeout(fire, ms);
  };
  up.once('finish', disarm);
  up.once('close', disarm);
  if (body === null) return void up.end();
  if (Buffer.isBuffer(body)) {
    up.end(body);
    if (!up.writableFinished) arm();
    return;
  }
  const src = body;
  src.on('data', (c: Buffer) => {
    if (up.destroyed) return;
    if (!up.write(c)) {
      src.pause();
      arm();
    }
  });
  up.on('drain', () => {
    disarm();
    src.resume();
  });
  src.once('end', () => {
    if (up.destroyed) return;
    up.end();
    if (!up.writableFinished) arm();
  });
  src.once('error', () => up.destroy());
  // The upstream gave up (timeout, error, 413): the rest of the body is read and dropped, so the client's side can finish.
  up.once('close', () => {
    if (!src.readableEnded) src.resume();
  });
}
