/** Compact Ingress builders for tests and benchmarks. */
import http from 'node:http';
import type { Ingress } from 'kubernetes-types/networking/v1.js';
import type { PathType } from './table.js';

export interface PathSpec {
  path: string;
  type?: PathType;
  service: string;
  port?: number | string;
}

export interface IngressSpec {
  name: string;
  namespace?: string;
  host?: string;
  paths?: PathSpec[];
  annotations?: Record<string, string>;
  /** Seconds since epoch, to order Ingresses (oldest wins conflicts). */
  created?: number;
  defaultBackend?: { service: string; port?: number | string };
  className?: string;
  tls?: { hosts: string[]; secretName: string }[];
}

const port = (p: number | string | undefined) => (typeof p === 'string' ? { name: p } : { number: p ?? 80 });

export function ing(s: IngressSpec): Ingress {
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.annotations ?? {})) annotations[k.includes('/') ? k : `nginx.ingress.kubernetes.io/${k}`] = v;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: s.name,
      namespace: s.namespace ?? 'default',
      annotations,
      creationTimestamp: new Date((s.created ?? 1_700_000_000) * 1000).toISOString(),
    },
    spec: {
      ...(s.className ? { ingressClassName: s.className } : {}),
      ...(s.defaultBackend ? { defaultBackend: { service: { name: s.defaultBackend.service, port: port(s.defaultBackend.port) } } } : {}),
      ...(s.tls ? { tls: s.tls } : {}),
      ...(s.paths
        ? {
            rules: [
              {
                ...(s.host ? { host: s.host } : {}),
                http: { paths: s.paths.map((p) => ({ path: p.path, pathType: p.type ?? 'Prefix', backend: { service: { name: p.service, port: port(p.port) } } })) },
              },
            ],
          }
        : {}),
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON when the body is JSON (the echo backends answer JSON), else the text. */
  body: any;
}

/** One request to a data plane on 127.0.0.1 with a Host header (a body may come in chunks); fails after 30 s rather than hang. */
export function requestHost(
  port: number,
  host: string,
  target: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer[]; agent?: http.Agent | false } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, method: opts.method ?? 'GET', agent: opts.agent ?? false, headers: { host, ...opts.headers } }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => {
        let body: any = b;
        try {
          body = JSON.parse(b);
        } catch {
          /* not JSON */
        }
        clearTimeout(deadline);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on('error', fail);
    });
    const fail = (e: Error) => {
      clearTimeout(deadline);
      reject(e);
    };
    const deadline = setTimeout(() => {
      fail(new Error(`${opts.method ?? 'GET'} http://${host}${target} (127.0.0.1:${port}) got no complete answer within 30 s`));
      req.destroy();
    }, 30_000);
    req.on('error', fail);
    if (Array.isArray(opts.body)) {
      for (const c of opts.body) req.write(c);
      req.end();
    } else req.end(opts.body);
  });
}

/**
 * The seed's two rewrite-target Ingresses (simple.test `/app` → `/`; captures.test `/app(/|$)(.*)`
 * → `/$2`) to Service `app` port 80 (`http`), as YAML for kubectl; no className: the default IngressClass.
 */
export function seedIngressesYaml(className?: string): string {
  const cls = className ? `\n  ingressClassName: ${className}` : '';
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: simple
  annotations: { nginx.ingress.kubernetes.io/rewrite-target: / }
spec:${cls}
  rules:
  - host: simple.test
    http:
      paths:
      - { path: /app, pathType: Prefix, backend: { service: { name: app, port: { number: 80 } } } }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: captures
  annotations: { nginx.ingress.kubernetes.io/rewrite-target: /$2, nginx.ingress.kubernetes.io/use-regex: "true" }
spec:${cls}
  rules:
  - host: captures.test
    http:
      paths:
      - { path: /app(/|$)(.*), pathType: ImplementationSpecific, backend: { service: { name: app, port: { name: http } } } }
`;
}
