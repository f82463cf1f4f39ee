/**
 * `kubectl port-forward` end to end: kubectl → API server (pods/portforward) → kubelet (SPDY, either
 * tunnelled in a WebSocket as kubectl ≥ 1.31 does by default, or the direct SPDY upgrade older
 * versions use) → the pod's port. The pod is a real process on the process runtime.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { until } from '../testing/wait.js';

const SERVER = `require('http').createServer((q, r) => r.end('pf-ok ' + q.url)).listen(8080, process.env.SKIFF_LISTEN_IP || '0.0.0.0')`;

describe('kubectl port-forward', () => {
  let c: TestCluster | undefined;
  const node = `pf-${randomBytes(2).toString('hex')}`;
  const children: ChildProcess[] = [];
  const skip = which('kubectl') ? undefined : 'kubectl is not on PATH';

  before(async () => {
    if (skip) return;
    // Controllers: node IPAM gives the node its pod range (and the default ServiceAccount appears).
    c = await startTestCluster({ components: { kubelet: true, controllers: true }, up: { runtime: 'process', networkMode: 'loopback', nodeName: node, networkPrefix: `pf${node.slice(3)}` } });
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { nodeName: node, containers: [{ name: 'web', image: 'node', command: [process.execPath, '-e', SERVER], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }] } };
    await until('pod created', async () => (await c!.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) })).code === 0);
    await c.run(['wait', '--for=condition=Ready', 'pod/web', '--timeout=60s']);
  });

  after(async () => {
    for (const ch of children) ch.kill();
    await c?.stop();
  });

  /** Starts `kubectl port-forward` and resolves with the local port it chose. */
  async function forward(args: string[], env: Record<string, string> = {}): Promise<{ port: number; stderr: () => string }> {
    const ch = spawn('kubectl', ['port-forward', ...args], { env: { ...process.env, KUBECONFIG: c!.kubeconfig, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(ch);
    let out = '';
    let err = '';
    ch.stdout!.on('data', (d) => (out += d));
    ch.stderr!.on('data', (d) => (err += d));
    const port = await until(`port-forward to listen (${args.join(' ')})`, () => {
      if (ch.exitCode !== null) throw new Error(`kubectl port-forward exited ${ch.exitCode}: ${err}`);
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      return m ? Number(m[1]) : undefined;
    });
    return { port, stderr: () => err };
  }

  for (const [how, env] of [
    ['SPDY tunnelled in a WebSocket (kubectl default)', {}],
    ['the direct SPDY upgrade', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }],
  ] as const) {
    it(`reaches the pod's port over ${how}, one stream pair per connection`, async (t) => {
      if (!needs(t, skip)) return;
      const { port } = await forward(['pod/web', ':8080'], env);
      for (const path of ['/a', '/b/c']) {
        const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(30_000) });
        assert.equal(await r.text(), `pf-ok ${path}`);
      }
      // Several connections at once.
      const texts = await Promise.all([1, 2, 3].map((i) => fetch(`http://127.0.0.1:${port}/${i}`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(30_000) }).then((r) => r.text())));
      assert.deepEqual(texts, ['pf-ok /1', 'pf-ok /2', 'pf-ok /3']);
    });
  }

  it('serves @kubernetes/client-node PortForward (v4.channel.k8s.io WebSocket, no SPDY)', async (t) => {
    if (!needs(t, skip)) return;
    const k8s = await import('@kubernetes/client-node');
    const { PassThrough } = await import('node:stream');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(c!.kubeconfig);
    const out = new PassThrough();
    const err = new PassThrough();
    const input = new PassThrough();
    let got = '';
    out.on('data', (d) => (got += d));
    const ws = (await new k8s.PortForward(kc).portForward('default', 'web', [8080], out, err, input)) as import('ws').WebSocket;
    assert.equal(ws.protocol, 'v4.channel.k8s.io');
    input.write('GET /lib HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    await until('the response through the WebSocket', () => got.includes('pf-ok /lib'));
    // The pod closed its connection (connection: close), so the server closes the WebSocket.
    await until('the WebSocket to close', () => ws.readyState === ws.CLOSED);
    let errText = '';
    err.on('data', (d) => (errText += d));
    const ws2 = (await new k8s.PortForward(kc, false).portForward('default', 'web', [9999], new PassThrough(), err, new PassThrough())) as import('ws').WebSocket;
    await until('the dial error on the error channel', () => /^error forwarding port 9999 to pod default\/web, uid [0-9a-f-]+: .*(ECONNREFUSED|refused)/.test(errText));
    ws2.close();
  });

  it('reports a port nobody listens on as the kubelet words it', async (t) => {
    if (!needs(t, skip)) return;
    const { port, stderr } = await forward(['pod/web', ':9999']);
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
    await until('kubectl to print the error', () => /error forwarding port 9999 to pod default\/web, uid [0-9a-f-]+: .*(ECONNREFUSED|refused)/.test(stderr()));
  });
});
