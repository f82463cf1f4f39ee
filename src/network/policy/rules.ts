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

function peersOf(rulePeers: any[] | undefined, policyNs: string, inp: PolicyInputs, nsLabels: Map<string, Record<string, string>>): Peer[] {
  if (!rulePeers?.length) return [{ kind: 'all' }];
  return rulePeers.map((peer): Peer => {
    if (peer.ipBlock) return { kind: 'block', cidr: peer.ipBlock.cidr, except: peer.ipBlock.except ?? [] };
    const pods = inp.pods.filter((p) => {
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
function directionRules(dir: 'ingress' | 'egress', pod: any, policies: any[], inp: PolicyInputs, nsLabels: Map<string, Record<string, string>>): string[] {
  const other = dir === 'ingress' ? 'saddr' : 'daddr';
  const out = new Set<string>();
  for (const pol of policies) {
    for (const rule of pol.spec?.[dir] ?? []) {
      const peers = peersOf(dir === 'ingress' ? rule.from : rule.to, pol.metadata.namespace, inp, nsLabels);
      const ports = portMatches(rule.ports);
      for (const peer of peers) {
        for (const pm of ports) {
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
  const byNs = new Map<string, any[]>();
  for (const p of inp.policies) byNs.set(p.metadata.namespace, [...(byNs.get(p.metadata.namespace) ?? []), p]);
  for (const pod of inp.pods) {
    if (pod.spec?.nodeName !== inp.nodeName || !networked(pod)) continue;
    const selecting = (byNs.get(pod.metadata.namespace) ?? []).filter((p) => selectorMatches(p.spec?.podSelector ?? {}, pod.metadata.labels));
    for (const dir of ['ingress', 'egress'] as const) {
      const pols = selecting.filter((p) => policyTypes(p)[dir]);
      if (!pols.length) continue;
      const chain = `${dir === 'ingress' ? 'ing' : 'eg'}-${h(`${pod.metadata.namespace}/${pod.metadata.name}/${pod.metadata.uid}`)}`;
      res.chains.set(chain, [...directionRules(dir, pod, pols, inp, nsLabels), 'reject with icmp type admin-prohibited']);
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
