/**
 * Every per-location annotation of an Ingress parsed in one place into a typed configuration the
 * routing table carries and the data plane applies (see ../steps.ts). rewrite-target, use-regex,
 * app-root and x-forwarded-prefix stay in table.ts, which they shape.
 */
import { Reader, type AnnotationProblem } from './reader.js';
import { parseRedirect, type RedirectConfig } from './redirect.js';
import { refuseSnippets } from './snippet.js';
import { parseProxy, PROXY_DEFAULTS, type ProxyConfig } from './proxy.js';
import { parseCanary, type CanaryConfig } from './canary.js';
import { parseAffinity, type AffinityConfig } from './affinity.js';
import { parseCors, type CorsConfig } from './cors.js';
import { parseLimits, limited, type LimitConfig } from './limits.js';
import { parseSourceRange, type SourceRangeConfig } from './sourcerange.js';
import { parseAuth, type AuthConfig } from './auth.js';

export type { AnnotationProblem } from './reader.js';

export interface LocationConfig {
  redirect: RedirectConfig;
  proxy: ProxyConfig;
  canary: CanaryConfig;
  affinity: AffinityConfig;
  cors: CorsConfig;
  limits: LimitConfig;
  sourceRange: SourceRangeConfig;
  auth: AuthConfig;
  /** Non-null: the location answers 503 (ingress-nginx's `Denied`, for an invalid security annotation). */
  denied: string | null;
}

export function parseLocationConfig(annotations: Readonly<Record<string, string>> | undefined, prefix: string): { config: LocationConfig; problems: AnnotationProblem[] } {
  const r = new Reader(annotations ?? {}, prefix);
  refuseSnippets(r);
  const sr = parseSourceRange(r);
  const auth = parseAuth(r);
  let proxy = parseProxy(r);
  if (proxy.backendProtocol === 'FCGI') {
    r.problems.push({ reason: 'UnsupportedBackendProtocol', message: `backend-protocol ${proxy.backendProtocol} is not supported; using HTTP` });
    proxy = { ...proxy, backendProtocol: 'HTTP' };
  }
  // AUTO_HTTP means HTTP to upstream in ingress-nginx's template.
  if (proxy.backendProtocol === 'AUTO_HTTP') proxy = { ...proxy, backendProtocol: 'HTTP' };
  const config: LocationConfig = {
    redirect: parseRedirect(r),
    proxy,
    canary: parseCanary(r),
    affinity: parseAffinity(r),
    cors: parseCors(r),
    limits: parseLimits(r),
    sourceRange: { allow: sr.allow, deny: sr.deny, allowText: sr.allowText, denyText: sr.denyText },
    auth,
    denied: sr.invalid ?? (auth.invalid ? 'auth-url is invalid' : null),
  };
  return { config, problems: r.problems };
}

/** Defaults, for locations without an Ingress (the default backend). */
export const DEFAULT_LOCATION_CONFIG: LocationConfig = parseLocationConfig({}, 'none').config;

/**
 * Whether a bodyless plain-HTTP request to this location needs nothing but routing (the raw fast
 * path's case). SSL redirects are decided per server by the caller.
 */
export function perRequestFeatures(c: LocationConfig): boolean {
  const p = c.proxy;
  return (
    c.denied !== null ||
    c.redirect.url !== null ||
    c.redirect.forceSSLRedirect ||
    p.backendProtocol !== 'HTTP' ||
    c.affinity.cookie ||
    c.cors.enabled ||
    limited(c.limits) ||
    c.sourceRange.allow !== null ||
    c.sourceRange.deny !== null ||
    c.auth.url !== null
  );
}

export { chooseCanary } from './canary.js';
export { corsFor } from './cors.js';
export { sourceAllowed } from './sourcerange.js';
export { RequestLimiter, ConnectionLimiter, checkLimits, LIMIT_STATUS } from './limits.js';
export { affinityCookie, affinityKey, stickyEndpoint } from './affinity.js';
export { authVerdict } from './auth.js';
export { SSL_REDIRECT_CODE } from './redirect.js';
export { parseSize, parseSeconds } from './reader.js';
