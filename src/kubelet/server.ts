/**
 * The kubelet's HTTPS API, the part the API server proxies to (upstream pkg/kubelet/server):
 *   GET /containerLogs/{ns}/{pod}/{container}?follow&tailLines&timestamps&previous&sinceSeconds&sinceTime&limitBytes
 *   GET|POST /exec/{ns}/{pod}/{container}?command=…&stdin&stdout&stderr&tty   (WebSocket v5/v4.channel.k8s.io,
 *                                               or SPDY/3.1 v4…v1 for kubectl < 1.30: remotecommand-spdy.ts)
 *   GET|POST /attach/{ns}/{pod}/{container}?stdin&stdout&stderr&tty           (as exec)
 *   GET|POST /portForward/{ns}/{pod}   (SPDY/3.1, directly or tunnelled in a WebSocket)
 *   GET /stats/summary   (stats/v1alpha1 Summary)
 *   GET /metrics, /metrics/resource, /metrics/cadvisor   (Prometheus text, see metrics.ts)
 *   GET /healthz
 * Clients must present a certificate signed by the cluster CA.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { WebSocketServer, WebSocket } from 'ws';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID, type ExecSession, type Runtime } from '../runtime/cri.js';
import { writeLogs } from './logs.js';
import type { SpdySession } from '../util/spdy.js';
import { acceptStreams, exitStatus, internalErrorStatus, spdyConn, spdyHandshake, terminalSize, type RemoteCommandConn, type RemoteCommandOptions } from './remotecommand-spdy.js';
import type { PortForwardTarget } from './portforward.js';
import type { Summary } from '../runtime/containerd/summary.js';
import { PROMETHEUS_CONTENT_TYPE } from '../util/prometheus.js';
import { KubeletMetrics, renderCadvisorMetrics, renderResourceMetrics } from './metrics.js';
import { kubeletRefusal } from './authz.js';

/** The port-forward stream protocol (portforward.ts), here too so that module loads only when used. */
const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** kubectl ≥ 1.30 tunnels port-forward's SPDY inside a WebSocket with this subprotocol. */
export const SPDY_TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;

/**
 * WebSockets (ws), SPDY and port-forward load on the first upgrade: an idle node agent does not
 * carry them (ws alone brings zlib and its own parsers, several MB of resident memory).
 */
type PortForwardModule = typeof import('./portforward.js');
let streaming: Promise<{ WebSocketServer: typeof WebSocketServer; SpdySession: typeof SpdySession; pf: PortForwardModule }> | undefined;
function loadStreaming() {
  return (streaming ??= Promise.all([import('ws'), import('../util/spdy.js'), import('./portforward.js')]).then(([ws, spdy, pf]) => ({
    WebSocketServer: ws.WebSocketServer,
    SpdySession: spdy.SpdySession,
    pf,
  })));
}

export interface ContainerRef {
  id: string;
  logPath: string;
  running: boolean;
}

export interface KubeletApiBackend {
  runtime: Runtime;
  /** Finds a container of a pod on this node; a string is an error message (404). */
  findContainer(namespace: string, pod: string, container: string, previous: boolean): Promise<ContainerRef | string>;
  /** Where port-forward connections to a pod go; a string is an error message (404). */
  portForwardTarget?(namespace: string, pod: string): Promise<PortForwardTarget | string>;
  /** The node's stats summary (404 when absent). */
  statsSummary?(): Promise<unknown>;
  /** The pods bound to this node (for /metrics/cadvisor's memory limits). */
  pods?(): readonly any[];
}

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

/** The subprotocols a WebSocket handshake offers, in the client's order. */
function offered(req: IncomingMessage): string[] {
  return String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
}

function sendStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
}

export class KubeletServer {
  private server?: https.Server;
  private wss?: WebSocketServer;
  private tunnels?: WebSocketServer;
  private channels?: WebSocketServer;
  private readonly sessions = new Set<SpdySession>();
  /** The kubelet's own metrics; whoever runs pods may observe pod start and worker durations here. */
  readonly metrics: KubeletMetrics;
  port = 0;

  constructor(
    private readonly backend: KubeletApiBackend,
    private readonly tls: { certPem: string; keyPem: string; caPem: string },
    nodeName = '',
  ) {
    this.metrics = new KubeletMetrics(nodeName);
  }

  async start(host: string, port: number): Promise<number> {
    const server = https.createServer({ cert: this.tls.certPem, key: this.tls.keyPem, ca: this.tls.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      void this.handle(req, res).catch((e) => {
        if (!res.headersSent) sendStatus(res, 500, 'InternalError', (e as Error).message);
        else res.end();
      });
    });
    server.on('upgrade', (req, socket, head) => void this.upgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as any).port;
    return this.port;
  }

  async stop(): Promise<void> {
    for (const w of [this.wss, this.tunnels, this.channels]) {
      if (!w) continue;
      for (const c of w.clients) c.terminate();
      w.close();
    }
    for (const sess of this.sessions) sess.destroy();
    const s = this.server;
    if (!s) return;
    s.closeAllConnections?.();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const refusal = kubeletRefusal(req, url.pathname);
    if (refusal) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(refusal);
      return;
    }
    if (url.pathname === '/healthz') {
      // The type a Go kubelet's healthz gets (sniffed by net/http).
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    if (url.pathname === '/stats/summary' && req.method === 'GET' && this.backend.statsSummary) {
      const body = JSON.stringify(await this.summary());
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
      return;
    }
    if (url.pathname === '/metrics' || url.pathname.startsWith('/metrics/')) return this.serveMetrics(req, res, url.pathname);
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!m || req.method !== 'GET') return sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
    const q = url.searchParams;
    const bool = (k: string) => q.get(k) === 'true' || q.get(k) === '1';
    const [ns, pod, container] = m.slice(1).map(decodeURIComponent);
    const ref = await this.backend.findContainer(ns, pod, container, bool('previous'));
    if (typeof ref === 'string') return sendStatus(res, 400, 'BadRequest', ref);
    let sinceTime: number | undefined;
    if (q.get('sinceSeconds')) sinceTime = Date.now() - Number(q.get('sinceSeconds')) * 1000;
    if (q.get('sinceTime')) sinceTime = Date.parse(q.get('sinceTime')!);
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    const rt = this.backend.runtime;
    await writeLogs(ref.logPath, res, {
      follow: bool('follow') && ref.running,
      tailLines: q.get('tailLines') !== null ? Number(q.get('tailLines')) : undefined,
      limitBytes: q.get('limitBytes') !== null ? Number(q.get('limitBytes')) : undefined,
      timestamps: bool('timestamps'),
      sinceTime,
      signal: ac.signal,
      running: async () => (await rt.containerStatus(ref.id).catch(() => undefined))?.state === 'CONTAINER_RUNNING',
    });
    res.end();
  }

  private async summary(): Promise<Summary> {
    return (await this.backend.statsSummary!()) as Summary;
  }

  private async serveMetrics(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendStatus(res, 405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    let text: string;
    if (path === '/metrics') {
      if (!this.metrics.nodeName && this.backend.statsSummary) this.metrics.nodeName = ((await this.backend.statsSummary()) as Summary).node?.nodeName ?? '';
      text = await this.metrics.render(this.backend.runtime);
    }
    else if (path === '/metrics/resource') {
      let summary: Summary | undefined;
      try {
        summary = this.backend.statsSummary ? await this.summary() : undefined;
      } catch {
        summary = undefined;
      }
      text = renderResourceMetrics(summary, !summary);
    } else if (path === '/metrics/cadvisor') {
      if (!this.backend.statsSummary) return sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
      const [summary, containers] = await Promise.all([this.summary(), this.backend.runtime.listContainers({ state: 'CONTAINER_RUNNING' })]);
      text = renderCadvisorMetrics({
        summary,
        containers: containers.map((c) => ({ id: c.id, podUid: c.labels?.[LABEL_POD_UID] ?? '', name: c.labels?.[LABEL_CONTAINER_NAME] ?? c.metadata.name, image: c.image.image })),
        memoryLimits: memoryLimits(this.backend.pods?.() ?? []),
      });
    } else return sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
    res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
    res.end(req.method === 'HEAD' ? undefined : text);
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { WebSocketServer } = await loadStreaming();
    this.wss ??= new WebSocketServer({ noServer: true, handleProtocols: (protos) => EXEC_PROTOCOLS.find((p) => protos.has(p)) ?? false });
    this.tunnels ??= new WebSocketServer({ noServer: true, handleProtocols: (protos) => (protos.has(SPDY_TUNNEL_PROTOCOL) ? SPDY_TUNNEL_PROTOCOL : false) });
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const m = /^\/(exec|attach)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const fail = (code: number, msg: string) => {
      socket.end(`HTTP/1.1 ${code} ${msg}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${msg}`);
    };
    const refusal = kubeletRefusal(req, url.pathname);
    if (refusal) {
      socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n\r\n${refusal}`);
      return;
    }
    const pf = /^\/portForward\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (pf) return this.portForward(req, socket, head, decodeURIComponent(pf[1]), decodeURIComponent(pf[2]), fail);
    if (!m) return fail(404, 'Not Found');
    const [, verb, ns, pod, container] = m.map(decodeURIComponent);
    const q = url.searchParams;
    const bool = (k: string) => q.get(k) === 'true' || q.get(k) === '1';
    const ref = await this.backend.findContainer(ns, pod, container, false);
    if (typeof ref === 'string') return fail(404, ref);
    const tty = bool('tty');
    // stderr is merged into stdout with a TTY, as upstream.
    const o: RemoteCommandOptions = { stdin: bool('stdin'), stdout: bool('stdout') || !q.has('stdout'), stderr: bool('stderr') && !tty, tty };
    const rt = this.backend.runtime;
    let open: () => Promise<ExecSession & { attach?: boolean }>;
    const cmd = verb === 'exec' ? q.getAll('command') : [];
    if (verb === 'attach') {
      if (!rt.attach) return fail(400, `attach is not supported by the ${rt.name} runtime`);
      if (!ref.running) return fail(400, `container ${container} is not running`);
      open = async () => {
        const a = await rt.attach!({ containerId: ref.id, ...o });
        return { ...a, kill: () => a.detach(), attach: true };
      };
    } else open = () => rt.exec({ containerId: ref.id, cmd, ...o });
    // kubectl < 1.30 upgrades straight to SPDY (a POST); later ones to a WebSocket.
    if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return this.spdyRemoteCommand(req, socket, head, o, open, cmd);
    this.wss!.handleUpgrade(req, socket, head, (ws) => void runRemoteCommand(wsConn(ws), open, cmd));
  }

  /** exec or attach over a direct SPDY/3.1 upgrade (remotecommand-spdy.ts). */
  private async spdyRemoteCommand(req: IncomingMessage, socket: Duplex, head: Buffer, o: RemoteCommandOptions, open: () => Promise<ExecSession & { attach?: boolean }>, cmd: string[]): Promise<void> {
    const hs = spdyHandshake(req.headers);
    if (!hs.protocol) {
      socket.end(hs.response);
      return;
    }
    const protocol = hs.protocol;
    const { SpdySession } = await loadStreaming();
    socket.write(hs.response);
    const session = new SpdySession((b) => socket.write(b));
    this.sessions.add(session);
    session.on('error', () => socket.end());
    session.on('close', () => {
      this.sessions.delete(session);
      socket.end();
    });
    const accepted = acceptStreams(session, protocol, o);
    if (head?.length) session.feed(head);
    socket.on('data', (d: Buffer) => session.feed(d));
    socket.on('close', () => session.destroy());
    socket.on('error', () => session.destroy());
    let streams: Awaited<typeof accepted>;
    try {
      streams = await accepted;
    } catch {
      session.close();
      return;
    }
    await runRemoteCommand(spdyConn(session, streams), open, cmd);
  }

  private async portForward(req: IncomingMessage, socket: Duplex, head: Buffer, ns: string, pod: string, fail: (code: number, msg: string) => void): Promise<void> {
    const target = this.backend.portForwardTarget ? await this.backend.portForwardTarget(ns, pod) : 'port-forward is not supported by this kubelet';
    if (typeof target === 'string') return fail(404, target);
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    const { SpdySession, pf, WebSocketServer } = await loadStreaming();
    const start = (write: (b: Buffer) => void, end: () => void): SpdySession => {
      const session = new SpdySession(write);
      this.sessions.add(session);
      session.on('error', () => end());
      session.on('close', () => {
        this.sessions.delete(session);
        end();
      });
      pf.servePortForward(session, target);
      return session;
    };
    if (upgrade === 'websocket' && !offered(req).includes(SPDY_TUNNEL_PROTOCOL)) {
      // Plain channel-protocol port-forward (client libraries without SPDY), as upstream's kubelet.
      const ports = pf.parseWebSocketPorts(new URL(req.url ?? '/', 'https://kubelet').searchParams);
      if (typeof ports === 'string') return fail(400, ports);
      this.channels ??= new WebSocketServer({ noServer: true, handleProtocols: (protos) => pf.WS_PORT_FORWARD_PROTOCOLS.find((p) => protos.has(p)) ?? false });
      this.channels.handleUpgrade(req, socket, head, (ws) => pf.serveWebSocketPortForward(ws, ports, target));
      return;
    }
    if (upgrade === 'websocket') {
      this.tunnels!.handleUpgrade(req, socket, head, (ws) => {
        const session = start(
          (b) => ws.send(b, { binary: true }),
          () => ws.close(),
        );
        ws.on('message', (d: Buffer) => session.feed(Buffer.isBuffer(d) ? d : Buffer.from(d as ArrayBuffer)));
        ws.on('close', () => session.destroy());
        ws.on('error', () => session.destroy());
      });
      return;
    }
    if (upgrade !== 'spdy/3.1') return fail(400, 'port-forward needs an Upgrade to SPDY/3.1 or a WebSocket');
    // The direct SPDY upgrade older kubectl versions use.
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`);
    const session = start(
      (b) => socket.write(b),
      () => socket.end(),
    );
    if (head?.length) session.feed(head);
    socket.on('data', (d: Buffer) => session.feed(d));
    socket.on('close', () => session.destroy());
    socket.on('error', () => session.destroy());
  }
}

/**
 * The WebSocket channel protocol as a RemoteCommandConn: 0 stdin, 1 stdout, 2 stderr, 3 status,
 * 4 resize, and (v5) 255 to close a stream.
 */
function wsConn(ws: WebSocket): RemoteCommandConn {
  const v5 = ws.protocol === 'v5.channel.k8s.io';
  const send = (ch: number, data: Buffer | string) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([ch]), Buffer.isBuffer(data) ? data : Buffer.from(data)]));
  };
  // Listen at once: kubectl sends the terminal size (and maybe input) as soon as it connects,
  // before the process is up; those messages wait for the session, in order.
  let handlers: Parameters<RemoteCommandConn['input']>[0] | undefined;
  const early: Buffer[] = [];
  const onMessage = (data: Buffer) => {
    if (!data.length || !handlers) return;
    const ch = data[0];
    const body = data.subarray(1);
    if (ch === 0) handlers.stdin(body);
    else if (ch === 4) {
      try {
        const size = terminalSize(JSON.parse(body.toString()));
        if (size) handlers.resize(size.Width, size.Height);
      } catch {
        // ignore a bad resize
      }
    } else if (v5 && ch === 255 && body[0] === 0) handlers.stdinEnd();
  };
  ws.on('message', (raw: Buffer) => {
    const data = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as any);
    if (handlers) onMessage(data);
    else early.push(data);
  });
  return {
    stdout: (d) => send(1, d),
    stderr: (d) => send(2, d),
    input(h) {
      handlers = h;
      for (const d of early.splice(0)) onMessage(d);
    },
    finish(s) {
      send(3, JSON.stringify(s));
      ws.close(1000);
    },
    onClose(cb) {
      if (ws.readyState === ws.CLOSED) cb();
      else ws.once('close', cb);
    },
  };
}

/**
 * An exec or attach session, whatever carries it: input to the process, its output back, and at
 * the end the status (Success, or the exit code). The process is killed when the client goes away.
 */
export async function runRemoteCommand(conn: RemoteCommandConn, open: () => Promise<ExecSession & { attach?: boolean }>, cmd: string[] = []): Promise<void> {
  let sess: (ExecSession & { attach?: boolean }) | undefined;
  let closed = false;
  conn.onClose(() => {
    closed = true;
    sess?.kill();
  });
  try {
    sess = await open();
  } catch (e) {
    conn.finish(internalErrorStatus((e as Error).message));
    return;
  }
  if (closed) return sess.kill();
  const s = sess;
  conn.input({
    stdin: (d) => s.stdin?.write(d),
    stdinEnd: () => s.stdin?.end(),
    resize: (w, h) => s.resize(w, h),
  });
  s.stdin?.on('error', () => undefined);
  // Output still buffered when the process exits is sent before the status.
  const ended = (r?: Readable) => (r && !r.readableEnded && !r.destroyed ? new Promise<void>((res) => (r.on('end', res), r.on('error', res), r.on('close', res))) : Promise.resolve());
  s.stdout?.on('data', (d: Buffer) => conn.stdout(d));
  s.stderr?.on('data', (d: Buffer) => conn.stderr(d));
  const code = await s.exit;
  await Promise.race([Promise.all([ended(s.stdout), ended(s.stderr)]), new Promise((r) => setTimeout(r, 500))]);
  conn.finish(exitStatus(code, cmd, s.attach));
}

/** Containers' memory limits in bytes by `podUid/container`, from the pods' specs. */
function memoryLimits(pods: readonly any[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of pods) {
    for (const c of p?.spec?.containers ?? []) {
      const v = c.resources?.limits?.memory;
      const n = v === undefined ? NaN : bytesOf(String(v));
      if (Number.isFinite(n)) out.set(`${p.metadata?.uid}/${c.name}`, n);
    }
  }
  return out;
}

const SUFFIX: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60, m: 1e-3 };

/** A memory quantity ("128Mi", "1G", "1e9") in bytes, rounded up as the kubelet does. */
export function bytesOf(q: string): number {
  const m = /^([0-9.]+(?:[eE][-+]?\d+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (!m || !(m[2] in SUFFIX)) return NaN;
  return Math.ceil(Number(m[1]) * SUFFIX[m[2]]);
}
