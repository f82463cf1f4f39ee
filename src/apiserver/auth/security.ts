import { join } from 'node:path';
import type { Registry } from '../registry.js';
import type { ReviewHandler } from '../handler.js';
import type { AdmissionPlugin } from '../admission/types.js';
import type { Attributes, Authenticator, Authorizer } from './types.js';
import { authorize } from './chain.js';
import { x509Authenticator } from './defaults.js';
import { RbacIndex } from './rbac/index.js';
import { RbacAuthorizer, alwaysAllowAuthorizer, privilegedGroupsAuthorizer } from './rbac/authorizer.js';
import { NodeAuthorizer } from './node.js';
import { ensureBootstrapPolicy } from './rbac/bootstrap.js';
import { ClusterRoleAggregator } from './rbac/aggregation.js';
import { rbacEscalationPlugin } from './rbac/escalation.js';
import { selfSubjectRulesReview } from './rbac/rulesreview.js';
import { tokenReview } from './reviews.js';
import { bearerTokenAuthenticator, type TokenAuthenticator } from './tokens/bearer.js';
import { tokenFileAuthenticator } from './tokens/tokenfile.js';
import { ServiceAccountTokens, ensureServiceAccountKey } from './tokens/serviceaccount.js';
import { securityAdmissionChain, type AdmissionChainOptions } from '../admission/chain.js';
import { certificateAdmissionPlugins } from '../admission/certificates.js';

export interface SecurityOptions {
  /** The data dir's pki/ (the service-account signing key lives there as sa.key). */
  pkiDir: string;
  /** Upstream --token-auth-file. */
  tokenAuthFile?: string;
  /** Upstream --service-account-issuer (default https://kubernetes.default.svc.cluster.local). */
  issuer?: string;
  /** Upstream --api-audiences (default: the issuer). */
  apiAudiences?: string[];
  /** Upstream --authorization-mode: Node,RBAC (default) or AlwaysAllow. */
  authorizationMode?: 'Node,RBAC' | 'AlwaysAllow';
  /** Options of the admission chain (webhook client settings, which plugins). */
  admission?: AdmissionChainOptions;
}

/**
 * Everything the API server needs for upstream-style security, in one place: the authentication and
 * authorization chains, the admission plugins, the review handlers and the in-server RBAC loops.
 *
 * Use: `const s = createSecurity(o); new ApiServer({ …, authenticators: s.authenticators,
 * authorizers: s.authorizers, admission: s.admission, reviews: s.reviews }); s.attach(api.registry);
 * await api.start(); await s.start(api.registry);`
 */
export interface Security {
  readonly authenticators: Authenticator[];
  readonly authorizers: Authorizer[];
  readonly admission: AdmissionPlugin[];
  readonly reviews: Map<string, ReviewHandler>;
  readonly serviceAccounts: ServiceAccountTokens;
  readonly rbac: RbacAuthorizer;
  readonly tokenAuthenticators: TokenAuthenticator[];
  /** Connects the caches the authorizers and token validation read; call before the server starts. */
  attach(reg: Registry): void;
  /** Bootstrap policy and the ClusterRole aggregation loop; call once the server is up. */
  start(reg: Registry): Promise<void>;
  stop(): void;
}

export function createSecurity(o: SecurityOptions): Security {
  const index = new RbacIndex();
  const rbac = new RbacAuthorizer(index);
  const node = new NodeAuthorizer();
  const serviceAccounts = new ServiceAccountTokens({ key: ensureServiceAccountKey(o.pkiDir), issuer: o.issuer, apiAudiences: o.apiAudiences });
  const tokenAuthenticators: TokenAuthenticator[] = [];
  if (o.tokenAuthFile) tokenAuthenticators.push(tokenFileAuthenticator(o.tokenAuthFile));
  tokenAuthenticators.push(serviceAccounts.authenticator());
  const authenticators: Authenticator[] = [x509Authenticator, bearerTokenAuthenticator(tokenAuthenticators)];
  const authorizers: Authorizer[] = o.authorizationMode === 'AlwaysAllow' ? [alwaysAllowAuthorizer] : [privilegedGroupsAuthorizer, node, rbac];
  const authorizeFn = (a: Attributes) => authorize(authorizers, a);
  const certificates = certificateAdmissionPlugins(authorizeFn).filter((p) => !o.admission?.disable?.includes(p.name));
  const admission = [...securityAdmissionChain({ ...o.admission, serviceAccounts }), ...certificates, ...(o.authorizationMode === 'AlwaysAllow' ? [] : [rbacEscalationPlugin(index, authorizeFn)])];
  const reviews = new Map<string, ReviewHandler>([
    ['authentication.k8s.io/tokenreviews', tokenReview(tokenAuthenticators)],
    ['authorization.k8s.io/selfsubjectrulesreviews', selfSubjectRulesReview(index)],
  ]);
  let aggregator: ClusterRoleAggregator | undefined;
  return {
    authenticators,
    authorizers,
    admission,
    reviews,
    serviceAccounts,
    rbac,
    tokenAuthenticators,
    attach(reg) {
      index.attach(reg.cache);
      node.attach(reg.cache);
      serviceAccounts.attach(reg.cache);
    },
    async start(reg) {
      await ensureBootstrapPolicy(reg);
      aggregator = new ClusterRoleAggregator(reg);
      aggregator.start();
      await aggregator.settle();
    },
    stop() {
      aggregator?.stop();
      index.detach();
    },
  };
}

export const defaultPkiDir = (dataDir: string) => join(dataDir, 'pki');
