import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { grpcFailure, runProbe } from './probe.js';

const freePort = async () => {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
};

describe('probes: gRPC', () => {
  it('reports a refused connection as the dial timeout, as grpc-go\'s blocking dial does', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const out = await runProbe({ grpc: { port }, timeoutSeconds: 1 }, { runtime: {} as any, containerId: 'c', podIP: '127.0.0.1', container: {} });
    assert.equal(out.ok, false);
    assert.equal(out.output, `timeout: failed to connect service "127.0.0.1:${port}" within 1s: context deadline exceeded`);
    assert.ok(Date.now() - t0 >= 900, 'waits out the timeout');
  });

  it('words gRPC error statuses as upstream\'s prober', () => {
    assert.equal(grpcFailure(12, 'unknown service grpc.health.v1.Health', 1), "this server doesn't implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health");
    assert.equal(grpcFailure(4, '', 2), 'timeout: health rpc did not complete within 2s');
    assert.equal(grpcFailure(5, 'unknown service', 1), 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service');
  });

  it('asks a real gRPC server: SERVING passes, NOT_SERVING and a missing health service fail with upstream\'s words', async () => {
    const server = new grpc.Server();
    const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };
    server.addService(
      { Check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, ...raw } } as any,
      // A request naming service "down" answers NOT_SERVING (2), any other SERVING (1).
      { Check: (call: any, cb: any) => cb(null, Buffer.from([0x08, call.request.toString().includes('down') ? 2 : 1])) },
    );
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    const bare = new grpc.Server();
    const barePort = await new Promise<number>((res, rej) => bare.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    const probe = (p: number, service?: string) => runProbe({ grpc: { port: p, service }, timeoutSeconds: 2 }, { runtime: {} as any, containerId: 'c', podIP: '127.0.0.1', container: {} });
    try {
      assert.equal((await probe(port)).ok, true);
      assert.deepEqual(await probe(port, 'down'), { ok: false, output: 'service unhealthy (responded with "NOT_SERVING")' });
      const none = await probe(barePort);
      assert.equal(none.ok, false);
      assert.match(none.output, /^this server doesn't implement the grpc health protocol \(grpc\.health\.v1\.Health\): /);
    } finally {
      server.forceShutdown();
      bare.forceShutdown();
    }
  });
});
