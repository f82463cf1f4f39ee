/**
 * The per-request steps the data plane applies to a routed request, in nginx's phase order:
 * body size (find-config), denied / CORS preflight / redirect (rewrite), SSL redirect (the tail of
 * rewrite, ingress-nginx's Lua), limits (preaccess), source ranges and auth (access), then the
 * balancer's canary and affinity choice. Each step is a pure function of the location's
 * configuration and the request; the limiters' state is passed in.
 */
import { corsFor, sourceAllowed, SSL_REDIRECT_CODE, chooseCanary, stickyEndpoint, type LocationConfig } from './annotations/index.js';
import type { Alternative, BackendRef, Location, Server } from './table.js';

export interface Answer {
  status: number;
  headers: Record<string, string>;
  /** Default: nginx's error page for the status (none for 204). */
  body?: string;
}

export interface RequestFacts {
  method: string;
  scheme: 'http' | 'https';
  /** The Host header as sent. */
  host: string;
  /** The request-target as sent (nginx's $request_uri). */
  target: string;
  remote: string;
  /** Header value by lower-case name (first one). */
  header(name: string): string | undefined;
  /** Port the HTTPS listener answers on (for SSL redirects). */
  httpsPort: number;
}

export const STATUS_TEXT: Record<number, string> = {
  204: 'No Content',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Authorization Required',
  403: 'Forbidden',
  404: 'Not Found',
  413: 'Request Entity Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

/** nginx's built-in error page. */
/**
 * ingress-nginx's defaults hsts: true, hsts-max-age 31536000, hsts-include-subdomains: true,
 * hsts-preload: false: HTTPS responses of a host with TLS configured carry this header.
 */
export const HSTS_HEADER = 'max-age=31536000; includeSubDomains';

export function errorPage(status: number): string {
  const text = `${status} ${STATUS_TEXT[status] ?? ''}`.trim();
  return `<html>\r\n<head><title>${text}</title></head>\r\n<body>\r\n<center><h1>${text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

/** client_max_body_size against Content-Length (find-config phase, before any rewrite). */
export function bodySizeStep(c: LocationConfig, contentLength: number | null): Answer | null {
  if (c.proxy.bodySize > 0 && contentLength !== null && contentLength > c.proxy.bodySize) return { status: 413, headers: {} };
  return null;
}

/** A location ingress-nginx renders as `return 503` (invalid security annotation). */
export function deniedStep(c: LocationConfig): Answer | null {
  return c.denied ? { status: 503, headers: {} } : null;
}

/** enable-cors: a preflight is answered here; otherwise the headers to add to the response. */
export function corsStep(c: LocationConfig, req: RequestFacts): { answer: Answer | null; headers: Record<string, string> | null } {
  if (!c.cors.enabled) return { answer: null, headers: null };
  const cors = corsFor(c.cors, req.header('origin'), req.method);
  if (!cors) return { answer: null, headers: null };
  if (cors.preflight) return { answer: { status: 204, headers: { ...cors.headers, 'content-type': 'text/plain charset=UTF-8', 'content-length': '0' }, body: '' }, headers: null };
  return { answer: null, headers: cors.headers };
}

/** permanent-redirect / temporal-redirect, then ssl-redirect / force-ssl-redirect (308). */
export function redirectStep(server: Server, loc: Location, req: RequestFacts): Answer | null {
  const c = loc.config.redirect;
  if (c.url) return { status: c.code, headers: { location: c.url } };
  if (req.scheme !== 'http') return null;
  if (c.forceSSLRedirect || (c.sslRedirect && server.tls)) {
    const host = hostOnly(req.host);
    const port = req.httpsPort && req.httpsPort !== 443 ? `:${req.httpsPort}` : '';
    return { status: SSL_REDIRECT_CODE, headers: { location: `https://${host}${port}${req.target}` } };
  }
  return null;
}

/** allow/deny lists (access phase): 403. */
export function sourceRangeStep(c: LocationConfig, remote: string): Answer | null {
  return sourceAllowed(c.sourceRange, remote) ? null : { status: 403, headers: {} };
}

/** The backend for this request: the canary when its rules say so. */
export function canaryStep(backend: BackendRef | null, alt: Alternative | undefined, req: RequestFacts, random: () => number = Math.random): { backend: BackendRef | null; canary: boolean } {
  if (!alt || !backend) return { backend, canary: false };
  const cookies = parseCookies(req.header('cookie'));
  return chooseCanary(alt.canary, { header: (n) => req.header(n), cookie: (n) => cookies.get(n) }, random) ? { backend: alt.backend, canary: true } : { backend, canary: false };
}

/** The endpoint named by the affinity cookie, if it still exists. */
export function affinityStep<E extends { key: string }>(c: LocationConfig, req: RequestFacts, eps: readonly E[]): E | undefined {
  if (!c.affinity.cookie) return undefined;
  return stickyEndpoint(parseCookies(req.header('cookie')).get(c.affinity.name), eps);
}

export function parseCookies(h: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!h) return out;
  for (const part of h.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = part.slice(0, eq).trim();
    if (!out.has(k)) out.set(k, part.slice(eq + 1).trim());
  }
  return out;
}

function hostOnly(h: string): string {
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const c = h.indexOf(':');
  return (c >= 0 ? h.slice(0, c) : h).toLowerCase();
}
