/**
 * nginx's request-URI handling, reproduced so routing decisions match ingress-nginx byte for byte:
 * locations match the decoded, normalised URI (`$uri`), while an unrewritten request is proxied with
 * the URI exactly as the client sent it, and a rewritten one with `$uri` re-escaped.
 */
export class BadRequestUri extends Error {
  readonly code = 'IngressBadUri';
}

export interface ParsedTarget {
  /** The path part exactly as sent (before `?`). */
  rawPath: string;
  /** Query string without `?`, or '' (nginx's `$args`). */
  args: string;
  hasQuery: boolean;
  /** Decoded path with `//` merged and `.`/`..` resolved (nginx's `$uri`). */
  uri: string;
}

const hex = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1);

/** Splits a request-target and normalises its path as nginx's ngx_http_parse_complex_uri does (merge_slashes on). */
export function parseTarget(target: string): ParsedTarget {
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const args = q < 0 ? '' : target.slice(q + 1);
  if (!rawPath.startsWith('/')) throw new BadRequestUri(`request target must start with "/"`);
  // Fast path: nothing to decode or normalise.
  if (!/%|\/\/|\/\.|[^\x21-\x7e]/.test(rawPath)) return { rawPath, args, hasQuery: q >= 0, uri: rawPath };
  // Decode percent-escapes to bytes first. nginx re-examines a decoded byte (so %2F is a slash and
  // %2E a dot) except `%` and `#`, which stay literal.
  const bytes: number[] = [];
  const literal: boolean[] = [];
  for (let i = 0; i < rawPath.length; i++) {
    const c = rawPath.charCodeAt(i);
    if (c === 37 /* % */) {
      const h = hex(rawPath.charCodeAt(i + 1));
      const l = hex(rawPath.charCodeAt(i + 2));
      if (h < 0 || l < 0) throw new BadRequestUri('bad percent-encoding');
      const b = (h << 4) | l;
      if (b === 0) throw new BadRequestUri('NUL in URI');
      bytes.push(b);
      literal.push(b === 37 || b === 35);
      i += 2;
    } else if (c > 0x7f) {
      for (const b of Buffer.from(rawPath[i], 'utf8')) {
        bytes.push(b);
        literal.push(true);
      }
    } else {
      bytes.push(c);
      literal.push(false);
    }
  }
  // Segment-wise normalisation: merge slashes, drop `.`, pop on `..` (above the root is a 400).
  const out: number[] = [];
  let i = 0;
  const n = bytes.length;
  const isSlash = (k: number) => bytes[k] === 47 && !literal[k];
  const isDot = (k: number) => bytes[k] === 46 && !literal[k];
  while (i < n) {
    if (isSlash(i)) {
      // Collapse a run of slashes into one.
      if (out.length === 0 || out[out.length - 1] !== 47) out.push(47);
      i++;
      // Look at the segment that follows.
      let j = i;
      while (j < n && !isSlash(j)) j++;
      const segLen = j - i;
      if (segLen === 1 && isDot(i)) {
        i = j; // `/.` → `/`
        continue;
      }
      if (segLen === 2 && isDot(i) && isDot(i + 1)) {
        // `/..` → drop the previous segment, keep the slash.
        out.pop(); // the slash just pushed
        if (out.length === 0) throw new BadRequestUri('URI goes above the root');
        while (out.length && out[out.length - 1] !== 47) out.pop();
        if (out.length === 0) out.push(47);
        i = j;
        continue;
      }
      continue;
    }
    out.push(bytes[i]);
    i++;
  }
  return { rawPath, args, hasQuery: q >= 0, uri: Buffer.from(out).toString('latin1') };
}

/** nginx's ngx_escape_uri(NGX_ESCAPE_URI): space, `#`, `%`, `?`, controls and bytes ≥ 0x7f. */
export function escapeUri(uri: string): string {
  let s = '';
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 0x20 || c === 35 || c === 37 || c === 63 || c >= 0x7f) s += '%' + c.toString(16).toUpperCase().padStart(2, '0');
    else s += uri[i];
  }
  return s;
}
