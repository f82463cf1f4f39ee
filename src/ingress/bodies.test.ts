/**
 * Request bodies through the data plane (bodyflow.ts): proxy-body-size for bodies without a length
 * over HTTP/1.1 (chunked) and HTTP/2, and proxy-send-timeout against a backend that stops reading.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { DataPlane } from './dataplane.js';
import { ing } from './fixtures.js';

/** Answers with what it received: the Content-Length header and the body's length. */
async function countingBackend(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => (n += d.length));
    req.on('end', () => res.end(JSON.stringify({ cl: req.headers['content-length'] ?? null, te: req.headers['transfer-encoding'] ?? null, n })));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

/** Accepts connections and never reads from them: sending to it blocks once the socket buffers are full. */
async function deafBackend(): Promise<{ port: number; close(): Promise<void> }> {
  const socks = new Set<net.Socket>();
  const server = net.createServer((s) => {
    socks.add(s);
    s.pause();
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise<void>((r) => (socks.forEach((s) => s.destroy()), server.close(() => r()))) };
}

const CHUNK = Buffer.alloc(64 * 1024, 'x');
/** Up to this much is offered before a test gives up waiting for the answer. */
const MAX_SEND = 512 * 1024 * 1024;

/** Writes `total` bytes (or, with total = Infinity, until an answer comes) into a writable, respecting backpressure. */
function feed(w: NodeJS.WritableStream & { destroyed?: boolean }, total: number, answered: () => boolean): void {
  let sent = 0;
  const more = () => {
    while (!answered() && !w.destroyed && sent < Math.min(total, MAX_SEND)) {
      const c = total - sent < CHUNK.length ? CHUNK.subarray(0, total - sent) : CHUNK;
      sent += c.length;
      if (!w.write(c)) return void w.once('drain', more);
    }
    if (sent >= total) w.end();
  };
  more();
}

function h1Post(port: number, host: string, total: number, opts: { chunked: boolean }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let done = false;
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/up', agent: false, headers: { host, ...(opts.chunked ? {} : { 'content-length': String(total) }) } },
      (res) => {
        done = true;
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, body: b }));
      },
    );
    req.on('error', (e) => (done ? undefined : reject(e)));
    feed(req, total, () => done);
  });
}

function h2Post(port: number, authority: string, total: number, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    let status = 0;
    let body = '';
    const req = session.request({ ':method': 'POST', ':path': '/up', ':authority': authority, ...headers });
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (d) => (body += d));
    req.on('end', () => resolve({ status, body }));
    req.on('error', (e) => (status ? resolve({ status, body }) : reject(e)));
    feed(req, total, () => status !== 0);
  }).finally(() => session.destroy());
}

describe('request bodies', () => {
  let plane: DataPlane;
  let counting: Awaited<ReturnType<typeof countingBackend>>;
  let deaf: Awaited<ReturnType<typeof deafBackend>>;

  before(async () => {
    counting = await countingBackend();
    deaf = await deafBackend();
    plane = new DataPlane({ httpPort: 0, host: '127.0.0.1' });
    await plane.start();
    plane.apply({
      ingresses: [
        ing({ name: 'small', host: 'small.test', paths: [{ path: '/', service: 'counting' }], annotations: { 'proxy-body-size': '1k' } }),
        ing({ name: 'deaf', host: 'deaf.test', paths: [{ path: '/', service: 'deaf' }], annotations: { 'proxy-body-size': '0', 'proxy-send-timeout': '1', 'proxy-read-timeout': '120' } }),
      ],
      endpoints: { 'default-counting-80': [{ address: '127.0.0.1', port: counting.port }], 'default-deaf-80': [{ address: '127.0.0.1', port: deaf.port }] },
    });
  });
  after(async () => {
    await plane.stop();
    await counting.close();
    await deaf.close();
  });

  it('HTTP/2 bodies without content-length: read whole and sent with a length, 413 past proxy-body-size', async () => {
    const ok = await h2Post(plane.ports.http, 'small.test', 1000);
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { cl: '1000', te: null, n: 1000 });
    const big = await h2Post(plane.ports.http, 'small.test', 5000);
    assert.equal(big.status, 413);
    assert.match(big.body, /413 Request Entity Too Large/);
    // With a content-length the check comes first, as for HTTP/1.1.
    const declared = await h2Post(plane.ports.http, 'small.test', 5000, { 'content-length': '5000' });
    assert.equal(declared.status, 413);
  });

  it('HTTP/1.1 chunked bodies: 413 past proxy-body-size, else sent with a length', async () => {
    const ok = await h1Post(plane.ports.http, 'small.test', 1000, { chunked: true });
    assert.deepEqual([ok.status, JSON.parse(ok.body)], [200, { cl: '1000', te: null, n: 1000 }]);
    assert.equal((await h1Post(plane.ports.http, 'small.test', 5000, { chunked: true })).status, 413);
  });

  it('proxy-send-timeout: a backend that stops reading the body gets 504 (HTTP/1.1 and HTTP/2)', async () => {
    // proxy-read-timeout is 120 s: only the send timer (1 s between writes) can end these in time.
    const h1 = await h1Post(plane.ports.http, 'deaf.test', 2 ** 30, { chunked: false });
    assert.equal(h1.status, 504);
    const h2 = await h2Post(plane.ports.http, 'deaf.test', Infinity);
    assert.equal(h2.status, 504);
  });
});
