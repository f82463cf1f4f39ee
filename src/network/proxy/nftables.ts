/**
 * The service proxy's nftables backend, laid out as kube-proxy's nftables mode: a table with
 * verdict maps from (ClusterIP, protocol, port) and (protocol, NodePort) to one chain per Service
 * port, which picks an endpoint chain with `numgen random` (or a ClientIP affinity set first),
 * which DNATs. Services without endpoints are rejected, not black-holed.
 *
 * Updates are incremental, as kube-proxy's partial syncs: the pure core (`ProxyRuleState`) keeps
 * what the kernel holds and turns the changed Services into one nft transaction that touches
 * only their map elements and chains, deleting nothing on the common path (see ProxyRuleState);
 * unused chains and sets are deleted later in a batch (old kernels also refuse to delete a chain
 * a just-deleted map element still points at). A full resync (the table rewritten in place,
 * keeping affinity sets) runs periodically; after an error the table is replaced from scratch.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { serviceKeyOf, type ServicePort } from './model.js';
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
  /** The mark bit that asks for masquerading (default 0x4000, as kube-proxy). */
  masqMark?: number;
}

const MAPS = ['service-ips', 'service-nodeports', 'no-endpoint-services', 'no-endpoint-nodeports'];

const h = (s: string) => createHash('sha256').update(s).digest('base64url').replace(/[-_]/g, 'x').slice(0, 12).toUpperCase();
const proto = (p: string) => p.toLowerCase();

export function emptyState(): NftState {
  return { chains: new Map(), sets: new Map(), maps: new Map(MAPS.map((m) => [m, new Map()])) };
}

/** Adds the objects of one Service port to `st`. */
function renderPort(st: NftState, sp: ServicePort, o: RenderOptions): void {
  const svcChain = `svc-${h(sp.id)}`;
  const pr = proto(sp.protocol);
  if (!sp.endpoints.length) {
    st.maps.get('no-endpoint-services')!.set(`${sp.clusterIP} . ${pr} . ${sp.port}`, 'goto reject-chain');
    for (const ip of sp.externalIPs ?? []) st.maps.get('no-endpoint-services')!.set(`${ip} . ${pr} . ${sp.port}`, 'goto reject-chain');
    if (sp.nodePort) st.maps.get('no-endpoint-nodeports')!.set(`${pr} . ${sp.nodePort}`, 'goto reject-chain');
    return;
  }
  // Every rule of a Service chain ends in a verdict, so new rules inserted first shadow the old.
  const rules: string[] = [];
  // An endpoint chain's name covers all its content: it never changes, a new endpoint is a new
  // chain (a set's timeout cannot change either, so the timeout is part of the names too).
  const epChains = sp.endpoints.map((e) => ({ e, name: `ep-${h(`${sp.id}|${pr}|${e.ip}:${e.port}|${sp.affinitySeconds ?? ''}|${o.clusterCIDR ?? ''}`)}` }));
  if (sp.affinitySeconds) for (const { name } of epChains) rules.push(`ip saddr @aff-${name.slice(3)} goto ${name}`);
  rules.push(epChains.length === 1 ? `goto ${epChains[0].name}` : `numgen random mod ${epChains.length} vmap { ${epChains.map((c, i) => `${i} : goto ${c.name}`).join(', ')} }`);
  st.chains.set(svcChain, rules);
  for (const { e, name } of epChains) {
    const r: string[] = [];
    // Traffic from outside the pod range is masqueraded so replies come back through this node
    // (kube-proxy does this per ClusterIP; NodePort traffic is masqueraded in its ext chain).
    if (o.clusterCIDR) r.push(`ip saddr != ${o.clusterCIDR} jump mark-for-masquerade`);
    r.push(`ip saddr ${e.ip} jump mark-for-masquerade`);
    if (sp.affinitySeconds) {
      const set = `aff-${name.slice(3)}`;
      st.sets.set(set, `type ipv4_addr; flags dynamic,timeout; timeout ${sp.affinitySeconds}s;`);
      r.push(`update @${set} { ip saddr }`);
    }
    r.push(`meta l4proto ${pr} dnat to ${e.ip}:${e.port}`);
    st.chains.set(name, r);
  }
  st.maps.get('service-ips')!.set(`${sp.clusterIP} . ${pr} . ${sp.port}`, `goto ${svcChain}`);
  // External traffic (NodePort, external and load-balancer IPs) is masqueraded, as with
  // externalTrafficPolicy Cluster, so replies come back through this node.
  if (sp.nodePort || sp.externalIPs?.length) {
    const ext = `ext-${h(sp.id)}`;
    st.chains.set(ext, ['jump mark-for-masquerade', `goto ${svcChain}`]);
    if (sp.nodePort) st.maps.get('service-nodeports')!.set(`${pr} . ${sp.nodePort}`, `goto ${ext}`);
    for (const ip of sp.externalIPs ?? []) st.maps.get('service-ips')!.set(`${ip} . ${pr} . ${sp.port}`, `goto ${ext}`);
  }
}

/** The desired objects of the given Service ports (a map key claimed twice: the first wins). */
export function render(ports: ServicePort[], o: RenderOptions = {}): NftState {
  const st = emptyState();
  for (const sp of [...ports].reverse()) renderPort(st, sp, o);
  return st;
}

/**
 * The fixed skeleton: base chains hooked into netfilter, maps, masquerading, rejecting.
 * `replace` drops whatever table was there first; otherwise the skeleton is rewritten in place
 * and the maps emptied (a full resync refills them), keeping sets and their contents.
 */
export function skeleton(table: string, o: RenderOptions = {}, replace = true): string {
  const mark = `0x${(o.masqMark ?? 0x4000).toString(16)}`;
  const T = `ip ${table}`;
  const chains: [string, string | undefined, string[]][] = [
    ['reject-chain', undefined, ['reject']],
    ['mark-for-masquerade', undefined, [`meta mark set meta mark or ${mark}`]],
    ['masquerading', undefined, [`meta mark & ${mark} == 0 return`, `meta mark set meta mark xor ${mark}`, 'masquerade fully-random']],
    ['services', undefined, ['ip daddr . meta l4proto . th dport vmap @service-ips', 'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports']],
    ['filter-endpoints', undefined, ['ip daddr . meta l4proto . th dport vmap @no-endpoint-services', 'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports']],
    ['nat-prerouting', 'type nat hook prerouting priority dstnat; policy accept;', ['jump services']],
    ['nat-output', 'type nat hook output priority -100; policy accept;', ['jump services']],
    ['nat-postrouting', 'type nat hook postrouting priority srcnat; policy accept;', ['jump masquerading']],
    ['filter-input', 'type filter hook input priority -110; policy accept;', ['ct state new jump filter-endpoints']],
    ['filter-forward', 'type filter hook forward priority -110; policy accept;', ['ct state new jump filter-endpoints']],
    ['filter-output', 'type filter hook output priority -110; policy accept;', ['ct state new jump filter-endpoints']],
  ];
  const out = [`add table ${T}`];
  if (replace) out.push(`delete table ${T}`, `add table ${T} { comment "skiff service proxy"; }`);
  out.push(
    `add map ${T} service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }`,
    `add map ${T} service-nodeports { type inet_proto . inet_service : verdict; }`,
    `add map ${T} no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict; }`,
    `add map ${T} no-endpoint-nodeports { type inet_proto . inet_service : verdict; }`,
  );
  if (!replace) for (const m of MAPS) out.push(`flush map ${T} ${m}`);
  for (const [name, base, rules] of chains) {
    out.push(base ? `add chain ${T} ${name} { ${base} }` : `add chain ${T} ${name}`);
    if (!replace) out.push(`flush chain ${T} ${name}`);
    for (const r of rules) out.push(`add rule ${T} ${name} ${r}`);
  }
  return out.join('\n');
}

/**
 * The nft commands that turn `prev` into `next` by diffing whole states (the previous design,
 * kept for tests and as the benchmark's baseline; the backend uses ProxyRuleState).
 */
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

/** A transaction to run, and what to record once it succeeded. */
export interface Plan {
  script: string;
  commit(): void;
}

interface KernelChain {
  /** The rules that take effect (the chain's head). */
  rules: string[];
  /** Superseded rules sit behind them (never reached: the head ends in a verdict). */
  dead: boolean;
  /** Since when it carries dead rules (ms). */
  deadSince?: number;
  /** Unreferenced since (ms); deleted by cleanup. */
  staleSince?: number;
}

const sameRules = (a: string[], b: string[]) => a.length === b.length && a.every((r, i) => r === b[i]);

/**
 * What the kernel's table holds and the transactions that change it. Pure: no nft, no clock
 * (times are passed in), so every plan is unit-testable.
 *
 * Deleting anything (a rule, a chain, a map element) makes the kernel wait for an RCU grace
 * period before the transaction returns, which dominates an update's latency. So the common
 * change — a Service's endpoints — deletes nothing: endpoint chains are named after their
 * content and never change; the Service chain, whose rules all end in a verdict, gets its new
 * rules inserted at its head, which shadows the old ones. Cleanup, later and in one batch,
 * rewrites such chains without the dead rules and deletes unreferenced chains and sets.
 */
export class ProxyRuleState {
  /** Desired (and applied) objects per Service; chains and sets are named per Service port. */
  private readonly services = new Map<string, NftState>();
  private readonly chains = new Map<string, KernelChain>();
  private readonly sets = new Map<string, { staleSince?: number }>();
  /** Map elements in the kernel: `map key` → verdict. */
  private readonly elements = new Map<string, string>();
  /** Who wants each map element, in claim order (the first claimant's verdict is applied). */
  private readonly claims = new Map<string, Map<string, string>>();

  constructor(
    readonly table: string,
    private readonly o: RenderOptions = {},
  ) {}

  private get T(): string {
    return `ip ${this.table}`;
  }

  /** Chains and sets awaiting deletion, and chains carrying dead rules (tests, metrics). */
  get staleCount(): number {
    return [...this.chains.values(), ...this.sets.values()].filter((c) => c.staleSince !== undefined).length;
  }

  get deadCount(): number {
    return [...this.chains.values()].filter((c) => c.dead && c.staleSince === undefined).length;
  }

  /** Chains in use by Services (tests). */
  chainNames(): string[] {
    return [...this.chains].filter(([, c]) => c.staleSince === undefined).map(([n]) => n);
  }

  /** Every chain of ours the kernel holds, used or awaiting deletion (tests). */
  kernelChainNames(): string[] {
    return [...this.chains.keys()];
  }

  /** The rules that take effect in a chain (tests). */
  rulesOf(chain: string): string[] | undefined {
    return this.chains.get(chain)?.rules;
  }

  /** The map element a key maps to in the kernel (tests). */
  element(map: string, key: string): string | undefined {
    return this.elements.get(`${map} ${key}`);
  }

  /**
   * The transaction that applies the changed Services (key → all its ports; [] removes it),
   * touching nothing else.
   */
  update(changes: Map<string, ServicePort[]>, now: number): Plan {
    const T = this.T;
    const head: string[] = [];
    const body: string[] = [];
    const next = new Map<string, NftState>();
    const chainsAfter = new Map<string, KernelChain>();
    const setsAfter = new Map<string, { staleSince?: number }>();
    const chainOf = (n: string) => chainsAfter.get(n) ?? this.chains.get(n);
    for (const [key, ports] of changes) {
      const prev = this.services.get(key) ?? emptyState();
      const want = render(ports, this.o);
      next.set(key, want);
      for (const [name, def] of want.sets) {
        const cur = setsAfter.get(name) ?? this.sets.get(name);
        if (!cur) head.push(`add set ${T} ${name} { ${def} }`);
        setsAfter.set(name, {});
      }
      for (const [name, rules] of want.chains) {
        const cur = chainOf(name);
        if (!cur) {
          head.push(`add chain ${T} ${name}`);
          for (const r of rules) body.push(`add rule ${T} ${name} ${r}`);
          chainsAfter.set(name, { rules, dead: false });
        } else if (sameRules(cur.rules, rules)) {
          chainsAfter.set(name, { ...cur, staleSince: undefined });
        } else {
          // `insert` puts a rule first: insert the new rules last to first.
          for (const r of [...rules].reverse()) body.push(`insert rule ${T} ${name} ${r}`);
          chainsAfter.set(name, { rules, dead: true, deadSince: cur.deadSince ?? now });
        }
      }
      for (const name of prev.chains.keys()) {
        if (want.chains.has(name)) continue;
        const cur = chainOf(name);
        if (cur) chainsAfter.set(name, { ...cur, staleSince: cur.staleSince ?? now });
      }
      for (const name of prev.sets.keys()) {
        if (want.sets.has(name)) continue;
        const cur = setsAfter.get(name) ?? this.sets.get(name);
        if (cur) setsAfter.set(name, { staleSince: cur.staleSince ?? now });
      }
    }
    // Map elements: settle each touched key from its claims as they will be after this update.
    const claimsAfter = new Map<string, Map<string, string>>();
    const claimsOf = (ek: string) => {
      let c = claimsAfter.get(ek);
      if (!c) claimsAfter.set(ek, (c = new Map(this.claims.get(ek) ?? [])));
      return c;
    };
    for (const [key, want] of next) {
      const prev = this.services.get(key);
      for (const m of MAPS) {
        const w = want.maps.get(m)!;
        if (prev) for (const [k, v] of prev.maps.get(m)!) if (w.get(k) !== v) claimsOf(`${m} ${k}`).delete(key);
        for (const [k, v] of w) {
          const c = claimsOf(`${m} ${k}`);
          if (c.get(key) !== v) {
            c.delete(key);
            c.set(key, v);
          }
        }
      }
    }
    const elemsAfter = new Map<string, string | undefined>();
    const dels: string[] = [];
    const adds: string[] = [];
    for (const [ek, c] of claimsAfter) {
      const v = c.values().next().value as string | undefined;
      const cur = this.elements.get(ek);
      elemsAfter.set(ek, v);
      if (cur === v) continue;
      const m = ek.slice(0, ek.indexOf(' '));
      const k = ek.slice(m.length + 1);
      if (cur !== undefined) dels.push(`delete element ${T} ${m} { ${k} }`);
      if (v !== undefined) adds.push(`add element ${T} ${m} { ${k} : ${v} }`);
    }
    return {
      script: [...head, ...body, ...dels, ...adds].join('\n'),
      commit: () => {
        for (const [key, want] of next) {
          if (want.chains.size || want.sets.size || MAPS.some((m) => want.maps.get(m)!.size)) this.services.set(key, want);
          else this.services.delete(key);
        }
        for (const [n, c] of chainsAfter) this.chains.set(n, c);
        for (const [n, c] of setsAfter) this.sets.set(n, c);
        for (const [ek, c] of claimsAfter) {
          if (c.size) this.claims.set(ek, c);
          else this.claims.delete(ek);
        }
        for (const [ek, v] of elemsAfter) {
          if (v === undefined) this.elements.delete(ek);
          else this.elements.set(ek, v);
        }
      },
    };
  }

  /**
   * The whole table from `all` (every Service's ports): replacing the table (first sync, after
   * an error) or rewriting it in place (periodic resync: sets and their affinity entries stay;
   * chains no longer wanted are left for cleanup).
   */
  full(all: Map<string, ServicePort[]>, replace: boolean, now: number): Plan {
    const T = this.T;
    const out = [skeleton(this.table, this.o, replace)];
    const services = new Map<string, NftState>();
    const claims = new Map<string, Map<string, string>>();
    for (const key of [...all.keys()].sort()) {
      const want = render(all.get(key)!, this.o);
      services.set(key, want);
      for (const m of MAPS) {
        for (const [k, v] of want.maps.get(m)!) {
          const ek = `${m} ${k}`;
          let c = claims.get(ek);
          if (!c) claims.set(ek, (c = new Map()));
          c.set(key, v);
        }
      }
    }
    const chains = new Map<string, KernelChain>();
    const sets = new Map<string, { staleSince?: number }>();
    for (const want of services.values()) {
      for (const [name, def] of want.sets) {
        sets.set(name, {});
        out.push(`add set ${T} ${name} { ${def} }`);
      }
      for (const [name, rules] of want.chains) {
        chains.set(name, { rules, dead: false });
        out.push(`add chain ${T} ${name}`);
      }
    }
    for (const [name, c] of chains) {
      if (!replace && this.chains.has(name)) out.push(`flush chain ${T} ${name}`);
      for (const r of c.rules) out.push(`add rule ${T} ${name} ${r}`);
    }
    const elements = new Map<string, string>();
    for (const [ek, c] of claims) {
      const v = c.values().next().value as string;
      elements.set(ek, v);
      const m = ek.slice(0, ek.indexOf(' '));
      out.push(`add element ${T} ${m} { ${ek.slice(m.length + 1)} : ${v} }`);
    }
    if (!replace) {
      for (const [n, c] of this.chains) if (!chains.has(n)) chains.set(n, { ...c, staleSince: c.staleSince ?? now });
      for (const [n, c] of this.sets) if (!sets.has(n)) sets.set(n, { staleSince: c.staleSince ?? now });
    }
    return {
      script: out.join('\n'),
      commit: () => {
        const swap = <K, V>(dst: Map<K, V>, src: Map<K, V>) => {
          dst.clear();
          for (const [k, v] of src) dst.set(k, v);
        };
        swap(this.services, services);
        swap(this.chains, chains);
        swap(this.sets, sets);
        swap(this.claims, claims);
        swap(this.elements, elements);
      },
    };
  }

  /**
   * Housekeeping, off the update path, once something has waited `minAgeMs`: chains and sets
   * unreferenced that long are deleted. Dead rules and unused chains may still point at what is
   * deleted, so every chain with dead rules is rewritten with its live ones and every unused
   * chain is emptied in the same transaction (an emptied one that comes back is refilled).
   */
  cleanup(now: number, minAgeMs: number): Plan {
    const T = this.T;
    const old = (t: number | undefined) => t !== undefined && now - t >= minAgeMs;
    const stale = [...this.chains].filter(([, c]) => c.staleSince !== undefined);
    const gone = stale.filter(([, c]) => old(c.staleSince)).map(([n]) => n);
    const sets = [...this.sets].filter(([, s]) => old(s.staleSince)).map(([n]) => n);
    const dead = [...this.chains].filter(([, c]) => c.dead && c.staleSince === undefined);
    const empty = { script: '', commit: () => undefined };
    if (!gone.length && !sets.length && !dead.some(([, c]) => old(c.deadSince))) return empty;
    const out: string[] = [];
    for (const [n, c] of stale) if (c.rules.length) out.push(`flush chain ${T} ${n}`);
    for (const [n, c] of dead) {
      out.push(`flush chain ${T} ${n}`);
      for (const r of c.rules) out.push(`add rule ${T} ${n} ${r}`);
    }
    for (const n of gone) out.push(`delete chain ${T} ${n}`);
    for (const n of sets) out.push(`delete set ${T} ${n}`);
    return {
      script: out.join('\n'),
      commit: () => {
        for (const [n, c] of stale) this.chains.set(n, { rules: [], dead: false, staleSince: c.staleSince });
        for (const n of gone) this.chains.delete(n);
        for (const [n, c] of dead) this.chains.set(n, { rules: c.rules, dead: false });
        for (const n of sets) this.sets.delete(n);
      },
    };
  }

  /** When the oldest pending housekeeping began (undefined: nothing to do). */
  oldestStale(): number | undefined {
    let t: number | undefined;
    const since = (c: { staleSince?: number; dead?: boolean; deadSince?: number }) => c.staleSince ?? (c.dead ? c.deadSince : undefined);
    for (const c of [...this.chains.values(), ...this.sets.values()]) {
      const x = since(c);
      if (x !== undefined && (t === undefined || x < t)) t = x;
    }
    return t;
  }
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

export interface NftablesBackendOptions extends RenderOptions {
  /** Full resync period (ms), as kube-proxy's (default 1 hour). */
  fullSyncMs?: number;
  /** How long unused chains stay (flushed) before they are deleted in one batch (ms). */
  staleDeleteMs?: number;
  /** Runs an nft script (tests inject failures). */
  run?: (script: string) => Promise<unknown>;
  now?: () => number;
  onError?: (msg: string) => void;
}

/**
 * A ProxyBackend programming one nftables table, incrementally. It keeps the desired ports of
 * every Service it was told about, so it can always fall back to a full resync on its own.
 */
export class NftablesBackend {
  readonly rules: ProxyRuleState;
  private readonly desired = new Map<string, ServicePort[]>();
  /** Unset: the kernel's table is unknown (never synced, or the last transaction failed). */
  private lastFull: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private cleanupTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly run: (script: string) => Promise<unknown>;
  private readonly now: () => number;
  /** What the last transaction was (bench, tests). */
  lastKind: 'full' | 'replace' | 'update' | 'none' = 'none';

  constructor(
    readonly table: string,
    private readonly o: NftablesBackendOptions = {},
  ) {
    this.rules = new ProxyRuleState(table, o);
    this.run = o.run ?? ((s) => runNft(s));
    this.now = o.now ?? Date.now;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Replaces every Service's ports (a full desired state; Services not in `ports` go). */
  sync(ports: ServicePort[]): Promise<void> {
    const changes = new Map<string, ServicePort[]>([...this.desired.keys()].map((k) => [k, []]));
    for (const sp of ports) {
      const k = serviceKeyOf(sp);
      changes.set(k, [...(changes.get(k) ?? []), sp]);
    }
    return this.update(changes);
  }

  /** Applies the changed Services (key → all its ports; [] removes it). */
  update(changes: Map<string, ServicePort[]>): Promise<void> {
    for (const [k, ports] of changes) {
      if (ports.length) this.desired.set(k, ports);
      else this.desired.delete(k);
    }
    return this.serial(async () => {
      if (this.closed) return;
      const now = this.now();
      const replace = this.lastFull === undefined;
      const full = replace || now - this.lastFull! >= (this.o.fullSyncMs ?? 3_600_000);
      const plan = full ? this.rules.full(this.desired, replace, now) : this.rules.update(changes, now);
      this.lastKind = !plan.script ? 'none' : replace ? 'replace' : full ? 'full' : 'update';
      if (!plan.script) return;
      try {
        await this.run(plan.script);
      } catch (e) {
        // The kernel's state is not what we believe: replace the table next time.
        this.lastFull = undefined;
        throw e;
      }
      plan.commit();
      if (full) this.lastFull = now;
      this.scheduleCleanup();
    });
  }

  /** Whether the next update is a full one (the table is unknown). */
  get needsFullSync(): boolean {
    return this.lastFull === undefined;
  }

  private scheduleCleanup(): void {
    const oldest = this.rules.oldestStale();
    if (oldest === undefined || this.cleanupTimer || this.closed) return;
    const wait = this.o.staleDeleteMs ?? 2000;
    this.cleanupTimer = setTimeout(() => {
      this.cleanupTimer = undefined;
      void this.cleanupNow().catch((e) => this.o.onError?.(`service proxy: deleting unused chains failed: ${(e as Error).message}`));
    }, Math.max(250, oldest + wait - this.now()));
    this.cleanupTimer.unref();
  }

  /** Deletes unused chains and sets now (tests; otherwise on a timer). */
  cleanupNow(minAgeMs = this.o.staleDeleteMs ?? 2000): Promise<void> {
    return this.serial(async () => {
      if (this.closed || this.lastFull === undefined) return;
      const plan = this.rules.cleanup(this.now(), minAgeMs);
      if (plan.script) {
        try {
          await this.run(plan.script);
        } catch (e) {
          this.lastFull = undefined;
          throw e;
        }
        plan.commit();
      }
      this.scheduleCleanup();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.cleanupTimer) clearTimeout(this.cleanupTimer);
    await this.queue;
    this.lastFull = undefined;
    await this.run(`add table ip ${this.table}\ndelete table ip ${this.table}`).catch(() => undefined);
  }
}
