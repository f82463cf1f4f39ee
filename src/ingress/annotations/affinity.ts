/**
 * Session affinity by cookie (affinity: cookie): the first response sets a cookie naming the
 * endpoint chosen; later requests carrying it go to the same endpoint while it exists.
 */
import { createHash } from 'node:crypto';
import type { Reader } from './reader.js';

export interface AffinityConfig {
  cookie: boolean;
  mode: 'balanced' | 'persistent';
  name: string;
  /** null: the location's path. */
  path: string | null;
  maxAge: number | null;
  expires: number | null;
  sameSite: 'None' | 'Lax' | 'Strict' | null;
  secure: boolean;
  changeOnFailure: boolean;
}

export function parseAffinity(r: Reader): AffinityConfig {
  const type = r.str('affinity');
  const out: AffinityConfig = { cookie: false, mode: 'balanced', name: 'INGRESSCOOKIE', path: null, maxAge: null, expires: null, sameSite: null, secure: false, changeOnFailure: false };
  if (type === undefined) return out;
  if (type !== 'cookie') {
    r.invalid('affinity', type, 'only "cookie" is supported');
    return out;
  }
  out.cookie = true;
  out.mode = r.oneOf('affinity-mode', ['balanced', 'persistent'] as const, 'balanced');
  const name = r.str('session-cookie-name');
  if (name !== undefined) {
    if (/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) out.name = name;
    else r.invalid('session-cookie-name', name, 'not a cookie name');
  }
  const path = r.str('session-cookie-path');
  if (path !== undefined) {
    if (path.startsWith('/') && !/[;\s]/.test(path)) out.path = path;
    else r.invalid('session-cookie-path', path, 'not a path');
  }
  if (r.has('session-cookie-max-age')) out.maxAge = r.int('session-cookie-max-age', 0, 0) || null;
  if (r.has('session-cookie-expires')) out.expires = r.int('session-cookie-expires', 0, 0) || null;
  const ss = r.str('session-cookie-samesite');
  if (ss !== undefined) out.sameSite = r.oneOf('session-cookie-samesite', ['None', 'Lax', 'Strict'] as const, 'Lax');
  out.secure = r.bool('session-cookie-secure', false);
  out.changeOnFailure = r.bool('session-cookie-change-on-failure', false);
  return out;
}

/** The cookie value naming an endpoint: a digest, so addresses are not disclosed. */
export function affinityKey(endpointKey: string): string {
  return createHash('sha1').update(endpointKey).digest('hex');
}

/** The endpoint a cookie value names, if it still exists. */
export function stickyEndpoint<E extends { key: string }>(value: string | undefined, eps: readonly E[]): E | undefined {
  if (!value) return undefined;
  for (const e of eps) if (affinityKey(e.key) === value) return e;
  return undefined;
}

/** Set-Cookie for a new assignment, as ingress-nginx's sticky balancer writes it. */
export function affinityCookie(a: AffinityConfig, value: string, locationPath: string, secureRequest: boolean, now: number): string {
  let c = `${a.name}=${value}; Path=${a.path ?? locationPath}`;
  if (a.expires) c += `; Expires=${new Date(now + a.expires * 1000).toUTCString()}`;
  if (a.maxAge) c += `; Max-Age=${a.maxAge}`;
  if (a.sameSite) c += `; SameSite=${a.sameSite}`;
  if (a.secure || (a.sameSite === 'None' && secureRequest)) c += '; Secure';
  return c + '; HttpOnly';
}
