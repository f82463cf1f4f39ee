/**
 * HTTP/2 to upstreams for backend-protocol GRPC (h2c) and GRPCS (h2 over TLS, not verified, as
 * nginx's grpc_ssl_verify off): one multiplexed session per endpoint, reopened when it closes.
 * Trailers (grpc-status, grpc-message) are passed on.
 */
import http2 from 'node:http2';

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te', 'http2-settings']);

export class H2Sessions {
  private readonly sessions = new Map<string, http2.ClientHttp2Session>();

  session(address: string, port: number, secure: boolean): http2.ClientHttp2Session {
    const host = address.includes(':') ? `[${address}]` : address;
    const k = `${secure ? 'https' : 'http'}://${host}:${port}`;
    let s = this.sessions.get(k);
    if (s && !s.closed && !s.destroyed) return s;
    s = http2.connect(k, secure ? { rejectUnauthorized: false } : {});
    const created = s;
    const forget = () => {
      if (this.sessions.get(k) === created) this.sessions.delete(k);
    };
    s.on('error', forget);
    s.on('close', forget);
    s.on('goaway', forget);
    s.unref();
    this.sessions.set(k, s);
    return s;
  }

  destroy(): void {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}

/** Request headers for the upstream stream: the client's (HTTP/1 or HTTP/2) minus hop-by-hop and pseudo headers. */
export function h2RequestHeaders(inbound: Record<string, string | string[] | undefined>, method: string, path: string, authority: string, secure: boolean, extra: Record<string, string>): http2.OutgoingHttpHeaders {
  const h: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(inbound)) if (v !== undefined && !k.startsWith(':') && !HOP.has(k)) h[k] = v;
  Object.assign(h, extra);
  // gRPC needs `te: trailers`; it is the only te value HTTP/2 allows.
  if (String(inbound.te ?? '').includes('trailers')) h.te = 'trailers';
  h[':method'] = method;
  h[':path'] = path;
  h[':authority'] = authority;
  h[':scheme'] = secure ? 'https' : 'http';
  return h;
}

/** Response headers from upstream, without pseudo and hop-by-hop headers. */
export function h2ResponseHeaders(h: http2.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !k.startsWith(':') && !HOP.has(k)) out[k] = v;
  return out;
}
