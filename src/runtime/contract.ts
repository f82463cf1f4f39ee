/**
 * The runtime contract as a test suite: every runtime behind cri.ts (process, containerd) must
 * pass it unchanged. Commands use only `sh` and POSIX utilities, which a busybox image also has.
 * No assertion is about timing; waits poll with a deadline that only guards against hangs.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseLogLine, RuntimeError, type ContainerConfig, type ContainerEvent, type ContainerStatus, type PodSandboxConfig, type Runtime } from './cri.js';

export interface RuntimeFixture {
  runtime: Runtime;
  /** An image that has `sh` (ignored by the process runtime). */
  image: string;
  cleanup(): Promise<void>;
}

const HANG_GUARD_MS = 15_000;

async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + HANG_GUARD_MS;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function runtimeContract(name: string, setup: () => Promise<RuntimeFixture>): void {
  describe(`runtime contract: ${name}`, () => {
    let fx: RuntimeFixture;
    let rt: Runtime;
    let dir: string;
    let n = 0;

    before(async () => {
      fx = await setup();
      rt = fx.runtime;
      dir = mkdtempSync(path.join(tmpdir(), 'skiff-rt-'));
    });
    after(async () => {
      await fx.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    function sandboxConfig(): PodSandboxConfig {
      const i = ++n;
      return {
        metadata: { name: `pod${i}`, uid: `uid-${i}-${Date.now()}`, namespace: 'default', attempt: 0 },
        hostname: `pod${i}`,
        logDirectory: path.join(dir, `logs${i}`),
        labels: { 'io.kubernetes.pod.name': `pod${i}` },
      };
    }

    function containerConfig(name: string, script: string, extra: Partial<ContainerConfig> = {}): ContainerConfig {
      return { metadata: { name, attempt: 0 }, image: { image: fx.image }, command: ['sh', '-c', script], logPath: `${name}/0.log`, ...extra };
    }

    async function run(script: string, extra: Partial<ContainerConfig> = {}) {
      const sbc = sandboxConfig();
      const sb = await rt.runPodSandbox(sbc);
      const id = await rt.createContainer(sb, containerConfig('c', script, extra), sbc);
      await rt.startContainer(id);
      return { sb, sbc, id };
    }

    async function exited(id: string): Promise<ContainerStatus> {
      return until('container exit', async () => {
        const s = await rt.containerStatus(id);
        return s.state === 'CONTAINER_EXITED' ? s : undefined;
      });
    }

    function logLines(s: ContainerStatus) {
      let text = '';
      try {
        text = readFileSync(s.logPath, 'utf8');
      } catch {
        // not created yet
      }
      return text.split('\n').filter(Boolean).map((l) => parseLogLine(l)!);
    }

    it('reports its version', async () => {
      const v = await rt.version();
      assert.equal(v.runtimeApiVersion, 'v1');
      assert.ok(v.runtimeName);
    });

    it('runs, lists, stops and removes a sandbox with an IP', async () => {
      const sbc = sandboxConfig();
      const id = await rt.runPodSandbox(sbc);
      const st = await rt.podSandboxStatus(id);
      assert.equal(st.state, 'SANDBOX_READY');
      assert.equal(st.metadata.uid, sbc.metadata.uid);
      assert.match(st.network?.ip ?? '', /^\d+\.\d+\.\d+\.\d+$/);
      const other = await rt.runPodSandbox(sandboxConfig());
      assert.notEqual((await rt.podSandboxStatus(other)).network?.ip, st.network?.ip, 'each sandbox has its own IP');
      assert.deepEqual((await rt.listPodSandbox({ id })).map((s) => s.id), [id]);
      assert.ok((await rt.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.name': sbc.metadata.name } })).some((s) => s.id === id));
      await rt.stopPodSandbox(id);
      assert.equal((await rt.podSandboxStatus(id)).state, 'SANDBOX_NOTREADY');
      await rt.removePodSandbox(id);
      await assert.rejects(rt.podSandboxStatus(id), (e: unknown) => e instanceof RuntimeError && e.code === 'NotFound');
      await rt.removePodSandbox(other);
    });

    it('runs a command with args, env and working dir; exit 0 is Completed; logs are CRI lines', async () => {
      const { id } = await run('echo "out:$GREETING:$(pwd):$1"; echo err >&2; printf partial', {
        args: ['arg1'],
        command: ['sh', '-c', 'echo "out:$GREETING:$(pwd):$1"; echo err >&2; printf partial', 'sh'],
        envs: [{ key: 'GREETING', value: 'hello' }],
        workingDir: '/tmp',
      });
      const s = await exited(id);
      assert.equal(s.exitCode, 0);
      assert.equal(s.reason, 'Completed');
      assert.ok(s.startedAt > 0 && s.finishedAt >= s.startedAt);
      const lines = logLines(s);
      assert.ok(lines.every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/.test(l.time)), 'RFC3339Nano timestamps');
      assert.deepEqual(lines.find((l) => l.stream === 'stdout' && l.tag === 'F')?.content, 'out:hello:/tmp:arg1');
      assert.deepEqual(lines.find((l) => l.stream === 'stderr')?.content, 'err');
      assert.deepEqual(lines.find((l) => l.tag === 'P')?.content, 'partial');
    });

    it('reports a non-zero exit as Error with its code', async () => {
      const s = await exited((await run('exit 3')).id);
      assert.equal(s.exitCode, 3);
      assert.equal(s.reason, 'Error');
    });

    it('stops with SIGTERM, and SIGKILL after the timeout', async () => {
      const polite = await run('trap "echo term; exit 0" TERM; echo ready; while :; do sleep 0.05; done');
      await until('ready', async () => (logLines(await rt.containerStatus(polite.id)).some((l) => l.content === 'ready') ? true : undefined));
      await rt.stopContainer(polite.id, 10);
      const s1 = await rt.containerStatus(polite.id);
      assert.equal(s1.state, 'CONTAINER_EXITED');
      assert.equal(s1.exitCode, 0);
      assert.ok(logLines(s1).some((l) => l.content === 'term'));

      const stubborn = await run('trap "" TERM; echo ready; while :; do sleep 0.05; done');
      await until('ready', async () => (logLines(await rt.containerStatus(stubborn.id)).some((l) => l.content === 'ready') ? true : undefined));
      await rt.stopContainer(stubborn.id, 1);
      const s2 = await rt.containerStatus(stubborn.id);
      assert.equal(s2.state, 'CONTAINER_EXITED');
      assert.equal(s2.exitCode, 137);
    });

    it('execs synchronously and streams an exec with stdin', async () => {
      const { id } = await run('sleep 30', { envs: [{ key: 'FOO', value: 'bar' }] });
      const r = await rt.execSync(id, ['sh', '-c', 'echo $FOO; echo e >&2; exit 4'], 10);
      assert.equal(r.stdout.toString(), 'bar\n');
      assert.equal(r.stderr.toString(), 'e\n');
      assert.equal(r.exitCode, 4);

      const sess = await rt.exec({ containerId: id, cmd: ['sh', '-c', 'read x; echo got:$x'], stdin: true, stdout: true, stderr: true });
      let out = '';
      sess.stdout!.on('data', (d) => (out += d));
      sess.stdin!.end('hi\n');
      assert.equal(await sess.exit, 0);
      await until('output', async () => (out.includes('got:hi') ? true : undefined));
      await rt.stopContainer(id, 0);
    });

    it('attaches to a running container: its output from then on, its stdin when it keeps one (optional method)', async (t) => {
      if (!rt.attach) return t.skip(`the ${name} runtime has no attach`);
      const { id } = await run('while read l; do echo "out:$l"; echo "err:$l" >&2; done; echo eof', { stdin: true, stdinOnce: true });
      const a = await rt.attach({ containerId: id, stdin: true, stdout: true, stderr: true });
      let out = '';
      let err = '';
      a.stdout!.on('data', (d) => (out += d));
      a.stderr!.on('data', (d) => (err += d));
      a.stdin!.write('one\n');
      await until('echoed output', async () => (out.includes('out:one') && err.includes('err:one') ? true : undefined));
      // stdinOnce: the first session to close stdin closes the container's; it ends, and so does the session.
      a.stdin!.end();
      assert.equal(await a.exit, 0);
      await until('the last line', async () => (out.includes('eof') ? true : undefined));
      assert.equal((await exited(id)).exitCode, 0);
    });

    it('lists containers by sandbox, state and label, and emits lifecycle events', async () => {
      const events: ContainerEvent[] = [];
      const off = rt.getContainerEvents((e) => events.push(e));
      const sbc = sandboxConfig();
      const sb = await rt.runPodSandbox(sbc);
      const id = await rt.createContainer(sb, containerConfig('l', 'sleep 30', { labels: { app: 'x' } }), sbc);
      assert.equal((await rt.containerStatus(id)).state, 'CONTAINER_CREATED');
      await rt.startContainer(id);
      assert.deepEqual((await rt.listContainers({ podSandboxId: sb })).map((c) => c.id), [id]);
      assert.deepEqual((await rt.listContainers({ state: 'CONTAINER_RUNNING', labelSelector: { app: 'x' } })).map((c) => c.id), [id]);
      await rt.stopContainer(id, 0);
      await rt.removeContainer(id);
      await assert.rejects(rt.containerStatus(id), (e: unknown) => e instanceof RuntimeError && e.code === 'NotFound');
      await until('events', async () => (events.some((e) => e.containerId === id && e.containerEventType === 'CONTAINER_DELETED_EVENT') ? true : undefined));
      const types = events.filter((e) => e.containerId === id).map((e) => e.containerEventType);
      assert.deepEqual(types, ['CONTAINER_CREATED_EVENT', 'CONTAINER_STARTED_EVENT', 'CONTAINER_STOPPED_EVENT', 'CONTAINER_DELETED_EVENT']);
      off();
      await rt.removePodSandbox(sb);
    });

    it('makes mounts visible at their container path', async () => {
      const host = path.join(dir, `vol${++n}`);
      mkdirSync(host, { recursive: true });
      writeFileSync(path.join(host, 'key'), 'value-from-volume');
      const { id } = await run('cat /etc/skiff-test-config/key', { mounts: [{ containerPath: '/etc/skiff-test-config', hostPath: host, readonly: true }] });
      const s = await exited(id);
      assert.equal(s.exitCode, 0, JSON.stringify(logLines(s)));
      assert.equal(logLines(s).find((l) => l.stream === 'stdout')?.content, 'value-from-volume');
    });

    it('pulls, lists, reports and removes images', async () => {
      const ref = await rt.pullImage({ image: fx.image });
      assert.ok(ref);
      assert.ok((await rt.imageStatus({ image: fx.image }))?.repoTags.includes(fx.image));
      assert.ok((await rt.listImages()).some((i) => i.repoTags.includes(fx.image)));
      if (rt.name === 'process') {
        await rt.removeImage({ image: fx.image });
        assert.equal(await rt.imageStatus({ image: fx.image }), undefined);
      }
    });
  });
}
