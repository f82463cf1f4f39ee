/**
 * proxy-connect-timeout against an endpoint whose connects hang (a listener whose accept queue is
 * full, so the kernel drops further SYNs): on the fast path (the data plane's default) and on
 * node:http (the annotation), the request moves on to the next endpoint, and 504 when none is left.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DataPlane } from './dataplane.js';
import { startEcho, type EchoServer } from './peers.js';
import { ing, requestHost } from './fixtures.js';
import { needs, which } from '../testing/real.js';

/** A port whose connects hang: python3 listens with backlog 0 and never accepts; one queued connect fills it. */
async function hangingPort(): Promise<{ port: number; close(): void }> {
  const py: ChildProcess = spawn('python3', ['-c', "import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()"], { stdio: ['pipe', 'pipe', 'inherit'] });
  const fillers: net.Socket[] = [];
  const close = () => {
    for (const f of fillers) f.destroy();
    py.kill();
  };
  try {
    const port = await settle<number>('python3 did not print its port', (resolve, reject) => {
      createInterface({ input: py.stdout! }).once('line', (l) => resolve(Number(l)));
      py.once('error', reject);
      py.once('exit', (code, signal) => reject(new Error(`python3 exited (${code ?? signal}) before printing its port`)));
    });
    fillers.push(net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1'));
    fillers[1].on('error', () => undefined);
    await settle<void>('the first connect to the backlog-0 listener did not complete', (resolve, reject) => {
      fillers[0].once('connect', () => resolve());
      fillers[0].once('error', reject);
    });
    fillers[0].on('error', () => undefined);
    return { port, close };
  } catch (e) {
    close();
    throw e;
  }
}

/** A promise that also rejects with `timeoutMessage` after 15 s, so a wait that can never settle fails instead. */
function settle<T>(timeoutMessage: string, run: (resolve: (v: T) => void, reject: (e: Error) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${timeoutMessage} within 15 s`)), 15_000);
    run(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}

describe('connect timeouts', () => {
  const skip = which('python3') ? undefined : 'python3 is not installed';
  let plane: DataPlane;
  let echo: EchoServer;
  let hang: { port: number; close(): void };
  /** Accepts and reads requests, never answers. */
  let mute: net.Server;
  let mutePort = 0;
  const muted = new Set<net.Socket>();

  before(async () => {
    if (skip) return;
    echo = await startEcho('echo');
    hang = await hangingPort();
    mute = net.createServer((s) => void (muted.add(s), s.resume()));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
    mutePort = (mute.address() as net.AddressInfo).port;
    plane = new DataPlane({ httpPort: 0, host: '127.0.0.1', connectTimeout: 0.3 });
    await plane.start();
    const hangEp = { address: '127.0.0.1', port: hang.port };
    plane.apply({
      ingresses: [
        ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 'both' }] }),
        ing({ name: 'b', host: 'b.test', paths: [{ path: '/', service: 'hang' }] }),
        ing({ name: 'c', host: 'c.test', paths: [{ path: '/', service: 'hang' }], annotations: { 'proxy-connect-timeout': '1' } }),
        // enable-cors takes the location off the fast path: the same annotations on node:http.
        ing({ name: 'd', host: 'd.test', paths: [{ path: '/', service: 'hang' }], annotations: { 'proxy-connect-timeout': '1', 'enable-cors': 'true' } }),
        ing({ name: 'e', host: 'e.test', paths: [{ path: '/', service: 'mute' }], annotations: { 'proxy-read-timeout': '1' } }),
        ing({ name: 'f', host: 'f.test', paths: [{ path: '/', service: 'mute' }], annotations: { 'proxy-read-timeout': '1', 'enable-cors': 'true' } }),
      ],
      endpoints: { 'default-both-80': [hangEp, { address: '127.0.0.1', port: echo.port }], 'default-hang-80': [hangEp], 'default-mute-80': [{ address: '127.0.0.1', port: mutePort }] },
    });
  });
  after(async () => {
    if (skip) return;
    // Any of these may be missing if before() failed: let its error be the one reported.
    await plane?.stop();
    await echo?.close();
    hang?.close();
    for (const s of muted) s.destroy();
    mute?.close();
  });

  it('fast path: a hanging endpoint is left for the next one; 504 when it is the only one', async (t) => {
    if (!needs(t, skip)) return;
    for (let i = 0; i < 2; i++) {
      const r = await requestHost(plane.ports.http, 'a.test', `/x${i}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.backend, 'echo');
    }
    assert.equal((await requestHost(plane.ports.http, 'b.test', '/')).status, 504);
  });

  it('proxy-connect-timeout and proxy-read-timeout annotations, on the fast path and on node:http: 504', async (t) => {
    if (!needs(t, skip)) return;
    for (const host of ['c.test', 'd.test', 'e.test', 'f.test']) assert.equal((await requestHost(plane.ports.http, host, '/')).status, 504, host);
  });
});
