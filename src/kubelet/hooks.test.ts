import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runHook } from './hooks.js';

const pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1' } };
const spec = { name: 'app' };
const runtimeAnswering = (r: { exitCode: number; stdout?: string; stderr?: string }) =>
  ({ execSync: async () => ({ exitCode: r.exitCode, stdout: Buffer.from(r.stdout ?? ''), stderr: Buffer.from(r.stderr ?? '') }) }) as any;

describe('lifecycle hooks', () => {
  it('reports a failed exec hook as upstream: %v command, the CRI exit error with stderr, the output quoted', async () => {
    const msg = await runHook(runtimeAnswering({ exitCode: 7, stdout: 'nope\n' }), pod, spec, 'c1', { exec: { command: ['sh', '-c', 'echo nope; exit 7'] } }, '10.0.0.2', 30);
    assert.equal(msg, `Exec lifecycle hook ([sh -c echo nope; exit 7]) for Container "app" in Pod "p_default(u1)" failed - error: command 'sh -c echo nope; exit 7' exited with 7: , message: "nope\\n"`);
    const withStderr = await runHook(runtimeAnswering({ exitCode: 1, stderr: 'bad "x"\n' }), pod, spec, 'c1', { exec: { command: ['false'] } }, '10.0.0.2', 30);
    assert.equal(withStderr, `Exec lifecycle hook ([false]) for Container "app" in Pod "p_default(u1)" failed - error: command 'false' exited with 1: bad "x"\n, message: "bad \\"x\\"\\n"`);
    assert.equal(await runHook(runtimeAnswering({ exitCode: 0 }), pod, spec, 'c1', { exec: { command: ['true'] } }, '10.0.0.2', 30), undefined);
  });

  it('lets an HTTP hook succeed on any answer and fail only when the request does', async () => {
    const srv = http.createServer((_q, s) => s.writeHead(500).end()).listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    const port = (srv.address() as AddressInfo).port;
    try {
      assert.equal(await runHook({} as any, pod, spec, 'c1', { httpGet: { path: '/hook', port } }, '127.0.0.1', 5), undefined);
    } finally {
      srv.close();
    }
    const msg = await runHook({} as any, pod, spec, 'c1', { httpGet: { path: '/hook', port } }, '127.0.0.1', 5);
    assert.equal(msg, `HTTP lifecycle hook (/hook) for Container "app" in Pod "p_default(u1)" failed - error: Get "http://127.0.0.1:${port}/hook": dial tcp 127.0.0.1:${port}: connect: connection refused`);
  });
});
