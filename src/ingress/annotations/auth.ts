/**
 * External authentication (auth-url): before proxying, a GET subrequest (nginx subrequests are GET
 * unless auth-method says otherwise) with the original headers and X-Original-URL,
 * X-Original-Method, X-Auth-Request-Redirect; 2xx proxies, 401/403 answer that status, anything
 * else 500, as nginx's auth_request.
 */
import type { Reader } from './reader.js';

export interface AuthConfig {
  url: URL | null;
  method: string;
  responseHeaders: string[];
  signin: string | null;
  /** Set when auth-url is present but invalid: the location is denied, as ingress-nginx does. */
  invalid: boolean;
}

export function parseAuth(r: Reader): AuthConfig {
  const out: AuthConfig = { url: null, method: 'GET', responseHeaders: [], signin: null, invalid: false };
  const url = r.str('auth-url');
  if (url === undefined) return out;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    out.url = u;
  } catch {
    r.invalid('auth-url', url, 'not an http(s) URL');
    out.invalid = true;
    return out;
  }
  const method = r.str('auth-method');
  if (method !== undefined) {
    if (/^(GET|HEAD|POST|PUT|PATCH|DELETE|CONNECT|OPTIONS|TRACE)$/.test(method)) out.method = method;
    else r.invalid('auth-method', method, 'not an HTTP method');
  }
  const hdrs = r.str('auth-response-headers');
  if (hdrs !== undefined) {
    const list = hdrs.split(',').map((s) => s.trim()).filter(Boolean);
    if (list.every((h) => /^[A-Za-z0-9\-_]+$/.test(h))) out.responseHeaders = list;
    else r.invalid('auth-response-headers', hdrs, 'not a list of header names');
  }
  const signin = r.str('auth-signin');
  if (signin !== undefined) out.signin = signin;
  return out;
}

/** What to do with the auth service's answer. */
export function authVerdict(status: number): 'allow' | 'deny' | 'error' {
  if (status >= 200 && status < 300) return 'allow';
  if (status === 401 || status === 403) return 'deny';
  return 'error';
}
