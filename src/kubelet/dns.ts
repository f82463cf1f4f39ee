/**
 * The DNS configuration the kubelet hands the runtime for a pod sandbox (upstream's
 * pkg/kubelet/network/dns): ClusterFirst → cluster DNS with `<ns>.svc.<domain> svc.<domain> <domain>`
 * searches and ndots:5; Default → the host's resolv.conf; None → only spec.dnsConfig; then
 * spec.dnsConfig is merged in (nameservers and searches appended without duplicates, options
 * overriding by name). Pure apart from reading the host file, which is injected.
 */
import { readFileSync } from 'node:fs';
import type { PodSandboxConfig } from '../runtime/cri.js';

export type DnsConfig = NonNullable<PodSandboxConfig['dnsConfig']>;

export interface ClusterDNSSettings {
  /** Cluster DNS server IPs (kubelet --cluster-dns); empty: ClusterFirst falls back to Default. */
  clusterDNS: string[];
  /** Cluster domain (kubelet --cluster-domain, default cluster.local). */
  clusterDomain?: string;
  /** The host's resolver configuration (default: parsed from /etc/resolv.conf). */
  host?: DnsConfig;
}

/** Upstream limits: 3 nameservers, 32 search domains. */
const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

export function parseResolvConf(text: string): DnsConfig {
  const out: Required<DnsConfig> = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const f = raw.replace(/[#;].*$/, '').trim().split(/\s+/).filter(Boolean);
    if (!f.length) continue;
    if (f[0] === 'nameserver' && f[1]) out.servers.push(f[1]);
    else if (f[0] === 'search' || f[0] === 'domain') out.searches = f.slice(1);
    else if (f[0] === 'options') out.options.push(...f.slice(1));
  }
  return out;
}

export function hostDNS(file = '/etc/resolv.conf'): DnsConfig {
  try {
    return parseResolvConf(readFileSync(file, 'utf8'));
  } catch {
    return { servers: [], searches: [], options: [] };
  }
}

const dedupe = (xs: string[]) => [...new Set(xs)];

function mergeOptions(base: string[], pod: { name?: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const o of base) byName.set(o.split(':')[0], o);
  for (const o of pod) if (o.name) byName.set(o.name, o.value !== undefined && o.value !== null ? `${o.name}:${o.value}` : o.name);
  return [...byName.values()];
}

/** The sandbox DNS config for `pod`; undefined means "leave the host's resolv.conf alone". */
export function podDNSConfig(pod: any, s: ClusterDNSSettings | undefined): DnsConfig | undefined {
  const spec = pod.spec ?? {};
  let policy: string = spec.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'ClusterFirst' && spec.hostNetwork) policy = 'Default';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  if (policy === 'ClusterFirst' && !s?.clusterDNS.length) policy = 'Default';
  // Without cluster DNS settings nobody asked the kubelet to manage resolv.conf (pods inherit the host's).
  if (!s && policy !== 'None') return undefined;
  const host = s?.host ?? hostDNS();
  let cfg: Required<DnsConfig>;
  if (policy === 'None') cfg = { servers: [], searches: [], options: [] };
  else if (policy === 'Default') cfg = { servers: [...(host.servers ?? [])], searches: [...(host.searches ?? [])], options: [...(host.options ?? [])] };
  else {
    const domain = s!.clusterDomain ?? 'cluster.local';
    const ns = pod.metadata?.namespace ?? 'default';
    cfg = { servers: [...s!.clusterDNS], searches: [`${ns}.svc.${domain}`, `svc.${domain}`, domain, ...(host.searches ?? [])], options: ['ndots:5'] };
  }
  const pd = spec.dnsConfig;
  if (pd) {
    cfg.servers = dedupe([...cfg.servers, ...(pd.nameservers ?? [])]);
    cfg.searches = dedupe([...cfg.searches, ...(pd.searches ?? [])]);
    cfg.options = mergeOptions(cfg.options, pd.options ?? []);
  }
  cfg.servers = cfg.servers.slice(0, MAX_NAMESERVERS);
  cfg.searches = dedupe(cfg.searches).slice(0, MAX_SEARCHES);
  return cfg;
}
