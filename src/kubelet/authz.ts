import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** The request attributes upstream's kubelet authorizes (pkg/kubelet/server/auth.go): a verb on nodes/<subresource>. */
export function kubeletRequestAttributes(method: string, pathname: string): { verb: string; subresource: string } {
  const verb = method === 'POST' ? 'create' : method === 'PUT' ? 'update' : method === 'PATCH' ? 'patch' : method === 'DELETE' ? 'delete' : 'get';
  const first = pathname.split('/')[1] ?? '';
  const subresource = first === 'stats' ? 'stats' : first === 'metrics' ? 'metrics' : first === 'logs' ? 'log' : first === 'spec' ? 'spec' : first === 'checkpoint' ? 'checkpoint' : 'proxy';
  return { verb, subresource };
}

/** The client certificate's user (CN) and groups (O). */
export function peerIdentity(req: IncomingMessage): { user: string; groups: string[] } {
  const cert = (req.socket as TLSSocket).getPeerCertificate?.();
  const subject = (cert?.subject ?? {}) as { CN?: string | string[]; O?: string | string[] };
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return { user: list(subject.CN)[0] ?? '', groups: list(subject.O) };
}

/**
 * Who may use the kubelet's API. Every client already presents a certificate of the cluster CA;
 * that alone let any cluster user (a `skiff kubeconfig --user` certificate) exec into pods past
 * RBAC. Upstream asks the API server (SubjectAccessReview on nodes/proxy and friends); here only
 * system:masters pass — the API server's own kubelet client is one — and anyone else gets
 * upstream's refusal. Returns the refusal text, or undefined when allowed.
 */
export function kubeletRefusal(req: IncomingMessage, pathname: string): string | undefined {
  const { user, groups } = peerIdentity(req);
  if (groups.includes('system:masters')) return undefined;
  if (pathname === '/healthz') return undefined;
  const { verb, subresource } = kubeletRequestAttributes(req.method ?? 'GET', pathname);
  return `Forbidden (user=${user}, verb=${verb}, resource=nodes, subresource(s)=[${subresource}])`;
}
