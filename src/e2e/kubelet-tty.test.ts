/**
 * `kubectl exec -it` and `kubectl attach` against the process runtime, through the API server's
 * pods/exec and pods/attach proxy, with the real kubectl. kubectl only asks for a TTY when its own
 * stdin is a terminal, so it runs on a pseudo-terminal from the process runtime's spawner helper.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { until } from '../testing/wait.js';
import { attachUntilEcho } from '../testing/attach.js';
import { HelperSpawner, type Spawned } from '../runtime/process/spawner.js';

describe('kubectl exec -it and attach (process runtime)', () => {
  let c: TestCluster | undefined;
  let sp: HelperSpawner | undefined;
  const node = `tty-${randomBytes(2).toString('hex')}`;
  const children: ChildProcess[] = [];
  const kubectl = which('kubectl');
  let skip: string | undefined = kubectl ? undefined : 'kubectl is not on PATH';

  before(async () => {
    if (skip) return;
    sp = await HelperSpawner.start();
    if (!sp) {
      skip = 'no C compiler (gcc) for the spawner helper, which owns the terminals';
      return;
    }
    // Controllers: node IPAM gives the node its pod range (and the default ServiceAccount appears);
    // the scheduler places `kubectl run`'s pod.
    c = await startTestCluster({ components: { kubelet: true, controllers: true, scheduler: true }, up: { runtime: 'process', networkMode: 'loopback', nodeName: node, networkPrefix: `tt${node.slice(4)}` } });
    const pod = (name: string, container: any) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox', ...container }] } });
    for (const p of [
      pod('shell', { command: ['sleep', '3600'] }),
      pod('echo', { command: ['sh', '-c', 'while read l; do echo "echo:$l"; done; echo stdin-closed'], stdin: true, stdinOnce: true }),
      pod('term', { command: ['sh', '-c', 'while read l; do echo "line:$l"; tty; stty size; done'], stdin: true, tty: true }),
    ]) {
      await until(`pod ${p.metadata.name} created`, async () => (await c!.kubectl(['apply', '-f', '-'], { input: JSON.stringify(p) })).code === 0);
    }
    for (const n of ['shell', 'echo', 'term']) await c.run(['wait', '--for=jsonpath={.status.phase}=Running', `pod/${n}`, '--timeout=60s']);
  });

  after(async () => {
    for (const ch of children) ch.kill();
    await sp?.close();
    await c?.stop();
  });

  /** kubectl on a terminal of its own (size 100x30), with its output collected. */
  async function onTerminal(args: string[]): Promise<{ p: Spawned; out: () => string; exited: Promise<number | null> }> {
    const p = await sp!.spawn({ file: kubectl!, argv: ['kubectl', ...args], cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', KUBECONFIG: c!.kubeconfig, TERM: 'xterm' }, stdin: true, tty: true });
    p.resize!(100, 30);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((r) => p.once('exit', (code: number | null) => r(code)));
    return { p, out: () => out, exited };
  }

  it('kubectl exec -it runs the command on a terminal of the size kubectl sends, and returns its exit code', async (t) => {
    if (skip) return void needs(t, skip);
    const k = await onTerminal(['exec', '-it', 'shell', '--', 'sh']);
    // The shell's prompt shows it is interactive (kubectl flushes what was typed before it went raw).
    await until('the prompt', () => /[#$] $/.test(k.out()), 20_000);
    k.p.stdin!.write('tty; stty size; echo "isatty:$([ -t 0 ] && echo yes)"\n');
    await until('tty answers', () => /isatty:yes/.test(k.out()) && /30 100/.test(k.out()), 20_000).catch((e) => assert.fail(`${e.message}: ${JSON.stringify(k.out())}`));
    assert.match(k.out(), /\/dev\/pts\/\d+/);
    k.p.resize!(120, 40);
    // The resize and the typed line reach the container by different paths: ask until it shows.
    await until(
      'the new size',
      () => {
        if (/40 120/.test(k.out())) return true;
        k.p.stdin!.write('stty size\n');
        return undefined;
      },
      20_000,
      300,
    );
    k.p.stdin!.write('exit 3\n');
    assert.equal(await k.exited, 3, k.out());
  });

  it('kubectl run -it --rm: an interactive shell on a terminal, then the pod is gone', async (t) => {
    if (skip) return void needs(t, skip);
    const k = await onTerminal(['run', '-it', '--rm', 'oneshot', '--image=busybox', '--restart=Never', '--command', '--', 'sh']);
    await until('attached', () => /If you don't see a command prompt/.test(k.out()), 30_000);
    await until(
      'the shell answers',
      () => {
        if (/hello-from-run/.test(k.out())) return true;
        k.p.stdin!.write('echo hello-from-$((1+0))run | tr -d 1\n');
        return undefined;
      },
      20_000,
      300,
    ).catch((e) => assert.fail(`${e.message}: ${JSON.stringify(k.out())}`));
    k.p.stdin!.write('exit 0\n');
    assert.equal(await k.exited, 0, k.out());
    assert.match(k.out(), /pod "oneshot" deleted/);
  });

  it('kubectl attach -i relays stdin to a running container and streams its output; stdinOnce closes it after', async (t) => {
    if (skip) return void needs(t, skip);
    // The session may not be up yet when the first line goes: attachUntilEcho repeats it.
    const { ch, out } = await attachUntilEcho(kubectl!, ['echo', '-c', 'main'], { ...process.env, KUBECONFIG: c!.kubeconfig }, 'hello', /echo:hello/);
    children.push(ch);
    assert.match(await c!.run(['logs', 'echo']), /echo:hello/, 'the output is in the log too');
    ch.stdin!.end();
    await until('stdin closed in the container (stdinOnce)', () => /stdin-closed/.test(out()), 20_000);
  });

  it('@kubernetes/client-node Exec with a TTY sends the terminal size as {"width","height"}, which sizes the terminal', async (t) => {
    if (skip) return void needs(t, skip);
    const k8s = await import('@kubernetes/client-node');
    const { PassThrough } = await import('node:stream');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(c!.kubeconfig);
    // A stream with rows and columns is taken for a terminal: its size goes on the resize channel.
    let out = '';
    const stdout = Object.assign(new PassThrough(), { rows: 33, columns: 111 });
    stdout.on('data', (d: Buffer) => (out += d));
    const stdin = new PassThrough();
    let status: any;
    await new k8s.Exec(kc).exec('default', 'shell', 'main', ['sh', '-c', 'sleep 1; stty size'], stdout, null, stdin, true, (s) => (status = s));
    await until('the command to finish', () => status);
    assert.equal(status.status, 'Success');
    assert.match(out, /^33 111\r?\n$/);
  });

  it('kubectl attach -it reaches a TTY container on its terminal', async (t) => {
    if (skip) return void needs(t, skip);
    const k = await onTerminal(['attach', '-it', 'term', '-c', 'main']);
    await until(
      'the container answers on its terminal',
      () => {
        k.p.stdin!.write('ping\n');
        return /line:ping/.test(k.out()) && /\/dev\/pts\/\d+/.test(k.out()) ? true : undefined;
      },
      20_000,
      300,
    );
    k.p.resize!(90, 25);
    await until(
      'the resized terminal',
      () => {
        if (/25 90/.test(k.out())) return true;
        k.p.stdin!.write('again\n');
        return undefined;
      },
      20_000,
      300,
    );
    // kubectl goes away; the container runs on.
    process.kill(-k.p.pid, 'SIGKILL');
    await k.exited;
    const phase = await c!.run(['get', 'pod', 'term', '-o', 'jsonpath={.status.phase}']);
    assert.equal(phase, 'Running');
  });
});
