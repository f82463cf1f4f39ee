/**
 * A cache of forwarded answers (the `cache 30` of CoreDNS's default Corefile): pods' search lists
 * send the same outside names again and again. An answer lives for its smallest TTL (negative
 * answers: the SOA's, RFC 2308), at most `maxTtl` seconds; a hit is re-encoded with the TTLs
 * aged by the time spent here and the asker's ID. Pure apart from the injected clock.
 */
import dnsPacket from 'dns-packet';

interface Entry {
  packet: dnsPacket.DecodedPacket;
  stored: number;
  expires: number;
}

export interface AnswerCacheOptions {
  /** Seconds an answer is kept at most (CoreDNS's default: 30 for positive answers). */
  maxTtl?: number;
  maxEntries?: number;
  /** Milliseconds (tests inject a fake clock). */
  now?: () => number;
}

const sections = ['answers', 'authorities', 'additionals'] as const;

export class AnswerCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxTtl: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(o: AnswerCacheOptions = {}) {
    this.maxTtl = o.maxTtl ?? 30;
    this.maxEntries = o.maxEntries ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Keeps an upstream's answer to the query `key` names, when it is cacheable. */
  put(key: string, response: Buffer): void {
    let p: dnsPacket.DecodedPacket & { rcode?: string };
    try {
      p = dnsPacket.decode(response) as dnsPacket.DecodedPacket & { rcode?: string };
      dnsPacket.encode(p); // only what re-encodes faithfully is worth keeping
    } catch {
      return;
    }
    if (p.flag_tc || (p.rcode !== 'NOERROR' && p.rcode !== 'NXDOMAIN')) return;
    let ttl = this.maxTtl;
    const answers = (p.answers ?? []) as any[];
    if (answers.length) for (const r of answers) ttl = Math.min(ttl, r.ttl ?? 0);
    else {
      const soa = (p.authorities ?? []).find((r) => r.type === 'SOA') as dnsPacket.SoaAnswer | undefined;
      if (!soa) return; // a negative answer without SOA must not be cached (RFC 2308 5)
      ttl = Math.min(ttl, soa.ttl ?? 0, soa.data.minimum ?? 0);
    }
    if (ttl <= 0) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const now = this.now();
    this.entries.set(key, { packet: p, stored: now, expires: now + ttl * 1000 });
  }

  /** The cached answer for `key` with the asker's ID and aged TTLs, or undefined. */
  get(key: string, id: number): Buffer | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    const now = this.now();
    if (now >= e.expires) {
      this.entries.delete(key);
      return undefined;
    }
    const aged = Math.floor((now - e.stored) / 1000);
    const out: any = { ...e.packet, id };
    for (const s of sections) out[s] = (e.packet[s] ?? []).map((r: any) => (r.type === 'OPT' ? r : { ...r, ttl: Math.max(0, (r.ttl ?? 0) - aged) }));
    return dnsPacket.encode(out);
  }
}
