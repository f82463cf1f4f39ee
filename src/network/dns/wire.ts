/**
 * The DNS wire format, through `dns-packet`: decoding queries, encoding responses (with EDNS0's
 * OPT echoed and UDP truncation as CoreDNS does it), and TCP's two-byte length framing. Records
 * are dns-packet's own objects (`{ name, type: 'A', ttl, data }`), so the zone builds them directly.
 */
import dnsPacket from 'dns-packet';

/** Record types by name, as dns-packet spells them (unknown numeric types decode as `UNKNOWN_<n>`). */
export const TYPE = { A: 'A', NS: 'NS', CNAME: 'CNAME', SOA: 'SOA', PTR: 'PTR', TXT: 'TXT', AAAA: 'AAAA', SRV: 'SRV', OPT: 'OPT', ANY: 'ANY' } as const;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface Question {
  name: string;
  /** `A`, `AAAA`, … (dns-packet's names). */
  type: string;
  class?: string;
}

export interface Query {
  id: number;
  opcode: number;
  rd: boolean;
  cd: boolean;
  questions: Question[];
  /** EDNS0 UDP payload size when the query carried an OPT record (at least 512). */
  udpSize?: number;
}

/** A resource record as dns-packet encodes it. */
export type Record_ = dnsPacket.Answer;

export interface Response {
  id: number;
  rd: boolean;
  aa: boolean;
  ra: boolean;
  rcode: number;
  tc?: boolean;
  cd?: boolean;
  questions: Question[];
  answers: Record_[];
  authority: Record_[];
  additional: Record_[];
  /** Echo an OPT record with this payload size (the query had one). */
  udpSize?: number;
}

/** The message is not a well-formed DNS query (answer FORMERR when the header is readable). */
export class DnsFormatError extends Error {}

const QR = 0x8000;
/** What this server advertises in its OPT record (CoreDNS's default buffer size too). */
const SERVER_UDP_SIZE = 1232;

export function parseQuery(buf: Buffer): Query {
  if (buf.length < 12) throw new DnsFormatError('short message');
  let p: dnsPacket.DecodedPacket;
  try {
    p = dnsPacket.decode(buf) as dnsPacket.DecodedPacket;
  } catch (e) {
    throw new DnsFormatError((e as Error).message);
  }
  const flags = buf.readUInt16BE(2);
  if (flags & QR) throw new DnsFormatError('not a query');
  let udpSize: number | undefined;
  for (const r of p.additionals ?? []) if (r.type === 'OPT') udpSize = Math.max(512, (r as dnsPacket.OptAnswer).udpPayloadSize);
  return {
    id: p.id ?? 0,
    opcode: (flags >> 11) & 0xf,
    rd: !!(flags & dnsPacket.RECURSION_DESIRED),
    cd: !!(flags & dnsPacket.CHECKING_DISABLED),
    questions: (p.questions ?? []).map((q) => ({ name: q.name, type: q.type, class: q.class ?? 'IN' })),
    udpSize,
  };
}

function packet(r: Response, answers: Record_[], authorities: Record_[], additionals: Record_[], tc: boolean): dnsPacket.Packet {
  const flags = (r.aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | (tc ? dnsPacket.TRUNCATED_RESPONSE : 0) | (r.rd ? dnsPacket.RECURSION_DESIRED : 0) | (r.ra ? dnsPacket.RECURSION_AVAILABLE : 0) | (r.cd ? dnsPacket.CHECKING_DISABLED : 0) | (r.rcode & 0xf);
  if (r.udpSize) additionals = [...additionals, { type: 'OPT', name: '.', udpPayloadSize: SERVER_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as dnsPacket.OptAnswer];
  return { type: 'response', id: r.id, flags, questions: r.questions as dnsPacket.Question[], answers, authorities, additionals };
}

/**
 * Encodes a response. With `limit` (the UDP payload the client accepts) a response that does not
 * fit drops the additional section, then the authority section, then answers from the end, and
 * sets TC (as CoreDNS's truncation does): clients that cannot retry over TCP still get what fits.
 */
export function encodeResponse(r: Response, limit = 65535): Buffer {
  const full = packet(r, r.answers, r.authority, r.additional, !!r.tc);
  if (dnsPacket.encodingLength(full) <= limit) return dnsPacket.encode(full);
  let answers = r.answers;
  let authority = r.authority;
  const fits = (a: Record_[], ns: Record_[]) => dnsPacket.encodingLength(packet(r, a, ns, [], true)) <= limit;
  if (!fits(answers, authority)) authority = [];
  if (!fits(answers, authority)) {
    let lo = 0;
    let hi = answers.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (fits(answers.slice(0, mid), [])) lo = mid;
      else hi = mid - 1;
    }
    answers = answers.slice(0, lo);
  }
  return dnsPacket.encode(packet(r, answers, authority, [], true));
}

/** Builds a query (for tests, benchmarks and forwarding checks). */
export function encodeQuery(id: number, name: string, type: string, rd = true, udpSize?: number): Buffer {
  const additionals = udpSize ? [{ type: 'OPT', name: '.', udpPayloadSize: udpSize, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as dnsPacket.OptAnswer] : [];
  return dnsPacket.encode({ type: 'query', id, flags: rd ? dnsPacket.RECURSION_DESIRED : 0, questions: [{ name, type: type as dnsPacket.RecordType, class: 'IN' }], additionals });
}

/** Decodes any message (responses in tests; dns-packet's own shape). */
export function decodeMessage(buf: Buffer): dnsPacket.DecodedPacket & { rcode: string } {
  return dnsPacket.decode(buf) as dnsPacket.DecodedPacket & { rcode: string };
}

/** Prefixes a message with its two-byte length (DNS over TCP, RFC 1035 4.2.2). */
export function frameTcp(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(msg.length + 2);
  out.writeUInt16BE(msg.length, 0);
  msg.copy(out, 2);
  return out;
}

/**
 * Splits a TCP byte stream into DNS messages: push chunks, get back every complete message;
 * an incomplete tail waits for the next chunk.
 */
export class TcpDeframer {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    let off = 0;
    while (this.buf.length - off >= 2) {
      const len = this.buf.readUInt16BE(off);
      if (this.buf.length - off - 2 < len) break;
      out.push(Buffer.from(this.buf.subarray(off + 2, off + 2 + len)));
      off += 2 + len;
    }
    this.buf = off ? this.buf.subarray(off) : this.buf;
    return out;
  }
}
