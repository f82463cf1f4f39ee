/**
 * The service proxy for loopback mode (no root, no netfilter): a user-space TCP/UDP relay per
 * Service port, as kube-proxy's old userspace mode.
 *
 * A ClusterIP such as 10.96.12.34 cannot be bound without root, so each Service port listens on
 * the ClusterIP's loopback alias 127.96.12.34 (the ClusterIP with 127 as first octet; Linux routes
 * all of 127/8 to `lo`, so any such address can be bound), which is also what cluster DNS answers
 * in loopback mode. Pod IPs are treated the same way: upstream validation refuses loopback
 * addresses in EndpointSlices, so in loopback mode a pod has a real-looking IP of its node's range
 * (10.244.0.5) in its status and listens on the alias (127.244.0.5), where this proxy connects.
 * NodePorts listen on the node IP. Endpoint changes apply in memory at once;
 * only new or removed frontends open or close sockets. Ports below 1024 need root (or
 * CAP_NET_BIND_SERVICE): such a frontend is reported through `onError` and skipped.
 */
import net from 'node:net';
import dgram from 'node:dgram';
import { serviceKeyOf, type ProxyEndpoint, type ServicePort } from './model.js';

export function loopbackAlias(ip: string): string {
  const p = ip.split('.');
  return p.length === 4 && p[0] !== '127' ? `127.${p[1]}.${p[2]}.${p[3]}` : ip;
}

interface Frontend {
  key: string;
  sp: ServicePort;
  close(): Promise<void>;
}

interface Balancer {
  endpoints: ProxyEndpoint[];
  affinitySeconds?: number;
  affinity: Map<string, { ep: ProxyEndpoint; at: number }>;
}

export interface UserspaceOptions {
  nodeIP?: string;
  /** ClusterIP → address to listen on (default loopbackAlias). */
  listenAddress?: (clusterIP: string) => string;
  /** Endpoint (pod) IP → address to connect to (default loopbackAlias: pods listen on their alias). */
  endpointAddress?: (podIP: string) => string;
  onError?: (msg: string) => void;
  /** Idle timeout for UDP sessions (ms). */
  udpIdleMs?: number;
}

export class UserspaceBackend {
  private readonly frontends = new Map<string, Frontend>();
  private readonly balancers = new Map<string, Balancer>();
  private readonly desired = new Map<string, ServicePort[]>();

  constructor(private readonly o: UserspaceOptions = {}) {}

  /** Where a ClusterIP is reachable in this mode. */
  address(clusterIP: string): string {
    return (this.o.listenAddress ?? loopbackAlias)(clusterIP);
  }

  private pick(b: Balancer, client: string, exclude?: Set<ProxyEndpoint>): ProxyEndpoint | undefined {
    const now = Date.now();
    if (b.affinitySeconds) {
      const a = b.affinity.get(client);
      if (a && now - a.at < b.affinitySeconds * 1000 && b.endpoints.some((e) => e.ip === a.ep.ip && e.port === a.ep.port) && !exclude?.has(a.ep)) {
        a.at = now;
        return a.ep;
      }
    }
    const cands = exclude ? b.endpoints.filter((e) => !exclude.has(e)) : b.endpoints;
    if (!cands.length) return undefined;
    const ep = cands[Math.floor(Math.random() * cands.length)];
    if (b.affinitySeconds) b.affinity.set(client, { ep, at: now });
    return ep;
  }

  /** Applies the changed Services (key → all its ports; [] removes it); in memory, so cheap. */
  update(changes: Map<string, ServicePort[]>): Promise<void> {
    for (const [k, ports] of changes) {
      if (ports.length) this.desired.set(k, ports);
      else this.desired.delete(k);
    }
    return this.apply([...this.desired.values()].flat());
  }

  /** Replaces every Service's ports. */
  sync(ports: ServicePort[]): Promise<void> {
    this.desired.clear();
    for (const sp of ports) this.desired.set(serviceKeyOf(sp), [...(this.desired.get(serviceKeyOf(sp)) ?? []), sp]);
    return this.apply(ports);
  }

  private async apply(ports: ServicePort[]): Promise<void> {
    const want = new Map<string, { sp: ServicePort; host: string; port: number }>();
    for (const sp of ports) {
      if (sp.protocol === 'SCTP') continue;
      want.set(`${sp.protocol}|${this.address(sp.clusterIP)}|${sp.port}`, { sp, host: this.address(sp.clusterIP), port: sp.port });
      if (sp.nodePort) want.set(`${sp.protocol}|${this.o.nodeIP ?? '127.0.0.1'}|${sp.nodePort}`, { sp, host: this.o.nodeIP ?? '127.0.0.1', port: sp.nodePort });
      const b = this.balancers.get(sp.id);
      if (b) {
        b.endpoints = sp.endpoints;
        b.affinitySeconds = sp.affinitySeconds;
      } else this.balancers.set(sp.id, { endpoints: sp.endpoints, affinitySeconds: sp.affinitySeconds, affinity: new Map() });
    }
    const ids = new Set(ports.map((p) => p.id));
    for (const id of this.balancers.keys()) if (!ids.has(id)) this.balancers.delete(id);
    const closing: Promise<void>[] = [];
    for (const [k, f] of this.frontends) {
      const w = want.get(k);
      if (!w || w.sp.id !== f.sp.id) {
        this.frontends.delete(k);
        closing.push(f.close());
      }
    }
    await Promise.all(closing);
    await Promise.all(
      [...want].filter(([k]) => !this.frontends.has(k)).map(async ([k, w]) => {
        try {
          const f = w.sp.protocol === 'UDP' ? await this.udp(k, w.sp, w.host, w.port) : await this.tcp(k, w.sp, w.host, w.port);
          this.frontends.set(k, f);
        } catch (e) {
          this.o.onError?.(`service proxy: cannot listen on ${w.host}:${w.port}/${w.sp.protocol} for ${w.sp.id}: ${(e as Error).message}`);
        }
      }),
    );
  }

  private tcp(key: string, sp: ServicePort, host: string, port: number): Promise<Frontend> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer({ pauseOnConnect: true }, (client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => undefined);
      const b = this.balancers.get(sp.id);
      const tried = new Set<ProxyEndpoint>();
      const attempt = () => {
        const ep = b && this.pick(b, client.remoteAddress ?? '', tried);
        if (!ep) {
          client.destroy();
          return;
        }
        tried.add(ep);
        const up = net.connect({ host: (this.o.endpointAddress ?? loopbackAlias)(ep.ip), port: ep.port });
        sockets.add(up);
        up.on('close', () => sockets.delete(up));
        up.once('connect', () => {
          up.removeAllListeners('error');
          up.on('error', () => client.destroy());
          client.on('error', () => up.destroy());
          client.pipe(up);
          up.pipe(client);
          client.resume();
        });
        // An endpoint that refuses: try another, as kube-proxy's userspace mode did.
        up.once('error', () => {
          up.destroy();
          attempt();
        });
      };
      attempt();
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', reject);
        resolve({
          key,
          sp,
          close: () =>
            new Promise<void>((r) => {
              for (const s of sockets) s.destroy();
              server.close(() => r());
            }),
        });
      });
    });
  }

  private udp(key: string, sp: ServicePort, host: string, port: number): Promise<Frontend> {
    const sock = dgram.createSocket({ type: 'udp4' });
    const sessions = new Map<string, { up: dgram.Socket; ep: ProxyEndpoint; timer: NodeJS.Timeout }>();
    const idle = this.o.udpIdleMs ?? 30_000;
    sock.on('message', (msg, rinfo) => {
      const ck = `${rinfo.address}:${rinfo.port}`;
      let s = sessions.get(ck);
      if (!s) {
        const b = this.balancers.get(sp.id);
        const ep = b && this.pick(b, rinfo.address);
        if (!ep) return;
        const up = dgram.createSocket('udp4');
        up.on('message', (reply) => sock.send(reply, rinfo.port, rinfo.address));
        up.on('error', () => undefined);
        s = { up, ep, timer: setTimeout(() => undefined, 0) };
        sessions.set(ck, s);
      }
      s.up.send(msg, s.ep.port, (this.o.endpointAddress ?? loopbackAlias)(s.ep.ip));
      clearTimeout(s.timer);
      const cur = s;
      cur.timer = setTimeout(() => {
        sessions.delete(ck);
        cur.up.close();
      }, idle);
      cur.timer.unref();
    });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: host, port, exclusive: true }, () => {
        sock.off('error', reject);
        sock.on('error', () => undefined);
        resolve({
          key,
          sp,
          close: async () => {
            for (const s of sessions.values()) {
              clearTimeout(s.timer);
              s.up.close();
            }
            await new Promise<void>((r) => sock.close(() => r()));
          },
        });
      });
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.frontends.values()].map((f) => f.close()));
    this.frontends.clear();
  }
}
