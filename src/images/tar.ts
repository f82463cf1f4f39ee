/**
 * A minimal, deterministic ustar writer: entries are written in the order given with mtime 0,
 * uid/gid 0 and fixed modes, so the same inputs always give the same bytes (and the same layer
 * digest, which is what makes test images reproducible).
 */

export type TarEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Buffer; mode?: number }
  | { type: 'symlink'; path: string; target: string };

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, typeflag: string, size: number, mode: number, linkname = ''): Buffer {
  const h = Buffer.alloc(512, 0);
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`tar: path too long: ${name}`);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii'); // uid
  h.write(octal(0, 8), 116, 8, 'ascii'); // gid
  h.write(octal(size, 12), 124, 12, 'ascii');
  h.write(octal(0, 12), 136, 12, 'ascii'); // mtime
  h.fill(' ', 148, 156); // checksum placeholder
  h.write(typeflag, 156, 1, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 8, 'ascii');
  return h;
}

/** The tar bytes of `entries` (two zero blocks at the end, as tar expects). */
export function tarball(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.type === 'dir') {
      parts.push(header(e.path.endsWith('/') ? e.path : `${e.path}/`, '5', 0, e.mode ?? 0o755));
    } else if (e.type === 'symlink') {
      parts.push(header(e.path, '2', 0, 0o777, e.target));
    } else {
      parts.push(header(e.path, '0', e.data.length, e.mode ?? 0o644), e.data);
      const pad = (512 - (e.data.length % 512)) % 512;
      if (pad) parts.push(Buffer.alloc(pad, 0));
    }
  }
  parts.push(Buffer.alloc(1024, 0));
  return Buffer.concat(parts);
}

/** Reads a tar's regular files (enough for inspecting image archives). */
export function untar(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const cstr = (s: number, n: number) => h.toString('utf8', s, s + n).replace(/\0.*$/s, '');
    const prefix = cstr(345, 155);
    const name = (prefix ? `${prefix}/` : '') + cstr(0, 100);
    const size = parseInt(cstr(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 48);
    off += 512;
    if (type === '0') out.set(name.replace(/^\.\//, ''), buf.subarray(off, off + size));
    off += Math.ceil(size / 512) * 512;
  }
  return out;
}
