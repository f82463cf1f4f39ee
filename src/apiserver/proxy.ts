/**
 * `pods/{[scheme:]name[:port]}/proxy/<path>` and `services/{[scheme:]name[:port]}/proxy/<path>`:
 * the API server forwards the request to a pod, or to a ready endpoint of a service, as upstream's
 * pod and service ResourceLocation plus its proxy handler (what `kubectl proxy` users open in a
 * browser). Targets are resolved by pure functions; the forwarding is plain HTTP(S) streaming.
 */
import { detectContentType } from '../util/sniff.js';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { HandlerContext } from './handler.js';
import type { Registry } from './registry.js';
import type { ResourceRequest } from './request.js';
import { findResource } from './resources.js';
import { loopbackAlias } from '../network/proxy/userspace.js';
import type { KubeletClientTLS } from '../kubelet/apiproxy.js';
import { StatusError, badRequest } from './status.js';

export interface ProxyTarget {
  scheme: 'http' | 'https';
  host: string;
  port?: number;
  /** The node of the pod behind the address, when known (see resolveWorkloadTarget). */
  nodeName?: string;
}

/**
 * A node whose kubelet runs the loopback pod network (no root) says so with this condition; its
 * pods listen on the 127 alias of their IP, which is what this server must dial.
 */
export function usesLoopbackPodNetwork(node: any): boolean {
  return (node?.status?.conditions ?? []).some((c: any) => c.type === 'NetworkPolicyNotEnforced' && c.status === 'True' && c.reason === 'LoopbackPodNetwork');
}

/** Upstream's SplitSchemeNamePort: "name", "name:port" or "scheme:name:port" (scheme http or https). */
export function splitSchemeNamePort(id: string): { scheme: string; name: string; port: string } | undefined {
  const parts = id.split(':');
  let scheme = '';
  let name: string;
  let port = '';
  if (parts.length === 1) name = parts[0];
  else if (parts.length === 2) [name, port] = parts;
  else if (parts.length === 3) [scheme, name, port] = parts;
  else return undefined;
  if (!name || !['', 'http', 'https'].includes(scheme)) return undefined;
  return { scheme, name, port };
}

function unavailable(message: string): StatusError {
  return new StatusError(503, 'ServiceUnavailable', message);
}

/**
 * Where a pod proxy request goes: the pod's IP, on the given port or else the first declared
 * container port (none: the scheme's default), as upstream. Upstream refuses addresses that are not
 * global unicast; loopback is allowed here because it is the process runtime's pod network.
 */
export function podProxyTarget(pod: any, scheme: string, port: string): ProxyTarget {
  let p = port;
  if (!p) {
    for (const c of pod.spec?.containers ?? []) {
      if (c.ports?.length) {
        p = String(c.ports[0].containerPort);
        break;
      }
    }
  }
  const ip: string = pod.status?.podIP ?? '';
  if (!allowedAddress(ip)) throw badRequest('address not allowed');
  const nodeName = pod.spec?.nodeName;
  return { scheme: scheme === 'https' ? 'https' : 'http', host: ip, ...(p ? { port: checkPort(p, `invalid pod request "${pod.metadata?.name}:${port}"`) } : {}), ...(nodeName ? { nodeName } : {}) };
}

/**
 * Where a service proxy request goes: a ready address of the service's Endpoints, on the endpoint
 * port whose name matches (a service port number is first turned into its port's name; no port
 * means the unnamed port), starting from a random subset and address, as upstream.
 */
export function serviceProxyTarget(svc: any, endpoints: any | undefined, id: { scheme: string; name: string; port: string }, rand: () => number = Math.random): ProxyTarget {
  let portName = id.port;
  if (/^\d+$/.test(portName)) {
    const sp = (svc.spec?.ports ?? []).find((x: any) => x.port === Number(portName));
    if (!sp) throw unavailable(`no service port ${portName} found for service "${id.name}"`);
    portName = sp.name ?? '';
  }
  const subsets: any[] = endpoints?.subsets ?? [];
  if (!subsets.length) throw unavailable(`no endpoints available for service "${id.name}"`);
  const start = Math.floor(rand() * subsets.length);
  for (let i = 0; i < subsets.length; i++) {
    const ss = subsets[(start + i) % subsets.length];
    const addrs: any[] = ss.addresses ?? [];
    if (!addrs.length) continue;
    const port = (ss.ports ?? []).find((x: any) => (x.name ?? '') === portName);
    if (!port) continue;
    const a0 = Math.floor(rand() * addrs.length);
    for (let j = 0; j < addrs.length; j++) {
      const a = addrs[(a0 + j) % addrs.length];
      if (allowedAddress(a.ip)) return { scheme: id.scheme === 'https' ? 'https' : 'http', host: a.ip, port: port.port, ...(a.nodeName ? { nodeName: a.nodeName } : {}) };
    }
  }
  const shown = [id.scheme, id.name, id.port].filter((x, k) => x || k === 1).join(':');
  throw unavailable(`no endpoints available for service "${shown}"`);
}

function allowedAddress(ip: string): boolean {
  return net.isIP(ip) !== 0 && ip !== '0.0.0.0' && ip !== '::' && !/^(22[4-9]|23\d|24\d|25[0-5])\./.test(ip) && ip !== '255.255.255.255';
}

function checkPort(p: string, message: string): number {
  const n = Number(p);
  if (!/^\d+$/.test(p) || n < 1 || n > 65535) throw badRequest(message);
  return n;
}

/** Serves pods/proxy and services/proxy: resolves the target, then forwards the request. */
export async function serveWorkloadProxy(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, r: ResourceRequest): Promise<void> {
  forward(req, res, await resolveWorkloadTarget(ctx, r), r.proxyPath ?? '/');
}

/**
 * The same for an upgrade (WebSocket and the like, as upstream's upgrade-aware proxy): the request
 * head goes to the target with its Connection/Upgrade headers, then bytes flow both ways.
 */
export async function tunnelWorkloadProxy(ctx: HandlerContext, req: IncomingMessage, socket: Duplex, head: Buffer, r: ResourceRequest): Promise<void> {
  const t = await resolveWorkloadTarget(ctx, r);
  tunnel(req, socket, head, t, r.proxyPath ?? '/');
}

/**
 * Sends an upgrade's request head to the target (its Connection/Upgrade headers kept, credentials
 * dropped), then copies bytes both ways. `clientTLS`: the certificate this server presents (the kubelet's client certificate for nodes/proxy).
 */
export function tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, t: ProxyTarget, path: string, clientTLS?: KubeletClientTLS): void {
  const search = new URL(req.url ?? '/', 'https://skiff').search;
  const port = portOf(t);
  const headers = forwardedHeaders(req.headers, t, req.socket.remoteAddress);
  headers.connection = 'Upgrade';
  if (req.headers.upgrade) headers.upgrade = req.headers.upgrade;
  const lines = [`${req.method ?? 'GET'} ${path}${search} HTTP/1.1`];
  for (const [k, v] of Object.entries(headers)) for (const x of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${x}`);
  const up =
    t.scheme === 'https'
      ? tls.connect({ host: t.host, port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], ...(clientTLS ? { cert: clientTLS.certPem, key: clientTLS.keyPem } : {}) })
      : net.connect({ host: t.host, port });
  const ready = t.scheme === 'https' ? 'secureConnect' : 'connect';
  up.once(ready, () => {
    up.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length) up.write(head);
    up.pipe(socket);
    socket.pipe(up);
  });
  up.once('error', (e) => {
    if (up.bytesRead > 0) return void socket.destroy();
    const body = JSON.stringify(unreachable(e, t).toStatus());
    socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  socket.on('error', () => up.destroy());
  socket.on('close', () => up.destroy());
  up.on('close', () => socket.destroy());
}

/** The address a pods/proxy or services/proxy request goes to (a loopback-network pod: its 127 alias). */
async function resolveWorkloadTarget(ctx: HandlerContext, r: ResourceRequest): Promise<ProxyTarget> {
  const kind = r.info.key === 'pods' ? 'pod' : 'service';
  const id = splitSchemeNamePort(r.name ?? '');
  if (!id) throw badRequest(`invalid ${kind} request "${r.name}"`);
  const reg = ctx.registry;
  let target: ProxyTarget;
  if (kind === 'pod') {
    target = podProxyTarget(reg.output(r.info, await reg.get(r.info, r.namespace, id.name)), id.scheme, id.port);
  } else {
    const epInfo = findResource('', 'v1', 'endpoints')!;
    const [svc, eps] = await Promise.all([
      reg.get(r.info, r.namespace, id.name).then((x) => reg.output(r.info, x)),
      reg.get(epInfo, r.namespace, id.name).then(
        (x) => reg.output(epInfo, x),
        (e) => {
          if (e instanceof StatusError && e.code === 404) return undefined;
          throw e;
        },
      ),
    ]);
    target = serviceProxyTarget(svc, eps, id);
  }
  if (target.nodeName && usesLoopbackPodNetwork(await nodeOf(reg, target.nodeName))) target = { ...target, host: loopbackAlias(target.host) };
  return target;
}

// Hop-by-hop headers, and the caller's credentials: a pod never sees the user's token.
const DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'proxy-authenticate', 'authorization', 'host']);

/** The request headers a target gets: no hop-by-hop headers, credentials or impersonation; its own Host; the caller in X-Forwarded-For. */
export function forwardedHeaders(incoming: IncomingMessage['headers'], t: ProxyTarget, remoteAddress: string | undefined): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(incoming)) if (v !== undefined && !DROP.has(k) && !k.startsWith('impersonate-')) headers[k] = v;
  const host = net.isIPv6(t.host) ? `[${t.host}]` : t.host;
  headers.host = t.port === undefined ? host : `${host}:${t.port}`;
  if (remoteAddress) headers['x-forwarded-for'] = incoming['x-forwarded-for'] ? `${incoming['x-forwarded-for']}, ${remoteAddress}` : remoteAddress;
  return headers;
}

const portOf = (t: ProxyTarget): number => t.port ?? (t.scheme === 'https' ? 443 : 80);

/** Upstream's answer for a backend it cannot reach: 503 "error trying to reach service". */
function unreachable(e: NodeJS.ErrnoException, t: ProxyTarget): StatusError {
  const why = e.code === 'ECONNREFUSED' ? `dial tcp ${net.isIPv6(t.host) ? `[${t.host}]` : t.host}:${portOf(t)}: connect: connection refused` : e.message;
  return unavailable(`error trying to reach service: ${why}`);
}

/**
 * Forwards a plain request (method, body, query, end-to-end headers) to the target and streams its
 * answer back as it is. As upstream's proxy transport, the target's serving certificate is not checked.
 */
export function forward(req: IncomingMessage, res: ServerResponse, t: ProxyTarget, path: string, clientTLS?: KubeletClientTLS): void {
  const search = new URL(req.url ?? '/', 'https://skiff').search;
  const opts = { host: t.host, port: portOf(t), path: path + search, method: req.method ?? 'GET', headers: forwardedHeaders(req.headers, t, req.socket.remoteAddress), agent: false as const };
  const onResponse = (up: IncomingMessage) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !DROP.has(k)) out[k] = v;
    const status = up.statusCode ?? 502;
    // Go's server names a type for a body sent without one, sniffed from its first bytes; so does
    // kube-apiserver's proxy (clients choosing a decoder by Content-Type depend on it).
    const sniff = out['content-type'] === undefined && !up.headers['content-encoding'] && status >= 200 && status !== 204 && status !== 304 && req.method !== 'HEAD';
    if (!sniff) {
      res.writeHead(status, out);
      up.pipe(res);
      return;
    }
    up.once('data', (first: Buffer) => {
      res.writeHead(status, { ...out, 'content-type': detectContentType(first) });
      res.write(first);
      up.pipe(res);
    });
    up.once('end', () => {
      // An empty body gets no type, as Go.
      if (res.headersSent) return;
      res.writeHead(status, out);
      res.end();
    });
  };
  const upReq = t.scheme === 'https' ? https.request({ ...opts, rejectUnauthorized: false, ...(clientTLS ? { cert: clientTLS.certPem, key: clientTLS.keyPem } : {}) }, onResponse) : http.request(opts, onResponse);
  upReq.on('error', (e) => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(unreachable(e, t).toStatus()));
  });
  res.on('close', () => {
    if (!res.writableFinished) upReq.destroy();
  });
  req.pipe(upReq);
}

/** `nodes/NAME[:PORT]`: the node's name and the kubelet port the request names, if any. */
export function splitNodeNamePort(id: string): { name: string; port?: number } {
  const m = /^([^:]+)(?::(\d+))?$/.exec(id);
  const port = m?.[2] !== undefined ? Number(m[2]) : undefined;
  if (!m || (port !== undefined && (port < 1 || port > 65535))) throw badRequest(`invalid node request "${id}"`);
  return { name: m[1], ...(port !== undefined ? { port } : {}) };
}

/** A node by name, or undefined when it is gone. */
export async function nodeOf(reg: Registry, name: string): Promise<any | undefined> {
  try {
    const nodes = findResource('', 'v1', 'nodes')!;
    return reg.output(nodes, await reg.get(nodes, undefined, name));
  } catch {
    return undefined;
  }
}
