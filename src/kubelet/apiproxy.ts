/**
 * The API server's side of `pods/log` and `pods/exec`: find the pod's node, and proxy to that
 * node's kubelet API (upstream pkg/registry/core/pod/rest/log.go and subresources.go). Self-contained
 * so the API server handler only has to call it:
 *
 *   GET  /api/v1/namespaces/NS/pods/NAME/log?…        → proxyPodLog(req, res, pod, node, tls)
 *   GET  /api/v1/namespaces/NS/pods/NAME/exec?… (Upgrade: websocket)
 *                                                     → proxyPodExec(req, socket, head, pod, node, tls)
 *
 * `tls` is the API server's client identity towards kubelets (cert/key signed by the cluster CA,
 * e.g. issueClientCert(pki, 'kube-apiserver-kubelet-client', ['system:masters'])). The kubelet's
 * own certificate is self-signed, so it is not verified (upstream's default without
 * --kubelet-certificate-authority).
 */
import https from 'node:https';
import tls from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { forward } from '../apiserver/proxy.js';

export interface KubeletClientTLS {
  certPem: string;
  keyPem: string;
}

export class ProxyError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Where the node's kubelet listens: InternalIP (else Hostname) and `port`, else the daemonEndpoints port. */
export function kubeletAddress(node: any, port: number | undefined = node?.status?.daemonEndpoints?.kubeletEndpoint?.Port): { host: string; port: number } {
  const addrs: any[] = node?.status?.addresses ?? [];
  const host = addrs.find((a) => a.type === 'InternalIP')?.address ?? addrs.find((a) => a.type === 'Hostname')?.address;
  if (!host || !port) throw new ProxyError(500, 'InternalError', `node "${node?.metadata?.name}" has no kubelet endpoint`);
  return { host, port };
}

/** Upstream's container defaulting: the only container, the default-container annotation, or an error naming the choices. */
export function containerFor(pod: any, requested: string | null): string {
  const name = pod.metadata.name;
  const containers: any[] = pod.spec?.containers ?? [];
  const inits: any[] = pod.spec?.initContainers ?? [];
  if (requested) {
    const all = [...containers, ...inits, ...(pod.spec?.ephemeralContainers ?? [])];
    if (!all.some((c) => c.name === requested)) throw new ProxyError(400, 'BadRequest', `container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  const dflt = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  if (dflt && containers.some((c) => c.name === dflt)) return dflt;
  if (containers.length === 1) return containers[0].name;
  const initChoices = inits.length ? ` or one of the init containers: [${inits.map((c) => c.name).join(' ')}]` : '';
  throw new ProxyError(400, 'BadRequest', `a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]${initChoices}`);
}

function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

function needsNode(pod: any): void {
  if (!pod.spec?.nodeName) throw new ProxyError(400, 'BadRequest', `pod ${pod.metadata.name} does not have a host assigned`);
}

/** Proxies GET pods/NAME/log to the kubelet, streaming the body (follow keeps it open). */
export function proxyPodLog(req: IncomingMessage, res: ServerResponse, pod: any, node: any, client: KubeletClientTLS): void {
  try {
    needsNode(pod);
    const q = new URL(req.url ?? '/', 'https://x').searchParams;
    const container = containerFor(pod, q.get('container'));
    const { host, port } = kubeletAddress(node);
    const out = new URLSearchParams();
    for (const k of ['follow', 'previous', 'timestamps', 'tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes']) {
      const v = q.get(k);
      if (v !== null) out.set(k, v);
    }
    const path = `/containerLogs/${encodeURIComponent(pod.metadata.namespace)}/${encodeURIComponent(pod.metadata.name)}/${encodeURIComponent(container)}?${out}`;
    const up = https.request({ host, port, path, method: 'GET', cert: client.certPem, key: client.keyPem, rejectUnauthorized: false, agent: false }, (kres) => {
      const code = kres.statusCode ?? 502;
      if (code !== 200) {
        const chunks: Buffer[] = [];
        kres.on('data', (c) => chunks.push(c));
        kres.on('end', () => {
          let body = Buffer.concat(chunks).toString();
          try {
            JSON.parse(body);
          } catch {
            body = statusBody(code, 'BadRequest', body);
          }
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(body);
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
      kres.pipe(res);
    });
    up.on('error', (e) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(statusBody(500, 'InternalError', `Get "https://${host}:${port}${path}": ${e.message}`));
      } else res.end();
    });
    res.on('close', () => up.destroy());
    up.end();
  } catch (e) {
    const pe = e instanceof ProxyError ? e : new ProxyError(500, 'InternalError', (e as Error).message);
    res.writeHead(pe.code, { 'content-type': 'application/json' });
    res.end(statusBody(pe.code, pe.reason, pe.message));
  }
}

/**
 * Proxies the pods/NAME/exec WebSocket upgrade to the kubelet byte for byte: the kubelet answers
 * the upgrade (subprotocol v5/v4.channel.k8s.io) and then both sockets are spliced together.
 */
export function proxyPodExec(req: IncomingMessage, socket: Duplex, head: Buffer, pod: any, node: any, client: KubeletClientTLS, subresource: 'exec' | 'attach' | 'portforward' = 'exec'): void {
  const fail = (code: number, reason: string, message: string) => {
    const body = statusBody(code, reason, message);
    socket.end(`HTTP/1.1 ${code} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  };
  let host: string;
  let port: number;
  let path: string;
  try {
    needsNode(pod);
    const q = new URL(req.url ?? '/', 'https://x').searchParams;
    ({ host, port } = kubeletAddress(node));
    const podPath = `${encodeURIComponent(pod.metadata.namespace)}/${encodeURIComponent(pod.metadata.name)}`;
    if (subresource === 'portforward') {
      // WebSocket clients name the ports in the query (SPDY ones in each stream's headers).
      const out = new URLSearchParams();
      for (const k of ['ports', 'port']) for (const v of q.getAll(k)) out.append(k, v);
      path = `/portForward/${podPath}${out.size ? `?${out}` : ''}`;
    } else {
      const container = containerFor(pod, q.get('container'));
      const out = new URLSearchParams();
      for (const c of q.getAll('command')) out.append('command', c);
      for (const k of ['stdin', 'stdout', 'stderr', 'tty']) if (q.get(k) !== null) out.set(k, q.get(k)!);
      path = `/${subresource}/${podPath}/${encodeURIComponent(container)}?${out}`;
    }
  } catch (e) {
    const pe = e instanceof ProxyError ? e : new ProxyError(500, 'InternalError', (e as Error).message);
    return fail(pe.code, pe.reason, pe.message);
  }
  const up = tls.connect({ host, port, cert: client.certPem, key: client.keyPem, rejectUnauthorized: false, servername: undefined }, () => {
    const skip = new Set(['host', 'authorization', 'content-length']);
    // The method is the client's: GET for WebSocket upgrades, POST for SPDY ones.
    let head1 = `${req.method ?? 'GET'} ${path} HTTP/1.1\r\nhost: ${host}:${port}\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!skip.has(req.rawHeaders[i].toLowerCase())) head1 += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    }
    up.write(head1 + '\r\n');
    if (head?.length) up.write(head);
    up.pipe(socket);
    socket.pipe(up);
  });
  up.on('error', (e) => {
    if (socket.writable) fail(500, 'InternalError', `error dialing backend: ${e.message}`);
  });
  socket.on('error', () => up.destroy());
  socket.on('close', () => up.destroy());
  up.on('close', () => socket.destroy());
}

/**
 * Proxies `nodes/NAME[:PORT]/proxy/<path>` to the node's kubelet over HTTPS with the kubelet client
 * certificate (upstream pkg/registry/core/node/rest/proxy.go): method, body, query and end-to-end
 * headers pass through, and the kubelet's answer comes back as it is. `port` overrides the
 * daemonEndpoints port.
 */
export function proxyNode(req: IncomingMessage, res: ServerResponse, node: any, port: number | undefined, path: string, client: KubeletClientTLS): void {
  let host: string;
  let kport: number;
  try {
    ({ host, port: kport } = kubeletAddress(node, port));
  } catch (e) {
    const pe = e as ProxyError;
    res.writeHead(pe.code, { 'content-type': 'application/json' });
    res.end(statusBody(pe.code, pe.reason, pe.message));
    return;
  }
  forward(req, res, { scheme: 'https', host, port: kport }, path, client);
}
