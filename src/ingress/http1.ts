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
/** A header name and its colon, matched where a line starts. */
const NAME_COLON = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/y;
/** Anything but tab, CR, LF and printable ASCII; or a CR or LF that is not part of a CRLF. */
const ODD_BYTES = /[^\t\r\n\x20-\x7e]|\r(?!\n)|(?<!\r)\n/;
/** First letters (lower-cased) of the header names parseRequestHead looks at: HOP and its switch. */
const INTERESTING = new Set([...'chkptuxre'].map((c) => c.charCodeAt(0)));

/**
 * Parses a request head (latin1, without the final CRLFCRLF); null: leave it to node:http. It
 * runs once per request: lines are walked in place, and only names that may matter are lower-cased.
 */
export function parseRequestHead(head: string): RequestHead | null {
  if (ODD_BYTES.test(head)) return null;
  let eol = head.indexOf('\r\n');
  if (eol < 0) eol = head.length;
  const m = REQUEST_LINE.exec(eol === head.length ? head : head.slice(0, eol));
  if (!m || m[1] === 'CONNECT') return null;
  let host: string | undefined;
  let requestId: string | undefined;
  let referer: string | undefined;
  let userAgent: string | undefined;
  let close = false;
  // The kept lines are copied as stretches: `forward` gets a stretch when a dropped line ends it.
  let forward = '';
  let keptFrom = eol + 2;
  let pos = eol + 2;
  while (pos < head.length) {
    let end = head.indexOf('\r\n', pos);
    if (end < 0) end = head.length;
    NAME_COLON.lastIndex = pos;
    if (!NAME_COLON.test(head) || NAME_COLON.lastIndex > end) return null;
    const colon = NAME_COLON.lastIndex - 1;
    if (INTERESTING.has(head.charCodeAt(pos) | 0x20)) {
      const lower = head.slice(pos, colon).toLowerCase();
      switch (lower) {
        case 'host':
          if (host !== undefined) return null;
          host = head.slice(colon + 1, end).trim();
          break;
        case 'content-length':
          if (head.slice(colon + 1, end).trim() !== '0') return null;
          break;
        case 'transfer-encoding':
        case 'upgrade':
        case 'expect':
          return null;
        case 'connection': {
          const v = head.slice(colon + 1, end).toLowerCase();
          if (v.includes('upgrade')) return null;
          if (v.includes('close')) close = true;
          break;
        }
        case 'x-request-id':
          if (requestId === undefined) requestId = head.slice(colon + 1, end).trim();
          break;
        case 'referer':
          referer ??= head.slice(colon + 1, end).trim();
          break;
        case 'user-agent':
          userAgent ??= head.slice(colon + 1, end).trim();
          break;
      }
      if (HOP.has(lower)) {
        if (pos > keptFrom) forward += head.slice(keptFrom, pos);
        keptFrom = end + 2;
      }
    }
    pos = end + 2;
  }
  if (keptFrom < head.length) forward += head.slice(keptFrom) + '\r\n';
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

/** Parses an upstream response head (latin1, without the final CRLFCRLF); null: malformed. */
export function parseResponseHead(head: string, method: string): ResponseHead | null {
  // `HTTP/1.x NNN[ reason]`, checked by hand: this runs once per proxied response.
  let eol = head.indexOf('\r\n');
  if (eol < 0) eol = head.length;
  const minor = head.charCodeAt(7);
  if (!head.startsWith('HTTP/1.') || (minor !== 48 && minor !== 49) || head.charCodeAt(8) !== 32 || (eol > 12 && head.charCodeAt(12) !== 32) || eol < 12) return null;
  const status = Number(head.slice(9, 12));
  if (!(status >= 100 && status <= 999) || !isDigits(head, 9, 12)) return null;
  let reusable = minor === 49;
  let length = -1;
  let contentLength: string | undefined;
  let chunked = false;
  // The head goes out as it came, less the lines dropped: `out` collects the kept stretches.
  let out = minor === 49 ? '' : 'HTTP/1.1';
  let keptFrom = minor === 49 ? 0 : 8;
  let pos = eol + 2;
  while (pos < head.length) {
    let end = head.indexOf('\r\n', pos);
    if (end < 0) end = head.length;
    const colon = head.indexOf(':', pos);
    if (colon <= pos || colon > end) return null;
    const c = head.charCodeAt(pos) | 0x20;
    // Only Connection, Keep-Alive, Content-Length and Transfer-Encoding matter here.
    if (c === 99 /* c */ || c === 107 /* k */ || c === 116 /* t */) {
      const lower = head.slice(pos, colon).toLowerCase();
      if (lower === 'connection' || lower === 'keep-alive') {
        const v = head.slice(colon + 1, end).toLowerCase();
        if (v.includes('close')) reusable = false;
        else if (v.includes('keep-alive')) reusable = true;
        out += head.slice(keptFrom, pos - 2);
        keptFrom = end;
      } else if (lower === 'content-length') {
        const v = head.slice(colon + 1, end).trim();
        if (!/^\d{1,15}$/.test(v) || (length >= 0 && Number(v) !== length)) return null;
        contentLength = v;
        length = Number(v);
      } else if (lower === 'transfer-encoding') {
        // Only a final `chunked` delimits the body; anything else runs to the close.
        chunked = /(^|,)\s*chunked\s*$/i.test(head.slice(colon + 1, end));
        if (!chunked) reusable = false;
      }
    }
    pos = end + 2;
  }
  out += head.slice(keptFrom);
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

function isDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
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
