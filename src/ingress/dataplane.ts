/**
 * The data plane: an HTTP/HTTPS reverse proxy that routes with `match()` and forwards to pod
 * endpoints over keep-alive pools. A configuration is one immutable snapshot swapped by reference,
 * so a change never touches requests already routed and no listening socket is ever reopened.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Ingress } from 'kubernetes-types/networking/v1.js';
import { buildTable, backendName, type Problem, type RoutingTable } from './table.js';
import { match, type MatchResult } from './match.js';
import { IngressMetrics } from './metrics.js';
import { selfSignedCert, type PemPair } from './selfsigned.js';
import { FastConnection, newRequestId, type FastPathHost } from './fastpath.js';
import { HOP } from './http1.js';
import { UpstreamPool, type PoolEndpoint } from './upstream.js';
import { serveMetrics } from './metricsserver.js';
import { BufferedLog } from './accesslog.js';

export interface Endpoint {
  address: string;
  port: number;
}

/** Everything the data plane needs, as plain JSON (it crosses process boundaries to workers). */
export interface DataPlaneConfig {
  ingresses: Ingress[];
  /** Upstream name (`namespace-service-port`, see backendName) → ready endpoints. */
  endpoints: Record<string, Endpoint[]>;
  /** Secret `namespace/name` → certificate and key. */
  certs?: Record<string, PemPair>;
  annotationPrefix?: string;
}

export interface DataPlaneOptions {
  httpPort: number;
  httpsPort?: number;
  host?: string;
  /** Where requests for the default backend go; without it the data plane answers 404 itself. */
  defaultBackend?: Endpoint;
  /**
   * Receives one line per request, a subset of ingress-nginx's `upstreaminfo` format:
   * `$remote_addr - - [$time_iso8601] "$request" $status $content_length "$http_referer"
   * "$http_user_agent" $request_time [$proxy_upstream_name] $upstream_addr $req_id`.
   */
  accessLog?: (line: string) => void;
  /** Also append those lines to this file, buffered (see accesslog.ts); usable from workers. */
  accessLogFile?: string;
  defaultCert?: PemPair;
  /** Seconds; ingress-nginx's proxy-read-timeout default. */
  readTimeout?: number;
  /** Serve Prometheus metrics at `GET /metrics` on this port (ingress-nginx uses 10254); 0 picks a free one. */
  metricsPort?: number;
}

interface Snapshot {
  table: RoutingTable;
  endpoints: Record<string, PoolEndpoint[]>;
  contexts: Map<string, tls.SecureContext>;
}

const FAIL_TIMEOUT_MS = 10_000;
const withKey = (e: Endpoint): PoolEndpoint => ({ address: e.address, port: e.port, key: `${e.address}:${e.port}` });

export class DataPlane {
  readonly metrics = new IngressMetrics();
  private snap: Snapshot;
  /** Listens for plain HTTP; connections start on the fast path (fastpath.ts). */
  private plainServer?: net.Server;
  /** node:http for what the fast path hands over; it never listens itself. */
  private httpServer?: http.Server;
  private readonly fastConnections = new Set<FastConnection>();
  private readonly pool: UpstreamPool;
  private readonly fastHost: FastPathHost;
  private readonly defaultEndpoint?: PoolEndpoint;
  private httpsServer?: https.Server;
  private readonly agents = new Map<string, http.Agent>();
  private readonly failedUntil = new Map<string, number>();
  private readonly rr = new Map<string, number>();
  private defaultContext?: tls.SecureContext;
  private metricsServer?: { port: number; close(): Promise<void> };
  private readonly logFile?: BufferedLog;
  ports = { http: 0, https: 0, metrics: 0 };

  private readonly opts: DataPlaneOptions;

  constructor(opts: DataPlaneOptions) {
    this.opts = opts;
    this.snap = { table: buildTable([]), endpoints: {}, contexts: new Map() };
    this.pool = new UpstreamPool((opts.readTimeout ?? 60) * 1000);
    this.defaultEndpoint = opts.defaultBackend && withKey(opts.defaultBackend);
    if (opts.accessLogFile) {
      const file = (this.logFile = new BufferedLog(opts.accessLogFile));
      const also = opts.accessLog;
      this.opts = { ...opts, accessLog: also ? (l) => (file.line(l), also(l)) : (l) => file.line(l) };
    }
    this.fastHost = {
      snapshot: () => this.snap,
      defaultBackend: this.defaultEndpoint,
      pick: (name, eps, skip) => this.pick(name, eps, skip),
      markFailed: (k) => void this.failedUntil.set(k, Date.now() + FAIL_TIMEOUT_MS),
      pool: this.pool,
      metrics: this.metrics,
      accessLog: this.opts.accessLog,
      slow: undefined as unknown as http.Server,
      connections: this.fastConnections,
    };
  }

  /** Swaps in a new configuration at once; returns the Ingresses that could not be used. */
  apply(cfg: DataPlaneConfig): Problem[] {
    const table = buildTable(cfg.ingresses, { annotationPrefix: cfg.annotationPrefix });
    const contexts = new Map<string, tls.SecureContext>();
    for (const s of table.servers.values()) {
      if (!s.tlsSecret) continue;
      const pair = cfg.certs?.[s.tlsSecret];
      if (!pair) continue;
      try {
        contexts.set(s.hostname, tls.createSecureContext({ cert: pair.cert, key: pair.key }));
      } catch (e) {
        table.problems.push({ ingress: s.tlsSecret, reason: 'InvalidCertificate', message: (e as Error).message });
      }
    }
    const endpoints: Record<string, PoolEndpoint[]> = {};
    for (const [k, eps] of Object.entries(cfg.endpoints)) endpoints[k] = eps.map(withKey);
    this.snap = { table, endpoints, contexts };
    this.metrics.configReloads++;
    return table.problems;
  }

  async start(): Promise<void> {
    const host = this.opts.host ?? '0.0.0.0';
    this.httpServer = http.createServer({ keepAliveTimeout: 75_000 }, (req, res) => this.handle(req, res, 'http'));
    this.httpServer.on('upgrade', (req, sock, head) => this.upgrade(req, sock as net.Socket, head, 'http'));
    this.httpServer.on('clientError', (_e, sock) => sock.destroy());
    this.fastHost.slow = this.httpServer;
    // node:http tracks connections (idle closing, header/request timeouts) only once 'listening' fires.
    this.httpServer.emit('listening');
    this.plainServer = net.createServer({ noDelay: true }, (sock) => void new FastConnection(this.fastHost, sock));
    await listen(this.plainServer, this.opts.httpPort, host);
    this.ports.http = (this.plainServer.address() as net.AddressInfo).port;
    if (this.opts.httpsPort !== undefined) {
      const def = this.opts.defaultCert ?? (await selfSignedCert());
      this.defaultContext = tls.createSecureContext(def);
      this.httpsServer = https.createServer(
        {
          ...def,
          SNICallback: (name, cb) => cb(null, this.contextFor(name)),
        },
        (req, res) => this.handle(req, res, 'https'),
      );
      this.httpsServer.on('upgrade', (req, sock, head) => this.upgrade(req, sock as net.Socket, head, 'https'));
      await listen(this.httpsServer, this.opts.httpsPort, host);
      this.ports.https = (this.httpsServer.address() as net.AddressInfo).port;
    }
    if (this.opts.metricsPort !== undefined) {
      this.metricsServer = await serveMetrics(this.opts.metricsPort, host, () => this.metrics.render());
      this.ports.metrics = this.metricsServer.port;
    }
  }

  async stop(): Promise<void> {
    const closing: Promise<void>[] = [];
    if (this.metricsServer) closing.push(this.metricsServer.close());
    if (this.plainServer) {
      const s = this.plainServer;
      closing.push(new Promise<void>((r) => s.close(() => r())));
      for (const c of [...this.fastConnections]) c.stop();
    }
    // The handed-over plain connections: node:http's server never listened, so only its connections close.
    if (this.httpServer) {
      const s = this.httpServer;
      s.close(() => undefined); // closes idle connections and stops the timeout checks; "not running" is expected
      setTimeout(() => s.closeAllConnections(), 2000).unref();
    }
    if (this.httpsServer) {
      const s = this.httpsServer;
      s.closeIdleConnections();
      closing.push(new Promise<void>((r) => s.close(() => r())));
      setTimeout(() => s.closeAllConnections(), 2000).unref();
    }
    await Promise.all(closing.map((p) => Promise.race([p, new Promise<void>((r) => setTimeout(r, 2500).unref())])));
    for (const c of [...this.fastConnections]) c.stop();
    this.pool.destroy();
    await this.logFile?.close();
    for (const a of this.agents.values()) a.destroy();
  }

  private contextFor(name: string): tls.SecureContext | undefined {
    const n = name.toLowerCase();
    const snap = this.snap;
    const exact = snap.contexts.get(n);
    if (exact) return exact;
    const dot = n.indexOf('.');
    if (dot > 0) {
      const wild = snap.contexts.get('*' + n.slice(dot));
      if (wild) return wild;
    }
    return this.defaultContext;
  }

  private agent(ep: Endpoint): http.Agent {
    const k = `${ep.address}:${ep.port}`;
    let a = this.agents.get(k);
    if (!a) this.agents.set(k, (a = new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 256, scheduling: 'lifo' })));
    return a;
  }

  /** Round-robin over endpoints not marked failed (nginx's max_fails=1 fail_timeout=10s); all failed → try them anyway. */
  private pick(name: string, eps: PoolEndpoint[], skip: ReadonlySet<string>): PoolEndpoint | undefined {
    const now = this.failedUntil.size ? Date.now() : 0;
    const start = this.rr.get(name) ?? 0;
    let fallback: PoolEndpoint | undefined;
    for (let i = 0; i < eps.length; i++) {
      const ep = eps[(start + i) % eps.length];
      const k = ep.key;
      if (skip.size && skip.has(k)) continue;
      if (now && (this.failedUntil.get(k) ?? 0) > now) {
        fallback ??= ep;
        continue;
      }
      this.rr.set(name, (start + i + 1) % eps.length);
      return ep;
    }
    return fallback;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, scheme: 'http' | 'https'): void {
    const t0 = performance.now();
    const snap = this.snap;
    const host = req.headers.host ?? '';
    const r = match(snap.table, { host, target: req.url ?? '/', scheme });
    const requestId = (req.headers['x-request-id'] as string | undefined) || newRequestId();
    let upstreamAddr = '-';
    const done = () => {
      const secs = (performance.now() - t0) / 1000;
      const ingress = r.kind === 'proxy' ? (r.location.ingress ?? '') : '';
      const path = r.kind === 'proxy' ? r.location.ingressPath : '';
      this.metrics.observe({ ingress, host: r.kind !== 'error' ? r.server.hostname : '', path, status: res.statusCode }, secs);
      this.opts.accessLog?.(
        `${req.socket.remoteAddress ?? '-'} - - [${new Date().toISOString()}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} ${res.getHeader('content-length') ?? '-'} "${req.headers.referer ?? '-'}" "${req.headers['user-agent'] ?? '-'}" ${secs.toFixed(3)} [${r.kind === 'proxy' ? backendName(r.backend) : '-'}] ${upstreamAddr} ${requestId}`,
      );
    };
    res.on('finish', done);
    if (r.kind === 'error') return plain(res, 400, '400 Bad Request');
    if (r.kind === 'redirect') {
      res.writeHead(r.status, { location: r.location, 'content-type': 'text/html' });
      return void res.end();
    }
    const name = backendName(r.backend);
    let eps: PoolEndpoint[] | undefined;
    if (r.backend) eps = snap.endpoints[name];
    else if (this.defaultEndpoint) eps = [this.defaultEndpoint];
    else return plain(res, 404, 'default backend - 404');
    if (!eps || eps.length === 0) return plain(res, 503, '503 Service Temporarily Unavailable');
    const headers = forwardHeaders(req, scheme, requestId, r);
    const tried = new Set<string>();
    const bodyless = !req.headers['content-length'] && !req.headers['transfer-encoding'];
    const attempt = (): void => {
      const ep = this.pick(name, eps!, tried);
      if (!ep) return plain(res, 502, '502 Bad Gateway');
      const k = `${ep.address}:${ep.port}`;
      tried.add(k);
      upstreamAddr = k;
      let responded = false;
      const up = http.request({ host: ep.address, port: ep.port, method: req.method, path: r.upstreamTarget, headers, agent: this.agent(ep), timeout: (this.opts.readTimeout ?? 60) * 1000 });
      up.on('response', (ur) => {
        responded = true;
        const h: http.OutgoingHttpHeaders = {};
        for (const [key, v] of Object.entries(ur.headers)) if (key !== 'connection' && key !== 'keep-alive' && key !== 'transfer-encoding') h[key] = v;
        res.writeHead(ur.statusCode ?? 502, h);
        ur.pipe(res);
        ur.on('error', () => res.destroy());
      });
      up.on('timeout', () => up.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' })));
      up.on('error', (e: NodeJS.ErrnoException) => {
        if (responded) return res.destroy();
        // Passive health: a connection failure marks the endpoint and moves on (proxy_next_upstream error).
        if (e.code !== 'ETIMEDOUT') this.failedUntil.set(k, Date.now() + FAIL_TIMEOUT_MS);
        if (bodyless && !res.headersSent && tried.size < eps!.length && e.code !== 'ETIMEDOUT') return attempt();
        if (!res.headersSent) plain(res, e.code === 'ETIMEDOUT' ? 504 : 502, e.code === 'ETIMEDOUT' ? '504 Gateway Time-out' : '502 Bad Gateway');
        else res.destroy();
      });
      if (bodyless) up.end();
      else req.pipe(up);
    };
    attempt();
  }

  private upgrade(req: http.IncomingMessage, sock: net.Socket, head: Buffer, scheme: 'http' | 'https'): void {
    const snap = this.snap;
    const r = match(snap.table, { host: req.headers.host ?? '', target: req.url ?? '/', scheme });
    const fail = (status: number, text: string): void => void sock.end(`HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    if (r.kind === 'error') return fail(400, 'Bad Request');
    if (r.kind === 'redirect') return void sock.end(`HTTP/1.1 ${r.status} Moved\r\nLocation: ${r.location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    const name = backendName(r.backend);
    const eps = r.backend ? snap.endpoints[name] : this.defaultEndpoint ? [this.defaultEndpoint] : undefined;
    if (!eps?.length) return fail(r.backend ? 503 : 404, r.backend ? 'Service Unavailable' : 'Not Found');
    const ep = this.pick(name, eps, new Set())!;
    const requestId = (req.headers['x-request-id'] as string | undefined) || newRequestId();
    const headers = forwardHeaders(req, scheme, requestId, r);
    const up = net.connect(ep.port, ep.address, () => {
      let headText = `${req.method} ${r.upstreamTarget} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(headers)) for (const x of Array.isArray(v) ? v : [v]) headText += `${k}: ${x}\r\n`;
      headText += `connection: upgrade\r\nupgrade: ${req.headers.upgrade}\r\n\r\n`;
      up.write(headText);
      if (head.length) up.write(head);
      up.pipe(sock);
      sock.pipe(up);
    });
    up.on('error', () => void (sock.writable && !up.bytesRead ? fail(502, 'Bad Gateway') : sock.destroy()));
    sock.on('error', () => void up.destroy());
    sock.on('close', () => void up.destroy());
    up.on('close', () => void sock.destroy());
  }
}

function forwardHeaders(req: http.IncomingMessage, scheme: string, requestId: string, r: Extract<MatchResult, { kind: 'proxy' }>): http.OutgoingHttpHeaders {
  const h: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && v !== undefined) h[k] = v;
  const remote = req.socket.remoteAddress ?? '';
  const hostHeader = req.headers.host ?? '';
  const local = req.socket.localPort ?? 0;
  h['x-request-id'] = requestId;
  h['x-real-ip'] = remote;
  h['x-forwarded-for'] = remote;
  h['x-forwarded-host'] = hostHeader.replace(/:\d+$/, '');
  h['x-forwarded-port'] = String(local);
  h['x-forwarded-proto'] = scheme;
  h['x-forwarded-scheme'] = scheme;
  h['x-scheme'] = scheme;
  if (r.forwardedPrefix) h['x-forwarded-prefix'] = r.forwardedPrefix;
  return h;
}

function plain(res: http.ServerResponse, status: number, text: string): void {
  const body = `<html>\r\n<head><title>${text}</title></head>\r\n<body>\r\n<center><h1>${text}</h1></center>\r\n</body>\r\n</html>\r\n`;
  res.writeHead(status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function listen(s: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, host, () => {
      s.off('error', reject);
      resolve();
    });
  });
}
