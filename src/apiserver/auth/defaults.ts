import type { TLSSocket } from 'node:tls';
import type { Authenticator, Authorizer, UserInfo } from './types.js';
import { parseClientIdentity } from '../../pki/ca.js';
import { StatusError } from '../status.js';

/** The identity a TLS connection's certificate proves never changes: read it once per connection. */
const bySocket = new WeakMap<TLSSocket, UserInfo | null>();

/** X.509 client certificates signed by the cluster CA: CN is the user, O the groups. */
export const x509Authenticator: Authenticator = {
  name: 'x509',
  authenticate(req) {
    const sock = req.socket as TLSSocket;
    const known = bySocket.get(sock);
    if (known !== undefined) return known ?? undefined;
    if (!sock.authorized) {
      // A certificate the cluster CA did not sign is a failed login, not an anonymous request (upstream).
      const peer = typeof sock.getPeerCertificate === 'function' ? sock.getPeerCertificate() : undefined;
      if (peer && Object.keys(peer).length) throw new StatusError(401, 'Unauthorized', 'Unauthorized');
      return undefined;
    }
    const id = parseClientIdentity(sock.getPeerCertificate());
    const user = id ? { name: id.user, groups: id.groups } : null;
    bySocket.set(sock, user);
    return user ?? undefined;
  },
};

/** Paths anyone may read (upstream's system:public-info-viewer and system:discovery roles). */
export function isPublicPath(path: string): boolean {
  return (
    path === '/livez' || path === '/readyz' || path === '/healthz' || path.startsWith('/livez/') || path.startsWith('/readyz/') || path.startsWith('/healthz/') ||
    path === '/version' || path === '/api' || path === '/apis' || /^\/apis?\/[^/]+(\/[^/]+)?\/?$/.test(path) || path.startsWith('/openapi/') || path.startsWith('/.well-known/')
  );
}

/**
 * Until RBAC is enforced: any authenticated user may do anything; anonymous users may read only
 * health, version and discovery.
 */
export const authenticatedAllowAuthorizer: Authorizer = {
  name: 'AuthenticatedAllow',
  authorize(a) {
    if (a.user.groups.includes('system:authenticated')) return { decision: 'allow' };
    if (!a.resourceRequest && a.verb === 'get' && isPublicPath(a.path)) return { decision: 'allow' };
    return { decision: 'noopinion' };
  },
};
