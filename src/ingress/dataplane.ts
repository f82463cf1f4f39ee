/**
 * The data plane: an HTTP/HTTPS reverse proxy that routes with `match()` and forwards to pod
 * endpoints over keep-alive pools. A configuration is one immutable snapshot swapped by reference,
 * so a change never touches requests already routed and no listening socket is ever reopened.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import http2 from 'node:http2';
import { H2Sessions, h2RequestHeaders, h2ResponseHeaders } from './h2upstream.js';
import type { Ingress } from 'kubernetes-types/networking/v1.js';
import { buildTable, backendName, type Problem, type RoutingTable } from './table.js';
import { match, type MatchResult } from './match.js';
import { IngressMetrics } from './metrics.js';
import { selfSignedCert, type PemPair } from './selfsigned.js';
import { FastConnection, newRequestId, type FastPathHost } from './fastpath.js';
import { HOP } from './http1.js';
import { coarse, CONNECT_TIMEOUT, UpstreamPool, type PoolEndpoint } from './upstream.js';
import { serveMetrics } from './metricsserver.js';
import { BufferedLog } from './accesslog.js';
import { affinityCookie, affinityKey, authVerdict, LIMIT_STATUS, type LocationConfig } from './annotations/index.js';
import { LocalGate, type LimitGate } from './limitgate.js';
import { Ewma } from './ewma.js';
import { bufferBody, sendBody, watchBodySize } from './bodyflow.js';
import { affinityStep, bodySizeStep, canaryStep, corsStep, deniedStep, errorPage, HSTS_HEADER, redirectStep, sourceRangeStep, STATUS_TEXT, type Answer, type RequestFacts } from './steps.js';

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
  /** Seconds; ingress-nginx's proxy-connect-timeout default (5). */
  connectTimeout?: number;
  /** Serve Prometheus metrics at `GET /metrics` on this port (ingress-nginx uses 10254); 0 picks a free one. */
  metricsPort?: number;
  /**
   * TLS session ticket keys (48 bytes, hex), the same in every worker so that a client resumes its
   * session whichever worker it reaches, as nginx's workers share theirs; default: random per process.
   */
  ticketKeys?: string;
  /** Where rate and connection limits are counted (workers share the primary's); default: in this process. */
  limitGate?: LimitGate;
}

interface Snapshot {
  table: RoutingTable;
  endpoints: Record<string, PoolEndpoint[]>;
  contexts: Map<string, tls.SecureContext>;
}

const FAIL_TIMEOUT_MS = 10_000;
/** nginx's http2_max_concurrent_streams default; extended CONNECT (RFC 8441) for WebSocket over HTTP/2. */
const H2_SETTINGS: http2.Settings = { maxConcurrentStreams: 128, enableConnectProtocol: true };
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
  /** Listens for TLS; ALPN `h2` goes to h2sServer, HTTP/1.1 to the fast path (then httpsServer). */
  private tlsServer?: tls.Server;
  /** node:http for HTTP/1.1 over TLS that the fast path hands over; it never listens itself. */
  private httpsServer?: http.Server;
  /** HTTP/2 over TLS (ALPN h2); never listens itself. */
  private h2sServer?: http2.Http2Server;
  private readonly tlsSockets = new Set<tls.TLSSocket>();
  private readonly agents = new Map<string, http.Agent>();
  /** HTTP/2 with prior knowledge (h2c) on the plain port: gRPC clients; the fast path hands such connections here. */
  private h2Server?: http2.Http2Server;
  private readonly h2Sessions = new Set<http2.ServerHttp2Session>();
  private readonly h2Upstreams = new H2Sessions();
  private readonly limits: LimitGate;
  private readonly failedUntil = new Map<string, number>();
  private readonly rr = new Map<string, number>();
  /** Response-time averages per endpoint, for locations with load-balance: ewma. */
  private readonly ewma = new Ewma();
  private defaultContext?: tls.SecureContext;
  private metricsServer?: { port: number; close(): Promise<void> };
  private readonly logFile?: BufferedLog;
  /** Times out fast-path connections (upstream.ts `coarse`). */
  private sweeper?: NodeJS.Timeout;
  ports = { http: 0, https: 0, metrics: 0 };

  private readonly opts: DataPlaneOptions;

  constructor(opts: DataPlaneOptions) {
    this.opts = opts;
    this.snap = { table: buildTable([]), endpoints: {}, contexts: new Map() };
    this.pool = new UpstreamPool((opts.readTimeout ?? 60) * 1000, (opts.connectTimeout ?? 5) * 1000);
    this.defaultEndpoint = opts.defaultBackend && withKey(opts.defaultBackend);
    this.limits = opts.limitGate ?? new LocalGate();
    if (opts.accessLogFile) {
      const file = (this.logFile = new BufferedLog(opts.accessLogFile));
      const also = opts.accessLog;
      this.opts = { ...opts, accessLog: also ? (l) => (file.line(l), also(l)) : (l) => file.line(l) };
    }
    this.fastHost = {
      snapshot: () => this.snap,
      defaultBackend: this.defaultEndpoint,
      pick: (name, eps, skip, ewma) => this.pick(name, eps, skip, ewma),
      observe: (key, secs) => this.ewma.observe(key, secs),
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
    // A quarter of the read timeout, at most 250 ms: timeouts fire within that much of their time.
    this.pool.sweep();
    this.sweeper = setInterval(
      () => {
        this.pool.sweep();
        for (const c of this.fastConnections) c.sweep(coarse.now);
      },
      Math.max(20, Math.min(250, this.pool.timeoutMs / 4, this.pool.connectTimeoutMs / 4)),
    ).unref();
    this.httpServer = http.createServer({ keepAliveTimeout: 75_000 }, (req, res) => this.handle(req, res, 'http'));
    this.httpServer.on('upgrade', (req, sock, head) => this.upgrade(req, sock as net.Socket, head, 'http'));
    this.httpServer.on('clientError', (_e, sock) => sock.destroy());
    this.fastHost.slow = this.httpServer;
    // node:http tracks connections (idle closing, header/request timeouts) only once 'listening' fires.
    this.httpServer.emit('listening');
    this.h2Server = this.h2(H2_SETTINGS, 'http');
    this.fastHost.h2 = this.h2Server;
    this.plainServer = net.createServer({ noDelay: true, pauseOnConnect: true }, (sock) => FastConnection.adopt(this.fastHost, sock));
    await listen(this.plainServer, this.opts.httpPort, host);
    this.ports.http = (this.plainServer.address() as net.AddressInfo).port;
    if (this.opts.httpsPort !== undefined) {
      // RSA, as ingress-nginx's: an EC default would shadow RSA Secrets under TLS 1.3 (see selfSignedCert).
      const def = this.opts.defaultCert ?? (await selfSignedCert(undefined, undefined, 'rsa'));
      this.defaultContext = tls.createSecureContext(def);
      this.httpsServer = http.createServer({ keepAliveTimeout: 75_000 }, (req, res) => this.handle(req, res, 'https'));
      this.httpsServer.on('upgrade', (req, sock, head) => this.upgrade(req, sock as net.Socket, head, 'https'));
      this.httpsServer.on('clientError', (_e, sock) => sock.destroy());
      this.httpsServer.emit('listening');
      this.h2sServer = this.h2(H2_SETTINGS, 'https');
      const fastTls: FastPathHost = { ...this.fastHost, slow: this.httpsServer, h2: undefined, scheme: 'https' };
      this.tlsServer = tls.createServer({
        ...def,
        ALPNProtocols: ['h2', 'http/1.1'],
        ...(this.opts.ticketKeys ? { ticketKeys: Buffer.from(this.opts.ticketKeys, 'hex') } : {}),
        SNICallback: (name, cb) => cb(null, this.contextFor(name)),
      });
      this.tlsServer.on('secureConnection', (sock: tls.TLSSocket) => {
        // As Http2SecureServer with allowHTTP1: ALPN decides; no ALPN (or http/1.1) is HTTP/1.1.
        if (sock.alpnProtocol === 'h2') return void this.h2sServer!.emit('connection', sock);
        this.tlsSockets.add(sock);
        sock.once('close', () => this.tlsSockets.delete(sock));
        FastConnection.serveTls(fastTls, sock);
      });
      this.tlsServer.on('tlsClientError', (_e, sock) => sock.destroy());
      await listen(this.tlsServer, this.opts.httpsPort, host);
      this.ports.https = (this.tlsServer.address() as net.AddressInfo).port;
    }
    if (this.opts.metricsPort !== undefined) {
      this.metricsServer = await serveMetrics(this.opts.metricsPort, host, () => this.metrics.render());
      this.ports.metrics = this.metricsServer.port;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    const closing: Promise<void>[] = [];
    if (this.metricsServer) closing.push(this.metricsServer.close());
    if (this.plainServer) {
      const s = this.plainServer;
      closing.push(new Promise<void>((r) => s.close(() => r())));
      for (const c of [...this.fastConnections]) c.stop();
      // Adopted connections are not counted by the server (FastConnection.adopt): wait for their requests in flight here.
      const conns = this.fastConnections;
      closing.push(
        new Promise<void>((r) => {
          const check = () => (conns.size === 0 ? r() : void setTimeout(check, 10).unref());
          check();
        }),
      );
    }
    // The handed-over plain connections: node:http's server never listened, so only its connections close.
    if (this.httpServer) {
      const s = this.httpServer;
      s.close(() => undefined); // closes idle connections and stops the timeout checks; "not running" is expected
      setTimeout(() => s.closeAllConnections(), 2000).unref();
    }
    if (this.tlsServer) {
      const s = this.tlsServer;
      closing.push(new Promise<void>((r) => s.close(() => r())));
    }
    if (this.httpsServer) {
      const s = this.httpsServer;
      s.close(() => undefined);
      setTimeout(() => s.closeAllConnections(), 2000).unref();
    }
    // HTTP/2 clients get a GOAWAY: streams in flight finish, new ones go to a new connection.
    for (const s of this.h2Sessions) s.close();
    await Promise.all(closing.map((p) => Promise.race([p, new Promise<void>((r) => setTimeout(r, 2500).unref())])));
    for (const c of [...this.fastConnections]) c.stop();
    this.pool.destroy();
    for (const s of this.h2Sessions) s.destroy();
    for (const s of this.tlsSockets) s.destroy();
    this.h2Upstreams.destroy();
    await this.logFile?.close();
    for (const a of this.agents.values()) a.destroy();
  }

  /** An HTTP/2 server that never listens: connections are handed to it (h2c from the fast path, h2 after ALPN). */
  private h2(settings: http2.Settings, scheme: 'http' | 'https'): http2.Http2Server {
    const server = http2.createServer({ settings });
    // nginx's keepalive_timeout (75 s) for an idle HTTP/2 connection: a GOAWAY lets open streams finish.
    server.setTimeout(75_000);
    server.on('timeout', (s: http2.ServerHttp2Session) => s.close());
    server.on('session', (s) => {
      this.h2Sessions.add(s);
      s.on('close', () => this.h2Sessions.delete(s));
      s.on('error', () => undefined);
    });
    server.on('stream', (stream, headers) => this.handleH2(stream, headers, scheme));
    return server;
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

  private agent(ep: Endpoint, tlsUpstream = false): http.Agent {
    const k = `${tlsUpstream ? 'https' : 'http'}://${ep.address}:${ep.port}`;
    let a = this.agents.get(k);
    const o = { keepAlive: true, maxSockets: 512, maxFreeSockets: 256, scheduling: 'lifo' as const };
    // backend-protocol HTTPS: like nginx's proxy_ssl_verify off (the default), the upstream certificate is not verified.
    if (!a) this.agents.set(k, (a = tlsUpstream ? new https.Agent({ ...o, rejectUnauthorized: false }) : new http.Agent(o)));
    return a;
  }

  /** Round-robin over endpoints not marked failed (nginx's max_fails=1 fail_timeout=10s); all failed → try them anyway. */
  private pick(name: string, eps: PoolEndpoint[], skip: ReadonlySet<string>, ewma = false): PoolEndpoint | undefined {
    const now = this.failedUntil.size ? Date.now() : 0;
    if (ewma) {
      const ok = eps.filter((ep) => !(skip.size && skip.has(ep.key)) && !(now && (this.failedUntil.get(ep.key) ?? 0) > now));
      return this.ewma.pick(ok) ?? eps.find((ep) => !skip.has(ep.key));
    }
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
      if (r.kind === 'proxy' && upstreamAddr !== '-' && r.location.config.proxy.loadBalance === 'ewma') this.ewma.observe(upstreamAddr, secs);
      const ingress = r.kind === 'proxy' ? (r.location.ingress ?? '') : '';
      const path = r.kind === 'proxy' ? r.location.ingressPath : '';
      this.metrics.observe({ ingress, host: r.kind !== 'error' ? r.server.hostname : '', path, status: res.statusCode }, secs);
      this.opts.accessLog?.(
        `${req.socket.remoteAddress ?? '-'} - - [${new Date().toISOString()}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} ${res.getHeader('content-length') ?? '-'} "${req.headers.referer ?? '-'}" "${req.headers['user-agent'] ?? '-'}" ${secs.toFixed(3)} [${r.kind === 'proxy' ? backendName(r.backend) : '-'}] ${upstreamAddr} ${requestId}`,
      );
    };
    res.on('finish', done);
    if (r.kind === 'error') return plain(res, 400, '400 Bad Request');
    // Set first, so every answer below carries it (writeHead merges it in).
    if (scheme === 'https' && r.server.tls) res.setHeader('strict-transport-security', HSTS_HEADER);
    if (r.kind === 'redirect') {
      res.writeHead(r.status, { location: r.location, 'content-type': 'text/html' });
      return void res.end();
    }
    const cfg = r.location.config;
    const facts = this.facts(req, scheme);
    const cl = req.headers['content-length'];
    const cors = corsStep(cfg, facts);
    const early = bodySizeStep(cfg, cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : null) ?? deniedStep(cfg) ?? cors.answer ?? redirectStep(r.server, r.location, facts);
    if (early) return answer(res, early);
    this.limits.check(cfg.limits, r.location.ingress ?? '', facts.remote, (ok, release) => {
      if (req.socket.destroyed) return release();
      if (!ok) return answer(res, { status: LIMIT_STATUS, headers: {} });
      res.once('close', release);
      const denied = sourceRangeStep(cfg, facts.remote);
      if (denied) return answer(res, denied);
      const chosen = canaryStep(r.backend, r.backend ? snap.table.alternatives.get(backendName(r.backend)) : undefined, facts);
      let name = backendName(chosen.backend);
      let eps: PoolEndpoint[] | undefined;
      if (chosen.backend) {
        eps = snap.endpoints[name];
        // A canary without endpoints leaves the request to the main backend.
        if (chosen.canary && !eps?.length) eps = snap.endpoints[(name = backendName(r.backend))];
      } else if (this.defaultEndpoint) eps = [this.defaultEndpoint];
      // No default backend Service: ingress-nginx's catch-all answers nginx's own 404 page.
      else return plain(res, 404);
      if (!eps || eps.length === 0) return plain(res, 503, '503 Service Temporarily Unavailable');
      const headers = forwardHeaders(req, scheme, requestId, r);
      const proceed = (extra: http.OutgoingHttpHeaders) => {
        Object.assign(headers, extra);
        this.proxy(req, res, cfg, name, eps!, headers, r.upstreamTarget, cookiePath(r.location.ingressPath), scheme, cors.headers, facts, (a) => (upstreamAddr = a));
      };
      if (!cfg.auth.url) return proceed({});
      this.authorize(req.headers, cfg, facts, requestId).then(
        (a) => ('status' in a ? answer(res, a) : proceed(a.headers)),
        () => answer(res, { status: 500, headers: {} }),
      );
    });
  }

  private facts(req: http.IncomingMessage, scheme: 'http' | 'https'): RequestFacts {
    return {
      method: req.method ?? 'GET',
      scheme,
      host: req.headers.host ?? '',
      target: req.url ?? '/',
      remote: req.socket.remoteAddress ?? '',
      header: (n) => {
        const v = req.headers[n];
        return Array.isArray(v) ? v[0] : v;
      },
      httpsPort: this.ports.https || 443,
    };
  }

  /**
   * auth-url: a subrequest without the body; 2xx → the auth-response-headers to add upstream,
   * 401/403 → that status (401 with the service's WWW-Authenticate, or a redirect to auth-signin),
   * anything else → 500.
   */
  private authorize(inbound: Record<string, string | string[] | undefined>, cfg: LocationConfig, f: RequestFacts, requestId: string): Promise<{ headers: http.OutgoingHttpHeaders } | Answer> {
    const u = cfg.auth.url!;
    const h: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(inbound)) if (!HOP.has(k) && !k.startsWith(':') && k !== 'content-length' && k !== 'host' && v !== undefined) h[k] = v;
    h.host = u.host;
    h['x-original-url'] = `${f.scheme}://${f.host}${f.target}`;
    h['x-original-method'] = f.method;
    h['x-auth-request-redirect'] = f.target;
    h['x-sent-from'] = 'nginx-ingress-controller';
    h['x-real-ip'] = f.remote;
    h['x-forwarded-for'] = f.remote;
    h['x-request-id'] = requestId;
    const mod = u.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const sub = mod.request(
        { host: u.hostname, port: u.port || (u.protocol === 'https:' ? 443 : 80), path: u.pathname + u.search, method: cfg.auth.method, headers: h, timeout: cfg.proxy.readTimeoutMs, rejectUnauthorized: false },
        (ar) => {
          ar.resume();
          const status = ar.statusCode ?? 500;
          const verdict = authVerdict(status);
          if (verdict === 'allow') {
            const extra: http.OutgoingHttpHeaders = {};
            for (const name of cfg.auth.responseHeaders) {
              const v = ar.headers[name.toLowerCase()];
              if (v !== undefined) extra[name.toLowerCase()] = v;
            }
            return resolve({ headers: extra });
          }
          if (verdict === 'error') return resolve({ status: 500, headers: {} });
          if (status === 401 && cfg.auth.signin) {
            const sep = cfg.auth.signin.includes('?') ? '&' : '?';
            return resolve({ status: 302, headers: { location: `${cfg.auth.signin}${sep}rd=${encodeURIComponent(`${f.scheme}://${f.host}${f.target}`)}` } });
          }
          const www = ar.headers['www-authenticate'];
          resolve({ status, headers: status === 401 && typeof www === 'string' ? { 'www-authenticate': www } : {} });
        },
      );
      sub.on('timeout', () => sub.destroy(new Error('auth subrequest timed out')));
      sub.on('error', reject);
      sub.end();
    });
  }

  private proxy(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    cfg: LocationConfig,
    name: string,
    eps: PoolEndpoint[],
    headers: http.OutgoingHttpHeaders,
    target: string,
    locPath: string,
    scheme: 'http' | 'https',
    corsHeaders: Record<string, string> | null,
    facts: RequestFacts,
    setAddr: (a: string) => void,
  ): void {
    const tried = new Set<string>();
    const chunked = !req.headers['content-length'] && !!req.headers['transfer-encoding'];
    const bodyless = !req.headers['content-length'] && !chunked;
    const limit = cfg.proxy.bodySize;
    const tlsUpstream = cfg.proxy.backendProtocol === 'HTTPS';
    const grpc = cfg.proxy.backendProtocol === 'GRPC' || cfg.proxy.backendProtocol === 'GRPCS';
    const mod = tlsUpstream ? https : http;
    const sticky = affinityStep(cfg, facts, eps);
    const readMs = this.pool.readMsFor(cfg.proxy);
    const connectMs = this.pool.connectMsFor(cfg.proxy);
    let body: Buffer | null = null;
    const attempt = (): void => {
      const ep = sticky && !tried.has(sticky.key) ? sticky : this.pick(name, eps, tried, cfg.proxy.loadBalance === 'ewma');
      if (!ep) return plain(res, 502, '502 Bad Gateway');
      const k = ep.key;
      tried.add(k);
      setAddr(k);
      let responded = false;
      if (grpc) return this.grpcFromHttp1(req, res, ep, cfg, target, headers, readMs, corsHeaders, bodyless ? null : (body ?? req));
      const up = mod.request({ host: ep.address, port: ep.port, method: req.method, path: target, headers, agent: this.agent(ep, tlsUpstream), timeout: readMs });
      up.on('socket', (s) => {
        if (!s.connecting) return;
        const t = setTimeout(() => up.destroy(Object.assign(new Error('upstream timed out while connecting'), { code: CONNECT_TIMEOUT })), connectMs);
        s.once('connect', () => clearTimeout(t));
        s.once('close', () => clearTimeout(t));
      });
      up.on('response', (ur) => {
        responded = true;
        const h: http.OutgoingHttpHeaders = {};
        for (const [key, v] of Object.entries(ur.headers)) if (key !== 'connection' && key !== 'keep-alive' && key !== 'transfer-encoding') h[key] = v;
        if (corsHeaders) Object.assign(h, corsHeaders);
        if (cfg.affinity.cookie && ep !== sticky) {
          const c = affinityCookie(cfg.affinity, affinityKey(ep.key), locPath, scheme === 'https', Date.now());
          const prev = h['set-cookie'];
          h['set-cookie'] = prev === undefined ? [c] : [...(Array.isArray(prev) ? prev : [String(prev)]), c];
        }
        res.writeHead(ur.statusCode ?? 502, h);
        ur.pipe(res);
        ur.on('error', () => res.destroy());
      });
      up.on('timeout', () => up.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' })));
      up.on('error', (e: NodeJS.ErrnoException) => {
        if (responded) return res.destroy();
        // Passive health: a connection failure marks the endpoint and moves on (proxy_next_upstream error).
        if (e.code !== 'ETIMEDOUT') this.failedUntil.set(k, Date.now() + FAIL_TIMEOUT_MS);
        if ((bodyless || body) && !res.headersSent && tried.size < eps.length && e.code !== 'ETIMEDOUT') return attempt();
        const timedOut = e.code === 'ETIMEDOUT' || e.code === CONNECT_TIMEOUT;
        if (!res.headersSent) plain(res, timedOut ? 504 : 502, timedOut ? '504 Gateway Time-out' : '502 Bad Gateway');
        else res.destroy();
      });
      sendBody(up, bodyless ? null : (body ?? req), cfg.proxy.sendTimeoutMs, () => up.destroy(sendTimedOut()));
    };
    if (!chunked || limit === 0) return attempt();
    // A body of unknown length is read first (nginx's proxy_request_buffering), so it can be refused with 413 before any upstream sees it.
    bufferBody(req, limit, (b) => {
      if (b === null) {
        res.shouldKeepAlive = false;
        answer(res, { status: 413, headers: { connection: 'close' } });
        req.resume();
        return;
      }
      body = b;
      delete headers['transfer-encoding'];
      headers['content-length'] = String(body.length);
      attempt();
    });
  }

  /** An HTTP/1.1 request to a GRPC location: forwarded over HTTP/2 as nginx's grpc_pass does. */
  private grpcFromHttp1(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    ep: PoolEndpoint,
    cfg: LocationConfig,
    target: string,
    headers: http.OutgoingHttpHeaders,
    readMs: number,
    corsHeaders: Record<string, string> | null,
    body: Readable | Buffer | null,
  ): void {
    const secure = cfg.proxy.backendProtocol === 'GRPCS';
    const h = h2RequestHeaders(headers as Record<string, string>, req.method ?? 'GET', target, req.headers.host ?? '', secure, {});
    if (String(req.headers.te ?? '').includes('trailers')) h.te = 'trailers';
    let up: http2.ClientHttp2Stream;
    try {
      up = this.h2Upstreams.session(ep.address, ep.port, secure).request(h);
    } catch {
      return plain(res, 502, '502 Bad Gateway');
    }
    up.setTimeout(readMs, () => up.close(http2.constants.NGHTTP2_CANCEL));
    up.on('response', (uh) => {
      res.writeHead(Number(uh[':status'] ?? 502), { ...h2ResponseHeaders(uh), ...corsHeaders });
      up.pipe(res);
    });
    up.on('trailers', (t) => res.addTrailers(h2ResponseHeaders(t) as Record<string, string>));
    up.on('error', () => (res.headersSent ? res.destroy() : plain(res, 502, '502 Bad Gateway')));
    up.on('close', () => {
      if (!res.headersSent) plain(res, up.rstCode === http2.constants.NGHTTP2_CANCEL ? 504 : 502, up.rstCode === http2.constants.NGHTTP2_CANCEL ? '504 Gateway Time-out' : '502 Bad Gateway');
    });
    sendBody(up, body, cfg.proxy.sendTimeoutMs, () => up.close(http2.constants.NGHTTP2_CANCEL));
  }

  /**
   * A stream of an HTTP/2 connection (h2c on the plain port, or ALPN h2 on the TLS port): routed
   * and checked with the same steps as an HTTP/1.1 request (body size, denied, redirects, limits,
   * source ranges, CORS, auth-url, canary, affinity), then proxied over HTTP/2 to GRPC/GRPCS
   * backends, over HTTP/1.1 to the others. Metrics and the access log as for HTTP/1.1.
   */
  private handleH2(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, scheme: 'http' | 'https'): void {
    const snap = this.snap;
    const host = String(headers[':authority'] ?? headers.host ?? '');
    const target = String(headers[':path'] ?? '/');
    const method = String(headers[':method'] ?? 'GET');
    const remote = stream.session?.socket?.remoteAddress ?? '';
    stream.on('error', () => undefined);
    const t0 = performance.now();
    const requestId = (headers['x-request-id'] as string | undefined) || newRequestId();
    let matched: MatchResult | undefined;
    let upstreamAddr = '-';
    const setAddr = (a: string) => void (upstreamAddr = a);
    stream.once('close', () => {
      const r = matched;
      const status = Number(stream.sentHeaders?.[':status'] ?? 0) || 499;
      const secs = (performance.now() - t0) / 1000;
      const proxied = r?.kind === 'proxy' ? r : undefined;
      if (proxied && upstreamAddr !== '-' && proxied.location.config.proxy.loadBalance === 'ewma') this.ewma.observe(upstreamAddr, secs);
      this.metrics.observe({ ingress: proxied?.location.ingress ?? '', host: r && r.kind !== 'error' ? r.server.hostname : '', path: proxied?.location.ingressPath ?? '', status }, secs);
      const len = stream.sentHeaders?.['content-length'];
      this.opts.accessLog?.(
        `${remote || '-'} - - [${new Date().toISOString()}] "${method} ${target} HTTP/2.0" ${status} ${len ?? '-'} "${headers.referer ?? '-'}" "${headers['user-agent'] ?? '-'}" ${secs.toFixed(3)} [${proxied ? backendName(proxied.backend) : '-'}] ${upstreamAddr} ${requestId}`,
      );
    });
    const respond = (status: number, extra: Record<string, string> = {}) => {
      if (stream.headersSent || stream.destroyed) return void stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      const body = status === 204 || status < 200 ? '' : errorPage(status);
      stream.respond({ ':status': status, 'content-type': 'text/html', 'content-length': Buffer.byteLength(body), ...extra });
      stream.end(body);
    };
    // CONNECT is only for WebSocket (RFC 8441); a plain CONNECT gets nginx's 405.
    if (method === 'CONNECT' && headers[':protocol'] !== 'websocket') return respond(405);
    const r = (matched = match(snap.table, { host, target, scheme }));
    if (r.kind === 'error') return respond(400);
    if (scheme === 'https' && r.server.tls) {
      // Every response of this stream (answers, proxied ones, WebSocket) carries HSTS, as ingress-nginx's.
      const respondRaw = stream.respond.bind(stream);
      stream.respond = ((h?: http2.OutgoingHttpHeaders, o?: http2.ServerStreamResponseOptions) => respondRaw({ ...h, 'strict-transport-security': HSTS_HEADER }, o)) as typeof stream.respond;
    }
    if (r.kind === 'redirect') return respond(r.status, { location: r.location });
    const cfg = r.location.config;
    const facts: RequestFacts = { method, scheme, host, target, remote, header: (n) => (n === 'host' ? host : (headers[n] as string | undefined)), httpsPort: this.ports.https || 443 };
    const early = bodySizeStep(cfg, headers['content-length'] !== undefined ? Number(headers['content-length']) : null) ?? deniedStep(cfg) ?? redirectStep(r.server, r.location, facts);
    if (early) return respond(early.status, early.headers);
    this.limits.check(cfg.limits, r.location.ingress ?? '', remote, (ok, release) => {
      if (stream.closed || stream.destroyed) return release();
      if (!ok) return respond(LIMIT_STATUS);
      stream.once('close', release);
      if (sourceRangeStep(cfg, remote)) return respond(403);
      const cors = corsStep(cfg, facts);
      if (cors.answer) {
        if (stream.destroyed) return;
        stream.respond({ ':status': 204, ...cors.answer.headers });
        return void stream.end();
      }
      if (cfg.auth.url) {
        this.authorize(headers as Record<string, string>, cfg, facts, requestId).then(
          (a) => ('status' in a ? respond(a.status, a.headers) : this.proxyH2(stream, headers, r, cfg, facts, requestId, a.headers as Record<string, string>, cors.headers, setAddr)),
          () => respond(500),
        );
        return;
      }
      this.proxyH2(stream, headers, r, cfg, facts, requestId, {}, cors.headers, setAddr);
    });
  }

  private proxyH2(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    r: Extract<MatchResult, { kind: 'proxy' }>,
    cfg: LocationConfig,
    facts: RequestFacts,
    requestId: string,
    authHeaders: Record<string, string>,
    corsHeaders: Record<string, string> | null,
    setAddr: (a: string) => void,
  ): void {
    if (stream.destroyed) return;
    const snap = this.snap;
    const { host, method, remote, scheme } = facts;
    const respond = (status: number) => {
      if (stream.headersSent || stream.destroyed) return void stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      const body = errorPage(status);
      stream.respond({ ':status': status, 'content-type': 'text/html', 'content-length': Buffer.byteLength(body) });
      stream.end(body);
    };
    // 413 while the client may still be sending: the answer, then RST_STREAM NO_ERROR so it stops (RFC 9113 8.1).
    const tooLarge = () => {
      if (stream.headersSent || stream.destroyed) return void stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      const body = errorPage(413);
      stream.respond({ ':status': 413, 'content-type': 'text/html', 'content-length': Buffer.byteLength(body) });
      stream.end(body, () => stream.close(http2.constants.NGHTTP2_NO_ERROR));
    };
    const chosen = canaryStep(r.backend, r.backend ? snap.table.alternatives.get(backendName(r.backend)) : undefined, facts);
    let name = backendName(chosen.backend);
    let eps = chosen.backend ? snap.endpoints[name] : this.defaultEndpoint ? [this.defaultEndpoint] : undefined;
    if (chosen.canary && !eps?.length) eps = snap.endpoints[(name = backendName(r.backend))];
    if (!eps?.length) return respond(r.backend ? 503 : 404);
    const sticky = affinityStep(cfg, facts, eps);
    const ep = sticky ?? this.pick(name, eps, new Set(), cfg.proxy.loadBalance === 'ewma');
    if (!ep) return respond(502);
    setAddr(ep.key);
    // A new client (or one whose endpoint is gone) gets the affinity cookie, as over HTTP/1.1.
    const cookie = cfg.affinity.cookie && ep !== sticky ? affinityCookie(cfg.affinity, affinityKey(ep.key), cookiePath(r.location.ingressPath), scheme === 'https', Date.now()) : null;
    const withCookie = (rh: http2.OutgoingHttpHeaders): http2.OutgoingHttpHeaders => {
      if (!cookie) return rh;
      const prev = rh['set-cookie'];
      rh['set-cookie'] = prev === undefined ? [cookie] : [...(Array.isArray(prev) ? prev : [String(prev)]), cookie];
      return rh;
    };
    const fwd: Record<string, string> = {
      ...authHeaders,
      'x-request-id': requestId,
      'x-real-ip': remote,
      'x-forwarded-for': remote,
      // $best_http_host: the Host (:authority) as sent, port included, as ingress-nginx passes it.
      'x-forwarded-host': host,
      'x-forwarded-port': String(stream.session?.socket?.localPort ?? 0),
      'x-forwarded-proto': scheme,
      'x-forwarded-scheme': scheme,
      'x-scheme': scheme,
    };
    if (r.forwardedPrefix) fwd['x-forwarded-prefix'] = r.forwardedPrefix;
    if (method === 'CONNECT') return this.websocketH2(stream, headers, host, r, cfg, ep, fwd, withCookie, respond);
    const readMs = this.pool.readMsFor(cfg.proxy);
    const proto = cfg.proxy.backendProtocol;
    if (proto === 'GRPC' || proto === 'GRPCS') {
      const secure = proto === 'GRPCS';
      let up: http2.ClientHttp2Stream;
      try {
        up = this.h2Upstreams.session(ep.address, ep.port, secure).request(h2RequestHeaders(headers as Record<string, string>, method, r.upstreamTarget, host, secure, fwd));
      } catch {
        return respond(502);
      }
      let trailers: http2.OutgoingHttpHeaders | undefined;
      up.setTimeout(readMs, () => up.close(http2.constants.NGHTTP2_CANCEL));
      up.on('response', (uh) => {
        if (stream.destroyed) return;
        stream.respond(withCookie({ ':status': Number(uh[':status'] ?? 502), ...h2ResponseHeaders(uh), ...corsHeaders }), { waitForTrailers: true });
        up.pipe(stream);
      });
      up.on('trailers', (t) => (trailers = h2ResponseHeaders(t)));
      stream.on('wantTrailers', () => (trailers && Object.keys(trailers).length ? stream.sendTrailers(trailers) : stream.close()));
      up.on('error', () => undefined);
      up.on('close', () => {
        if (!stream.headersSent) respond(up.rstCode === http2.constants.NGHTTP2_CANCEL ? 504 : 502);
        else if (!stream.writableEnded) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      });
      stream.on('close', () => void (up.closed || up.close(http2.constants.NGHTTP2_CANCEL)));
      // A streamed gRPC body is counted as it passes (nginx checks client_max_body_size per DATA frame).
      watchBodySize(stream, cfg.proxy.bodySize, () => {
        tooLarge();
        up.close(http2.constants.NGHTTP2_CANCEL);
      });
      sendBody(up, stream.endAfterHeaders ? null : stream, cfg.proxy.sendTimeoutMs, () => up.close(http2.constants.NGHTTP2_CANCEL));
      return;
    }
    const h: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (!k.startsWith(':') && !HOP.has(k) && v !== undefined) h[k] = v;
    h.host = host;
    Object.assign(h, fwd);
    if (!stream.endAfterHeaders && headers['content-length'] === undefined && cfg.proxy.bodySize > 0) {
      // No length given: read the body first (proxy_request_buffering), so one too large gets 413 and no upstream sees it.
      return bufferBody(stream, cfg.proxy.bodySize, (b) => {
        if (b === null) return tooLarge();
        h['content-length'] = String(b.length);
        this.forwardH2(stream, h, ep, method, r, readMs, proto === 'HTTPS', cfg.proxy.sendTimeoutMs, corsHeaders, withCookie, respond, b);
      });
    }
    this.forwardH2(stream, h, ep, method, r, readMs, proto === 'HTTPS', cfg.proxy.sendTimeoutMs, corsHeaders, withCookie, respond, stream.endAfterHeaders ? null : stream);
  }

  /** An HTTP/2 stream's request over HTTP/1.1 to an HTTP or HTTPS backend. */
  private forwardH2(
    stream: http2.ServerHttp2Stream,
    h: http.OutgoingHttpHeaders,
    ep: PoolEndpoint,
    method: string,
    r: Extract<MatchResult, { kind: 'proxy' }>,
    readMs: number,
    tlsUpstream: boolean,
    sendMs: number,
    corsHeaders: Record<string, string> | null,
    withCookie: (rh: http2.OutgoingHttpHeaders) => http2.OutgoingHttpHeaders,
    respond: (status: number) => void,
    body: Readable | Buffer | null,
  ): void {
    if (stream.destroyed) return;
    const up = (tlsUpstream ? https : http).request({ host: ep.address, port: ep.port, method, path: r.upstreamTarget, headers: h, agent: this.agent(ep, tlsUpstream), timeout: readMs });
    up.on('response', (ur) => {
      if (stream.destroyed) return void ur.resume();
      const rh: http2.OutgoingHttpHeaders = { ':status': ur.statusCode ?? 502 };
      for (const [k, v] of Object.entries(ur.headers)) if (!HOP.has(k) && v !== undefined) rh[k] = v;
      if (corsHeaders) Object.assign(rh, corsHeaders);
      stream.respond(withCookie(rh));
      ur.pipe(stream);
    });
    up.on('timeout', () => up.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' })));
    up.on('error', (e: NodeJS.ErrnoException) => (stream.headersSent ? stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR) : respond(e.code === 'ETIMEDOUT' ? 504 : 502)));
    sendBody(up, body, sendMs, () => up.destroy(sendTimedOut()));
  }

  /**
   * WebSocket over HTTP/2 (RFC 8441): the extended CONNECT stream becomes an HTTP/1.1 Upgrade to
   * the backend, with a Sec-WebSocket-Key of our own (RFC 8441 has none); the backend's 101 is the
   * client's 200 (without Sec-WebSocket-Accept), then bytes flow both ways. Anything but 101 is
   * passed on as an ordinary response.
   */
  private websocketH2(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    host: string,
    r: Extract<MatchResult, { kind: 'proxy' }>,
    cfg: LocationConfig,
    ep: PoolEndpoint,
    fwd: Record<string, string>,
    withCookie: (rh: http2.OutgoingHttpHeaders) => http2.OutgoingHttpHeaders,
    respond: (status: number) => void,
  ): void {
    let head = `GET ${r.upstreamTarget} HTTP/1.1\r\nhost: ${host}\r\n`;
    for (const [k, v] of Object.entries(headers)) {
      if (k.startsWith(':') || HOP.has(k) || k === 'sec-websocket-key' || v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) head += `${k}: ${x}\r\n`;
    }
    for (const [k, v] of Object.entries(fwd)) head += `${k}: ${v}\r\n`;
    head += `connection: upgrade\r\nupgrade: websocket\r\nsec-websocket-key: ${randomBytes(16).toString('base64')}\r\n\r\n`;
    const secure = cfg.proxy.backendProtocol === 'HTTPS';
    const up: net.Socket = secure ? tls.connect({ port: ep.port, host: ep.address, rejectUnauthorized: false }) : net.connect(ep.port, ep.address);
    const connectTimer = setTimeout(() => up.destroy(), cfg.proxy.connectTimeoutMs);
    up.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(connectTimer);
      up.setNoDelay(true);
      up.write(head, 'latin1');
    });
    let buf = Buffer.alloc(0);
    const onHead = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 64 * 1024) up.destroy();
        return;
      }
      up.off('data', onHead);
      up.pause();
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? 0);
      if (!status || stream.destroyed) return void up.destroy();
      const rh: http2.OutgoingHttpHeaders = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        const k = line.slice(0, i).trim().toLowerCase();
        if (i <= 0 || HOP.has(k) || k === 'sec-websocket-accept') continue;
        const v = line.slice(i + 1).trim();
        const prev = rh[k];
        rh[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [String(prev)]), v];
      }
      rh[':status'] = status === 101 ? 200 : status;
      stream.respond(withCookie(rh));
      const rest = buf.subarray(end + 4);
      if (rest.length) stream.write(rest);
      up.pipe(stream);
      if (status === 101) stream.pipe(up);
      up.resume();
    };
    up.on('data', onHead);
    up.on('error', () => undefined);
    up.on('close', () => {
      clearTimeout(connectTimer);
      if (!stream.headersSent) respond(502);
      else if (!stream.writableEnded && !stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    stream.on('close', () => up.destroy());
  }

  private upgrade(req: http.IncomingMessage, sock: net.Socket, head: Buffer, scheme: 'http' | 'https'): void {
    const snap = this.snap;
    const r = match(snap.table, { host: req.headers.host ?? '', target: req.url ?? '/', scheme });
    const fail = (status: number, text: string): void => void sock.end(`HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    if (r.kind === 'error') return fail(400, 'Bad Request');
    if (r.kind === 'redirect') return void sock.end(`HTTP/1.1 ${r.status} Moved\r\nLocation: ${r.location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    // The steps that decide without a subrequest apply to upgrades too (auth-url is not applied to WebSocket upgrades).
    const cfg = r.location.config;
    const facts = this.facts(req, scheme);
    const early = deniedStep(cfg) ?? redirectStep(r.server, r.location, facts);
    if (early) {
      const loc = early.headers.location ? `Location: ${early.headers.location}\r\n` : '';
      return void sock.end(`HTTP/1.1 ${early.status} ${STATUS_TEXT[early.status] ?? ''}\r\n${loc}Content-Length: 0\r\nConnection: close\r\n\r\n`);
    }
    this.limits.check(cfg.limits, r.location.ingress ?? '', facts.remote, (ok, release) => {
      if (sock.destroyed) return release();
      if (!ok) return fail(LIMIT_STATUS, STATUS_TEXT[LIMIT_STATUS]);
      sock.once('close', release);
      if (sourceRangeStep(cfg, facts.remote)) return fail(403, 'Forbidden');
      const chosen = canaryStep(r.backend, r.backend ? snap.table.alternatives.get(backendName(r.backend)) : undefined, facts);
      let name = backendName(chosen.backend);
      let eps = chosen.backend ? snap.endpoints[name] : this.defaultEndpoint ? [this.defaultEndpoint] : undefined;
      if (chosen.canary && !eps?.length) eps = snap.endpoints[(name = backendName(r.backend))];
      if (!eps?.length) return fail(r.backend ? 503 : 404, r.backend ? 'Service Unavailable' : 'Not Found');
      const ep = affinityStep(cfg, facts, eps) ?? this.pick(name, eps, new Set(), cfg.proxy.loadBalance === 'ewma')!;
      const requestId = (req.headers['x-request-id'] as string | undefined) || newRequestId();
      const headers = forwardHeaders(req, scheme, requestId, r);
      if (cfg.auth.url) {
        // auth-url guards upgrades too: connect only once the auth service agrees.
        return void this.authorize(req.headers, cfg, facts, requestId).then(
          (a) => ('status' in a ? fail(a.status, STATUS_TEXT[a.status] ?? '') : this.connectUpgrade(req, sock, head, cfg, ep, Object.assign(headers, a.headers), r.upstreamTarget, fail)),
          () => fail(500, 'Internal Server Error'),
        );
      }
      this.connectUpgrade(req, sock, head, cfg, ep, headers, r.upstreamTarget, fail);
    });
  }

  private connectUpgrade(req: http.IncomingMessage, sock: net.Socket, head: Buffer, cfg: LocationConfig, ep: PoolEndpoint, headers: http.OutgoingHttpHeaders, target: string, fail: (status: number, text: string) => void): void {
    if (sock.destroyed) return;
    const onConnect = () => {
      let headText = `${req.method} ${target} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(headers)) for (const x of Array.isArray(v) ? v : [v]) headText += `${k}: ${x}\r\n`;
      headText += `connection: upgrade\r\nupgrade: ${req.headers.upgrade}\r\n\r\n`;
      up.write(headText);
      if (head.length) up.write(head);
      up.pipe(sock);
      sock.pipe(up);
    };
    const up: net.Socket =
      cfg.proxy.backendProtocol === 'HTTPS' ? tls.connect({ port: ep.port, host: ep.address, rejectUnauthorized: false }, onConnect) : net.connect(ep.port, ep.address, onConnect);
    up.on('error', () => void (sock.writable && !up.bytesRead ? fail(502, 'Bad Gateway') : sock.destroy()));
    sock.on('error', () => void up.destroy());
    sock.on('close', () => void up.destroy());
    up.on('close', () => void sock.destroy());
  }
}

/** proxy-send-timeout fired: handled as a read timeout (504 when nothing was answered yet). */
const sendTimedOut = () => Object.assign(new Error('upstream timed out while sending the request'), { code: 'ETIMEDOUT' });

function forwardHeaders(req: http.IncomingMessage, scheme: string, requestId: string, r: Extract<MatchResult, { kind: 'proxy' }>): http.OutgoingHttpHeaders {
  const h: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && v !== undefined) h[k] = v;
  const remote = req.socket.remoteAddress ?? '';
  const hostHeader = req.headers.host ?? '';
  const local = req.socket.localPort ?? 0;
  h['x-request-id'] = requestId;
  h['x-real-ip'] = remote;
  h['x-forwarded-for'] = remote;
  // ingress-nginx sends $best_http_host, the Host header as sent (port included on 8080/8443).
  h['x-forwarded-host'] = hostHeader;
  h['x-forwarded-port'] = String(local);
  h['x-forwarded-proto'] = scheme;
  h['x-forwarded-scheme'] = scheme;
  h['x-scheme'] = scheme;
  if (r.forwardedPrefix) h['x-forwarded-prefix'] = r.forwardedPrefix;
  return h;
}

/** The affinity cookie's default Path: the Ingress path, or `/` when that is a regex (ingress-nginx wants session-cookie-path then). */
export function cookiePath(ingressPath: string): string {
  return /^\/[A-Za-z0-9._~\-/%]*$/.test(ingressPath) ? ingressPath : '/';
}

/** A response decided by a step (redirect, 403, 413, 503, CORS preflight…). */
function answer(res: http.ServerResponse, a: Answer): void {
  if (res.headersSent) return void res.destroy();
  // A refused body is not read: the connection cannot be reused.
  if (a.status === 413) res.shouldKeepAlive = false;
  const body = a.body ?? (a.status === 204 ? '' : errorPage(a.status));
  const h: http.OutgoingHttpHeaders = { 'content-type': 'text/html', ...a.headers };
  if (!('content-length' in a.headers)) h['content-length'] = Buffer.byteLength(body);
  res.writeHead(a.status, STATUS_TEXT[a.status], h);
  res.end(body);
}

/** The data plane's own answers, with nginx's error page (the same over HTTP/1.1 and HTTP/2). */
function plain(res: http.ServerResponse, status: number, _text?: string): void {
  const body = errorPage(status);
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
