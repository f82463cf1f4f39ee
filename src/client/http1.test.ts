import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { selfSignedServingCert } from '../kubelet/selfsigned.js';
import { until } from '../testing/wait.js';
import { Http1Pool } from './http1.js';

describe('Http1Pool', () => {
  let server: https.Server;
  let pool: Http1Pool;
  let maxSockets = 4;
  const hung: (() => void)[] = [];
  /** Per server-side connection, whether it resumed a TLS session. */
  const resumed: boolean[] = [];
  const get = (path: string, signal?: AbortSignal) => pool.request('GET', `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`, signal);

  before(async () => {
    const { certPem, keyPem } = selfSignedServingCert({ commonName: 'localhost', dnsNames: ['localhost'], ips: ['127.0.0.1'], notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3600_000) });
    server = https.createServer({ cert: certPem, key: keyPem }, (req, res) => {
      const u = req.url ?? '';
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (u === '/len') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: 'ü', body }));
        if (u === '/chunked') {
          res.writeHead(201);
          res.write('{"a":');
          setTimeout(() => res.end('"b"}'), 5);
          return;
        }
        if (u === '/big') return res.writeHead(200).end('x'.repeat(1 << 20));
        if (u === '/big-chunked') {
          res.writeHead(200);
          for (let i = 0; i < 64; i++) res.write('y'.repeat(16 * 1024 + i));
          return res.end();
        }
        if (u === '/close') return res.writeHead(404, { connection: 'close' }).end('{"reason":"NotFound"}');
        if (u === '/empty') return res.writeHead(204).end();
        if (u === '/hang') return hung.push(() => res.end('late'));
        res.writeHead(500).end(u);
      });
    });
    server.on('secureConnection', (s: tls.TLSSocket) => resumed.push(s.isSessionReused()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    pool = new Http1Pool({ host: '127.0.0.1', port, secureContext: tls.createSecureContext({ ca: certPem }), maxSockets: () => maxSockets });
  });
  after(async () => {
    for (const h of hung) h();
    pool.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('resumes the TLS session on a new connection (a cheaper handshake)', async () => {
    await get('/len');
    await get('/close'); // the server closes this one: the next request needs a new connection
    const before = resumed.length;
    assert.equal((await get('/len')).status, 200);
    assert.ok(resumed.length > before, 'a new connection was made');
    assert.equal(resumed.at(-1), true);
  });

  it('reads Content-Length, chunked, empty and large bodies, and sends bodies', async () => {
    assert.deepEqual(await get('/len'), { status: 200, body: '{"ok":"ü","body":""}' });
    assert.deepEqual(await get('/chunked'), { status: 201, body: '{"a":"b"}' });
    assert.deepEqual(await get('/empty'), { status: 204, body: '' });
    assert.equal((await get('/big')).body.length, 1 << 20);
    const big = await get('/big-chunked');
    assert.equal(big.body.length, 64 * 16 * 1024 + (63 * 64) / 2);
    const data = JSON.stringify({ x: 'é' });
    const r = await pool.request('POST', `POST /len HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${Buffer.byteLength(data)}\r\n\r\n${data}`);
    assert.deepEqual(JSON.parse(r.body), { ok: 'ü', body: data });
  });

  it('answers many concurrent requests over at most maxSockets connections, and survives Connection: close', async () => {
    const conns = new Set<unknown>();
    const onConn = (s: unknown) => conns.add(s);
    server.on('secureConnection', onConn);
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => get(i % 10 === 0 ? '/close' : '/len')));
    server.off('secureConnection', onConn);
    assert.equal(rs.filter((r) => r.status === 404).length, 5);
    assert.equal(rs.filter((r) => r.status === 200).length, 45);
    // Each Connection: close costs a new connection; otherwise no more than maxSockets are opened.
    assert.ok(conns.size <= maxSockets + 5, `${conns.size} connections`);
  });

  it('aborts a request in flight and one still queued, and keeps working', async () => {
    maxSockets = 1;
    try {
      const ac = new AbortController();
      const inFlight = get('/hang', ac.signal);
      const queued = get('/hang', ac.signal);
      await until('the server holds the first request', () => hung.length > 0, 5000);
      ac.abort();
      await assert.rejects(inFlight, { name: 'AbortError' });
      await assert.rejects(queued, { name: 'AbortError' });
      assert.equal((await get('/len')).status, 200);
    } finally {
      maxSockets = 4;
    }
  });

  it('retries a GET the server dropped on an idle kept-alive connection', async () => {
    assert.equal((await get('/len')).status, 200);
    // The server forgets idle connections, as the API server does after its keep-alive timeout.
    server.closeIdleConnections();
    assert.equal((await get('/len')).status, 200);
  });
});
