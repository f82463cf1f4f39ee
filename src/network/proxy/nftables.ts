/**
 * The service proxy's nftables backend, laid out as kube-proxy's nftables mode: a table with
 * verdict maps from (ClusterIP, protocol, port) and (protocol, NodePort) to one chain per Service
 * port, which picks an endpoint chain with `numgen random` (or a ClientIP affinity set first),
 * which DNATs. Services without endpoints are rejected, not black-holed.
 *
 * Rendering is pure: `render()` gives the desired objects, `delta()` the nft script that turns the
 * previously applied objects into them, so an endpoint change rewrites a couple of chains and map
 * elements, not the whole table (which is what keeps updates fast at thousands of Services).
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import type { ServicePort } from './model.js';
import { SkiffError } from '../../util/errors.js';

export interface NftState {
  chains: Map<string, string[]>;
  sets: Map<string, string>;
  /** map name → key → verdict */
  maps: Map<string, Map<string, string>>;
}

export interface RenderOptions {
  /** Pod range: ClusterIP traffic from outside it is masqueraded (kube-proxy's --cluster-cidr). */
  clusterCIDR?: string;
  /** Never DNAT NodePorts on these addresses (loopback NodePorts need route_localnet). */
  masqMark?: number;
}

const MAPS = ['service-ips', 'service-nodeports', 'no-endpoint-services', 'no-endpoint-nodeports'];

const h = (s: string) => createHash('sha256').update(s).digest('base64url').replace(/[-_]/g, 'x').slice(0, 12).toUpperCase();
const proto = (p: string) => p.toLowerCase();

export function emptyState(): NftState {
  return { chains: new Map(), sets: new Map(), maps: new Map(MAPS.map((m) => [m, new Map()])) };
}

export function render(ports: ServicePort[], o: RenderOptions = {}): NftState {
  const mark = `0x${(o.masqMark ?? 0x4000).toString(16)}`;
  const st = emptyState();
  for (const sp of ports) {
    const svcChain = `svc-${h(sp.id)}`;
    const pr = proto(sp.protocol);
    if (!sp.endpoints.length) {
      st.maps.get('no-endpoint-services')!.set(`${sp.clusterIP} . ${pr} . ${sp.port}`, 'goto reject-chain');
      if (sp.nodePort) st.maps.get('no-endpoint-nodeports')!.set(`${pr} . ${sp.nodePort}`, 'goto reject-chain');
      continue;
    }
    const rules: string[] = [];
    if (o.clusterCIDR) rules.push(`ip daddr ${sp.clusterIP} ${pr} dport ${sp.port} ip saddr != ${o.clusterCIDR} jump mark-for-masquerade`);
    const epChains = sp.endpoints.map((e) => ({ e, name: `ep-${h(`${sp.id}|${e.ip}:${e.port}`)}` }));
    if (sp.affinitySeconds) for (const { name } of epChains) rules.push(`ip saddr @aff-${name.slice(3)} goto ${name}`);
    rules.push(epChains.length === 1 ? `goto ${epChains[0].name}` : `numgen random mod ${epChains.length} vmap { ${epChains.map((c, i) => `${i} : goto ${c.name}`).join(', ')} }`);
    st.chains.set(svcChain, rules);
    for (const { e, name } of epChains) {
      const r = [`ip saddr ${e.ip} jump mark-for-masquerade`];
      if (sp.affinitySeconds) {
        const set = `aff-${name.slice(3)}`;
        st.sets.set(set, `type ipv4_addr; flags dynamic,timeout; timeout ${sp.affinitySeconds}s;`);
        r.push(`update @${set} { ip saddr }`);
      }
      r.push(`meta l4proto ${pr} dnat to ${e.ip}:${e.port}`);
      st.chains.set(name, r);
    }
    st.maps.get('service-ips')!.set(`${sp.clusterIP} . ${pr} . ${sp.port}`, `goto ${svcChain}`);
    if (sp.nodePort) {
      const ext = `ext-${h(sp.id)}`;
      st.chains.set(ext, ['jump mark-for-masquerade', `goto ${svcChain}`]);
      st.maps.get('service-nodeports')!.set(`${pr} . ${sp.nodePort}`, `goto ${ext}`);
    }
  }
  void mark;
  return st;
}

/** The fixed skeleton: base chains hooked into netfilter, maps, masquerading, rejecting. */
export function skeleton(table: string, o: RenderOptions = {}): string {
  const mark = `0x${(o.masqMark ?? 0x4000).toString(16)}`;
  const T = `ip ${table}`;
  return [
    `add table ${T}`,
    `delete table ${T}`,
    `add table ${T} { comment "skiff service proxy"; }`,
    `add map ${T} service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }`,
    `add map ${T} service-nodeports { type inet_proto . inet_service : verdict; }`,
    `add map ${T} no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict; }`,
    `add map ${T} no-endpoint-nodeports { type inet_proto . inet_service : verdict; }`,
    `add chain ${T} reject-chain`,
    `add rule ${T} reject-chain reject`,
    `add chain ${T} mark-for-masquerade`,
    `add rule ${T} mark-for-masquerade meta mark set meta mark or ${mark}`,
    `add chain ${T} masquerading`,
    `add rule ${T} masquerading meta mark & ${mark} == 0 return`,
    `add rule ${T} masquerading meta mark set meta mark xor ${mark}`,
    `add rule ${T} masquerading masquerade fully-random`,
    `add chain ${T} services`,
    `add rule ${T} services ip daddr . meta l4proto . th dport vmap @service-ips`,
    `add rule ${T} services fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports`,
    `add chain ${T} filter-endpoints`,
    `add rule ${T} filter-endpoints ip daddr . meta l4proto . th dport vmap @no-endpoint-services`,
    `add rule ${T} filter-endpoints fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports`,
    `add chain ${T} nat-prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add rule ${T} nat-prerouting jump services`,
    `add chain ${T} nat-output { type nat hook output priority -100; policy accept; }`,
    `add rule ${T} nat-output jump services`,
    `add chain ${T} nat-postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add rule ${T} nat-postrouting jump masquerading`,
    `add chain ${T} filter-input { type filter hook input priority -110; policy accept; }`,
    `add rule ${T} filter-input ct state new jump filter-endpoints`,
    `add chain ${T} filter-forward { type filter hook forward priority -110; policy accept; }`,
    `add rule ${T} filter-forward ct state new jump filter-endpoints`,
    `add chain ${T} filter-output { type filter hook output priority -110; policy accept; }`,
    `add rule ${T} filter-output ct state new jump filter-endpoints`,
  ].join('\n');
}

/** The nft commands that turn `prev` into `next` (one atomic transaction when run by nft -f). */
export function delta(table: string, prev: NftState, next: NftState): string {
  const T = `ip ${table}`;
  const out: string[] = [];
  for (const [name, def] of next.sets) if (prev.sets.get(name) !== def) out.push(`add set ${T} ${name} { ${def} }`);
  for (const name of next.chains.keys()) if (!prev.chains.has(name)) out.push(`add chain ${T} ${name}`);
  for (const [name, rules] of next.chains) {
    const old = prev.chains.get(name);
    if (old && old.join('\n') === rules.join('\n')) continue;
    if (old) out.push(`flush chain ${T} ${name}`);
    for (const r of rules) out.push(`add rule ${T} ${name} ${r}`);
  }
  for (const m of MAPS) {
    const a = prev.maps.get(m) ?? new Map<string, string>();
    const b = next.maps.get(m) ?? new Map<string, string>();
    for (const [k, v] of a) if (b.get(k) !== v) out.push(`delete element ${T} ${m} { ${k} }`);
    for (const [k, v] of b) if (a.get(k) !== v) out.push(`add element ${T} ${m} { ${k} : ${v} }`);
  }
  // Chains no longer referenced: empty them first (they may reference each other), then delete.
  const gone = [...prev.chains.keys()].filter((n) => !next.chains.has(n));
  for (const n of gone) out.push(`flush chain ${T} ${n}`);
  for (const n of gone) out.push(`delete chain ${T} ${n}`);
  for (const n of prev.sets.keys()) if (!next.sets.has(n)) out.push(`delete set ${T} ${n}`);
  return out.join('\n');
}

export class NftError extends SkiffError {
  constructor(message: string) {
    super('NftablesFailed', message);
  }
}

/** Runs an nft script as one transaction. */
export function runNft(script: string, args: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('nft', [...args, '-f', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', (e) => reject(new NftError(`nft: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out).toString()) : reject(new NftError(`nft -f failed (${code}): ${Buffer.concat(err).toString().slice(0, 2000)}`))));
    child.stdin.end(script.endsWith('\n') ? script : `${script}\n`);
  });
}

/** A ProxyBackend programming one nftables table, incrementally. */
export class NftablesBackend {
  private applied: NftState | undefined;

  constructor(
    readonly table: string,
    private readonly o: RenderOptions = {},
  ) {}

  async sync(ports: ServicePort[]): Promise<void> {
    const next = render(ports, this.o);
    const prev = this.applied;
    const script = prev ? delta(this.table, prev, next) : `${skeleton(this.table, this.o)}\n${delta(this.table, emptyState(), next)}`;
    if (!script.trim()) return;
    try {
      await runNft(script);
      this.applied = next;
    } catch (e) {
      // Start from scratch next time: the kernel's state is not what we believe.
      this.applied = undefined;
      throw e;
    }
  }

  async close(): Promise<void> {
    this.applied = undefined;
    await runNft(`add table ip ${this.table}\ndelete table ip ${this.table}`).catch(() => undefined);
  }
}
