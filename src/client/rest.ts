import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import tls from 'node:tls';
import { SkiffError } from '../util/errors.js';
import { Http1Pool } from './http1.js';

/** Connection details for the API server: what a kubeconfig holds. */
export interface ClientConfig {
  server: string;
  caPem: string;
  certPem?: string;
  keyPem?: string;
  token?: string;
  /** Sent as User-Agent so the API server can tell components apart. */
  userAgent?: string;
}

export function configFromKubeconfig(path: string, userAgent?: string): ClientConfig {
  // yaml is loaded on first use: a node agent should not pay ~10 MB for it at import time.
  const YAML = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  const kc = YAML.parse(readFileSync(path, 'utf8'));
  const ctxName = kc['current-context'];
  const ctx = (kc.contexts ?? []).find((c: any) => c.name === ctxName)?.context ?? kc.contexts?.[0]?.context;
  const cluster = (kc.clusters ?? []).find((c: any) => c.name === ctx?.cluster)?.cluster ?? kc.clusters?.[0]?.cluster;
  const user = (kc.users ?? []).find((u: any) => u.name === ctx?.user)?.user ?? kc.users?.[0]?.user ?? {};
  if (!cluster?.server) throw new SkiffError('BAD_KUBECONFIG', `${path}: no cluster server found`);
  const b64 = (s?: string) => (s ? Buffer.from(s, 'base64').toString('utf8') : undefined);
  return {
    server: cluster.server,
    caPem: b64(cluster['certificate-authority-data']) ?? readFileSync(cluster['certificate-authority'], 'utf8'),
    certPem: b64(user['client-certificate-data']),
    keyPem: b64(user['client-key-data']),
    token: user.token,
    userAgent,
  };
}

/** A failed API call, carrying the server's Status. */
export class ApiError extends SkiffError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body?: any,
  ) {
    super(`API_${reason || status}`, message);
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/**
 * A minimal JSON client of the Kubernetes REST API over one keep-alive HTTPS agent, used by every
 * Skiff component (they talk to each other only through the API server).
 */
export class RestClient {
  /** Carries watches (long-lived streams); its maxSockets also bounds the request pool. */
  readonly agent: https.Agent;
  private readonly base: URL;
  private readonly pool: Http1Pool;
  /** The header lines every request carries (Host, Accept, User-Agent, Authorization). */
  private readonly fixedHeaders: string;

  constructor(readonly config: ClientConfig) {
    this.base = new URL(config.server);
    // One TLS context for every socket (not one per connection: a burst opens dozens).
    const secureContext = tls.createSecureContext({ ca: config.caPem, cert: config.certPem, key: config.keyPem });
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca: config.caPem, cert: config.certPem, key: config.keyPem, secureContext });
    const port = Number(this.base.port || 443);
    const host = this.base.hostname.replace(/^\[(.*)\]$/, '$1');
    this.pool = new Http1Pool({ host, port, secureContext, maxSockets: () => this.agent.maxSockets });
    let h = `Host: ${this.base.host}\r\nAccept: application/json\r\n`;
    if (config.userAgent) h += `User-Agent: ${headerValue(config.userAgent)}\r\n`;
    if (config.token) h += `Authorization: Bearer ${headerValue(config.token)}\r\n`;
    this.fixedHeaders = h;
  }

  private path(p: string, query?: RequestOptions['query']): string {
    if (!query) return p;
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
    const s = q.toString();
    return s ? `${p}?${s}` : p;
  }

  private raw(method: string, p: string, o: RequestOptions = {}): Promise<IncomingMessage> {
    const data = o.body === undefined ? undefined : JSON.stringify(o.body);
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (this.config.userAgent) headers['user-agent'] = this.config.userAgent;
    if (this.config.token) headers.authorization = `Bearer ${this.config.token}`;
    if (data !== undefined) {
      headers['content-type'] = o.contentType ?? 'application/json';
      headers['content-length'] = Buffer.byteLength(data);
    }
    return new Promise((resolve, reject) => {
      const req = https.request({ host: this.base.hostname, port: this.base.port, path: this.path(p, o.query), method, agent: this.agent, headers, signal: o.signal }, resolve);
      req.on('error', reject);
      req.end(data);
    });
  }

  async request<T = any>(method: string, p: string, o: RequestOptions = {}): Promise<T> {
    const target = this.path(p, o.query);
    if (!/^\/[\x21-\x7e]*$/.test(target)) throw new TypeError(`request path contains unescaped characters: ${JSON.stringify(target)}`);
    let wire = `${method} ${target} HTTP/1.1\r\n${this.fixedHeaders}`;
    if (o.body !== undefined) {
      const data = JSON.stringify(o.body);
      wire += `Content-Type: ${headerValue(o.contentType ?? 'application/json')}\r\nContent-Length: ${Buffer.byteLength(data)}\r\n\r\n${data}`;
    } else wire += method === 'GET' || method === 'HEAD' ? '\r\n' : 'Content-Length: 0\r\n\r\n';
    const res = await this.pool.request(method, wire, o.signal);
    const text = res.body;
    const status = res.status;
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    throw new ApiError(status, body?.reason ?? '', body?.message ?? `${method} ${p}: HTTP ${status}`, body);
  }

  get<T = any>(p: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', p, { query });
  }
  create<T = any>(p: string, body: unknown, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('POST', p, { body, query });
  }
  update<T = any>(p: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', p, { body });
  }
  patch<T = any>(p: string, body: unknown, type: 'merge' | 'strategic' | 'json' = 'merge'): Promise<T> {
    const ct = type === 'merge' ? 'application/merge-patch+json' : type === 'strategic' ? 'application/strategic-merge-patch+json' : 'application/json-patch+json';
    return this.request<T>('PATCH', p, { body, contentType: ct });
  }
  delete<T = any>(p: string, body?: unknown): Promise<T> {
    return this.request<T>('DELETE', p, { body });
  }

  /** Opens a watch; each event is handed to onEvent; resolves when the stream ends. */
  async watch(p: string, query: RequestOptions['query'], onEvent: (ev: { type: string; object: any }) => void, signal?: AbortSignal): Promise<void> {
    const res = await this.raw('GET', p, { query: { ...query, watch: 1 }, signal });
    if ((res.statusCode ?? 0) >= 300) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: any;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      throw new ApiError(res.statusCode ?? 0, body?.reason ?? '', body?.message ?? `watch ${p}: HTTP ${res.statusCode}`, body);
    }
    let buf = '';
    res.setEncoding('utf8');
    try {
      for await (const chunk of res) {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line) onEvent(JSON.parse(line));
        }
      }
    } catch (e) {
      if (signal?.aborted) return;
      throw e;
    }
  }

  close(): void {
    this.pool.destroy();
    this.agent.destroy();
  }
}

/** A header value as given, refusing CR/LF (header injection), as Node's http client does. */
function headerValue(v: string): string {
  if (/[\r\n]/.test(v)) throw new TypeError(`invalid character in header value: ${JSON.stringify(v)}`);
  return v;
}

/** Path of a resource collection or object: resourcePath('apps','v1','deployments','ns','x'). */
export function resourcePath(group: string, version: string, resource: string, namespace?: string, name?: string, subresource?: string): string {
  let p = group ? `/apis/${group}/${version}` : `/api/${version}`;
  if (namespace) p += `/namespaces/${namespace}`;
  p += `/${resource}`;
  if (name) p += `/${name}`;
  if (subresource) p += `/${subresource}`;
  return p;
}
