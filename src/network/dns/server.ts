/**
 * Cluster DNS (CoreDNS with the kubernetes plugin, as a Skiff component): answers the cluster
 * zone from informer caches on UDP and TCP, forwards every other name to the upstream resolvers
 * (by default those of the host's /etc/resolv.conf), and keeps the kube-dns Service pointing at it.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { R } from '../../client/factory.js';
import { Informer } from '../../client/informer.js';
import type { RestClient } from '../../client/rest.js';
import type { Component } from '../../cluster/component.js';
import { ClusterZone, DEFAULT_TTL, sliceEndpoints, type Answer, type DnsEndpoint, type ZoneData } from './zone.js';
import { DnsFormatError, RCODE, TcpDeframer, decodeMessage, encodeQuery, encodeResponse, frameTcp, parseQuery, type Record_, type Response } from './wire.js';
import { canonicalIP } from './ip.js';
import { AnswerCache } from './answer-cache.js';

export interface ClusterDNSOptions extends DnsServerOptions {
  /** The cluster zone (default cluster.local). */
  domain?: string;
  /** Seconds (default 5, CoreDNS's kubernetes plugin's). */
  ttl?: number;
  /** Rewrites IPv4 answers (loopback mode answers the 127.x aliases). */
  mapAddress?: (ip: string) => string;
}

export interface ClusterDNS extends Component {
  readonly port: number;
  readonly zone: ClusterZone;
  /** Answers one wire-format query (what the sockets do). */
  handle(msg: Buffer, tcp: boolean): Promise<Buffer | undefined>;
}

export function hostUpstreams(file = '/etc/resolv.conf'): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((x): x is string => !!x && !x.includes(':'))
      .map((ip) => `${ip}:53`);
  } catch {
    return [];
  }
}

/** Informer-backed ZoneData, with indexes rebuilt lazily after the event handlers drop them. */
class InformerData implements ZoneData {
  readonly services: Informer;
  readonly slices: Informer;
  readonly namespaces: Informer;
  private gen = 0;
  private changed = Math.floor(Date.now() / 1000);
  private byIP?: Map<string, string>;
  private eps = new Map<string, DnsEndpoint[]>();
  private epIPs?: Map<string, { namespace: string; service: string; ep: DnsEndpoint }[]>;

  constructor(client: RestClient) {
    this.services = new Informer(client, R.services);
    this.slices = new Informer(client, R.endpointslices);
    this.namespaces = new Informer(client, R.namespaces);
    const bump = () => {
      this.gen++;
      this.changed = Math.floor(Date.now() / 1000);
    };
    const svcChanged = () => {
      this.byIP = undefined;
      bump();
    };
    this.services.addHandlers({ add: svcChanged, update: svcChanged, delete: svcChanged });
    const sliceChanged = (s: any) => {
      const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
      if (svc) this.eps.delete(`${s.metadata.namespace}/${svc}`);
      this.epIPs = undefined;
      bump();
    };
    this.slices.addHandlers({ add: sliceChanged, update: (o, s) => (sliceChanged(o), sliceChanged(s)), delete: sliceChanged });
    this.namespaces.addHandlers({ add: bump, update: bump, delete: bump });
  }

  generation(): number {
    return this.gen;
  }

  modified(): number {
    return this.changed;
  }

  service(ns: string, name: string): any {
    return this.services.get(`${ns}/${name}`);
  }

  namespaceExists(ns: string): boolean {
    return !!this.namespaces.get(ns);
  }

  endpoints(ns: string, name: string): DnsEndpoint[] {
    const key = `${ns}/${name}`;
    let l = this.eps.get(key);
    if (l) return l;
    l = sliceEndpoints(this.slices.list().filter((s) => s.metadata.namespace === ns && s.metadata.labels?.['kubernetes.io/service-name'] === name));
    this.eps.set(key, l);
    return l;
  }

  serviceByIP(ip: string): any {
    if (!this.byIP) {
      this.byIP = new Map();
      for (const s of this.services.list()) {
        const ips: string[] = s.spec?.clusterIPs?.length ? s.spec.clusterIPs : s.spec?.clusterIP ? [s.spec.clusterIP] : [];
        for (const a of ips) {
          const c = a !== 'None' && canonicalIP(a);
          if (c) this.byIP.set(c, `${s.metadata.namespace}/${s.metadata.name}`);
        }
      }
    }
    const k = this.byIP.get(ip);
    return k ? this.services.get(k) : undefined;
  }

  endpointsByIP(ip: string): { namespace: string; service: string; ep: DnsEndpoint }[] {
    if (!this.epIPs) {
      this.epIPs = new Map();
      const done = new Set<string>();
      for (const s of this.slices.list()) {
        const service = s.metadata.labels?.['kubernetes.io/service-name'];
        const key = `${s.metadata.namespace}/${service}`;
        if (!service || done.has(key)) continue;
        done.add(key);
        for (const ep of this.endpoints(s.metadata.namespace, service)) {
          const l = this.epIPs.get(ep.ip) ?? [];
          l.push({ namespace: s.metadata.namespace, service, ep });
          this.epIPs.set(ep.ip, l);
        }
      }
    }
    return this.epIPs.get(ip) ?? [];
  }

  start(): Promise<unknown> {
    return Promise.all([this.services.start(), this.slices.start(), this.namespaces.start()]);
  }

  stop(): void {
    this.services.stop();
    this.slices.stop();
    this.namespaces.stop();
  }
}

/** An ExternalName answer waiting for its target's addresses from upstream. */
interface Chase {
  response: Response;
  target: string;
  type: string;
  limit: number;
}

const FORWARD_TIMEOUT_MS = 2000;
/** Upstreams tried per query (each gets FORWARD_TIMEOUT_MS, within a stub resolver's 5 s). */
const MAX_UPSTREAMS_TRIED = 2;
/** Forwarded queries in flight at most (IDs are 16 bits). */
const MAX_PENDING = 32_768;
const TCP_IDLE_MS = 10_000;

/** Encoded answers kept per exact query bytes (all but the ID) for one zone generation. */
const CACHE_MAX = 10_000;

export function createClusterDNS(client: RestClient, opts: ClusterDNSOptions): ClusterDNS {
  const data = new InformerData(client);
  const zone = new ClusterZone(data, { domain: opts.domain ?? 'cluster.local', ttl: opts.ttl ?? DEFAULT_TTL, mapAddress: opts.mapAddress });
  const server = createDnsServer(zone, opts);
  return {
    name: 'cluster-dns',
    zone,
    get port() {
      return server.port;
    },
    handle: server.handle,
    async start() {
      await data.start();
      await server.start();
    },
    async stop() {
      data.stop();
      await server.stop();
    },
  };
}

export interface DnsServerOptions {
  /** Address to listen on (UDP and TCP). */
  host: string;
  /** Default 53; 0 picks a free port (same for UDP and TCP). */
  port?: number;
  /** `ip:port` upstream resolvers (default: nameservers of /etc/resolv.conf). */
  upstreams?: string[];
  /** Forwarded answers are kept up to this many seconds (default 30, CoreDNS's `cache 30`; 0: off). */
  forwardCacheSeconds?: number;
  /**
   * With host 0.0.0.0: the machine's IPv4 addresses, each also given a UDP socket of its own (default
   * from os.networkInterfaces, looked at again every few seconds so the pod bridge's gateway is
   * picked up when it appears).
   */
  localAddresses?: () => string[];
  log?: (msg: string) => void;
}

export interface DnsServer {
  readonly port: number;
  /** Answers one wire-format query (what the sockets do). */
  handle(msg: Buffer, tcp: boolean): Promise<Buffer | undefined>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The sockets (UDP and TCP on one port) and the forwarder around a zone. */
export function createDnsServer(zone: ClusterZone, opts: DnsServerOptions): DnsServer {
  const log = opts.log ?? (() => undefined);
  let upstreams = opts.upstreams ?? hostUpstreams();
  let udp: dgram.Socket | undefined;
  // A UDP socket on 0.0.0.0 replies from the address that routes back to the client, which is not
  // always the address asked: the node querying the kube-dns ClusterIP is DNATed to the pod gateway
  // and answered from its own eth0 address, so conntrack cannot undo the DNAT and the client drops
  // the answer (`dig @10.96.0.10` from the node, hostNetwork pods). A socket bound to each address
  // answers from it (the kernel prefers the more specific bind).
  const perAddress = new Map<string, dgram.Socket>();
  let rescan: NodeJS.Timeout | undefined;
  let tcp: net.Server | undefined;
  let fwd: dgram.Socket | undefined;
  const sockets = new Set<net.Socket>();
  let port = 0;
  const cache = new Map<string, Buffer>();
  const forwarded = new AnswerCache({ maxTtl: opts.forwardCacheSeconds ?? 30 });
  let cacheGen: number | undefined;

  const pending = new Map<number, { resolve: (b: Buffer | undefined) => void; timer: NodeJS.Timeout; host: string; port: number }>();

  /** One exchange with one upstream over UDP; a random ID, and only that upstream's answer counts. */
  const forwardUdp = (msg: Buffer, host: string, p: number): Promise<Buffer | undefined> => {
    if (!fwd || pending.size >= MAX_PENDING) return Promise.resolve(undefined);
    let fid = randomInt(0x10000);
    while (pending.has(fid)) fid = randomInt(0x10000);
    const out = Buffer.from(msg);
    out.writeUInt16BE(fid, 0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(fid);
        resolve(undefined);
      }, FORWARD_TIMEOUT_MS);
      pending.set(fid, { resolve, timer, host, port: p });
      fwd!.send(out, p, host);
    });
  };

  /** The same over TCP (when the UDP answer came back truncated to a client that asked over TCP). */
  const forwardTcp = (msg: Buffer, host: string, p: number): Promise<Buffer | undefined> =>
    new Promise((resolve) => {
      const frames = new TcpDeframer();
      const s = net.connect(p, host, () => s.write(frameTcp(msg)));
      const done = (r: Buffer | undefined) => {
        clearTimeout(timer);
        s.destroy();
        resolve(r);
      };
      const timer = setTimeout(() => done(undefined), FORWARD_TIMEOUT_MS);
      s.on('data', (d) => {
        const [m] = frames.push(d);
        if (m) done(m);
      });
      s.on('error', () => done(undefined));
    });

  /** Forwards a query to the upstreams in turn until one answers (the answer carries the client's ID). */
  const forward = async (msg: Buffer, overTcp: boolean): Promise<Buffer | undefined> => {
    for (const up of upstreams.slice(0, MAX_UPSTREAMS_TRIED)) {
      const i = up.lastIndexOf(':');
      const host = i > 0 ? up.slice(0, i) : up;
      const p = i > 0 ? Number(up.slice(i + 1)) : 53;
      let r = await forwardUdp(msg, host, p);
      if (r && overTcp && r.length >= 3 && r[2] & 0x02) r = (await forwardTcp(msg, host, p)) ?? r;
      if (r) {
        r.writeUInt16BE(msg.readUInt16BE(0), 0);
        return r;
      }
    }
    return undefined;
  };

  /**
   * The zone's answer, synchronously (the fast path: a cache hit costs a map lookup and a copy);
   * 'forward' for names that are not ours; undefined for messages to drop.
   */
  const answer = (msg: Buffer, overTcp: boolean): Buffer | 'forward' | { chase: Chase } | undefined => {
    const gen = zone.generation;
    let key: string | undefined;
    if (gen !== undefined && msg.length >= 12 && msg.length <= 512) {
      if (gen !== cacheGen) {
        cache.clear();
        cacheGen = gen;
      }
      key = (overTcp ? 't' : 'u') + msg.toString('latin1', 2);
      const hit = cache.get(key);
      if (hit) {
        const out = Buffer.allocUnsafe(hit.length);
        hit.copy(out);
        out[0] = msg[0];
        out[1] = msg[1];
        return out;
      }
    }
    let q;
    try {
      q = parseQuery(msg);
    } catch (e) {
      if (!(e instanceof DnsFormatError) || msg.length < 12 || msg[2] & 0x80) return undefined;
      return encodeResponse({ id: msg.readUInt16BE(0), rd: false, aa: false, ra: true, rcode: RCODE.FORMERR, questions: [], answers: [], authority: [], additional: [] });
    }
    const base: Response = { id: q.id, rd: q.rd, cd: q.cd, aa: true, ra: true, rcode: RCODE.NOERROR, questions: q.questions, answers: [], authority: [], additional: [], udpSize: q.udpSize };
    if (q.opcode !== 0 || q.questions.length !== 1) return encodeResponse({ ...base, aa: false, rcode: RCODE.NOTIMP });
    let a = zone.resolve(q.questions[0]);
    if (!a) return 'forward';
    const limit = overTcp ? 65535 : q.udpSize ?? 512;
    const qtype = q.questions[0].type.toUpperCase();
    if ((qtype === 'A' || qtype === 'AAAA') && a.answers.length && a.answers.every((r) => r.type === 'CNAME')) {
      // An ExternalName: follow the CNAME as CoreDNS does, in the zone here, elsewhere upstream.
      const c = chaseInZone(a, qtype);
      if (c.external) return { chase: { response: { ...base, ...a, answers: c.answers }, target: c.external, type: qtype, limit } };
      a = c.answers.length ? { ...a, answers: c.answers } : { ...a, answers: [], authority: [zone.soaFor(q.questions[0].name)] };
    }
    const out = encodeResponse({ ...base, ...a }, limit);
    if (key) {
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(key, out);
      const copy = Buffer.from(out); // the cached bytes are never handed out
      return copy;
    }
    return out;
  };

  /** CNAMEs followed through the zone (at most 8 deep); `external` names the first target that is not ours. */
  const chaseInZone = (a: Answer, type: string): { answers: Record_[]; external?: string } => {
    const answers = [...a.answers];
    for (let i = 0; i < 8; i++) {
      const target = String((answers[answers.length - 1] as { data: unknown }).data);
      const next = zone.resolve({ name: target, type });
      if (!next) return { answers, external: target };
      if (!next.answers.length) return { answers: [] }; // a dangling in-zone CNAME: NODATA, as CoreDNS
      answers.push(...next.answers);
      if (!next.answers.every((r) => r.type === 'CNAME')) return { answers };
    }
    return { answers: [] };
  };

  /** The upstream's answer for an ExternalName's target, appended after the CNAMEs (never cached). */
  const chaseUpstream = async (c: Chase): Promise<Buffer> => {
    const r = await forward(encodeQuery(0, c.target, c.type), false);
    let more: Record_[] = [];
    if (r) {
      try {
        const m = decodeMessage(r);
        if (m.rcode === 'NOERROR') more = (m.answers ?? []).filter((x) => x.type === 'CNAME' || x.type === c.type);
      } catch {
        // an unreadable upstream answer leaves the CNAME alone
      }
    }
    return encodeResponse({ ...c.response, answers: [...c.response.answers, ...more] }, c.limit);
  };

  const handle = async (msg: Buffer, overTcp: boolean): Promise<Buffer | undefined> => {
    const r = answer(msg, overTcp);
    if (r === undefined || Buffer.isBuffer(r)) return r;
    if (r !== 'forward') return chaseUpstream(r.chase);
    const key = (overTcp ? 't' : 'u') + msg.toString('latin1', 2);
    const hit = forwarded.get(key, msg.readUInt16BE(0));
    if (hit) return hit;
    const f = await forward(msg, overTcp);
    if (f) {
      forwarded.put(key, f);
      return f;
    }
    const id = msg.readUInt16BE(0);
    const q = parseQuery(msg);
    return encodeResponse({ id, rd: q.rd, aa: false, ra: true, rcode: RCODE.SERVFAIL, questions: q.questions, answers: [], authority: [], additional: [], udpSize: q.udpSize });
  };

  return {
    get port() {
      return port;
    },
    handle,
    async start() {
      fwd = dgram.createSocket('udp4');
      fwd.on('message', (m, rinfo) => {
        if (m.length < 12) return;
        const p = pending.get(m.readUInt16BE(0));
        if (!p || rinfo.port !== p.port || (rinfo.address !== p.host && p.host !== '0.0.0.0')) return;
        pending.delete(m.readUInt16BE(0));
        clearTimeout(p.timer);
        p.resolve(m);
      });
      fwd.on('error', (e) => log(`cluster-dns: forwarder: ${e.message}`));
      await new Promise<void>((r) => fwd!.bind(0, () => r()));
      const tcpServer = () => net.createServer((sock) => {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        sock.setNoDelay(true);
        // Idle connections are closed, as CoreDNS does after its read timeout.
        sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
        const frames = new TcpDeframer();
        sock.on('error', () => undefined);
        sock.on('data', (d) => {
          for (const m of frames.push(d)) {
            const reply = (r: Buffer | undefined) => {
              if (r && !sock.destroyed) sock.write(frameTcp(r));
            };
            const r = answer(m, true);
            if (r === undefined || Buffer.isBuffer(r)) reply(r);
            else void handle(m, true).then(reply);
          }
        });
      });
      const wildcard = opts.host === '0.0.0.0';
      const udpSocket = () => {
        // reuseAddr lets the per-address sockets share the wildcard socket's port.
        const u = dgram.createSocket({ type: opts.host.includes(':') ? 'udp6' : 'udp4', reuseAddr: wildcard });
        u.on('message', (m, rinfo) => {
          const r = answer(m, false);
          if (Buffer.isBuffer(r)) u.send(r, rinfo.port, rinfo.address);
          else if (r) void handle(m, false).then((f) => f && u.send(f, rinfo.port, rinfo.address));
        });
        return u;
      };
      // TCP and UDP share one port. With port 0 the kernel picks the TCP port, and that UDP port may be
      // another process's: then both are given up and another pair is tried.
      try {
        for (let attempt = 1; ; attempt++) {
          const t = tcpServer();
          await listening(t, opts.port ?? 53, opts.host);
          const p = (t.address() as net.AddressInfo).port;
          const u = udpSocket();
          try {
            if (wildcard) {
              // SO_REUSEADDR would also share the port with another process's such socket: a plain
              // socket proves the port free first.
              const probe = dgram.createSocket('udp4');
              try {
                await bound(probe, p, opts.host);
              } finally {
                await new Promise<void>((r) => probe.close(() => r()));
              }
            }
            await bound(u, p, opts.host);
            [tcp, udp, port] = [t, u, p];
            break;
          } catch (e) {
            u.close();
            await new Promise<void>((r) => t.close(() => r()));
            if (opts.port || attempt >= 10 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
          }
        }
      } catch (e) {
        fwd.close();
        fwd = undefined;
        throw e;
      }
      udp.on('error', (e) => log(`cluster-dns: ${e.message}`));
      if (wildcard) {
        const addresses = opts.localAddresses ?? localIPv4Addresses;
        const sync = async () => {
          const want = new Set(addresses());
          for (const [a, u] of perAddress) {
            if (want.has(a)) continue;
            perAddress.delete(a);
            u.close();
          }
          for (const a of want) {
            if (perAddress.has(a) || !udp) continue;
            const u = udpSocket();
            perAddress.set(a, u);
            try {
              await bound(u, port, a);
              u.on('error', (e) => log(`cluster-dns: ${a}: ${e.message}`));
            } catch (e) {
              // Taken by someone else, or the address went away: the wildcard socket still answers.
              perAddress.delete(a);
              u.close();
              log(`cluster-dns: no UDP socket on ${a}:${port} (${(e as Error).message})`);
            }
          }
        };
        await sync();
        rescan = setInterval(() => void sync(), ADDRESS_RESCAN_MS);
        rescan.unref();
      }
      // Forwarding to ourselves would loop every unknown name until it times out (CoreDNS's loop plugin's concern).
      const own = new Set([opts.host, ...(opts.host === '0.0.0.0' ? Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address)) : [])]);
      const loops = upstreams.filter((u) => Number(u.slice(u.lastIndexOf(':') + 1)) === port && (own.has(u.slice(0, u.lastIndexOf(':'))) || (opts.host === '0.0.0.0' && u.startsWith('127.'))));
      if (loops.length) {
        log(`cluster-dns: not forwarding to ${loops.join(', ')}: that is this server`);
        upstreams = upstreams.filter((u) => !loops.includes(u));
      }
      log(`cluster-dns: serving on ${opts.host}:${port} (udp+tcp), forwarding to ${upstreams.join(', ') || 'nobody'}`);
    },
    async stop() {
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.resolve(undefined);
      }
      pending.clear();
      clearInterval(rescan);
      for (const u of perAddress.values()) u.close();
      perAddress.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => (udp ? udp.close(() => r()) : r()));
      await new Promise<void>((r) => (tcp ? tcp.close(() => r()) : r()));
      await new Promise<void>((r) => (fwd ? fwd.close(() => r()) : r()));
    },
  };
}

/**
 * The kube-system/kube-dns Service (ClusterIP 10.96.0.10 by default, ports 53/UDP, 53/TCP) with an
 * EndpointSlice pointing at where the DNS server listens (an address the node owns, never a
 * loopback one: in loopback mode the pod-range gateway, whose 127 alias the server binds).
 */
export async function ensureKubeDnsService(client: RestClient, o: { clusterIP?: string; endpointIP: string; port: number }): Promise<void> {
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' } },
    spec: {
      clusterIP: o.clusterIP ?? '10.96.0.10',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: o.port },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: o.port },
      ],
    },
  };
  try {
    await client.create('/api/v1/namespaces/kube-system/services', svc);
  } catch (e) {
    if ((e as any).status !== 409) throw e;
    // The server's port changes with every start: keep targetPort telling the truth (kubectl describe).
    const cur = await client.get('/api/v1/namespaces/kube-system/services/kube-dns');
    if ((cur.spec?.ports ?? []).some((p: any) => p.targetPort !== o.port)) {
      await client.update('/api/v1/namespaces/kube-system/services/kube-dns', { ...cur, spec: { ...cur.spec, ports: svc.spec.ports } });
    }
  }
  // The Endpoints too, as CoreDNS's Service has (`kubectl get endpoints -n kube-system kube-dns`
  // is the DNS debugging guide's check); skip-mirror, since the slice below is written directly.
  const endpoints = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { ...svc.metadata.labels, 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [
      {
        addresses: [{ ip: o.endpointIP }],
        ports: [
          { name: 'dns', port: o.port, protocol: 'UDP' },
          { name: 'dns-tcp', port: o.port, protocol: 'TCP' },
        ],
      },
    ],
  };
  try {
    await client.create('/api/v1/namespaces/kube-system/endpoints', endpoints);
  } catch (e) {
    if ((e as any).status !== 409) throw e;
    const cur = await client.get('/api/v1/namespaces/kube-system/endpoints/kube-dns');
    await client.update('/api/v1/namespaces/kube-system/endpoints/kube-dns', { ...endpoints, metadata: { ...endpoints.metadata, resourceVersion: cur.metadata.resourceVersion } });
  }
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'kube-dns-skiff', namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': 'skiff-cluster-dns' } },
    addressType: 'IPv4',
    ports: [
      { name: 'dns', port: o.port, protocol: 'UDP' },
      { name: 'dns-tcp', port: o.port, protocol: 'TCP' },
    ],
    endpoints: [{ addresses: [o.endpointIP], conditions: { ready: true, serving: true, terminating: false } }],
  };
  const path = '/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices';
  try {
    await client.create(path, slice);
  } catch (e) {
    if ((e as any).status !== 409) throw e;
    const cur = await client.get(`${path}/kube-dns-skiff`);
    await client.update(`${path}/kube-dns-skiff`, { ...slice, metadata: { ...slice.metadata, resourceVersion: cur.metadata.resourceVersion } });
  }
}

const ADDRESS_RESCAN_MS = 2000;

/** The machine's IPv4 addresses (loopback included: 127.0.0.1 is answered from itself anyway). */
function localIPv4Addresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((l) => l ?? [])
    .filter((a) => a.family === 'IPv4')
    .map((a) => a.address);
}

function listening(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => (server.off('error', reject), resolve()));
  });
}

function bound(socket: dgram.Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => (socket.off('error', reject), resolve()));
  });
}
