/**
 * Go's http.DetectContentType (the WHATWG MIME sniffing subset net/http implements), for responses
 * that go out without a Content-Type: a Go server — kube-apiserver proxying a pod, the kubelet —
 * sniffs the first bytes it writes and names a type, where Node would send none. Clients that pick
 * a decoder by Content-Type (the generated @kubernetes/client-node APIs) rely on one being there.
 * The common signatures are here; anything else is text/plain when it has no binary bytes, else
 * application/octet-stream, as Go.
 */

const WS = new Set([0x09, 0x0a, 0x0c, 0x0d, 0x20]);

/** HTML tags Go recognises at the start (after whitespace), case-insensitively, then a space or '>'. */
const HTML_TAGS = ['<!DOCTYPE HTML', '<HTML', '<HEAD', '<SCRIPT', '<IFRAME', '<H1', '<DIV', '<FONT', '<TABLE', '<A', '<STYLE', '<TITLE', '<B', '<BODY', '<BR', '<P', '<!--'];

/** Exact prefixes (no leading whitespace skipped). */
const EXACT: [number[], string][] = [
  [[0x25, 0x50, 0x44, 0x46, 0x2d], 'application/pdf'], // %PDF-
  [[...'%!PS-Adobe-'].map((c) => c.charCodeAt(0)), 'application/postscript'],
  [[0xfe, 0xff], 'text/plain; charset=utf-16be'],
  [[0xff, 0xfe], 'text/plain; charset=utf-16le'],
  [[0xef, 0xbb, 0xbf], 'text/plain; charset=utf-8'],
  [[0x00, 0x00, 0x01, 0x00], 'image/x-icon'],
  [[0x00, 0x00, 0x02, 0x00], 'image/x-icon'],
  [[0x42, 0x4d], 'image/bmp'],
  [[...'GIF87a'].map((c) => c.charCodeAt(0)), 'image/gif'],
  [[...'GIF89a'].map((c) => c.charCodeAt(0)), 'image/gif'],
  [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'image/png'],
  [[0xff, 0xd8, 0xff], 'image/jpeg'],
  [[0x1f, 0x8b, 0x08], 'application/x-gzip'],
  [[0x50, 0x4b, 0x03, 0x04], 'application/zip'],
  [[0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00], 'application/x-rar-compressed'],
  [[0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00], 'application/x-rar-compressed'],
  [[0x00, 0x61, 0x73, 0x6d], 'application/wasm'],
];

function startsWith(b: Buffer, at: number, sig: number[]): boolean {
  if (b.length - at < sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

function isBinary(c: number): boolean {
  return c <= 0x08 || c === 0x0b || (c >= 0x0e && c <= 0x1a) || (c >= 0x1c && c <= 0x1f);
}

/** The Content-Type Go's server would send for a body starting with `data` (its first 512 bytes count). */
export function detectContentType(data: Buffer): string {
  const b = data.subarray(0, 512);
  let i = 0;
  while (i < b.length && WS.has(b[i])) i++;
  for (const tag of HTML_TAGS) {
    if (b.length - i < tag.length + 1) continue;
    let ok = true;
    for (let j = 0; j < tag.length && ok; j++) {
      const c = b[i + j];
      const want = tag.charCodeAt(j);
      ok = want >= 0x41 && want <= 0x5a ? (c & 0xdf) === want : c === want;
    }
    const next = b[i + tag.length];
    if (ok && (next === 0x20 || next === 0x3e)) return 'text/html; charset=utf-8';
  }
  if (startsWith(b, i, [0x3c, 0x3f, 0x78, 0x6d, 0x6c])) return 'text/xml; charset=utf-8'; // <?xml
  for (const [sig, type] of EXACT) if (startsWith(b, 0, sig)) return type;
  if (b.length >= 14 && startsWith(b, 0, [0x52, 0x49, 0x46, 0x46]) && startsWith(b, 8, [0x57, 0x45, 0x42, 0x50, 0x56, 0x50])) return 'image/webp';
  for (const c of b) if (isBinary(c)) return 'application/octet-stream';
  return 'text/plain; charset=utf-8';
}
