/**
 * The matcher: a pure function from the routing table and a request to what nginx, configured by
 * ingress-nginx, would do with it — which location (so which backend), the URI sent upstream, or a
 * redirect. No I/O: the data plane and the differential test against nginx both call it.
 */
import { BadRequestUri, escapeUri, parseTarget } from './uri.js';
import { needsRewrite, type BackendRef, type Location, type RoutingTable, type Server } from './table.js';

export interface MatchRequest {
  /** The Host header as sent (may carry a port). */
  host: string;
  /** The request-target as sent: path and optional `?query`. */
  target: string;
  scheme: 'http' | 'https';
}

export type MatchResult =
  | {
      kind: 'proxy';
      server: Server;
      location: Location;
      /** null: the default backend. */
      backend: BackendRef | null;
      /** The request-target to send upstream. */
      upstreamTarget: string;
      rewritten: boolean;
      /** X-Forwarded-Prefix to set, if any. */
      forwardedPrefix: string | null;
    }
  | { kind: 'redirect'; status: 301 | 302; location: string; server: Server }
  | { kind: 'error'; status: 400; message: string };

/** Host header → server: exact name, then one-label wildcards in config order, then the catch-all. */
export function selectServer(table: RoutingTable, hostHeader: string): Server {
  let h = hostHeader.toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    h = end > 0 ? h.slice(0, end + 1) : h;
  } else {
    const colon = h.indexOf(':');
    if (colon >= 0) h = h.slice(0, colon);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  const s = table.servers.get(h);
  if (s && s.hostname !== '_') return s;
  for (const w of table.wildcards) if (w.hostRe!.test(h)) return w;
  return table.catchAll;
}

/** nginx's location lookup for a normalised URI: `=` first, then the trailing-slash redirect, then the longest prefix; or the first matching regex. */
export function findLocation(server: Server, uri: string): { location: Location } | { redirectTo: string } {
  if (server.regexMode) {
    for (const l of server.locations) if (l.re!.test(uri)) return { location: l };
    // The root location `^/` always matches; unreachable in practice.
    return { location: server.locations[server.locations.length - 1] };
  }
  const exact = server.exact.get(uri) ?? server.prefix.get(uri);
  if (exact) return { location: exact };
  const slash = uri + '/';
  if (server.exact.has(slash) || server.prefix.has(slash)) return { redirectTo: slash };
  let best: Location | undefined;
  for (const [name, l] of server.prefix) {
    if (uri.startsWith(name) && (!best || name.length > best.path.length)) best = l;
  }
  return { location: best ?? server.locations[server.locations.length - 1] };
}

/** nginx `rewrite` replacement: `$0`…`$9` from the match, missing groups empty. */
function expand(target: string, m: RegExpExecArray): string {
  return target.replace(/\$(\d)/g, (_, d: string) => m[Number(d)] ?? '');
}

export function match(table: RoutingTable, req: MatchRequest): MatchResult {
  let parsed;
  try {
    parsed = parseTarget(req.target);
  } catch (e) {
    if (e instanceof BadRequestUri) return { kind: 'error', status: 400, message: e.message };
    throw e;
  }
  const server = selectServer(table, req.host);
  const { uri, args, hasQuery } = parsed;
  // app-root: a server-level `if ($uri = /) { return 302 … }` per location carrying it; the first wins.
  if (uri === '/') {
    for (const l of server.locations) {
      if (l.appRoot) return { kind: 'redirect', status: 302, location: `${req.scheme}://${req.host}${l.appRoot}`, server };
    }
  }
  const found = findLocation(server, uri);
  if ('redirectTo' in found) {
    return { kind: 'redirect', status: 301, location: found.redirectTo + (args ? '?' + args : ''), server };
  }
  const loc = found.location;
  if (needsRewrite(loc)) {
    const forwardedPrefix = loc.xForwardedPrefix;
    const m = loc.rewriteRe!.exec(uri);
    if (m) {
      let newUri = expand(loc.rewriteTarget!, m);
      let newArgs = args;
      const q = newUri.indexOf('?');
      if (q >= 0) {
        const own = newUri.slice(q + 1);
        newUri = newUri.slice(0, q);
        newArgs = own === '' ? '' : args ? `${own}&${args}` : own;
      }
      if (/^(https?:\/\/)/.test(newUri)) {
        return { kind: 'redirect', status: 302, location: newUri + (newArgs ? '?' + newArgs : ''), server };
      }
      return { kind: 'proxy', server, location: loc, backend: loc.backend, upstreamTarget: escapeUri(newUri) + (newArgs ? '?' + newArgs : ''), rewritten: true, forwardedPrefix };
    }
    return { kind: 'proxy', server, location: loc, backend: loc.backend, upstreamTarget: parsed.rawPath + (hasQuery ? '?' + args : ''), rewritten: false, forwardedPrefix };
  }
  return { kind: 'proxy', server, location: loc, backend: loc.backend, upstreamTarget: parsed.rawPath + (hasQuery ? '?' + args : ''), rewritten: false, forwardedPrefix: null };
}
