/**
 * CRI Exec and Attach return the URL of the runtime's streaming server; this dials it as upstream's
 * kubelet does: an HTTP upgrade to SPDY/3.1 with the remotecommand protocol v4.channel.k8s.io, one
 * client-opened stream per channel (header `streamType`: error, stdin, stdout, stderr, resize).
 * SPDY (unlike websocket v4) can half-close stdin: its FIN is the process's EOF, which is what
 * `kubectl exec -i … < file` and attach's stdinOnce need. The v4 status JSON arrives on the error
 * stream; the server closes the connection when the process (or the attached container) ends.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { SpdySession, type SpdyStream } from '../../util/spdy.js';
import { RuntimeError } from '../cri.js';
import { STREAM_PROTOCOL_V4, type RemoteCommandOptions as StreamOptions } from '../remotecommand.js';


/** The exit code a v4 status message carries (Success → 0; Failure with an ExitCode cause → that). */
export function exitCodeOf(status: any): number {
  if (status?.status === 'Success') return 0;
  const cause = (status?.details?.causes ?? []).find((c: any) => c.reason === 'ExitCode');
  if (cause) return Number(cause.message);
  return 126; // the command could not be run at all (upstream reports this as an error)
}

/** The channels to open, as the CRI request asks. */
export interface RemoteCommandOptions extends StreamOptions {
  /** Bounds the upgrade and the streams' replies (ms). */
  timeoutMs?: number;
}

/** A connected remotecommand session. */
export interface RemoteCommand {
  /** Ending it sends FIN on the stdin stream: EOF for the process. */
  stdin?: Writable;
  stdout?: Readable;
  stderr?: Readable;
  resize(width: number, height: number): void;
  /** Resolves once the session is over and its output delivered: the v4 status, if the server sent one. */
  done: Promise<any | undefined>;
  /** Drops the connection. */
  close(): void;
}

/** Dials a CRI streaming URL (`http://127.0.0.1:PORT/exec/TOKEN` or `/attach/TOKEN`). */
export function dialRemoteCommand(url: string, o: RemoteCommandOptions): Promise<RemoteCommand> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const fail = (msg: string) => reject(new RuntimeError('Internal', `remotecommand stream ${url}: ${msg}`));
    const req = http.request(url, {
      method: 'POST',
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': STREAM_PROTOCOL_V4, 'Content-Length': '0' },
      timeout: timeoutMs,
    });
    req.once('timeout', () => {
      req.destroy();
      fail('timed out connecting');
    });
    req.once('error', (e) => fail(e.message));
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d.slice(0, 4096)));
      res.on('end', () => fail(`HTTP ${res.statusCode}: ${body.trim() || res.statusMessage}`));
      res.on('error', () => fail(`HTTP ${res.statusCode}`));
    });
    req.once('upgrade', (_res, socket: Socket, head: Buffer) => {
      socket.setTimeout(0);
      socket.setNoDelay(true);
      connect(socket, head, o, timeoutMs).then(resolve, (e: Error) => {
        socket.destroy();
        fail(e.message);
      });
    });
    req.end();
  });
}

async function connect(socket: Socket, head: Buffer, o: RemoteCommandOptions, timeoutMs: number): Promise<RemoteCommand> {
  const session = new SpdySession((b) => socket.write(b), { client: true });
  session.on('error', () => socket.destroy());
  session.on('close', () => socket.destroy());
  socket.on('data', (d: Buffer) => session.feed(d));
  socket.on('close', () => session.destroy());
  socket.on('error', () => session.destroy());
  if (head.length) session.feed(head);

  // The order upstream's client uses: error first, then the data channels, resize last.
  const open = (streamType: string) => session.openStream({ streamType });
  const error = open('error');
  const stdin = o.stdin ? open('stdin') : undefined;
  const stdout = o.stdout ? open('stdout') : undefined;
  const stderr = o.stderr && !o.tty ? open('stderr') : undefined;
  const resize = o.tty ? open('resize') : undefined;
  const opened = [error, stdin, stdout, stderr, resize].filter((s): s is SpdyStream => !!s);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(opened.map((s) => s.replyHeaders)),
      new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('the streaming server did not accept the streams')), timeoutMs))),
    ]);
  } finally {
    clearTimeout(timer);
  }

  const ended = (s?: Readable) => (s ? new Promise<void>((r) => (s.once('end', r), s.once('close', r), s.once('error', () => r()))) : Promise.resolve());
  const relay = (s?: SpdyStream) => {
    if (!s) return undefined;
    const out = new PassThrough();
    s.on('data', (d: Buffer) => out.write(d));
    const end = () => out.end();
    s.once('end', end);
    s.once('close', end);
    s.once('error', end);
    return out;
  };
  let statusText = '';
  error.setEncoding('utf8');
  error.on('data', (d: string) => (statusText += d));
  const outs = { stdout: relay(stdout), stderr: relay(stderr) };
  // The server's streams, not the relays: a caller that never reads stderr must still see the end.
  const done = Promise.all([ended(error), ended(stdout), ended(stderr)]).then(() => {
    if (!statusText.trim()) return undefined;
    try {
      return JSON.parse(statusText);
    } catch {
      return { status: 'Failure', message: statusText };
    }
  });
  // What the server does not read must not hold the session open on our side.
  void done.then(() => socket.end());

  const stdinW = stdin
    ? new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (session.isClosed || stdin.destroyed) return cb();
          stdin.write(chunk, () => cb());
        },
        final(cb) {
          if (!session.isClosed && !stdin.destroyed) stdin.end();
          cb();
        },
      })
    : undefined;
  return {
    stdin: stdinW,
    ...outs,
    resize: (width, height) => {
      if (resize && !session.isClosed && !resize.destroyed) resize.write(JSON.stringify({ Width: width, Height: height }) + '\n');
    },
    done,
    close: () => socket.destroy(),
  };
}
