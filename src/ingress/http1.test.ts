import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedEnd, parseRequestHead, parseResponseHead } from './http1.js';

describe('http1: request heads the fast path takes, and the ones it leaves to node:http', () => {
  it('parses a plain GET and filters hop-by-hop and forwarding headers, keeping order and case', () => {
    const h = parseRequestHead('GET /a?b=1 HTTP/1.1\r\nHost: x.test:8080\r\nUser-Agent: t\r\nConnection: keep-alive\r\nX-Forwarded-For: 6.6.6.6\r\nX-Request-ID: abc\r\nAccept: */*');
    assert.ok(h);
    assert.equal(h.method, 'GET');
    assert.equal(h.target, '/a?b=1');
    assert.equal(h.host, 'x.test:8080');
    assert.equal(h.forward, 'Host: x.test:8080\r\nUser-Agent: t\r\nAccept: */*\r\n');
    assert.equal(h.requestId, 'abc');
    assert.equal(h.userAgent, 't');
    assert.equal(h.close, false);
    assert.equal(parseRequestHead('GET / HTTP/1.1\r\nHost: a\r\nConnection: close')!.close, true);
    assert.ok(parseRequestHead('DELETE / HTTP/1.1\r\nHost: a\r\nContent-Length: 0'));
  });

  const slow: [string, string][] = [
    ['a body', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3'],
    ['a chunked body', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked'],
    ['an upgrade', 'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket'],
    ['Expect', 'PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue'],
    ['HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a'],
    ['no Host', 'GET / HTTP/1.1\r\nAccept: */*'],
    ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b'],
    ['absolute-form', 'GET http://a/ HTTP/1.1\r\nHost: a'],
    ['CONNECT', 'CONNECT a:443 HTTP/1.1\r\nHost: a'],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\n folded'],
    ['a bare LF', 'GET / HTTP/1.1\r\nHost: a\nX: y'],
    ['a bad header name', 'GET / HTTP/1.1\r\nHost: a\r\nBad Name: y'],
    ['non-ASCII bytes', 'GET /\xe9 HTTP/1.1\r\nHost: a'],
  ];
  for (const [what, head] of slow) it(`leaves ${what} to node:http`, () => assert.equal(parseRequestHead(head), null));
});

describe('http1: upstream response heads', () => {
  it('drops Connection/Keep-Alive, keeps the rest, and finds the framing', () => {
    const r = parseResponseHead('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 3', 'GET')!;
    assert.equal(r.head, 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3');
    assert.deepEqual(r.framing, { kind: 'length', length: 3 });
    assert.equal(r.reusable, true);
    assert.equal(r.contentLength, '3');
  });
  it('no body for HEAD, 204 and 304; chunked wins over Content-Length; no length means close', () => {
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 9', 'HEAD')!.framing.kind, 'none');
    assert.equal(parseResponseHead('HTTP/1.1 204 No Content', 'GET')!.framing.kind, 'none');
    assert.equal(parseResponseHead('HTTP/1.1 304 Not Modified', 'GET')!.framing.kind, 'none');
    const c = parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: chunked', 'GET')!;
    assert.equal(c.framing.kind, 'chunked');
    assert.equal(c.head, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked');
    const e = parseResponseHead('HTTP/1.1 200 OK\r\nX: y', 'GET')!;
    assert.equal(e.framing.kind, 'close');
    assert.equal(e.reusable, false);
    assert.equal(parseResponseHead('HTTP/1.0 200 OK\r\nContent-Length: 1', 'GET')!.reusable, false);
    assert.equal(parseResponseHead('HTTP/1.0 200 OK\r\nContent-Length: 1', 'GET')!.head, 'HTTP/1.1 200 OK\r\nContent-Length: 1');
    assert.equal(parseResponseHead('HTTP/1.1 404\r\nKeep-Alive: timeout=5', 'GET')!.head, 'HTTP/1.1 404');
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nConnection: close', 'GET')!.head, 'HTTP/1.1 200 OK');
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1', 'GET')!.reusable, false);
  });
  it('refuses malformed heads', () => {
    assert.equal(parseResponseHead('HTTP/2 200', 'GET'), null);
    assert.equal(parseResponseHead('HTTP/1.1 2x0 OK', 'GET'), null);
    assert.equal(parseResponseHead('HTTP/1.1 2000 OK', 'GET'), null);
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nno colon', 'GET'), null);
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2', 'GET'), null);
  });
});

describe('http1: the end of a chunked body, fed in any pieces', () => {
  const body = '4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\n';
  it('finds the end whole, split byte by byte, and with the next response behind it', () => {
    const whole = new ChunkedEnd();
    assert.equal(whole.feed(Buffer.from(body + 'HTTP/1.1')), body.length);
    const bytes = new ChunkedEnd();
    const b = Buffer.from(body);
    for (let i = 0; i < b.length - 1; i++) assert.equal(bytes.feed(b.subarray(i, i + 1)), -1);
    assert.equal(bytes.feed(b.subarray(b.length - 1)), 1);
    assert.equal(new ChunkedEnd().feed(Buffer.from('0\r\n\r\n')), 5);
  });
  it('notices garbage', () => {
    const c = new ChunkedEnd();
    c.feed(Buffer.from('zz\r\n'));
    assert.equal(c.failed, true);
  });
});
