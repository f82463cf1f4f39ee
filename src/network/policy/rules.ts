/**
 * NetworkPolicy semantics (networking.k8s.io/v1) turned into nftables, pure: which of this node's
 * pods are isolated for ingress and/or egress, and what each may receive or send.
 *
 * - A pod is isolated for ingress (egress) when some policy of its namespace selects it with that
 *   policyType (policyTypes defaults to Ingress, plus Egress when the policy has egress rules).
 * - What an isolated pod allows is the union of the rules of every policy selecting it; a rule
 *   matches when one of its peers (none: everyone) and one of its ports (none: every port) match.
 * - Peers: podSelector (pods of the policy's namespace), namespaceSelector (every pod of matching
 *   namespaces), both (matching pods of matching namespaces), ipBlock (cidr minus except).
 * - Named ports resolve against the destination pod's container ports.
 * - Replies of allowed connections pass (conntrack); traffic from the node itself (kubelet probes)
 *   never passes through these hooks.
 *
 * Layout: base chains on the forward hook (pod ↔ pod, also bridged with br_netfilter, after
 * Service DNAT) and the input hook (pod → node, such as cluster DNS), verdict maps from pod IP to
 * one chain per isolated pod and direction; a chain `return`s what is allowed and rejects the rest.
 */
import { createHash } from 'node:crypto';
import { selectorMatches } from '../../controllers/controller.js';

export interface PolicyInputs {
  policies: any[];
  /** Every pod of the cluster (peers may be anywhere). */
  pods: any[];
  namespaces: any[];
  /** This node: only its pods get chains. */
  nodeName: string;
  /** The kube-dns Service's EndpointSlices (cluster DNS, see dnsPods). */
  dnsSlices?: any[];
}

/** Port 53, where CoreDNS pods serve and policies name cluster DNS. */
const DNS_PORT = 53;

/**
 * Cluster DNS is not a pod here: it serves on the node behind the kube-dns Service, on whatever
 * port its EndpointSlice names. Policies are written for CoreDNS pods (`k8s-app: kube-dns` in
 * kube-system, port 53, named `dns`/`dns-tcp`), so each DNS endpoint is presented to them as such
 * a pod, whose port 53 is the real port. Without this, a pod under a default-deny egress policy
 * with the usual DNS allow rule could not resolve names.
 */
function dnsPods(slices: any[] | undefined): any[] {
  const out: any[] = [];
  for (const s of slices ?? []) {
    const ports = (s.ports ?? []).filter((p: any) => p.port);
    for (const e of s.endpoints ?? []) {
      const ip = e.addresses?.[0];
      if (!ip || e.conditions?.ready === false) continue;
      out.push({
        metadata: { namespace: 'kube-system', name: `kube-dns@${ip}`, labels: { 'k8s-app': 'kube-dns' } },
        spec: { containers: [{ name: 'dns', ports: ports.map((p: any) => ({ name: p.name, containerPort: p.port, protocol: p.protocol ?? 'TCP' })) }] },
        status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
        dns: true,
      });
    }
  }
  return out;
}

/** The real port of a DNS pseudo-pod for a numeric port of a rule (53 → the server's port). */
function dnsPort(pod: any, proto: string, port: string): string | undefined {
  const [lo, hi] = port.split('-').map(Number);
  if (!(lo <= DNS_PORT && DNS_PORT <= (hi || lo))) return undefined;
  const p = (pod.spec.containers[0].ports as any[]).find((x) => String(x.protocol).toLowerCase() === proto);
  return p ? String(p.containerPort) : undefined;
}

const ipNum = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
/** Whether an IPv4 address is inside a CIDR (a bare address counts as /32). */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bits = '32'] = cidr.split('/');
  if (base.includes(':') || ip.includes(':')) return false;
  const b = Number(bits);
  const size = 2 ** (32 - b);
  return Math.floor(ipNum(ip) / size) === Math.floor(ipNum(base) / size);
}

const h = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

function policyTypes(p: any): { ingress: boolean; egress: boolean } {
  const t: string[] | undefined = p.spec?.policyTypes;
  if (t?.length) return { ingress: t.includes('Ingress'), egress: t.includes('Egress') };
  return { ingress: true, egress: !!p.spec?.egress?.length };
}

function podIPs(pod: any): string[] {
  const ips = (pod.status?.podIPs ?? []).map((x: any) => x.ip).filter(Boolean);
  if (!ips.length && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips.filter((ip: string) => !ip.includes(':'));
}

/** Pods that have their own network and an address (hostNetwork pods share the node's). */
function networked(pod: any): boolean {
  return !pod.spec?.hostNetwork && podIPs(pod).length > 0 && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

interface PortMatch {
  proto: string;
  /** "80", "80-90", or a name to resolve against the destination pod. */
  port?: string;
  named?: string;
}

function portMatches(ports: any[] | undefined): PortMatch[] {
  if (!ports?.length) return [{ proto: '' }];
  return ports.map((p) => {
    const proto = String(p.protocol ?? 'TCP').toLowerCase();
    if (p.port === undefined || p.port === null) return { proto };
    if (typeof p.port === 'string' && !/^\d+$/.test(p.port)) return { proto, named: p.port };
    return { proto, port: p.endPort ? `${p.port}-${p.endPort}` : String(p.port) };
  });
}

function resolveNamed(pod: any, name: string, proto: string): string | undefined {
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    for (const cp of c.ports ?? []) if (cp.name === name && String(cp.protocol ?? 'TCP').toLowerCase() === proto) return String(cp.containerPort);
  }
  return undefined;
}

/** The nft expression for one port match against `dest` (undefined: matches nothing). */
function portExpr(m: PortMatch, dest: any | undefined): string | undefined {
  if (!m.proto) return '';
  if (m.named) {
    const p = dest ? resolveNamed(dest, m.named, m.proto) : undefined;
    return p ? `meta l4proto ${m.proto} th dport ${p}` : undefined;
  }
  return m.port ? `meta l4proto ${m.proto} th dport ${m.port}` : `meta l4proto ${m.proto}`;
}

type Peer = { kind: 'pods'; pods: any[] } | { kind: 'block'; cidr: string; except: string[] } | { kind: 'all' };

function peersOf(rulePeers: any[] | undefined, policyNs: string, candidates: any[], nsLabels: Map<string, Record<string, string>>): Peer[] {
  if (!rulePeers?.length) return [{ kind: 'all' }];
  return rulePeers.map((peer): Peer => {
    if (peer.ipBlock) return { kind: 'block', cidr: peer.ipBlock.cidr, except: peer.ipBlock.except ?? [] };
    const pods = candidates.filter((p) => {
      if (!networked(p)) return false;
      const ns = p.metadata.namespace;
      if (peer.namespaceSelector) {
        if (!selectorMatches(peer.namespaceSelector, nsLabels.get(ns))) return false;
      } else if (ns !== policyNs) return false;
      return peer.podSelector ? selectorMatches(peer.podSelector, p.metadata.labels) : true;
    });
    return { kind: 'pods', pods };
  });
}

/** The rules of one direction for one pod: each returns (allows) what it matches. */
function directionRules(dir: 'ingress' | 'egress', pod: any, policies: any[], inp: PolicyInputs, nsLabels: Map<string, Record<string, string>>, dns: any[]): string[] {
  const other = dir === 'ingress' ? 'saddr' : 'daddr';
  const out = new Set<string>();
  for (const pol of policies) {
    for (const rule of pol.spec?.[dir] ?? []) {
      const peers = peersOf(dir === 'ingress' ? rule.from : rule.to, pol.metadata.namespace, dir === 'egress' ? [...inp.pods, ...dns] : inp.pods, nsLabels);
      const ports = portMatches(rule.ports);
      for (const peer of peers) {
        for (const pm of ports) {
          // Cluster DNS reached on port 53 is served on another port: allow that one too.
          if (dir === 'egress' && pm.port) {
            const dests = peer.kind === 'pods' ? peer.pods.filter((p) => p.dns) : dns.filter((d) => peer.kind === 'all' || (cidrContains(peer.cidr, d.status.podIP) && !peer.except.some((x) => cidrContains(x, d.status.podIP))));
            for (const d of dests) {
              const real = dnsPort(d, pm.proto, pm.port);
              if (real) out.add(`ip daddr ${d.status.podIP} meta l4proto ${pm.proto} th dport ${real} return`);
            }
          }
          if (peer.kind === 'pods') {
            // Egress named ports resolve per destination pod; everything else once.
            const groups = dir === 'egress' && pm.named ? peer.pods.map((p) => ({ ips: podIPs(p), dest: p })) : [{ ips: peer.pods.flatMap(podIPs), dest: dir === 'ingress' ? pod : undefined }];
            for (const g of groups) {
              const pe = portExpr(pm, g.dest);
              if (pe === undefined || !g.ips.length) continue;
              out.add(`ip ${other} { ${[...new Set(g.ips)].sort().join(', ')} } ${pe} return`.replace(/\s+/g, ' '));
            }
          } else {
            const pe = portExpr(pm, dir === 'ingress' ? pod : undefined);
            if (pe === undefined) continue;
            const addr = peer.kind === 'block' ? `ip ${other} ${peer.cidr}${peer.except.length ? ` ip ${other} != { ${peer.except.join(', ')} }` : ''} ` : '';
            out.add(`${addr}${pe} return`.replace(/\s+/g, ' ').trim());
          }
        }
      }
    }
  }
  return [...out];
}

export interface PolicyRuleset {
  /** pod IP → chain name */
  ingress: Map<string, string>;
  egress: Map<string, string>;
  chains: Map<string, string[]>;
}

export function computeRules(inp: PolicyInputs): PolicyRuleset {
  const nsLabels = new Map<string, Record<string, string>>(inp.namespaces.map((n) => [n.metadata.name, n.metadata.labels ?? {}]));
  const res: PolicyRuleset = { ingress: new Map(), egress: new Map(), chains: new Map() };
  const dns = dnsPods(inp.dnsSlices);
  const byNs = new Map<string, any[]>();
  for (const p of inp.policies) byNs.set(p.metadata.namespace, [...(byNs.get(p.metadata.namespace) ?? []), p]);
  for (const pod of inp.pods) {
    if (pod.spec?.nodeName !== inp.nodeName || !networked(pod)) continue;
    const selecting = (byNs.get(pod.metadata.namespace) ?? []).filter((p) => selectorMatches(p.spec?.podSelector ?? {}, pod.metadata.labels));
    for (const dir of ['ingress', 'egress'] as const) {
      const pols = selecting.filter((p) => policyTypes(p)[dir]);
      if (!pols.length) continue;
      const chain = `${dir === 'ingress' ? 'ing' : 'eg'}-${h(`${pod.metadata.namespace}/${pod.metadata.name}/${pod.metadata.uid}`)}`;
      res.chains.set(chain, [...directionRules(dir, pod, pols, inp, nsLabels, dns), 'reject with icmp type admin-prohibited']);
      for (const ip of podIPs(pod)) res[dir].set(ip, chain);
    }
  }
  return res;
}

/** The whole table as one nft transaction (replaces what was there atomically). */
export function renderTable(table: string, r: PolicyRuleset): string {
  const T = `ip ${table}`;
  const out = [
    `add table ${T}`,
    `delete table ${T}`,
    `add table ${T} { comment "skiff network policies"; }`,
    `add map ${T} ingress { type ipv4_addr : verdict; }`,
    `add map ${T} egress { type ipv4_addr : verdict; }`,
  ];
  for (const [name, rules] of r.chains) {
    out.push(`add chain ${T} ${name}`);
    for (const rule of rules) out.push(`add rule ${T} ${name} ${rule}`);
  }
  for (const m of ['ingress', 'egress'] as const) for (const [ip, chain] of r[m]) out.push(`add element ${T} ${m} { ${ip} : jump ${chain} }`);
  out.push(
    `add chain ${T} forward { type filter hook forward priority filter; policy accept; }`,
    `add rule ${T} forward ct state established,related accept`,
    `add rule ${T} forward ip saddr vmap @egress`,
    `add rule ${T} forward ip daddr vmap @ingress`,
    `add chain ${T} input { type filter hook input priority filter; policy accept; }`,
    `add rule ${T} input ct state established,related accept`,
    `add rule ${T} input ip saddr vmap @egress`,
  );
  return out.join('\n');
}
