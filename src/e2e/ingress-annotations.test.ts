/**
 * ingress-nginx annotations end to end with the real kubectl: Ingresses applied to a test cluster,
 * the controller and its data plane composed here, backends on this machine's address (named by
 * EndpointSlices created here) that answer with the request they saw.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { requestHost } from '../ingress/fixtures.js';
import https from 'node:https';
import net from 'node:net';
import http2 from 'node:http2';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createIngressController, type IngressController } from '../ingress/controller.js';
import { hostIPv4 } from '../ingress/peers.js';
import { selfSignedCert } from '../ingress/selfsigned.js';
import { until } from '../testing/wait.js';

const request = requestHost;

interface Backend {
  name: string;
  port: number;
  close(): void;
}

/** Answers with JSON {backend, url, method, headers}; `delayMs` before answering. */
async function startBackend(name: string, host: string, o: { tls?: boolean; delayMs?: number } = {}): Promise<Backend> {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let n = 0;
    req.on('data', (d: Buffer) => (n += d.length));
    req.on('end', () => {
      const body = JSON.stringify({ backend: name, url: req.url, method: req.method, headers: req.headers, bodyBytes: n, tls: !!o.tls });
      const send = () => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'set-cookie': 'app=1' });
        res.end(body);
      };
      if (o.delayMs) setTimeout(send, o.delayMs).unref();
      else send();
    });
  };
  const server = o.tls ? https.createServer(await selfSignedCert('backend.test', ['backend.test']), handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  return {
    name,
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const P = 'nginx.ingress.kubernetes.io';

describe('ingress-nginx annotations (kubectl)', () => {
  let c: TestCluster;
  let client: RestClient;
  let ctl: IngressController;
  let port: number;
  let httpsPort: number;
  const backends: Backend[] = [];
  const closers: (() => void)[] = [];
  const ip = hostIPv4();
  const missing = which('kubectl') ? (ip ? undefined : 'no non-loopback IPv4 address for EndpointSlices') : 'kubectl is not on PATH';
  const k = (args: string[], input?: string) => c.run(args, input);

  /** A Service named `name` with `n` endpoints, each its own backend process on this machine's address. */
  const service = async (name: string, n = 1, o: { tls?: boolean; delayMs?: number } = {}) => {
    const list: Backend[] = [];
    for (let i = 0; i < n; i++) list.push(await startBackend(n > 1 ? `${name}-${i}` : name, ip!, o));
    backends.push(...list);
    const slices = list
      .map(
        (b, i) => `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-${i}, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
ports: [{name: http, port: ${b.port}, protocol: TCP}]
endpoints: [{addresses: ["${ip}"], conditions: {ready: true}}]
`,
      )
      .join('');
    await k(['apply', '-f', '-'], `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
${slices}`);
    return list;
  };

  const ingress = (name: string, host: string, svc: string, anns: Record<string, string>, extra = '') => {
    const a = Object.entries(anns)
      .map(([key, v]) => `    ${key.includes('/') ? key : `${P}/${key}`}: ${JSON.stringify(v)}\n`)
      .join('');
    return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  annotations:
${a || '    {}\n'}spec:
  ingressClassName: nginx
${extra}  rules:
  - host: ${host}
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: ${svc}, port: {number: 80}}}}
`;
  };
  const apply = (...docs: string[]) => k(['apply', '-f', '-'], docs.join('---\n'));
  /** Waits until `host` answers other than the catch-all's 404. */
  const ready = (host: string, target = '/', headers?: Record<string, string>) => until(`${host} routed`, async () => ((await request(port, host, target, { headers })).status !== 404 ? true : undefined));

  before(async () => {
    if (missing) return;
    c = await startTestCluster();
    client = new RestClient(configFromKubeconfig(c.kubeconfig, 'e2e-ingress-annotations'));
    await k(['apply', '-f', '-'], `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
`);
    ctl = createIngressController(client, { httpPort: 0, httpsPort: 0, host: '127.0.0.1' });
    await ctl.start();
    port = ctl.dataPlane!.ports.http;
    httpsPort = ctl.dataPlane!.ports.https;
  });
  after(async () => {
    await ctl?.stop();
    for (const b of backends) b.close();
    for (const f of closers) f();
    client?.close?.();
    await c?.stop();
  });

  it('redirects: permanent/temporal with codes, ssl-redirect 308 for TLS hosts, force-ssl-redirect', async (t) => {
    if (!needs(t, missing)) return;
    await service('web');
    await apply(
      ingress('perm', 'perm.test', 'web', { 'permanent-redirect': 'https://new.test/landing' }),
      ingress('perm308', 'perm308.test', 'web', { 'permanent-redirect': 'https://new.test/', 'permanent-redirect-code': '308' }),
      ingress('temp', 'temp.test', 'web', { 'temporal-redirect': 'https://elsewhere.test/' }),
      ingress('tls', 'tls.test', 'web', {}, '  tls: [{hosts: [tls.test]}]\n'),
      ingress('nossl', 'nossl.test', 'web', { 'ssl-redirect': 'false' }, '  tls: [{hosts: [nossl.test]}]\n'),
      ingress('force', 'force.test', 'web', { 'force-ssl-redirect': 'true' }),
    );
    await ready('force.test');
    const rows: [string, string, number, string | undefined][] = [
      ['perm.test', '/a?b=1', 301, 'https://new.test/landing'],
      ['perm308.test', '/', 308, 'https://new.test/'],
      ['temp.test', '/', 302, 'https://elsewhere.test/'],
      ['tls.test', '/x?y=1', 308, `https://tls.test:${httpsPort}/x?y=1`],
      ['nossl.test', '/x', 200, undefined],
      ['force.test', '/p', 308, `https://force.test:${httpsPort}/p`],
    ];
    for (const [host, target, status, location] of rows) {
      const r = await request(port, host, target);
      assert.equal(r.status, status, host);
      assert.equal(r.headers.location, location, host);
    }
    // Over HTTPS the TLS host is proxied.
    const viaTls = await new Promise<number>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: httpsPort, path: '/', servername: 'tls.test', headers: { host: 'tls.test' }, rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(viaTls, 200);
  });

  it('snippets are refused and invalid values reported with Warning events; the Ingress keeps serving', async (t) => {
    if (!needs(t, missing)) return;
    await service('snip');
    await apply(ingress('snippets', 'snip.test', 'snip', { 'configuration-snippet': 'return 200 "pwned";', 'proxy-body-size': 'lots' }));
    await ready('snip.test');
    const r = await request(port, 'snip.test', '/');
    assert.equal(r.status, 200);
    assert.equal(r.body.backend, 'snip');
    const reasons = await until('events', async () => {
      const out = await k(['get', 'events', '--field-selector', 'involvedObject.name=snippets', '-o', 'jsonpath={range .items[*]}{.type}/{.reason}{"\\n"}{end}']);
      return out.includes('Warning/SnippetRefused') && out.includes('Warning/InvalidAnnotation') ? out : undefined;
    });
    assert.match(reasons, /Warning\/SnippetRefused/);
  });

  it('proxy-body-size (413 by Content-Length and by a streamed body) and proxy-read-timeout (504)', async (t) => {
    if (!needs(t, missing)) return;
    await service('body');
    await service('slow', 1, { delayMs: 3000 });
    await apply(ingress('small', 'small.test', 'body', { 'proxy-body-size': '1k' }), ingress('slow', 'slow.test', 'slow', { 'proxy-read-timeout': '1' }), ingress('big', 'big.test', 'body', {}));
    await ready('big.test');
    await ready('small.test');
    assert.equal((await request(port, 'small.test', '/', { method: 'POST', body: 'x'.repeat(1024) })).body.bodyBytes, 1024);
    assert.equal((await request(port, 'small.test', '/', { method: 'POST', body: 'x'.repeat(1025) })).status, 413);
    const chunks = [Buffer.alloc(600, 1), Buffer.alloc(600, 2)];
    assert.equal((await request(port, 'small.test', '/', { method: 'POST', body: chunks })).status, 413);
    const ok = await request(port, 'small.test', '/', { method: 'POST', body: [Buffer.alloc(500, 1), Buffer.alloc(500, 2)] });
    assert.deepEqual([ok.status, ok.body.bodyBytes], [200, 1000]);
    // The default limit is 1m.
    assert.equal((await request(port, 'big.test', '/', { method: 'POST', body: Buffer.alloc(1024 * 1024 + 1).toString() })).status, 413);
    await ready('slow.test');
    // ready() saw a 504 already or a 200 after 3 s; the read timeout is 1 s either way.
    assert.equal((await request(port, 'slow.test', '/')).status, 504);
  });

  it('canary by header, cookie and weight attaches to the main Ingress', async (t) => {
    if (!needs(t, missing)) return;
    await service('stable');
    await service('next');
    await apply(
      ingress('main', 'canary.test', 'stable', {}),
      ingress('main-canary', 'canary.test', 'next', { canary: 'true', 'canary-by-header': 'X-Canary', 'canary-by-cookie': 'use_next', 'canary-weight': '0' }),
    );
    await until('canary by header', async () => (await request(port, 'canary.test', '/', { headers: { 'x-canary': 'always' } })).body.backend === 'next');
    const who = async (headers: Record<string, string> = {}) => (await request(port, 'canary.test', '/', { headers })).body.backend;
    assert.equal(await who(), 'stable');
    assert.equal(await who({ 'x-canary': 'never', cookie: 'use_next=always' }), 'stable');
    assert.equal(await who({ cookie: 'use_next=always' }), 'next');
    assert.equal(await who({ 'x-canary': 'other', cookie: 'use_next=always' }), 'next');
    await apply(ingress('main-canary', 'canary.test', 'next', { canary: 'true', 'canary-weight': '100' }));
    await until('canary by weight', async () => (await who()) === 'next');
    for (let i = 0; i < 5; i++) assert.equal(await who(), 'next');
    await apply(ingress('main-canary', 'canary.test', 'next', { canary: 'true', 'canary-by-header': 'X-Env', 'canary-by-header-value': 'staging' }));
    await until('canary by header value', async () => (await who({ 'x-env': 'staging' })) === 'next' && (await who()) === 'stable');
    assert.equal(await who({ 'x-env': 'always' }), 'stable');
  });

  it('affinity cookie keeps a client on one endpoint', async (t) => {
    if (!needs(t, missing)) return;
    await service('sticky', 3);
    await apply(ingress('sticky', 'sticky.test', 'sticky', { affinity: 'cookie', 'session-cookie-name': 'route', 'session-cookie-max-age': '100' }));
    await ready('sticky.test');
    const first = await request(port, 'sticky.test', '/');
    const cookies = ([] as string[]).concat(first.headers['set-cookie'] ?? []);
    assert.ok(cookies.includes('app=1'), 'the backend\'s own cookie is kept');
    const route = cookies.find((x) => x.startsWith('route='));
    assert.match(route ?? '', /^route=[0-9a-f]+; Path=\/; Max-Age=100; HttpOnly$/);
    const cookie = route!.split(';')[0];
    for (let i = 0; i < 6; i++) {
      const r = await request(port, 'sticky.test', '/', { headers: { cookie } });
      assert.equal(r.body.backend, first.body.backend);
      assert.equal(([] as string[]).concat(r.headers['set-cookie'] ?? []).some((x) => x.startsWith('route=')), false);
    }
    // Without the cookie, round robin spreads requests.
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await request(port, 'sticky.test', '/')).body.backend);
    assert.equal(seen.size, 3);
  });

  it('CORS: preflight answered 204, responses carry the headers', async (t) => {
    if (!needs(t, missing)) return;
    await service('cors');
    await apply(ingress('cors', 'cors.test', 'cors', { 'enable-cors': 'true', 'cors-allow-origin': 'https://app.test', 'cors-max-age': '600', 'cors-expose-headers': 'X-Id' }));
    await until('cors', async () => (await request(port, 'cors.test', '/', { method: 'OPTIONS', headers: { origin: 'https://app.test' } })).status === 204);
    const pre = await request(port, 'cors.test', '/', { method: 'OPTIONS', headers: { origin: 'https://app.test' } });
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.test');
    assert.equal(pre.headers['access-control-max-age'], '600');
    assert.equal(pre.headers['access-control-allow-credentials'], 'true');
    const get = await request(port, 'cors.test', '/', { headers: { origin: 'https://app.test' } });
    assert.deepEqual([get.status, get.headers['access-control-allow-origin'], get.headers['access-control-expose-headers']], [200, 'https://app.test', 'X-Id']);
    const other = await request(port, 'cors.test', '/', { method: 'OPTIONS', headers: { origin: 'https://evil.test' } });
    assert.equal(other.body.method, 'OPTIONS', 'an unknown origin is proxied without CORS headers');
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });

  it('limit-rps answers 503 past the burst; source ranges answer 403', async (t) => {
    if (!needs(t, missing)) return;
    await service('lim');
    await apply(
      ingress('limited', 'limited.test', 'lim', { 'limit-rps': '1', 'limit-burst-multiplier': '2' }),
      ingress('allow', 'allow.test', 'lim', { 'whitelist-source-range': '10.255.255.0/24' }),
      ingress('allowlocal', 'allowlocal.test', 'lim', { 'whitelist-source-range': '127.0.0.0/8,10.255.255.0/24' }),
      ingress('deny', 'deny.test', 'lim', { 'denylist-source-range': '127.0.0.1/32' }),
      ingress('broken', 'broken.test', 'lim', { 'whitelist-source-range': 'not-an-ip' }),
    );
    await until('limits applied', async () => (await request(port, 'deny.test', '/')).status === 403);
    assert.equal((await request(port, 'allow.test', '/')).status, 403);
    assert.equal((await request(port, 'allowlocal.test', '/')).status, 200);
    assert.equal((await request(port, 'broken.test', '/')).status, 503);
    // WebSocket upgrades go through the same checks.
    const upgrade = (host: string) =>
      new Promise<string>((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1', () => sock.write(`GET /ws HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`));
        let got = '';
        sock.on('data', (d) => (got += d));
        sock.on('close', () => resolve(got.split('\r\n')[0]));
        sock.on('error', reject);
      });
    assert.equal(await upgrade('deny.test'), 'HTTP/1.1 403 Forbidden');
    assert.equal(await upgrade('broken.test'), 'HTTP/1.1 503 Service Temporarily Unavailable');
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await request(port, 'limited.test', '/')).status);
    assert.equal(statuses[0], 200);
    assert.ok(statuses.includes(503), statuses.join(','));
    assert.ok(statuses.every((s) => s === 200 || s === 503));
  });

  it('backend-protocol HTTPS proxies over TLS without verifying the backend', async (t) => {
    if (!needs(t, missing)) return;
    await service('secure', 1, { tls: true });
    await apply(ingress('secure', 'secure.test', 'secure', { 'backend-protocol': 'HTTPS' }));
    const r = await until('https backend', async () => {
      const x = await request(port, 'secure.test', '/s?q=1');
      return x.status === 200 ? x : undefined;
    });
    assert.deepEqual([r.body.backend, r.body.tls, r.body.url], ['secure', true, '/s?q=1']);
  });

  it('backend-protocol GRPC/GRPCS: HTTP/2 to the backend, trailers passed on (h2c and HTTP/1.1 clients)', async (t) => {
    if (!needs(t, missing)) return;
    /** A gRPC-shaped backend: echoes the request body with what it saw, ends with grpc-status trailers. */
    const grpcBackend = async (name: string, secure: boolean) => {
      const server = secure ? http2.createSecureServer(await selfSignedCert('grpc.test', ['grpc.test'])) : http2.createServer();
      server.on('stream', (stream, h) => {
        const parts: Buffer[] = [];
        stream.on('data', (d: Buffer) => parts.push(d));
        stream.on('end', () => {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': name }));
          stream.end(JSON.stringify({ backend: name, path: h[':path'], scheme: h[':scheme'], te: h.te ?? null, xff: h['x-forwarded-for'] ?? null, body: Buffer.concat(parts).toString() }));
        });
      });
      await new Promise<void>((r) => server.listen(0, ip, () => r()));
      closers.push(() => server.close());
      return (server.address() as net.AddressInfo).port;
    };
    for (const [name, secure] of [['grpc', false], ['grpcs', true]] as const) {
      const p = await grpcBackend(name, secure);
      await k(['apply', '-f', '-'], `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-0, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
ports: [{name: http, port: ${p}, protocol: TCP}]
endpoints: [{addresses: ["${ip}"], conditions: {ready: true}}]
`);
    }
    await apply(ingress('grpc', 'grpc.test', 'grpc', { 'backend-protocol': 'GRPC' }), ingress('grpcs', 'grpcs.test', 'grpcs', { 'backend-protocol': 'GRPCS' }));
    const h2call = (host: string) =>
      new Promise<{ status: number; body: any; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
        const session = http2.connect(`http://127.0.0.1:${port}`);
        session.on('error', reject);
        const req = session.request({ ':method': 'POST', ':path': '/helloworld.Greeter/SayHello', ':authority': host, 'content-type': 'application/grpc', te: 'trailers' });
        let status = 0;
        let body = '';
        let trailers: http2.IncomingHttpHeaders = {};
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('trailers', (tr) => (trailers = tr));
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          session.close();
          let parsed: any = body;
          try {
            parsed = JSON.parse(body);
          } catch {
            /* an error page */
          }
          resolve({ status, body: parsed, trailers });
        });
        req.on('error', reject);
        req.end('ping');
      });
    const r = await until('grpc routed', async () => {
      const x = await h2call('grpc.test');
      return x.status === 200 ? x : undefined;
    });
    assert.deepEqual([r.body.backend, r.body.path, r.body.scheme, r.body.te, r.body.body, r.body.xff], ['grpc', '/helloworld.Greeter/SayHello', 'http', 'trailers', 'ping', '127.0.0.1']);
    assert.deepEqual([r.trailers['grpc-status'], r.trailers['grpc-message']], ['0', 'grpc']);
    // HTTP/1.1 clients reach a GRPCS backend too; trailers arrive in the chunked body's trailer section.
    const viaHttp1 = await until('grpcs routed', () =>
      new Promise<{ status: number; body: any; trailers: NodeJS.Dict<string> } | undefined>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: '/x.Y/Z', method: 'POST', agent: false, headers: { host: 'grpcs.test', te: 'trailers', 'content-type': 'application/grpc' } }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(res.statusCode === 200 ? { status: 200, body: JSON.parse(b), trailers: res.trailers } : undefined));
        });
        req.on('error', reject);
        req.end('pong');
      }),
    );
    assert.deepEqual([viaHttp1.body.backend, viaHttp1.body.scheme, viaHttp1.body.body, viaHttp1.trailers['grpc-status']], ['grpcs', 'https', 'pong', '0']);
    // Plain HTTP/1.1 locations answer h2c clients as well.
    await service('h2plain');
    await apply(ingress('h2plain', 'h2plain.test', 'h2plain', {}));
    const plainViaH2 = await until('h2c to an HTTP backend', async () => {
      const x = await h2call('h2plain.test');
      return x.status === 200 ? x : undefined;
    });
    assert.deepEqual([plainViaH2.body.backend, plainViaH2.body.method, plainViaH2.body.bodyBytes], ['h2plain', 'POST', 4]);
  });

  it('auth-url: 2xx proxies with auth-response-headers, 401/403 pass through, other statuses are 500', async (t) => {
    if (!needs(t, missing)) return;
    const seen: http.IncomingHttpHeaders[] = [];
    const auth = http.createServer((req, res) => {
      seen.push({ ...req.headers, ':method': req.method, ':path': req.url });
      const token = req.headers.authorization;
      if (token === 'Bearer good') res.writeHead(200, { 'x-user': 'alice', 'x-other': 'no' });
      else if (token === 'Bearer forbidden') res.writeHead(403);
      else if (token === 'Bearer broken') res.writeHead(502);
      else res.writeHead(401, { 'www-authenticate': 'Bearer realm="test"' });
      res.end();
    });
    await new Promise<void>((r) => auth.listen(0, '127.0.0.1', () => r()));
    closers.push(() => {
      auth.closeAllConnections();
      auth.close();
    });
    const authPort = (auth.address() as net.AddressInfo).port;
    await service('protected');
    await apply(ingress('protected', 'protected.test', 'protected', { 'auth-url': `http://127.0.0.1:${authPort}/verify?svc=p`, 'auth-response-headers': 'X-User' }));
    await until('auth', async () => (await request(port, 'protected.test', '/')).status === 401);
    const denied = await request(port, 'protected.test', '/data?x=1', { method: 'POST', body: 'payload' });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers['www-authenticate'], 'Bearer realm="test"');
    const last = seen[seen.length - 1];
    assert.deepEqual([last[':method'], last[':path'], last['x-original-url'], last['x-original-method'], last['x-auth-request-redirect'], last['content-length']], ['GET', '/verify?svc=p', 'http://protected.test/data?x=1', 'POST', '/data?x=1', undefined]);
    const ok = await request(port, 'protected.test', '/data', { headers: { authorization: 'Bearer good' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.headers['x-user'], 'alice');
    assert.equal(ok.body.headers['x-other'], undefined);
    assert.equal((await request(port, 'protected.test', '/', { headers: { authorization: 'Bearer forbidden' } })).status, 403);
    assert.equal((await request(port, 'protected.test', '/', { headers: { authorization: 'Bearer broken' } })).status, 500);
    // Neither a WebSocket upgrade nor HTTP/2 gets around it.
    const upgradeStatus = (authorization?: string) =>
      new Promise<string>((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1', () =>
          sock.write(`GET /ws HTTP/1.1\r\nHost: protected.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${authorization ? `Authorization: ${authorization}\r\n` : ''}\r\n`),
        );
        let got = '';
        sock.on('data', (d) => {
          got += d;
          if (got.includes('\r\n')) sock.destroy();
        });
        sock.on('close', () => resolve(got.split('\r\n')[0]));
        sock.on('error', reject);
      });
    assert.equal(await upgradeStatus(), 'HTTP/1.1 401 Authorization Required');
    const h2status = (authorization?: string) =>
      new Promise<number>((resolve, reject) => {
        const session = http2.connect(`http://127.0.0.1:${port}`);
        session.on('error', reject);
        const req = session.request({ ':path': '/', ':authority': 'protected.test', ...(authorization ? { authorization } : {}) });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.resume();
        req.on('close', () => session.close());
        req.on('error', reject);
        req.end();
      });
    assert.equal(await h2status(), 401);
    assert.equal(await h2status('Bearer good'), 200);
  });

  it('HTTP/2 over TLS (ALPN h2): curl --http2 and node:http2 get the rewritten path, forwarded headers and the affinity cookie', async (t) => {
    if (!needs(t, missing)) return;
    await service('h2web', 2);
    await apply(
      `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: h2rewrite
  annotations: {${P}/rewrite-target: "/$2"}
spec:
  ingressClassName: nginx
  rules:
  - host: h2.test
    http:
      paths:
      - {path: "/app(/|$)(.*)", pathType: ImplementationSpecific, backend: {service: {name: h2web, port: {number: 80}}}}
`,
      ingress('h2sticky', 'h2sticky.test', 'h2web', { affinity: 'cookie' }),
    );
    await ready('h2.test', '/app/');
    await ready('h2sticky.test');
    const h2get = (host: string, path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: any; alpn: string | undefined }>((resolve, reject) => {
        const session = http2.connect(`https://127.0.0.1:${httpsPort}`, { servername: host, rejectUnauthorized: false });
        session.on('error', reject);
        const req = session.request({ ':path': path, ':authority': host, ...headers });
        let b = '';
        let h: http2.IncomingHttpHeaders = {};
        req.on('response', (x) => (h = x));
        req.on('data', (d) => (b += d));
        req.on('end', () => {
          resolve({ status: Number(h[':status']), headers: h, body: JSON.parse(b), alpn: (session.socket as unknown as { alpnProtocol?: string }).alpnProtocol });
          session.close();
        });
        req.on('error', reject);
        req.end();
      });
    const a = await h2get('h2.test', '/app/v1/foo?q=1');
    assert.equal(a.alpn, 'h2');
    assert.equal(a.status, 200);
    assert.equal(a.body.url, '/v1/foo?q=1');
    assert.equal(a.body.headers['x-forwarded-proto'], 'https');
    assert.equal(a.body.headers['x-forwarded-host'], 'h2.test');
    assert.match(a.body.headers['x-request-id'], /^[0-9a-f]{32}$/);
    // The affinity cookie is set over HTTP/2 as over HTTP/1.1, and honoured.
    const first = await h2get('h2sticky.test', '/');
    const cookies = ([] as string[]).concat(first.headers['set-cookie'] ?? []);
    assert.ok(cookies.includes('app=1'), "the backend's own cookie is kept");
    const sticky = cookies.find((x) => x.startsWith('INGRESSCOOKIE='));
    assert.match(sticky ?? '', /^INGRESSCOOKIE=[0-9a-f]+; Path=\/; HttpOnly$/);
    for (let i = 0; i < 4; i++) {
      const r = await h2get('h2sticky.test', '/', { cookie: sticky!.split(';')[0] });
      assert.equal(r.body.backend, first.body.backend);
      assert.equal(([] as string[]).concat(r.headers['set-cookie'] ?? []).some((x) => x.startsWith('INGRESSCOOKIE=')), false);
    }
    if (!which('curl')) return;
    const curl = async (args: string[]) => (await promisify(execFile)('curl', ['-sS', '-k', '--resolve', `h2.test:${httpsPort}:127.0.0.1`, ...args])).stdout;
    const out = await curl(['--http2', '-o', '/dev/null', '-w', '%{http_version}', `https://h2.test:${httpsPort}/app/x`]);
    assert.equal(out, '2');
    const body = JSON.parse(await curl(['--http2', `https://h2.test:${httpsPort}/app/v2/bar?z=9`]));
    assert.equal(body.url, '/v2/bar?z=9');
    assert.equal(body.headers['x-forwarded-proto'], 'https');
    // HTTP/1.1 over the same port still works (ALPN http/1.1).
    const one = JSON.parse(await curl(['--http1.1', `https://h2.test:${httpsPort}/app/one`]));
    assert.equal(one.url, '/one');
  });
});
