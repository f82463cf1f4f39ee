/**
 * Forwards a request for an aggregated API to the server behind its APIService, as upstream's
 * aggregator proxy: HTTPS to a ready endpoint of the Service, the server's certificate checked
 * against caBundle (as `<service>.<namespace>.svc`) unless insecureSkipTLSVerify, and the caller's
 * authenticated identity sent as X-Remote-User / X-Remote-Group / X-Remote-Extra-* (whatever such
 * headers the caller sent are dropped: only this server may assert them).
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from '../registry.js';
import type { UserInfo } from '../auth/types.js';
import { findResource } from '../resources.js';
import { StatusError } from '../status.js';
import { forwardedHeaders, nodeOf, serviceProxyTarget, usesLoopbackPodNetwork } from '../proxy.js';
import { loopbackAlias } from '../../network/proxy/userspace.js';
import type { ServiceRef } from './apiservice.js';
import type { AggregatedAPI } from './state.js';

export interface Backend {
  host: string;
  port: number;
}

/** The certificate the aggregator presents to aggregated servers (upstream's --proxy-client-cert-file/--proxy-client-key-file). */
export interface ProxyClientCert {
  certPem: string;
  keyPem: string;
}

export const SERVICE_UNAVAILABLE = 'service unavailable';

export function serviceUnavailable(message = SERVICE_UNAVAILABLE): StatusError {
  return new StatusError(503, 'ServiceUnavailable', message);
}

/**
 * An identity as a header value: its UTF-8 bytes, as Go's client sends them (Node writes header
 * strings byte per char, hence the latin1 view). Escaping would let two names arrive as one.
 * A name with control characters cannot travel in a header at all: the request is refused.
 */
function headerSafe(v: string): string {
  if (/[\x00-\x1f\x7f]/.test(v)) throw new StatusError(500, 'InternalError', `cannot pass ${JSON.stringify(v)} to the aggregated API server: it contains control characters`);
  return /^[\x20-\x7e]*$/.test(v) ? v : Buffer.from(v, 'utf8').toString('latin1');
}

/** An extra key as a header-name suffix: percent-encoded like upstream's path escaping, and only token characters. */
export function extraKeyHeader(key: string): string {
  return encodeURIComponent(key.toLowerCase()).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * The headers the aggregated server gets: the caller's end-to-end headers without credentials,
 * impersonation or any X-Remote-* of its own, then the identity this server authenticated.
 */
export function aggregatorHeaders(incoming: IncomingMessage['headers'], user: UserInfo, backend: Backend, remoteAddress?: string): Record<string, string | string[]> {
  const headers = forwardedHeaders(incoming, { scheme: 'https', host: backend.host, port: backend.port }, remoteAddress);
  for (const k of Object.keys(headers)) if (k.toLowerCase().startsWith('x-remote-')) delete headers[k];
  headers['x-remote-user'] = headerSafe(user.name);
  if (user.groups.length) headers['x-remote-group'] = user.groups.map(headerSafe);
  for (const [k, vs] of Object.entries(user.extra ?? {})) {
    // Upstream path-escapes the key; header names are case-insensitive, so lower-case it too.
    headers[`x-remote-extra-${extraKeyHeader(k)}`] = (Array.isArray(vs) ? vs : []).map((v) => headerSafe(String(v)));
  }
  return headers;
}

/** A ready address of the Service for the APIService's port (an ExternalName: that name). */
export async function resolveBackend(reg: Registry, ref: ServiceRef): Promise<Backend> {
  const svcInfo = findResource('', 'v1', 'services')!;
  const epInfo = findResource('', 'v1', 'endpoints')!;
  // From the watch cache, read-only, as upstream's proxy reads its listers: every proxied request
  // comes here, and neither a consistent read nor a copy of either object is needed to route it.
  const get = (info: typeof svcInfo) => reg.cache.get(reg.keyFor(info, ref.namespace, ref.name))?.obj;
  const svc = get(svcInfo);
  if (!svc) throw serviceUnavailable();
  if (svc.spec?.type === 'ExternalName') {
    if (!svc.spec.externalName) throw serviceUnavailable();
    return { host: svc.spec.externalName, port: ref.port };
  }
  const eps = get(epInfo);
  let t;
  try {
    t = serviceProxyTarget(svc, eps, { scheme: 'https', name: ref.name, port: String(ref.port) });
  } catch (e) {
    if (e instanceof StatusError) throw serviceUnavailable();
    throw e;
  }
  let host = t.host;
  if (t.nodeName && usesLoopbackPodNetwork(await nodeOf(reg, t.nodeName))) host = loopbackAlias(host);
  return { host, port: t.port ?? ref.port };
}

/** TLS settings for talking to the APIService's server. */
export function tlsOptions(api: Pick<AggregatedAPI, 'service' | 'caPem' | 'insecureSkipTLSVerify'>): https.RequestOptions {
  if (api.insecureSkipTLSVerify) return { rejectUnauthorized: false };
  return { rejectUnauthorized: true, servername: `${api.service.name}.${api.service.namespace}.svc`, ...(api.caPem ? { ca: api.caPem } : {}) };
}

export interface ForwardOptions {
  /** Path and query to request (default: the request's own); the handler passes the normalized URL it authorized. */
  path?: string;
  /** Give up when no connection is made in this time (default 5 s). */
  connectTimeoutMs?: number;
  /** Give up when the response head does not come in this time (default 60 s; watches answer at once). */
  responseTimeoutMs?: number;
  /** Told when the backend could not be reached (the controller re-checks availability). */
  onUnreachable?(err: Error): void;
  /** Presented to the server, which trusts X-Remote-* only from a client it can verify. */
  clientCert?: ProxyClientCert;
}

/** Streams the request to the backend and its answer back; errors before the answer become a 503 Status. */
export function forwardToAPIService(req: IncomingMessage, res: ServerResponse, api: AggregatedAPI, backend: Backend, user: UserInfo, o: ForwardOptions = {}): void {
  const headers = aggregatorHeaders(req.headers, user, backend, req.socket.remoteAddress);
  const upReq = https.request({ host: backend.host, port: backend.port, method: req.method ?? 'GET', path: o.path ?? req.url ?? '/', headers, agent: false, ...tlsOptions(api), ...(o.clientCert ? { cert: o.clientCert.certPem, key: o.clientCert.keyPem } : {}) });
  let done = false;
  const fail = (e: Error) => {
    if (done) return;
    done = true;
    clearTimeout(connectTimer);
    clearTimeout(responseTimer);
    o.onUnreachable?.(e);
    if (res.headersSent) return void res.destroy();
    const body = JSON.stringify(serviceUnavailable(`error trying to reach service: ${e.message}`).toStatus());
    res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const connectTimer = setTimeout(() => upReq.destroy(new Error(`dial tcp ${backend.host}:${backend.port}: i/o timeout`)), o.connectTimeoutMs ?? 5000);
  const responseTimer = setTimeout(() => upReq.destroy(new Error('timeout awaiting response headers')), o.responseTimeoutMs ?? 60_000);
  upReq.once('socket', (s) => s.once('secureConnect', () => clearTimeout(connectTimer)));
  upReq.on('response', (up) => {
    done = true;
    clearTimeout(connectTimer);
    clearTimeout(responseTimer);
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
    try {
      res.writeHead(up.statusCode ?? 502, out);
    } catch {
      // Whatever the server sent that cannot be passed on (a status code out of range) ends the exchange, not the process.
      up.destroy();
      res.destroy();
      return;
    }
    up.pipe(res);
    up.on('error', () => res.destroy());
  });
  upReq.on('error', fail);
  res.on('close', () => {
    clearTimeout(connectTimer);
    clearTimeout(responseTimer);
    if (!res.writableFinished) upReq.destroy();
  });
  req.on('error', () => upReq.destroy());
  req.pipe(upReq);
}

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
