/**
 * The data plane over real sockets (echo backends on loopback): the raw fast path, what it hands
 * to node:http, keep-alive reuse and its failures, passive health, TLS with SNI, WebSocket, metrics.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import http2 from 'node:http2';
import { DataPlane } from './dataplane.js';
import { FastConnection } from './fastpath.js';
import { startEcho, type EchoServer } from './peers.js';
import { ing } from './fixtures.js';
import { errorPage } from './steps.js';
import { selfSignedCert } from './selfsigned.js';
import { until } from '../testing/wait.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(port: number, path: string, opts: { host?: string; agent?: http.Agent; method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', agent: opts.agent, headers: { host: opts.host ?? 'a.test', ...opts.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A backend on raw sockets: `answer` writes whatever it likes for each request head it reads. */
async function rawBackend(answer: (sock: net.Socket, head: string, n: number) => void): Promise<{ port: number; close(): Promise<void> }> {
  let n = 0;
  const socks = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    socks.add(sock);
    sock.on('close', () => socks.delete(sock));
    sock.on('error', () => undefined);
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let end;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        answer(sock, head, n++);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of socks) s.destroy();
        server.close(() => r());
      }),
  };
}

const closedPort = async (): Promise<number> => {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
};

describe('data plane', () => {
  let echo: EchoServer;
  let plane: DataPlane;
  const logs: string[] = [];
  const cleanup: (() => Promise<void>)[] = [];
  const ep = (port: number) => [{ address: '127.0.0.1', port }];

  before(async () => {
    echo = await startEcho('s1');
    plane = new DataPlane({ httpPort: 0, httpsPort: 0, host: '127.0.0.1', metricsPort: 0, accessLog: (l) => logs.push(l), readTimeout: 0.3 });
    await plane.start();
    plane.apply({ ingresses: [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }] })], endpoints: { 'default-s1-80': ep(echo.port) } });
  });
  after(async () => {
    await plane.stop();
    await echo.close();
    for (const c of cleanup) await c();
  });

  it('proxies on the fast path with forwarding headers, reusing one client connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 5; i++) {
      const r = await get(plane.ports.http, `/x/${i}?q=1`, { agent, headers: { 'x-forwarded-for': '6.6.6.6', 'user-agent': 'ua' } });
      assert.equal(r.status, 200);
      const j = JSON.parse(r.body);
      assert.equal(j.url, `/x/${i}?q=1`);
      assert.equal(j.xff, '127.0.0.1');
      assert.equal(j.proto, 'http');
      assert.equal(j.xfhost, 'a.test');
      assert.equal(j.xfport, String(plane.ports.http));
      assert.match(j.rid, /^[0-9a-f]{32}$/);
      assert.equal(r.headers.connection, 'keep-alive');
    }
    agent.destroy();
    assert.match(logs.at(-1)!, /"GET \/x\/4\?q=1 HTTP\/1.1" 200 \d+ "-" "ua" [\d.]+ \[default-s1-80\] 127\.0\.0\.1:\d+ [0-9a-f]{32}$/);
  });

  it('passes the Host as sent, port included, in X-Forwarded-Host (ingress-nginx $best_http_host)', async () => {
    // Fast path (GET) and node:http path (a body) alike; a client of the 8080 fallback sends Host: a.test:8080.
    const get1 = await get(plane.ports.http, '/xfh', { host: 'a.test:8080' });
    assert.deepEqual([JSON.parse(get1.body).host, JSON.parse(get1.body).xfhost], ['a.test:8080', 'a.test:8080']);
    const post = await get(plane.ports.http, '/xfh', { host: 'a.test:8080', method: 'POST', body: 'x' });
    assert.equal(JSON.parse(post.body).xfhost, 'a.test:8080');
  });

  it('answers pipelined requests in order', async () => {
    const sock = net.connect(plane.ports.http, '127.0.0.1');
    let out = '';
    sock.on('data', (d) => (out += d));
    sock.write('GET /p1 HTTP/1.1\r\nHost: a.test\r\n\r\nGET /p2 HTTP/1.1\r\nHost: a.test\r\n\r\nGET /p3 HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
    await new Promise((r) => sock.on('close', r));
    const urls = [...out.matchAll(/"url":"([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(urls, ['/p1', '/p2', '/p3']);
  });

  it('hands a request with a body to node:http, and the connection keeps working', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const post = await get(plane.ports.http, '/post', { agent, method: 'POST', body: 'hello' });
    assert.equal(post.status, 200);
    const pj = JSON.parse(post.body);
    assert.deepEqual([pj.method, pj.xff, pj.proto, pj.xfhost, pj.xfport], ['POST', '127.0.0.1', 'http', 'a.test', String(plane.ports.http)]);
    assert.match(pj.rid, /^[0-9a-f]{32}$/);
    const after = await get(plane.ports.http, '/after', { agent });
    assert.equal(JSON.parse(after.body).url, '/after');
    const notFound = await get(plane.ports.http, '/', { host: 'nowhere.test' });
    assert.equal(notFound.status, 404);
    agent.destroy();
  });

  it('passes large bodies, split heads and interim responses through intact (upstream reads share one buffer)', async () => {
    // 300 KB of a position-dependent pattern: any reuse of a read buffer before it is written shows.
    const big = Buffer.alloc(300 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = 97 + ((i * 7 + (i >> 10)) % 26);
    const b = await rawBackend((sock, head) => {
      if (head.includes('/big')) {
        sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n`);
        for (let i = 0; i < big.length; i += 50_000) sock.write(big.subarray(i, i + 50_000));
      } else if (head.includes('/split')) {
        sock.write('HTTP/1.1 200 OK\r\nContent-');
        setTimeout(() => sock.write('Length: 5\r\n\r\nsplit'), 20);
      } else sock.write('HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\ninterim');
    });
    cleanup.push(b.close);
    plane.apply({ ingresses: [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }] })], endpoints: { 'default-s1-80': ep(b.port) } });
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < 2; i++) {
        const r = await new Promise<Buffer>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port: plane.ports.http, path: '/big', agent, headers: { host: 'a.test' } }, (res) => {
            const parts: Buffer[] = [];
            res.on('data', (d: Buffer) => parts.push(d));
            res.on('end', () => resolve(Buffer.concat(parts)));
          }).on('error', reject);
        });
        assert.ok(r.equals(big), 'the large body arrives intact');
        assert.equal((await get(plane.ports.http, '/split', { agent })).body, 'split');
        assert.equal((await get(plane.ports.http, '/interim', { agent })).body, 'interim');
      }
      agent.destroy();
    } finally {
      plane.apply({ ingresses: [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }] })], endpoints: { 'default-s1-80': ep(echo.port) } });
    }
  });

  it('passes chunked and close-delimited responses through, and HEAD without a body', async () => {
    const b = await rawBackend((sock, head) => {
      if (head.includes('/chunked')) sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
      else if (head.includes('/eof')) sock.end('HTTP/1.1 200 OK\r\n\r\nuntil close');
      else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
    });
    cleanup.push(b.close);
    plane.apply({ ingresses: [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }] })], endpoints: { 'default-s1-80': ep(b.port) } });
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      assert.equal((await get(plane.ports.http, '/chunked', { agent })).body, 'hello world');
      assert.equal((await get(plane.ports.http, '/chunked', { agent })).body, 'hello world');
      const h = await get(plane.ports.http, '/head', { agent, method: 'HEAD' });
      assert.equal(h.status, 200);
      assert.equal(h.headers['content-length'], '5');
      assert.equal((await get(plane.ports.http, '/eof', { agent })).body, 'until close');
      agent.destroy();
    } finally {
      plane.apply({ ingresses: [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }] })], endpoints: { 'default-s1-80': ep(echo.port) } });
    }
  });

  it('retries on a new connection when the backend closed the kept-alive one', async () => {
    // Answers as if keeping the connection alive, then closes it: the pooled socket is stale.
    const b = await rawBackend((sock) => void sock.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    cleanup.push(b.close);
    const cfg = { ingresses: [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }] })], endpoints: { 'default-s1-80': ep(b.port) } };
    plane.apply(cfg);
    try {
      for (let i = 0; i < 5; i++) assert.equal((await get(plane.ports.http, '/')).status, 200);
    } finally {
      plane.apply({ ...cfg, endpoints: { 'default-s1-80': ep(echo.port) } });
    }
  });

  it('moves on from an endpoint that refuses connections (passive health), 502 when none is left, 504 on timeout', async () => {
    const dead = await closedPort();
    const silent = await rawBackend(() => undefined);
    cleanup.push(silent.close);
    const ingresses = [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }] })];
    plane.apply({ ingresses, endpoints: { 'default-s1-80': [...ep(dead), ...ep(echo.port)] } });
    try {
      for (let i = 0; i < 4; i++) assert.equal((await get(plane.ports.http, '/')).status, 200);
      plane.apply({ ingresses, endpoints: { 'default-s1-80': ep(dead) } });
      assert.equal((await get(plane.ports.http, '/')).status, 502);
      plane.apply({ ingresses, endpoints: { 'default-s1-80': ep(silent.port) } });
      assert.equal((await get(plane.ports.http, '/')).status, 504);
    } finally {
      plane.apply({ ingresses, endpoints: { 'default-s1-80': ep(echo.port) } });
    }
  });

  it('serves the certificate from the Secret for its SNI name, the fake one otherwise', async () => {
    const pair = await selfSignedCert('a.test', ['a.test']);
    plane.apply({
      ingresses: [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }], tls: [{ hosts: ['a.test'], secretName: 'a-tls' }] })],
      endpoints: { 'default-s1-80': ep(echo.port) },
      certs: { 'default/a-tls': pair },
    });
    const cn = (servername: string) =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: plane.ports.https, servername, rejectUnauthorized: false }, () => {
          resolve(String(s.getPeerCertificate().subject.CN));
          s.destroy();
        });
        s.on('error', reject);
      });
    assert.equal(await cn('a.test'), 'a.test');
    assert.equal(await cn('other.test'), 'Kubernetes Ingress Controller Fake Certificate');
    // An RSA Secret (openssl req -newkey rsa, cert-manager's default) under TLS 1.3 and 1.2 alike.
    const rsa = await selfSignedCert('r.test', ['r.test'], 'rsa');
    plane.apply({
      ingresses: [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }], tls: [{ hosts: ['a.test'], secretName: 'a-tls' }] }), ing({ name: 'r', host: 'r.test', paths: [{ path: '/', service: 's1' }], tls: [{ hosts: ['r.test'], secretName: 'r-tls' }] })],
      endpoints: { 'default-s1-80': ep(echo.port) },
      certs: { 'default/a-tls': pair, 'default/r-tls': rsa },
    });
    for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
      const got = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: plane.ports.https, servername: 'r.test', maxVersion, rejectUnauthorized: false }, () => {
          resolve(String(s.getPeerCertificate().subject.CN));
          s.destroy();
        });
        s.on('error', reject);
      });
      assert.equal(got, 'r.test', maxVersion);
    }
    assert.equal(await cn('a.test'), 'a.test');
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: plane.ports.https, path: '/tls', servername: 'a.test', headers: { host: 'a.test' }, ca: pair.cert, checkServerIdentity: () => undefined }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(b));
        })
        .on('error', reject);
    });
    assert.equal(JSON.parse(body).proto, 'https');
  });

  it('HTTPS responses of a host with TLS carry HSTS (ingress-nginx defaults) on every path; other hosts and HTTP do not', async () => {
    const pair = await selfSignedCert('a.test', ['a.test']);
    plane.apply({
      ingresses: [
        ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }], tls: [{ hosts: ['a.test'], secretName: 'a-tls' }], annotations: { 'ssl-redirect': 'false' } }),
        ing({ name: 'b', host: 'b.test', paths: [{ path: '/', service: 's1' }] }),
      ],
      endpoints: { 'default-s1-80': ep(echo.port) },
      certs: { 'default/a-tls': pair },
    });
    const sts = (host: string, o: { method?: string; body?: string; port?: number } = {}) =>
      new Promise<string | undefined>((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port: o.port ?? plane.ports.https, path: '/hsts', method: o.method ?? 'GET', servername: host, headers: { host }, rejectUnauthorized: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers['strict-transport-security'] as string | undefined));
        });
        req.on('error', reject);
        req.end(o.body);
      });
    assert.equal(await sts('a.test'), 'max-age=31536000; includeSubDomains', 'fast path');
    assert.equal(await sts('a.test', { method: 'POST', body: 'x' }), 'max-age=31536000; includeSubDomains', 'node:http');
    assert.equal(await sts('b.test'), undefined, 'no TLS configured for b.test');
    const plainHttp = await get(plane.ports.http, '/hsts', { host: 'a.test' });
    assert.equal(plainHttp.headers['strict-transport-security'], undefined, 'never over HTTP');
    const session = http2.connect(`https://127.0.0.1:${plane.ports.https}`, { servername: 'a.test', rejectUnauthorized: false });
    try {
      const h2 = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const req = session.request({ ':path': '/hsts', ':authority': 'a.test' });
        req.on('response', (h) => resolve(h));
        req.on('error', reject);
        req.resume();
        req.end();
      });
      assert.equal(h2['strict-transport-security'], 'max-age=31536000; includeSubDomains', 'HTTP/2');
    } finally {
      session.close();
    }
  });

  it('serves HTTP/2 over TLS (ALPN h2) and HTTP/1.1 over TLS on the same port, with access log lines', async () => {
    const session = http2.connect(`https://127.0.0.1:${plane.ports.https}`, { servername: 'a.test', rejectUnauthorized: false });
    try {
      const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request({ ':path': '/h2?x=1', ':authority': 'a.test' });
        let body = '';
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (d) => (body += d));
        req.on('end', () => resolve({ status, body }));
        req.on('error', reject);
        req.end();
      });
      assert.equal(r.status, 200);
      assert.equal((session.socket as tls.TLSSocket).alpnProtocol, 'h2');
      const j = JSON.parse(r.body);
      assert.equal(j.url, '/h2?x=1');
      assert.equal(j.proto, 'https');
      assert.deepEqual([j.xfhost, j.xfport], ['a.test', String(plane.ports.https)]);
    } finally {
      session.close();
    }
    const one = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: plane.ports.https, path: '/h1', servername: 'a.test', headers: { host: 'a.test' }, rejectUnauthorized: false }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(b));
        })
        .on('error', reject);
    });
    assert.equal(JSON.parse(one).proto, 'https');
    const line = await until('h2 log line', async () => logs.find((l) => l.includes('"GET /h2?x=1 HTTP/2.0" 200')));
    assert.match(line, new RegExp(`\\[default-s1-80\\] 127\\.0\\.0\\.1:${echo.port} [0-9a-f]{32}$`));
  });

  it('HTTP/1.1 over TLS reads into the shared buffer: pipelined requests, then a body handed to node:http on the same connection', async () => {
    // A Node whose sockets no longer expose the onread keys still works (through 'data' events), but slower: say so here.
    assert.equal(FastConnection.tlsReadsIntoBuffer, true, 'TLS connections fell back to stream reads');
    const sock = tls.connect({ host: '127.0.0.1', port: plane.ports.https, servername: 'a.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    await new Promise((r) => sock.once('secureConnect', r));
    let out = '';
    sock.on('data', (d) => (out += d));
    sock.write('GET /t1 HTTP/1.1\r\nHost: a.test\r\n\r\nGET /t2 HTTP/1.1\r\nHost: a.test\r\n\r\n');
    await until('two answers', async () => [...out.matchAll(/"url":"/g)].length === 2);
    sock.write('POST /t3 HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
    await new Promise((r) => sock.on('close', r));
    assert.deepEqual([...out.matchAll(/"url":"([^"]*)"/g)].map((m) => m[1]), ['/t1', '/t2', '/t3']);
    assert.deepEqual([...out.matchAll(/"proto":"([^"]*)"/g)].map((m) => m[1]), ['https', 'https', 'https']);
  });

  it('resumes a TLS session on another data plane with the same ticket keys (as workers share them)', async () => {
    const cert = await selfSignedCert();
    const keys = 'ab'.repeat(48);
    const planes: DataPlane[] = [];
    const start = async (ticketKeys?: string) => {
      const p = new DataPlane({ httpPort: 0, httpsPort: 0, host: '127.0.0.1', defaultCert: cert, ticketKeys });
      planes.push(p);
      await p.start();
      return p.ports.https;
    };
    const connect = (port: number, session?: Buffer) =>
      new Promise<Buffer | boolean>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, servername: 'a.test', rejectUnauthorized: false, session });
        s.on('error', reject);
        if (session) s.once('secureConnect', () => (resolve(s.isSessionReused()), s.destroy()));
        else s.once('session', (got: Buffer) => (resolve(got), s.destroy()));
      });
    try {
      const [a, same, other] = [await start(keys), await start(keys), await start()];
      const session = (await connect(a)) as Buffer;
      assert.deepEqual([await connect(same, session), await connect(other, session)], [true, false]);
    } finally {
      for (const p of planes) await p.stop();
    }
  });

  it('upgrades a WebSocket connection through to the backend', async () => {
    const ws = http.createServer();
    const upgraded = new Set<net.Socket>();
    ws.on('upgrade', (req, sock: net.Socket) => {
      upgraded.add(sock);
      sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Seen-Path: ${req.url}\r\n\r\n`);
      sock.on('data', (d) => sock.write(Buffer.concat([Buffer.from('echo:'), d])));
    });
    await new Promise<void>((r) => ws.listen(0, '127.0.0.1', () => r()));
    // node:http leaves upgraded sockets alone when closing (and they are half-open capable).
    cleanup.push(() => new Promise<void>((r) => (upgraded.forEach((s) => s.destroy()), ws.close(() => r()))));
    const ingresses = [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }] })];
    plane.apply({ ingresses, endpoints: { 'default-s1-80': ep((ws.address() as net.AddressInfo).port) } });
    try {
      // Plain and over TLS: after the upgrade the connection's reads leave the shared buffer for the stream.
      for (const secure of [false, true]) {
        const sock = secure ? tls.connect({ host: '127.0.0.1', port: plane.ports.https, servername: 'a.test', rejectUnauthorized: false }) : net.connect(plane.ports.http, '127.0.0.1');
        let out = '';
        sock.on('data', (d) => {
          out += d;
          if (out.includes('\r\n\r\n') && !out.includes('echo:')) sock.write('ping');
          if (out.includes('echo:ping')) sock.destroy();
        });
        sock.write('GET /ws HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
        await new Promise((r) => sock.on('close', r));
        assert.match(out, /^HTTP\/1.1 101 /);
        assert.match(out, /X-Seen-Path: \/ws/);
        assert.match(out, /echo:ping/);
      }
    } finally {
      plane.apply({ ingresses, endpoints: { 'default-s1-80': ep(echo.port) } });
    }
  });

  it('carries WebSocket over HTTP/2 (RFC 8441 extended CONNECT) to an HTTP/1.1 backend upgrade; a plain CONNECT gets 405', async () => {
    const ws = http.createServer();
    const upgraded = new Set<net.Socket>();
    ws.on('upgrade', (req, sock: net.Socket) => {
      upgraded.add(sock);
      const ok = req.headers.upgrade === 'websocket' && /^[A-Za-z0-9+/]{22}==$/.test(String(req.headers['sec-websocket-key'])) && req.headers['sec-websocket-version'] === '13';
      sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\nX-Seen: ${req.url} ${ok} ${req.headers['x-forwarded-proto']}\r\n\r\n`);
      sock.on('data', (d) => sock.write(Buffer.concat([Buffer.from('echo:'), d])));
    });
    await new Promise<void>((r) => ws.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => (upgraded.forEach((s) => s.destroy()), ws.close(() => r()))));
    const ingresses = [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }] })];
    plane.apply({ ingresses, endpoints: { 'default-s1-80': ep((ws.address() as net.AddressInfo).port) } });
    const session = http2.connect(`http://127.0.0.1:${plane.ports.http}`);
    try {
      await new Promise((r) => session.once('remoteSettings', r));
      assert.equal(session.remoteSettings.enableConnectProtocol, true);
      const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': '/chat?x=1', ':authority': 'a.test', 'sec-websocket-version': '13' });
      const got = await new Promise<{ headers: http2.IncomingHttpHeaders; data: string }>((resolve, reject) => {
        let data = '';
        let headers: http2.IncomingHttpHeaders = {};
        stream.on('response', (h) => {
          headers = h;
          stream.write('ping');
        });
        stream.on('data', (d) => {
          data += d;
          if (data.includes('echo:ping')) resolve({ headers, data });
        });
        stream.on('error', reject);
        stream.on('close', () => resolve({ headers, data }));
      });
      stream.close();
      assert.equal(got.headers[':status'], 200);
      assert.equal(got.headers['sec-websocket-accept'], undefined);
      assert.equal(got.headers['x-seen'], '/chat?x=1 true http');
      assert.equal(got.data, 'echo:ping');
      const plain = session.request({ ':method': 'CONNECT', ':authority': 'a.test:443' });
      const status = await new Promise<number>((resolve) => {
        plain.on('response', (h) => resolve(Number(h[':status'])));
        plain.on('error', () => resolve(0));
        plain.resume();
      });
      assert.equal(status, 405);
    } finally {
      session.destroy();
      plane.apply({ ingresses, endpoints: { 'default-s1-80': ep(echo.port) } });
    }
  });

  it('stop() lets a fast-path request in flight finish, then closes the connection', async () => {
    let answer: (() => void) | undefined;
    const slow = await rawBackend((sock) => {
      answer = () => sock.write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nslow');
    });
    cleanup.push(() => slow.close());
    const p = new DataPlane({ httpPort: 0, host: '127.0.0.1' });
    await p.start();
    p.apply({ ingresses: [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }] })], endpoints: { 'default-s1-80': ep(slow.port) } });
    const res = get(p.ports.http, '/in-flight');
    await until('request at the backend', async () => answer !== undefined);
    const stopped = p.stop();
    answer!();
    const r = await res;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'slow');
    assert.equal(r.headers.connection, 'close');
    await stopped;
  });

  it('serves Prometheus metrics at /metrics', async () => {
    const r = await get(plane.ports.metrics, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.body, /skiff_ingress_requests_total\{ingress="default\/a",host="a.test",path="\/",status="200"\} \d+/);
    assert.match(r.body, /skiff_ingress_requests_total\{[^}]*status="502"\} 1/);
    assert.match(r.body, /skiff_ingress_request_duration_seconds_bucket\{ingress="default\/a",host="a.test",path="\/",le="\+Inf"\} \d+/);
  });

  it('load-balance: ewma sends most requests to the faster endpoint (fast path and node:http)', async () => {
    const slowBackend = async (name: string, delayMs: number) => {
      const s = http.createServer((_req, res) => void setTimeout(() => res.end(name), delayMs));
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      cleanup.push(async () => void (s.closeAllConnections(), s.close()));
      return (s.address() as net.AddressInfo).port;
    };
    const fast = await slowBackend('fast', 0);
    const slow = await slowBackend('slow', 40);
    plane.apply({
      ingresses: [
        ing({ name: 'lb', host: 'ewma.test', paths: [{ path: '/', service: 'lb' }], annotations: { 'load-balance': 'ewma' } }),
        ing({ name: 'lb2', host: 'ewma2.test', paths: [{ path: '/', service: 'lb' }], annotations: { 'load-balance': 'ewma', 'enable-cors': 'true' } }),
      ],
      endpoints: { 'default-lb-80': [ { address: '127.0.0.1', port: fast }, { address: '127.0.0.1', port: slow } ] },
    });
    for (const host of ['ewma.test', 'ewma2.test']) {
      const seen = { fast: 0, slow: 0 };
      for (let i = 0; i < 30; i++) seen[(await get(plane.ports.http, '/', { host })).body as 'fast' | 'slow']++;
      assert.ok(seen.fast > seen.slow * 2, `${host}: ${JSON.stringify(seen)}`);
    }
  });

  it("answers with nginx's error pages on every path: 502 (fast path and node:http), 503, and 404 without a default backend", async () => {
    const dead = await closedPort();
    const ingresses = [ing({ name: 'e', host: 'err.test', paths: [{ path: '/', service: 'e' }] })];
    plane.apply({ ingresses, endpoints: { 'default-e-80': ep(dead) } });
    const bad = await get(plane.ports.http, '/', { host: 'err.test' });
    assert.deepEqual([bad.status, bad.body], [502, errorPage(502)]);
    const post = await get(plane.ports.http, '/', { host: 'err.test', method: 'POST', body: 'x' });
    assert.deepEqual([post.status, post.body], [502, errorPage(502)]);
    plane.apply({ ingresses, endpoints: { 'default-e-80': [] } });
    const none = await get(plane.ports.http, '/', { host: 'err.test' });
    assert.deepEqual([none.status, none.body], [503, errorPage(503)]);
    const unknown = await get(plane.ports.http, '/', { host: 'nobody.test' });
    assert.deepEqual([unknown.status, unknown.body], [404, errorPage(404)]);
    assert.match(unknown.body, /<title>404 Not Found<\/title>[\s\S]*<center>nginx<\/center>/);
  });
});
