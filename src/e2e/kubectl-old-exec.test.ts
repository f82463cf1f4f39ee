/**
 * `kubectl exec`, `attach` and `run -i` with kubectl < 1.30, which speaks the remotecommand protocol
 * over a direct SPDY/3.1 upgrade (a POST) rather than a WebSocket: kubectl → API server
 * (pods/exec, pods/attach) → kubelet (remotecommand-spdy.ts) → a process on the process runtime.
 * kubectl 1.32 forced onto SPDY (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false) runs the same checks.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { until } from '../testing/wait.js';
import { configFromKubeconfig, type ClientConfig } from '../client/rest.js';
import { HelperSpawner } from '../runtime/process/spawner.js';

// The versioned kubectls sit beside the real kubectl binary (the one on PATH may be a symlink).
const KUBECTL = which('kubectl');
const SDK_BIN = KUBECTL ? path.dirname(realpathSync(KUBECTL)) : '/nonexistent';

describe('kubectl < 1.30 exec and attach over SPDY/3.1', () => {
  let c: TestCluster | undefined;
  const node = `ox-${randomBytes(2).toString('hex')}`;
  const children: ChildProcess[] = [];
  const skip = which('kubectl') ? undefined : 'kubectl is not on PATH';
  let sp: HelperSpawner | undefined;
  let noTerminal: string | undefined;

  before(async () => {
    if (skip) return;
    // The spawner helper owns pseudo-terminals: kubectl asks for a TTY only on one.
    sp = await HelperSpawner.start();
    if (!sp) noTerminal = 'no C compiler (gcc) for the spawner helper, which owns the terminals';
    // Controllers: node IPAM gives the node its pod range (and the default ServiceAccount appears);
    // the scheduler places `kubectl run`'s pods.
    c = await startTestCluster({ components: { kubelet: true, controllers: true, scheduler: true }, up: { runtime: 'process', networkMode: 'loopback', nodeName: node, networkPrefix: `ox${node.slice(3)}` } });
    const pod = (name: string, command: string[]) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox', command }] } });
    for (const p of [pod('shell', ['sleep', '3600']), pod('ticker', ['sh', '-c', 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 1; done'])]) {
      await until(`pod ${p.metadata.name} created`, async () => (await c!.kubectl(['apply', '-f', '-'], { input: JSON.stringify(p) })).code === 0);
    }
    for (const n of ['shell', 'ticker']) await c.run(['wait', '--for=jsonpath={.status.phase}=Running', `pod/${n}`, '--timeout=60s']);
  });

  after(async () => {
    for (const ch of children) ch.kill();
    await sp?.close();
    await c?.stop();
  });

  const clients: { name: string; bin: string; env?: Record<string, string> }[] = [
    { name: 'kubectl 1.27', bin: `${SDK_BIN}/kubectl.1.27` },
    { name: 'kubectl 1.28', bin: `${SDK_BIN}/kubectl.1.28` },
    { name: 'kubectl 1.29', bin: `${SDK_BIN}/kubectl.1.29` },
    { name: 'kubectl 1.32 without WebSockets', bin: 'kubectl', env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } },
  ];

  for (const { name, bin, env } of clients) {
    const missing = skip ?? (bin.startsWith('/') && !existsSync(bin) ? `${bin} is missing` : undefined);
    const kubectl = (args: string[], input?: string) => c!.kubectl(args, { bin, env, input });

    describe(name, () => {
      it('exec prints the output and exits 0', async (t) => {
        if (!needs(t, missing)) return;
        const r = await kubectl(['exec', 'shell', '--', 'sh', '-c', 'echo hi; echo oops >&2']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'hi\n');
        assert.equal(r.stderr, 'oops\n');
      });

      it("exec passes on the command's exit code", async (t) => {
        if (!needs(t, missing)) return;
        const r = await kubectl(['exec', 'shell', '--', 'sh', '-c', 'exit 3']);
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, /command terminated with exit code 3/);
      });

      it('exec -i feeds piped input and ends on its EOF', async (t) => {
        if (!needs(t, missing)) return;
        const input = 'line one\nline two\n' + 'x'.repeat(100_000) + '\n';
        const r = await kubectl(['exec', '-i', 'shell', '--', 'cat'], input);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, input);
        assert.equal(r.stderr, '');
      });

      it('run -i --rm reads piped input, then deletes the pod', async (t) => {
        if (!needs(t, missing)) return;
        const pod = `run-${randomBytes(3).toString('hex')}`;
        const r = await kubectl(['run', pod, '-i', '--rm', '--restart=Never', '--image=busybox', '--', 'sh', '-c', 'read x; echo got $x'], 'hello\n');
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /got hello/);
        assert.doesNotMatch(r.stderr, /error/i);
        assert.match(r.stdout, new RegExp(`pod "${pod}" deleted`));
      });

      it("attach streams a running container's output", async (t) => {
        if (!needs(t, missing)) return;
        const ch = spawn(bin, ['attach', 'ticker'], { env: { ...process.env, KUBECONFIG: c!.kubeconfig, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(ch);
        let out = '';
        let err = '';
        ch.stdout!.on('data', (d) => (out += d));
        ch.stderr!.on('data', (d) => (err += d));
        try {
          // Two lines: output keeps flowing after the first.
          await until('two ticks', () => {
            if (ch.exitCode !== null) throw new Error(`kubectl attach exited ${ch.exitCode}: ${err}`);
            return (out.match(/^tick \d+$/gm) ?? []).length >= 2;
          });
          assert.doesNotMatch(err, /error/i);
        } finally {
          ch.kill();
        }
      });

      it('exec -it runs on a terminal of the size kubectl sends, follows a resize, and returns the exit code', async (t) => {
        if (!needs(t, missing ?? noTerminal)) return;
        const p = await sp!.spawn({
          file: bin.startsWith('/') ? bin : which(bin)!,
          argv: ['kubectl', 'exec', '-it', 'shell', '--', 'sh'],
          cwd: '/',
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', KUBECONFIG: c!.kubeconfig, TERM: 'xterm', ...env },
          stdin: true,
          tty: true,
        });
        p.resize!(100, 30);
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d));
        let gone = false;
        const exited = new Promise<number | null>((r) => p.once('exit', (code: number | null) => ((gone = true), r(code))));
        try {
          // The resize and typed lines reach the container by different paths: ask until it shows.
          const ask = (what: string, want: RegExp, line: string) =>
            until(what, () => (want.test(out) ? true : void p.stdin!.write(line)), 20_000, 300).catch((e) => assert.fail(`${e.message}: ${JSON.stringify(out)}`));
          await ask('the first size', /30 100/, 'stty size\n');
          p.resize!(120, 40);
          await ask('the new size', /40 120/, 'stty size\n');
          p.stdin!.write('exit 3\n');
          assert.equal(await exited, 3, out);
        } finally {
          if (!gone && p.pid) {
            try {
              process.kill(-p.pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }
      });
    });
  }

  it('a client offering no protocol the kubelet speaks gets 403 with the accepted ones', async (t) => {
    if (!needs(t, skip)) return;
    // Through the API server's proxy, as kubectl would reach it.
    const cfg = configFromKubeconfig(c!.kubeconfig, 'old-exec-test');
    const res = await rawUpgrade(cfg, '/api/v1/namespaces/default/pods/shell/exec?command=true&stdout=true', { 'X-Stream-Protocol-Version': 'v9.channel.k8s.io' });
    assert.match(res, /^HTTP\/1\.1 403 /);
    assert.match(res, /X-Accepted-Stream-Protocol-Versions: v4\.channel\.k8s\.io/i);
    assert.match(res, /unable to upgrade: unable to negotiate protocol: client supports \[v9\.channel\.k8s\.io\], server accepts \[v4\.channel\.k8s\.io v3\.channel\.k8s\.io v2\.channel\.k8s\.io channel\.k8s\.io\]/);
  });
});

/** POSTs an SPDY upgrade with the kubeconfig's credentials and returns the raw response head and body. */
async function rawUpgrade(cfg: ClientConfig, path: string, headers: Record<string, string>): Promise<string> {
  const https = await import('node:https');
  const u = new URL(cfg.server);
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: u.hostname,
      port: u.port,
      path,
      method: 'POST',
      ca: cfg.caPem,
      cert: cfg.certPem,
      key: cfg.keyPem,
      rejectUnauthorized: false,
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', ...(cfg.token ? { Authorization: `Bearer ${cfg.token}` } : {}), ...headers },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve('HTTP/1.1 101 ');
    });
    req.on('response', (res) => {
      let body = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`;
      for (let i = 0; i < res.rawHeaders.length; i += 2) body += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
      body += '\r\n';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}
