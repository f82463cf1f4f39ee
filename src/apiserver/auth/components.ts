import path from 'node:path';
import { issueClientCert, type ClusterPKI } from '../../pki/ca.js';
import { writeKubeconfig } from '../../pki/kubeconfig.js';

/** The identities upstream's components use; RBAC's bootstrap policy and the Node authorizer know them. */
export const COMPONENT_IDENTITIES = {
  scheduler: { user: 'system:kube-scheduler', groups: [] as string[] },
  controllerManager: { user: 'system:kube-controller-manager', groups: [] as string[] },
  proxy: { user: 'system:kube-proxy', groups: [] as string[] },
  node: (name: string) => ({ user: `system:node:${name}`, groups: ['system:nodes'] }),
};

/**
 * Writes one kubeconfig per component under `dir` (scheduler.kubeconfig, controller-manager.kubeconfig,
 * proxy.kubeconfig, kubelet-NODE.kubeconfig), each with its own client certificate, so components run
 * with least privilege instead of the admin identity. Returns the paths by component.
 */
export async function writeComponentKubeconfigs(pki: Pick<ClusterPKI, 'ca'>, server: string, dir: string, nodes: string[] = []): Promise<Record<string, string>> {
  const entries: [string, { user: string; groups: string[] }][] = [
    ['scheduler', COMPONENT_IDENTITIES.scheduler],
    ['controller-manager', COMPONENT_IDENTITIES.controllerManager],
    ['proxy', COMPONENT_IDENTITIES.proxy],
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
