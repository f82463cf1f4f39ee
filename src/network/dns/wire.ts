/**
 * A minimal DNS wire codec (RFC 1035, plus the EDNS0 OPT record of RFC 6891): enough to parse
 * queries and write authoritative answers. Names are written uncompressed; compression pointers
 * are followed when reading. (Stands in for `dns-packet`, which is not a dependency.)
 */
export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface Question {
  name: string;
  type: number;
  class: number;
}

export interface Query {
  id: number;
  opcode: number;
  rd: boolean;
  questions: Question[];
  /** EDNS0 UDP payload size when the query carried an OPT record. */
  udpSize?: number;
}

export type RData =
  | { type: 1; address: string }
  | { type: 28; address: string }
  | { type: 5 | 12 | 2; target: string }
  | { type: 33; priority: number; weight: number; port: number; target: string }
  | { type: 6; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { type: 16; text: string };

export interface Record_ {
  name: string;
  ttl: number;
  data: RData;
}

export interface Response {
  id: number;
  rd: boolean;
  aa: boolean;
  ra: boolean;
  rcode: number;
  tc?: boolean;
  questions: Question[];
  answers: Record_[];
  authority: Record_[];
  additional: Record_[];
  /** Echo an OPT record with this payload size. */
  udpSize?: number;
}

export class DnsFormatError extends Error {}

function readName(buf: Buffer, off: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  let jumps = 0;
  for (;;) {
    if (off >= buf.length) throw new DnsFormatError('name runs past the message');
    const len = buf[off];
    if (len === 0) {
      off++;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (++jumps > 32) throw new DnsFormatError('compression loop');
      if (next < 0) next = off + 2;
      off = ((len & 0x3f) << 8) | buf[off + 1];
      continue;
    }
    labels.push(buf.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  return { name: labels.join('.'), next: next < 0 ? off : next };
}

export function parseQuery(buf: Buffer): Query {
  if (buf.length < 12) throw new DnsFormatError('short message');
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  let off = 12;
  const questions: Question[] = [];
  for (let i = 0; i < qd; i++) {
    const n = readName(buf, off);
    off = n.next;
    if (off + 4 > buf.length) throw new DnsFormatError('short question');
    questions.push({ name: n.name, type: buf.readUInt16BE(off), class: buf.readUInt16BE(off + 2) });
    off += 4;
  }
  let udpSize: number | undefined;
  for (let i = 0; i < an + ns + ar; i++) {
    const n = readName(buf, off);
    off = n.next;
    if (off + 10 > buf.length) throw new DnsFormatError('short record');
    const type = buf.readUInt16BE(off);
    const cls = buf.readUInt16BE(off + 2);
    const rdlen = buf.readUInt16BE(off + 8);
    if (type === TYPE.OPT) udpSize = Math.max(512, cls);
    off += 10 + rdlen;
  }
  return { id, opcode: (flags >> 11) & 0xf, rd: !!(flags & 0x100), questions, udpSize };
}

function nameBytes(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const b = Buffer.from(p, 'latin1');
    chunks.push(Buffer.from([Math.min(b.length, 63)]), b.subarray(0, 63));
  }
  chunks.push(Buffer.from([0]));
  return Buffer.concat(chunks);
}

function ipv4(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number));
}

function ipv6(a: string): Buffer {
  const [head, tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return b;
}

function rdata(d: RData): Buffer {
  switch (d.type) {
    case 1:
      return ipv4(d.address);
    case 28:
      return ipv6(d.address);
    case 2:
    case 5:
    case 12:
      return nameBytes(d.target);
    case 33: {
      const h = Buffer.alloc(6);
      h.writeUInt16BE(d.priority, 0);
      h.writeUInt16BE(d.weight, 2);
      h.writeUInt16BE(d.port, 4);
      return Buffer.concat([h, nameBytes(d.target)]);
    }
    case 6: {
      const n = Buffer.alloc(20);
      n.writeUInt32BE(d.serial >>> 0, 0);
      n.writeUInt32BE(d.refresh, 4);
      n.writeUInt32BE(d.retry, 8);
      n.writeUInt32BE(d.expire, 12);
      n.writeUInt32BE(d.minimum, 16);
      return Buffer.concat([nameBytes(d.mname), nameBytes(d.rname), n]);
    }
    case 16: {
      const t = Buffer.from(d.text.slice(0, 255));
      return Buffer.concat([Buffer.from([t.length]), t]);
    }
  }
}

function record(r: Record_): Buffer {
  const rd = rdata(r.data);
  const h = Buffer.alloc(10);
  h.writeUInt16BE(r.data.type, 0);
  h.writeUInt16BE(1, 2);
  h.writeUInt32BE(r.ttl, 4);
  h.writeUInt16BE(rd.length, 8);
  return Buffer.concat([nameBytes(r.name), h, rd]);
}

export function encodeResponse(r: Response): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(r.id, 0);
  const flags = 0x8000 | (r.aa ? 0x400 : 0) | (r.tc ? 0x200 : 0) | (r.rd ? 0x100 : 0) | (r.ra ? 0x80 : 0) | (r.rcode & 0xf);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(r.questions.length, 4);
  h.writeUInt16BE(r.answers.length, 6);
  h.writeUInt16BE(r.authority.length, 8);
  const opt = r.udpSize ? Buffer.from([0, 0, 41, (r.udpSize >> 8) & 255, r.udpSize & 255, 0, 0, 0, 0, 0, 0]) : undefined;
  h.writeUInt16BE(r.additional.length + (opt ? 1 : 0), 10);
  const parts: Buffer[] = [h];
  for (const q of r.questions) {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(q.type, 0);
    t.writeUInt16BE(q.class, 2);
    parts.push(nameBytes(q.name), t);
  }
  for (const x of [...r.answers, ...r.authority, ...r.additional]) parts.push(record(x));
  if (opt) parts.push(opt);
  return Buffer.concat(parts);
}

/** Builds a query (for tests, benchmarks and forwarding checks). */
export function encodeQuery(id: number, name: string, type: number, rd = true): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(rd ? 0x100 : 0, 2);
  h.writeUInt16BE(1, 4);
  const t = Buffer.alloc(4);
  t.writeUInt16BE(type, 0);
  t.writeUInt16BE(1, 2);
  return Buffer.concat([h, nameBytes(name), t]);
}

/** Reads a response's rcode and answer records' (type, rdata as text) — enough for tests. */
export function decodeAnswers(buf: Buffer): { id: number; rcode: number; tc: boolean; aa: boolean; answers: { name: string; type: number; value: string }[]; authority: number } {
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  let off = 12;
  for (let i = 0; i < qd; i++) off = readName(buf, off).next + 4;
  const answers: { name: string; type: number; value: string }[] = [];
  for (let i = 0; i < an; i++) {
    const n = readName(buf, off);
    off = n.next;
    const type = buf.readUInt16BE(off);
    const len = buf.readUInt16BE(off + 8);
    const d = off + 10;
    let value = '';
    if (type === 1) value = [...buf.subarray(d, d + 4)].join('.');
    else if (type === 5 || type === 12 || type === 2) value = readName(buf, d).name;
    else if (type === 33) value = `${buf.readUInt16BE(d)} ${buf.readUInt16BE(d + 2)} ${buf.readUInt16BE(d + 4)} ${readName(buf, d + 6).name}`;
    answers.push({ name: n.name, type, value });
    off = d + len;
  }
  return { id, rcode: flags & 0xf, tc: !!(flags & 0x200), aa: !!(flags & 0x400), answers, authority: buf.readUInt16BE(8) };
}
