/** enable-cors and cors-*, with ingress-nginx's defaults and its rendered CORS block's behaviour. */
import type { Reader } from './reader.js';

export interface CorsConfig {
  enabled: boolean;
  /** ['*'] or explicit origins (`https://*.example.com` allowed). */
  allowOrigin: string[];
  allowMethods: string;
  allowHeaders: string;
  allowCredentials: boolean;
  exposeHeaders: string;
  maxAge: number;
  originRe: RegExp | null;
}

const DEF_METHODS = 'GET, PUT, POST, DELETE, PATCH, OPTIONS';
const DEF_HEADERS = 'DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization';
const ORIGIN = /^(https?:\/\/(\*\.)?[A-Za-z0-9\-.]*(:\d+)?|\*)$/;

export function parseCors(r: Reader): CorsConfig {
  const out: CorsConfig = { enabled: r.bool('enable-cors', false), allowOrigin: ['*'], allowMethods: DEF_METHODS, allowHeaders: DEF_HEADERS, allowCredentials: true, exposeHeaders: '', maxAge: 1728000, originRe: null };
  if (!out.enabled) return out;
  const origins = r.str('cors-allow-origin');
  if (origins !== undefined) {
    const list: string[] = [];
    for (const o of origins.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (ORIGIN.test(o)) list.push(o);
      else r.invalid('cors-allow-origin', o, 'not an origin');
    }
    if (list.length && !list.includes('*')) out.allowOrigin = list;
  }
  if (out.allowOrigin[0] !== '*') {
    // `https://*.example.com` allows one label in place of the star, as buildCorsOriginRegex.
    const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const alts = out.allowOrigin.map((o) => o.split('*.').map(esc).join('[A-Za-z0-9\\-]+\\.'));
    out.originRe = new RegExp(`^(${alts.join('|')})$`, 'i');
  }
  const methods = r.str('cors-allow-methods');
  if (methods !== undefined) {
    if (/^([A-Za-z]+,?\s?)+$/.test(methods)) out.allowMethods = methods;
    else r.invalid('cors-allow-methods', methods, 'not a list of methods');
  }
  const headers = r.str('cors-allow-headers');
  if (headers !== undefined) {
    if (/^([A-Za-z0-9\-_]+,?\s?)+$/.test(headers)) out.allowHeaders = headers;
    else r.invalid('cors-allow-headers', headers, 'not a list of header names');
  }
  const expose = r.str('cors-expose-headers');
  if (expose !== undefined) {
    if (/^(([A-Za-z0-9\-_]+|\*),?\s?)+$/.test(expose)) out.exposeHeaders = expose;
    else r.invalid('cors-expose-headers', expose, 'not a list of header names');
  }
  out.allowCredentials = r.bool('cors-allow-credentials', true);
  out.maxAge = r.int('cors-max-age', 1728000, 0);
  return out;
}

/**
 * The CORS headers for a request (none when the origin is not allowed), and whether it is a
 * preflight to answer 204 without proxying.
 */
export function corsFor(c: CorsConfig, origin: string | undefined, method: string): { headers: Record<string, string>; preflight: boolean } | null {
  let allowOrigin: string;
  if (c.originRe === null) allowOrigin = '*';
  else if (origin !== undefined && c.originRe.test(origin)) allowOrigin = origin;
  else return null;
  const headers: Record<string, string> = { 'access-control-allow-origin': allowOrigin };
  if (c.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  headers['access-control-allow-methods'] = c.allowMethods;
  headers['access-control-allow-headers'] = c.allowHeaders;
  if (c.exposeHeaders) headers['access-control-expose-headers'] = c.exposeHeaders;
  headers['access-control-max-age'] = String(c.maxAge);
  return { headers, preflight: method === 'OPTIONS' };
}
