import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openBackend } from '../../../storage/open.js';
import type { Backend } from '../../../storage/backend.js';
import { ApiServer } from '../../server.js';
import { ensureClusterPKI, issueClientCert, type ClusterPKI } from '../../../pki/ca.js';
import { renderKubeconfig, writeKubeconfig } from '../../../pki/kubeconfig.js';
import { runKubectl, type KubectlResult } from '../../../testing/cluster.js';
import { clientFromKubeconfig, type ApiClient } from '../../../testing/client.js';
import { createSecurity, type Security, type SecurityOptions } from '../security.js';
import { AuditLogger, auditedHandler, fileSink, type RequestHandler } from '../../audit/log.js';
import type { Policy } from '../../audit/policy.js';

export interface SecureCluster {
  dataDir: string;
  server: string;
  api: ApiServer;
  pki: ClusterPKI;
  security: Security;
  /** Admin (system:masters) kubeconfig. */
  kubeconfig: string;
  /** A kubeconfig with a client certificate for user/groups, optionally defaulting to a namespace. */
  userKubeconfig(user: string, groups: string[], namespace?: string): Promise<string>;
  /** A kubeconfig that presents a bearer token. */
  tokenKubeconfig(token: string, name: string): Promise<string>;
  kubectl(kubeconfig: string, args: string[], opts?: { input?: string }): Promise<KubectlResult>;
  client(kubeconfig: string, opts?: { anonymous?: boolean; token?: string }): Promise<ApiClient>;
  stop(): Promise<void>;
}

/**
 * An API server with Skiff's full security (x509 + tokens, Node+RBAC, the admission chain), built from
 * the same pieces `skiff up` uses, for tests until up() wires them in.
 */
export async function startSecureCluster(opts: Partial<SecurityOptions> & { wrapBackend?: (b: Backend) => Backend; audit?: { policy: Policy; path: string } } = {}): Promise<SecureCluster> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'skiff-sec-'));
  const pkiDir = path.join(dataDir, 'pki');
  const [rawBackend, pki] = await Promise.all([openBackend('sqlite', dataDir), ensureClusterPKI(pkiDir, { serverSANs: { dns: [], ips: [] } })]);
  const backend = opts.wrapBackend ? opts.wrapBackend(rawBackend) : rawBackend;
  const security = createSecurity({ pkiDir, ...opts });
  const api = new ApiServer({
    backend,
    port: 0,
    host: '127.0.0.1',
    tls: { cert: pki.apiserver.certPem, key: pki.apiserver.keyPem, ca: pki.ca.certPem },
    authenticators: security.authenticators,
    authorizers: security.authorizers,
    admission: security.admission,
    reviews: security.reviews,
  });
  security.attach(api.registry);
  await api.start();
  await security.start(api.registry);
  let auditLog: AuditLogger | undefined;
  if (opts.audit) {
    // Until handler.ts calls the audit hooks itself, wrap the server's request listener.
    auditLog = new AuditLogger(opts.audit.policy, fileSink(opts.audit.path));
    const srv = (api as any).server as import('node:https').Server;
    const inner = srv.listeners('request')[0] as RequestHandler;
    srv.removeAllListeners('request');
    srv.on('request', await auditedHandler(auditLog, inner, { authenticators: security.authenticators, authorizers: security.authorizers }));
  }
  const server = `https://127.0.0.1:${api.port}`;
  const kubeconfig = path.join(dataDir, 'kubeconfig');
  await writeKubeconfig(kubeconfig, { server, caPem: pki.ca.certPem, certPem: pki.admin.certPem, keyPem: pki.admin.keyPem });
  let n = 0;
  const cacheDir = path.join(dataDir, 'kube-cache');
  return {
    dataDir,
    server,
    api,
    pki,
    security,
    kubeconfig,
    async userKubeconfig(user, groups, namespace) {
      const cert = await issueClientCert(pki, user, groups);
      const p = path.join(dataDir, `kc-${++n}`);
      await writeKubeconfig(p, { server, caPem: pki.ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem, namespace, userName: user });
      return p;
    },
    async tokenKubeconfig(token, name) {
      const doc = renderKubeconfig({ server, caPem: pki.ca.certPem, certPem: '', keyPem: '', userName: name });
      const p = path.join(dataDir, `kc-${++n}`);
      await writeFile(p, doc.replace(/user:\n\s+client-certificate-data: ""\n\s+client-key-data: ""/, `user:\n      token: ${token}`), { mode: 0o600 });
      return p;
    },
    kubectl: (kc, args, o = {}) => runKubectl(args, { kubeconfig: kc, cacheDir, ...o }),
    async client(kc, o = {}) {
      const c = await clientFromKubeconfig(kc, { anonymous: o.anonymous || !!o.token });
      if (!o.token) return c;
      const token = o.token;
      return { ...c, request: (m, p, b, h = {}) => c.request(m, p, b, { authorization: `Bearer ${token}`, ...h }) };
    },
    async stop() {
      security.stop();
      await auditLog?.close();
      await api.stop();
      await backend.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
