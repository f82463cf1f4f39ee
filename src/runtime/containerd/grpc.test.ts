import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GrpcError, GrpcStatus, UnaryChannel } from './grpc.js';

const frame = (b: Buffer) => {
  const f = Buffer.alloc(5 + b.length);
  f.writeUInt32BE(b.length, 1);
  b.copy(f, 5);
  return f;
};

/** A gRPC-shaped HTTP/2 server on a unix socket: `handle` answers each call by its path. */
async function server(sock: string, handle: (path: string, body: Buffer, stream: http2.ServerHttp2Stream) => void) {
  const srv = http2.createServer();
  srv.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => handle(String(headers[':path']), Buffer.concat(chunks).subarray(5), stream));
  });
  await new Promise<void>((r) => srv.listen(sock, r));
  return srv;
}

describe('UnaryChannel (unary gRPC over node:http2)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-grpc-'));
  const sock = path.join(dir, 's.sock');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is unavailable without a server, then connects once there is one; statuses, messages and deadlines as gRPC', async () => {
    const ch = new UnaryChannel(`unix://${sock}`);
    await assert.rejects(ch.call('/p.S/M', Buffer.from('x'), Date.now() + 2000), (e: GrpcError) => e.code === GrpcStatus.UNAVAILABLE);

    const srv = await server(sock, (p, body, stream) => {
      if (p === '/p.S/Echo') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(frame(Buffer.concat([Buffer.from('echo:'), body])));
      } else if (p === '/p.S/NotFound') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '5', 'grpc-message': encodeURIComponent('an object "x" was not found: 100%') }));
        stream.end();
      } else if (p === '/p.S/TrailersOnly') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unknown method' }, { endStream: true });
      } else if (p === '/p.S/Slow') {
        // never answers
      } else {
        stream.respond({ ':status': 503 }, { endStream: true });
      }
    });
    try {
      assert.equal(String(await ch.call('/p.S/Echo', Buffer.from('hi'), Date.now() + 5000)), 'echo:hi');
      // many at once share the connection
      const all = await Promise.all(Array.from({ length: 20 }, (_, i) => ch.call('/p.S/Echo', Buffer.from(String(i)), Date.now() + 5000)));
      assert.deepEqual(all.map(String), Array.from({ length: 20 }, (_, i) => `echo:${i}`));
      await assert.rejects(ch.call('/p.S/NotFound', Buffer.alloc(0), Date.now() + 5000), (e: GrpcError) => {
        assert.equal(e.code, GrpcStatus.NOT_FOUND);
        assert.equal(e.details, 'an object "x" was not found: 100%');
        assert.match(e.message, /^5 NOT_FOUND: an object/);
        return true;
      });
      await assert.rejects(ch.call('/p.S/TrailersOnly', Buffer.alloc(0), Date.now() + 5000), (e: GrpcError) => e.code === GrpcStatus.UNIMPLEMENTED && e.details === 'unknown method');
      await assert.rejects(ch.call('/p.S/Http503', Buffer.alloc(0), Date.now() + 5000), (e: GrpcError) => e.code === GrpcStatus.UNAVAILABLE);
      await assert.rejects(ch.call('/p.S/Slow', Buffer.alloc(0), Date.now() + 100), (e: GrpcError) => e.code === GrpcStatus.DEADLINE_EXCEEDED);
      assert.equal(String(await ch.call('/p.S/Echo', Buffer.from('after'), Date.now() + 5000)), 'echo:after');
    } finally {
      ch.close();
      await new Promise((r) => srv.close(r));
    }
    await assert.rejects(ch.call('/p.S/Echo', Buffer.alloc(0), Date.now() + 1000), (e: GrpcError) => e.code === GrpcStatus.CANCELLED);
  });
});
