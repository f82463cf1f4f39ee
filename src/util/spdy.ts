/**
 * SPDY/3.1 framing, as far as Kubernetes streaming needs it (moby/spdystream's subset): SYN_STREAM/
 * SYN_REPLY with zlib-compressed header blocks, DATA with FIN, RST_STREAM, PING, GOAWAY; SETTINGS and
 * the peer's WINDOW_UPDATEs are accepted and ignored, and none are sent unless asked for (spdystream,
 * on both ends of Kubernetes streaming, keeps no windows).
 *
 * Both roles: the kubelet serves kubectl port-forward (streams opened by the peer, after an
 * `Upgrade: SPDY/3.1` or tunnelled in a WebSocket); the containerd runtime is a client of CRI's
 * streaming server for exec and attach (it opens the streams, odd ids, as upstream's kubelet does).
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';

const VERSION = 3;
const SYN_STREAM = 1;
const SYN_REPLY = 2;
const RST_STREAM = 3;
const SETTINGS = 4;
const PING = 6;
const GOAWAY = 7;
const HEADERS = 8;
const WINDOW_UPDATE = 9;
const FLAG_FIN = 0x01;
/** RST_STREAM status codes. */
export const RST = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, CANCEL: 5, INTERNAL_ERROR: 6 } as const;
const MAX_DATA = 32 * 1024;

/**
 * The SPDY/3 header-compression dictionary (spec section 2.6.10.1): length-prefixed header names and
 * common values, then a run of status lines, dates and media types. Byte-exact or inflate fails.
 */
export const SPDY3_DICTIONARY: Buffer = (() => {
  const words = (
    'options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges age allow authorization ' +
    'cache-control connection content-base content-encoding content-language content-length content-location content-md5 content-range ' +
    'content-type date etag expect expires from host if-match if-modified-since if-none-match if-range if-unmodified-since last-modified ' +
    'location max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after server te trailer transfer-encoding ' +
    'upgrade user-agent vary via warning www-authenticate method get status'
  ).split(' ');
  const tail = [
    '200 OK',
    'version',
    'HTTP/1.1',
    'url',
    'public',
    'set-cookie',
    'keep-alive',
    'origin',
  ];
  const parts: Buffer[] = [];
  for (const w of [...words, ...tail]) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    parts.push(len, Buffer.from(w, 'latin1'));
  }
  parts.push(
    Buffer.from(
      '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
        '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
        '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
        'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
        'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
        'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.',
      'latin1',
    ),
  );
  return Buffer.concat(parts);
})();

export type Headers = Record<string, string>;

/** One zlib stream per direction for the whole session, flushed per header block (SPDY's rule). */
class HeaderCodec {
  private readonly deflate = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY });
  private readonly inflate = zlib.createInflate({ dictionary: SPDY3_DICTIONARY });
  private chain: Promise<unknown> = Promise.resolve();

  encode(h: Headers): Promise<Buffer> {
    const entries = Object.entries(h);
    const parts: Buffer[] = [u32(entries.length)];
    for (const [k, v] of entries) {
      const kb = Buffer.from(k.toLowerCase());
      const vb = Buffer.from(v);
      parts.push(u32(kb.length), kb, u32(vb.length), vb);
    }
    return this.run(this.deflate, Buffer.concat(parts));
  }

  async decode(block: Buffer): Promise<Headers> {
    const raw = await this.run(this.inflate, block);
    const out: Headers = {};
    let off = 0;
    const n = raw.readUInt32BE(off);
    off += 4;
    for (let i = 0; i < n; i++) {
      const kl = raw.readUInt32BE(off);
      const k = raw.subarray(off + 4, off + 4 + kl).toString();
      off += 4 + kl;
      const vl = raw.readUInt32BE(off);
      const v = raw.subarray(off + 4, off + 4 + vl).toString();
      off += 4 + vl;
      // Multiple values travel NUL-separated; the first is what streaming protocols use.
      out[k] = v.split('\0')[0];
    }
    return out;
  }

  close(): void {
    this.deflate.close();
    this.inflate.close();
  }

  /** Header blocks go through each zlib stream strictly in order. */
  private run(z: zlib.Deflate | zlib.Inflate, input: Buffer): Promise<Buffer> {
    const p = this.chain.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const chunks: Buffer[] = [];
          const onData = (d: Buffer) => chunks.push(d);
          const onError = (e: Error) => {
            z.off('data', onData);
            reject(e);
          };
          z.on('data', onData);
          z.once('error', onError);
          z.write(input);
          z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            z.off('data', onData);
            z.off('error', onError);
            resolve(Buffer.concat(chunks));
          });
        }),
    );
    this.chain = p.catch(() => undefined);
    return p;
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8000 | VERSION, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([h, payload]);
}

function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  h.writeUInt32BE(((flags & 0xff) << 24) | data.length, 4);
  return Buffer.concat([h, data]);
}

/**
 * One stream: a Duplex of its DATA frames (FIN ends the readable side; ending the writable side
 * sends FIN). `headers` are the SYN_STREAM's: the peer's for a stream it opened, ours otherwise.
 */
export class SpdyStream extends Duplex {
  private replied = false;
  private finReceived = false;
  /** For a stream opened here: resolves with the peer's SYN_REPLY headers, rejects on RST or session end. */
  readonly replyHeaders: Promise<Headers>;
  /** @internal */
  settleReply?: { resolve(h: Headers): void; reject(e: Error): void };

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: Headers,
    local = false,
  ) {
    super({ allowHalfOpen: true });
    this.replied = local;
    this.replyHeaders = local
      ? new Promise<Headers>((resolve, reject) => (this.settleReply = { resolve, reject }))
      : Promise.resolve({});
    // A caller that never awaits the reply must not see an unhandled rejection.
    this.replyHeaders.catch(() => undefined);
  }

  /** SYN_REPLY: spdystream clients wait for it before using the stream. */
  reply(headers: Headers = {}): Promise<void> {
    if (this.replied) return Promise.resolve();
    this.replied = true;
    return this.session.sendReply(this.id, headers);
  }

  /** RST_STREAM: abort this stream only. */
  reset(status: number = RST.CANCEL): void {
    this.session.sendReset(this.id, status);
    this.destroy();
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    for (let off = 0; off < chunk.length; off += MAX_DATA) this.session.send(dataFrame(this.id, 0, chunk.subarray(off, off + MAX_DATA)));
    cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.session.send(dataFrame(this.id, FLAG_FIN, Buffer.alloc(0)));
    cb();
  }

  /** @internal */
  receive(data: Buffer, fin: boolean): void {
    if (this.finReceived || this.destroyed) return;
    if (data.length) this.push(data);
    if (fin) {
      this.finReceived = true;
      this.push(null);
    }
  }

  /** @internal The stream is gone (RST or session end): no reply will come. */
  gone(why: string): void {
    this.settleReply?.reject(new Error(why));
    this.settleReply = undefined;
  }
}

export interface SpdySessionOptions {
  /** The client role: streams this side opens get odd ids (the server's would be even). */
  client?: boolean;
  /**
   * Send a WINDOW_UPDATE for each DATA frame received, for a peer that counts its 64 KiB window
   * (default false). spdystream (kubectl, CRI's streaming server) ignores them; worse, one still
   * unread when it closes the connection makes its kernel answer with a reset, which can discard
   * data this side has not read yet.
   */
  windowUpdates?: boolean;
}

/**
 * A session over any byte transport: feed it the peer's bytes, it calls `write` with its own;
 * emits 'stream' for each SYN_STREAM from the peer and 'close' when the session ends. openStream()
 * opens one from this side.
 */
export class SpdySession extends EventEmitter {
  private buf: Buffer = Buffer.alloc(0);
  private readonly codec = new HeaderCodec();
  private readonly streams = new Map<number, SpdyStream>();
  private lastStreamId = 0;
  private nextStreamId: number;
  private closed = false;
  /** Outgoing frames in order, even while a header block is being compressed. */
  private out: Promise<void> = Promise.resolve();

  private readonly windowUpdates: boolean;

  constructor(
    private readonly write: (b: Buffer) => void,
    opts: SpdySessionOptions = {},
  ) {
    super();
    this.nextStreamId = opts.client ? 1 : 2;
    this.windowUpdates = opts.windowUpdates ?? false;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * SYN_STREAM with these headers (FIN too with `fin`: nothing will be written). The stream is
   * usable at once; frames go out in order, so data written now follows the SYN_STREAM.
   */
  openStream(headers: Headers, fin = false): SpdyStream {
    if (this.closed) throw new Error('SPDY session is closed');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new SpdyStream(this, id, { ...headers }, true);
    this.streams.set(id, stream);
    stream.on('close', () => this.streams.delete(id));
    const block = this.codec.encode(headers);
    const p = this.out.then(async () => {
      // associated-to 0, priority 0, slot 0
      const payload = Buffer.concat([u32(id), u32(0), Buffer.from([0, 0]), await block]);
      if (!this.closed) this.write(controlFrame(SYN_STREAM, fin ? FLAG_FIN : 0, payload));
    });
    this.out = p.catch(() => undefined);
    if (fin) stream.end();
    return stream;
  }

  feed(chunk: Buffer): void {
    if (this.closed) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4) & 0xffffff;
      if (this.buf.length < 8 + len) break;
      const frame = this.buf.subarray(0, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      try {
        this.onFrame(frame);
      } catch (e) {
        this.fail(e as Error);
        return;
      }
    }
  }

  send(b: Buffer): void {
    this.out = this.out.then(() => {
      if (!this.closed) this.write(b);
    });
  }

  sendReply(id: number, headers: Headers): Promise<void> {
    const block = this.codec.encode(headers);
    const p = this.out.then(async () => {
      const payload = Buffer.concat([u32(id & 0x7fffffff), await block]);
      if (!this.closed) this.write(controlFrame(SYN_REPLY, 0, payload));
    });
    this.out = p.catch(() => undefined);
    return p;
  }

  sendReset(id: number, status: number): void {
    this.send(controlFrame(RST_STREAM, 0, Buffer.concat([u32(id & 0x7fffffff), u32(status)])));
    this.streams.delete(id);
  }

  /** GOAWAY, then every stream ends. */
  close(): void {
    if (this.closed) return;
    this.send(controlFrame(GOAWAY, 0, Buffer.concat([u32(this.lastStreamId), u32(0)])));
    void this.out.then(() => this.end());
  }

  /** A protocol error: reported once (a header block still inflating after the end is not one), then GOAWAY. */
  private fail(e: Error): void {
    if (this.closed) return;
    this.emit('error', e);
    this.close();
  }

  /** The transport is gone: no GOAWAY, just end. */
  destroy(): void {
    this.end();
  }

  /**
   * Every stream's readable side ends (what already arrived is still delivered: the destroy
   * waits a turn of the event loop), then the streams are destroyed.
   */
  private end(): void {
    if (this.closed) return;
    this.closed = true;
    this.codec.close();
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const s of streams) {
      s.gone('SPDY session closed');
      s.receive(Buffer.alloc(0), true);
    }
    setImmediate(() => {
      for (const s of streams) s.destroy();
    });
    this.emit('close');
  }

  private onFrame(frame: Buffer): void {
    const flags = frame[4];
    const payload = frame.subarray(8);
    if (!(frame[0] & 0x80)) {
      const id = frame.readUInt32BE(0) & 0x7fffffff;
      const s = this.streams.get(id);
      if (!s) return this.sendReset(id, RST.INVALID_STREAM);
      s.receive(Buffer.from(payload), !!(flags & FLAG_FIN));
      // Keep the peer's send window open, if it counts.
      if (payload.length && this.windowUpdates) this.send(controlFrame(WINDOW_UPDATE, 0, Buffer.concat([u32(id), u32(payload.length)])));
      return;
    }
    const version = frame.readUInt16BE(0) & 0x7fff;
    if (version !== VERSION) throw new Error(`unsupported SPDY version ${version}`);
    const type = frame.readUInt16BE(2);
    switch (type) {
      case SYN_STREAM: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        const block = Buffer.from(payload.subarray(10));
        this.lastStreamId = Math.max(this.lastStreamId, id);
        // Header blocks must be inflated in order; the stream is announced once its headers are known.
        const stream = new SpdyStream(this, id, {});
        this.streams.set(id, stream);
        stream.on('close', () => this.streams.delete(id));
        void this.codec.decode(block).then(
          (headers) => {
            Object.assign(stream.headers, headers);
            this.emit('stream', stream);
            if (flags & FLAG_FIN) stream.receive(Buffer.alloc(0), true);
          },
          (e) => this.fail(e),
        );
        return;
      }
      case RST_STREAM: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        const s = this.streams.get(id);
        this.streams.delete(id);
        if (!s) return;
        s.gone(`stream ${id} reset by the peer (status ${payload.length >= 8 ? payload.readUInt32BE(4) : 0})`);
        // What arrived before the reset is still delivered (a streaming server resets its error
        // stream right after writing the status): end the readable side, destroy a turn later.
        s.receive(Buffer.alloc(0), true);
        setImmediate(() => s.destroy());
        return;
      }
      case PING:
        // Echo the peer's ping.
        this.send(controlFrame(PING, 0, Buffer.from(payload.subarray(0, 4))));
        return;
      case GOAWAY:
        this.destroy();
        return;
      case SYN_REPLY: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        // Decoded even for an unknown stream: the inflate stream must stay in step.
        void this.codec.decode(Buffer.from(payload.subarray(4))).then(
          (headers) => {
            const s = this.streams.get(id);
            s?.settleReply?.resolve(headers);
            if (s) s.settleReply = undefined;
            if (flags & FLAG_FIN) s?.receive(Buffer.alloc(0), true);
          },
          (e) => this.fail(e),
        );
        return;
      }
      case HEADERS:
        void this.codec.decode(Buffer.from(payload.subarray(4))).catch(() => undefined);
        return;
      case SETTINGS:
      case WINDOW_UPDATE:
      default:
        return;
    }
  }
}

/** Client-side helpers for tests: a SYN_STREAM frame from a peer, using its own header codec. */
export class SpdyClientFrames {
  private readonly codec = new HeaderCodec();
  async synStream(id: number, headers: Headers, fin = false): Promise<Buffer> {
    const block = await this.codec.encode(headers);
    return controlFrame(SYN_STREAM, fin ? FLAG_FIN : 0, Buffer.concat([u32(id), u32(0), Buffer.from([0, 0]), block]));
  }
  data(id: number, data: Buffer, fin = false): Buffer {
    return dataFrame(id, fin ? FLAG_FIN : 0, data);
  }
  ping(id: number): Buffer {
    return controlFrame(PING, 0, u32(id));
  }
  decodeHeaders(block: Buffer): Promise<Headers> {
    return this.codec.decode(block);
  }
  close(): void {
    this.codec.close();
  }
}

/** Splits a byte stream from a session into frames (for tests and diagnostics). */
export function parseFrames(buf: Buffer): { control: boolean; type: number; streamId: number; flags: number; payload: Buffer }[] {
  const out = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off + 4) & 0xffffff;
    const control = !!(buf[off] & 0x80);
    const payload = buf.subarray(off + 8, off + 8 + len);
    const type = control ? buf.readUInt16BE(off + 2) : 0;
    const streamId = control ? (type === SYN_REPLY || type === RST_STREAM || type === WINDOW_UPDATE ? payload.readUInt32BE(0) & 0x7fffffff : 0) : buf.readUInt32BE(off) & 0x7fffffff;
    out.push({ control, type, streamId, flags: buf[off + 4], payload });
    off += 8 + len;
  }
  return out;
}

export const FRAME = { SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE, FLAG_FIN };
