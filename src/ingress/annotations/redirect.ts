/**
 * Redirect annotations: temporal-redirect (checked first, as ingress-nginx's parser does) and
 * permanent-redirect with their codes, ssl-redirect / force-ssl-redirect (308, ingress-nginx's
 * http-redirect-code default).
 */
import type { Reader } from './reader.js';

export interface RedirectConfig {
  /** A `return <code> <url>` for every request of the location. */
  url: string | null;
  code: number;
  /** Redirect plain HTTP to HTTPS when the host has TLS (default true). */
  sslRedirect: boolean;
  /** Redirect plain HTTP to HTTPS even without TLS. */
  forceSSLRedirect: boolean;
}

export const SSL_REDIRECT_CODE = 308;

function validUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export function parseRedirect(r: Reader): RedirectConfig {
  const out: RedirectConfig = { url: null, code: 301, sslRedirect: r.bool('ssl-redirect', true), forceSSLRedirect: r.bool('force-ssl-redirect', false) };
  const temporal = r.str('temporal-redirect');
  if (temporal !== undefined) {
    if (validUrl(temporal)) {
      const code = r.int('temporal-redirect-code', 302);
      return { ...out, url: temporal, code: code >= 300 && code <= 307 ? code : 302 };
    }
    r.invalid('temporal-redirect', temporal, 'not an http(s) URL');
  }
  const permanent = r.str('permanent-redirect');
  if (permanent !== undefined) {
    if (validUrl(permanent)) {
      const code = r.int('permanent-redirect-code', 301);
      return { ...out, url: permanent, code: code >= 300 && code <= 308 ? code : 301 };
    }
    r.invalid('permanent-redirect', permanent, 'not an http(s) URL');
  }
  return out;
}
