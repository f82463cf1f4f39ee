/**
 * The kubelet-managed /etc/hosts of a pod with its own network (upstream's managedHostsFileContent
 * and GeneratePodHostNameAndDomain in pkg/kubelet): localhost and the IPv6 names, the pod's IPs
 * under `hostname` — as `hostname.subdomain.<ns>.svc.<domain> hostname` when spec.subdomain is
 * set — then spec.hostAliases.
 */

export interface HostAlias {
  ip: string;
  hostnames?: string[];
}

/** What a pod's hosts file says besides its IPs; carried from the kubelet to the runtime. */
export interface PodHosts {
  /** `<subdomain>.<namespace>.svc.<cluster domain>` when spec.subdomain is set. */
  domain?: string;
  hostAliases?: HostAlias[];
}

/** Hostnames are DNS labels: upstream truncates the pod name to 63 characters, then trims '-' and '.'. */
const MAX_HOSTNAME = 63;

export function podHostname(pod: any): string {
  if (pod.spec?.hostname) return pod.spec.hostname;
  const name: string = pod.metadata?.name ?? '';
  return name.length <= MAX_HOSTNAME ? name : name.slice(0, MAX_HOSTNAME).replace(/[-.]+$/, '');
}

export function podHosts(pod: any, clusterDomain = 'cluster.local'): PodHosts {
  const out: PodHosts = {};
  const sub = pod.spec?.subdomain;
  if (sub) out.domain = `${sub}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}`;
  if (pod.spec?.hostAliases?.length) out.hostAliases = pod.spec.hostAliases.map((a: any) => ({ ip: a.ip, hostnames: a.hostnames ?? [] }));
  return out;
}

export function managedHostsFile(ips: string[], hostname: string, hosts: PodHosts = {}): string {
  let out =
    '# Kubernetes-managed hosts file.\n' +
    '127.0.0.1\tlocalhost\n' +
    '::1\tlocalhost ip6-localhost ip6-loopback\n' +
    'fe00::0\tip6-localnet\n' +
    'fe00::0\tip6-mcastprefix\n' +
    'fe00::1\tip6-allnodes\n' +
    'fe00::2\tip6-allrouters\n';
  for (const ip of ips) out += hosts.domain ? `${ip}\t${hostname}.${hosts.domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  if (hosts.hostAliases?.length) {
    out += '\n# Entries added by HostAliases.\n';
    for (const a of hosts.hostAliases) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  }
  return out;
}
