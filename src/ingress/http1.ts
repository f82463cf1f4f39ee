/**
 * Just enough HTTP/1.1 for the data plane's fast path, as pure functions over head text and bytes.
 * Deliberately conservative: anything unusual (a body, an upgrade, HTTP/1.0, odd bytes, obs-fold,
 * duplicate Host) makes parseRequestHead return null and the request goes to node:http instead,
 * so the fast path never has to be right about the rare cases.
 */

/** Header names the data plane sets itself or that are hop-by-hop (nginx does not forward them). */
export const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto', 'x-forwarded-scheme', 'x-real-ip', 'x-request-id', 'x-forwarded-prefix', 'x-scheme', 'x-original-uri']);

export interface RequestHead {
  method: string;
  target: string;
  host: string;
  /** The header lines to forward upstream, each ending in CRLF, in the client's order and case. */
  forward: string;
  requestId: string | undefined;
  referer: string | undefined;
  userAgent: string | undefined;
  /** The client asked to close after this response. */
  close: boolean;
}

const REQUEST_LINE = /^([A-Z]{1,16}) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Anything but tab, CR, LF and printable ASCII. */
const ODD_BYTES = /[^\t\r\n\x20-\x7e]/;

/** Parses a request head (latin1, without the final CRLFCRLF); null: leave it to node:http. */
export function parseRequestHead(head: string): RequestHead | null {
  if (ODD_BYTES.test(head)) return null;
  const lines = head.split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]);
  if (!m || m[1] === 'CONNECT') return null;
  let host: string | undefined;
  let forward = '';
  let requestId: string | undefined;
  let referer: string | undefined;
  let userAgent: string | undefined;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.includes('\n') || line.includes('\r')) return null;
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return null;
    const lower = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    switch (lower) {
      case 'host':
        if (host !== undefined) return null;
        host = value;
        break;
      case 'content-length':
        if (value !== '0') return null;
        break;
      case 'transfer-encoding':
      case 'upgrade':
      case 'expect':
        return null;
      case 'connection': {
        const v = value.toLowerCase();
        if (v.includes('upgrade')) return null;
        if (v.includes('close')) close = true;
        break;
      }
      case 'x-request-id':
        if (requestId === undefined) requestId = value;
        break;
      case 'referer':
        referer ??= value;
        break;
      case 'user-agent':
        userAgent ??= value;
        break;
    }
    if (!HOP.has(lower)) forward += line + '\r\n';
  }
  if (host === undefined) return null;
  return { method: m[1], target: m[2], host, forward, requestId, referer, userAgent, close };
}

export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

export interface ResponseHead {
  status: number;
  /** Status line and headers for the client, without Connection/Keep-Alive and without the final CRLF. */
  head: string;
  framing: BodyFraming;
  /** The upstream connection may carry another request afterwards. */
  reusable: boolean;
  contentLength: string | undefined;
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: ([^\r\n]*))?$/;

/** Parses an upstream response head (latin1, without the final CRLFCRLF); null: malformed. */
export function parseResponseHead(head: string, method: string): ResponseHead | null {
  const lines = head.split('\r\n');
  const m = STATUS_LINE.exec(lines[0]);
  if (!m) return null;
  const status = Number(m[2]);
  let reusable = m[1] === '1';
  let out = `HTTP/1.1 ${m[2]} ${m[3] ?? ''}`;
  let length = -1;
  let contentLength: string | undefined;
  let chunked = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const lower = line.slice(0, colon).toLowerCase();
    if (lower === 'connection' || lower === 'keep-alive') {
      const v = line.slice(colon + 1).toLowerCase();
      if (v.includes('close')) reusable = false;
      else if (v.includes('keep-alive')) reusable = true;
      continue;
    }
    if (lower === 'content-length') {
      contentLength = line.slice(colon + 1).trim();
      if (!/^\d{1,15}$/.test(contentLength) || (length >= 0 && Number(contentLength) !== length)) return null;
      length = Number(contentLength);
    } else if (lower === 'transfer-encoding') {
      // Only a final `chunked` delimits the body; anything else runs to the close.
      chunked = /(^|,)\s*chunked\s*$/i.test(line.slice(colon + 1));
      if (!chunked) reusable = false;
    }
    out += '\r\n' + line;
  }
  let framing: BodyFraming;
  if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) framing = { kind: 'none' };
  else if (chunked) framing = { kind: 'chunked' };
  else if (length >= 0) framing = { kind: 'length', length };
  else {
    framing = { kind: 'close' };
    reusable = false;
  }
  if (chunked && contentLength !== undefined) {
    // Transfer-Encoding wins (RFC 9112 §6.3); never pass both on.
    out = out.replace(/\r\ncontent-length:[^\r]*/i, '');
    contentLength = undefined;
  }
  return { status, head: out, framing, reusable, contentLength };
}

/**
 * Finds the end of a chunked body without copying it (the bytes are passed on as they are).
 * feed() returns the number of bytes of `buf` that belong to the body, or -1 if all of them do
 * and more is needed; after a non-negative answer the body is complete.
 */
export class ChunkedEnd {
  private state: 'size' | 'ext' | 'sizeLf' | 'data' | 'dataCr' | 'dataLf' | 'trailer' | 'trailerLf' | 'trailerLine' | 'trailerLineLf' = 'size';
  private remaining = 0;
  private digits = 0;
  failed = false;

  feed(buf: Buffer): number {
    let i = 0;
    const n = buf.length;
    while (i < n) {
      const c = buf[i];
      switch (this.state) {
        case 'size': {
          const h = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (h >= 0) {
            if (++this.digits > 12) return this.fail();
            this.remaining = this.remaining * 16 + h;
          } else if (this.digits === 0) return this.fail();
          else if (c === 13) this.state = 'sizeLf';
          else if (c === 59 /* ; */ || c === 32 || c === 9) this.state = 'ext';
          else return this.fail();
          i++;
          break;
        }
        case 'ext':
          if (c === 13) this.state = 'sizeLf';
          i++;
          break;
        case 'sizeLf':
          if (c !== 10) return this.fail();
          this.state = this.remaining === 0 ? 'trailer' : 'data';
          i++;
          break;
        case 'data': {
          const take = Math.min(this.remaining, n - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = 'dataCr';
          break;
        }
        case 'dataCr':
          if (c !== 13) return this.fail();
          this.state = 'dataLf';
          i++;
          break;
        case 'dataLf':
          if (c !== 10) return this.fail();
          this.state = 'size';
          this.digits = 0;
          i++;
          break;
        case 'trailer':
          // Either the final CRLF or a trailer field line.
          this.state = c === 13 ? 'trailerLf' : 'trailerLine';
          i++;
          break;
        case 'trailerLf':
          if (c !== 10) return this.fail();
          return i + 1;
        case 'trailerLine':
          if (c === 13) this.state = 'trailerLineLf';
          i++;
          break;
        case 'trailerLineLf':
          if (c !== 10) return this.fail();
          this.state = 'trailer';
          i++;
          break;
      }
    }
    return -1;
  }

  private fail(): number {
    this.failed = true;
    return -1;
  }
}
