import path from 'node:path';
import { issueClientCert, type ClusterPKI } from '../../pki/ca.js';
import { writeKubeconfig } from '../../pki/kubeconfig.js';

/** The identities upstream's components use; RBAC's bootstrap policy and the Node authorizer know them. */
export const COMPONENT_IDENTITIES = {
  scheduler: { user: 'system:kube-scheduler', groups: [] as string[] },
  controllerManager: { user: 'system:kube-controller-manager', groups: [] as string[] },
  proxy: { user: 'system:kube-proxy', groups: [] as string[] },
  clusterDNS: { user: 'system:skiff:cluster-dns', groups: [] as string[] },
  networkPolicy: { user: 'system:skiff:network-policy', groups: [] as string[] },
  ingress: { user: 'system:skiff:ingress-controller', groups: [] as string[] },
  simulatedNodes: { user: 'system:skiff:simulated-nodes', groups: [] as string[] },
  node: (name: string) => ({ user: `system:node:${name}`, groups: ['system:nodes'] }),
};

/**
 * Writes one kubeconfig per component under `dir` (scheduler, controller-manager, proxy, cluster-dns,
 * network-policy, ingress, simulated-nodes, kubelet-NODE; each NAME.kubeconfig), each with its own client certificate, so components run
 * with least privilege instead of the admin identity. Returns the paths by component.
 */
export async function writeComponentKubeconfigs(pki: Pick<ClusterPKI, 'ca'>, server: string, dir: string, nodes: string[] = []): Promise<Record<string, string>> {
  const entries: [string, { user: string; groups: string[] }][] = [
    ['scheduler', COMPONENT_IDENTITIES.scheduler],
    ['controller-manager', COMPONENT_IDENTITIES.controllerManager],
    ['proxy', COMPONENT_IDENTITIES.proxy],
    ['cluster-dns', COMPONENT_IDENTITIES.clusterDNS],
    ['network-policy', COMPONENT_IDENTITIES.networkPolicy],
    ['ingress', COMPONENT_IDENTITIES.ingress],
    ['simulated-nodes', COMPONENT_IDENTITIES.simulatedNodes],
    ...nodes.map((n) => [`kubelet-${n}`, COMPONENT_IDENTITIES.node(n)] as [string, { user: string; groups: string[] }]),
  ];
  const out: Record<string, string> = {};
  await Promise.all(
    entries.map(async ([name, id]) => {
      const cert = await issueClientCert(pki, id.user, id.groups);
      const p = path.join(dir, `${name}.kubeconfig`);
      await writeKubeconfig(p, { server, caPem: pki.ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem, userName: id.user });
      out[name] = p;
    }),
  );
  return out;
}
