import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../../testing/wait.js';
import { runtimeContract } from '../contract.js';
import { needs } from '../../testing/real.js';
import { containerdFixtureMissing, startContainerdFixture, type ContainerdFixture } from './testing.js';
import { containerdConfig, cniConflist } from './config.js';
import { exitCodeOf } from './exec.js';
import { busyboxImage } from '../../images/testimages.js';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startContainerdRuntime, type ContainerdRuntime } from './runtime.js';
import { ContainerdSupervisor } from './supervisor.js';

/** The container's status once it has exited. */
const exited = (fx: ContainerdFixture, id: string) =>
  until(`container ${id} to exit`, async () => {
    const s = await fx.runtime.containerStatus(id);
    return s.state === 'CONTAINER_EXITED' ? s : undefined;
  }, 15_000);

const missing = containerdFixtureMissing();

if (!missing) {
  runtimeContract('containerd', async () => {
    const fx = await startContainerdFixture();
    return { runtime: fx.runtime, image: fx.image, cleanup: () => fx.cleanup() };
  });
}

describe('containerd runtime', () => {
  it('runs (skips without containerd, runc and root)', (t) => {
    needs(t, missing);
  });
});

describe('containerd config', () => {
  it('sets restrict_oom_score_adj, its own paths, CNI dirs and mirrors', () => {
    const toml = containerdConfig({
      paths: { root: '/d/root', state: '/d/state', socket: '/d/c.sock', opt: '/d/opt', cniBinDir: '/usr/lib/cni', cniConfDir: '/d/net.d', cniTemplate: '/d/t' },
      sandboxImage: 'skiff.local/pause:3.9',
      mirrors: { 'docker.io': ['http://127.0.0.1:5000'] },
    });
    assert.match(toml, /restrict_oom_score_adj = true/);
    assert.match(toml, /address = "\/d\/c\.sock"/);
    assert.match(toml, /conf_dir = "\/d\/net\.d"/);
    assert.match(toml, /registry\.mirrors\."docker\.io"\]\n\s+endpoint = \["http:\/\/127\.0\.0\.1:5000"\]/);
  });

  it('puts the pod range into host-local', () => {
    const c = JSON.parse(cniConflist({ name: 'n', bridge: 'b', ipamDataDir: '/d/ipam' }, '10.244.1.0/24'));
    assert.deepEqual(c.plugins[0].ipam.ranges, [[{ subnet: '10.244.1.0/24' }]]);
  });
});

describe('exec stream status', () => {
  it('maps v4 status messages to exit codes', () => {
    assert.equal(exitCodeOf({ status: 'Success' }), 0);
    assert.equal(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '4' }] } }), 4);
  });
});

describe('containerd runtime specifics', { skip: missing }, () => {
  let fx: ContainerdFixture;
  before(async () => {
    fx = await startContainerdFixture();
  });
  after(async () => {
    await fx?.cleanup();
  });

  it('pulled the image from the registry', async () => {
    await until('the pull in the registry log', async () => (fx.registry.requests.some((r) => r.startsWith('GET /v2/skiff/busybox/blobs/')) ? true : undefined));
  });

  it('gives sandboxes IPs from the pod range and reports OOMKilled', async () => {
    const sbc = { metadata: { name: 'oom', uid: `oom-${Date.now()}`, namespace: 'default', attempt: 0 }, logDirectory: `${fx.dir}/logs/oom` };
    const sb = await fx.runtime.runPodSandbox(sbc);
    const ip = (await fx.runtime.podSandboxStatus(sb)).network?.ip ?? '';
    assert.equal(ip.split('.').slice(0, 3).join('.'), fx.podCIDR.split('.').slice(0, 3).join('.'));
    const id = await fx.runtime.createContainer(
      sb,
      { metadata: { name: 'x', attempt: 0 }, image: { image: fx.image }, command: ['sh', '-c', 'x=$(head -c 64000000 /dev/zero | tr "\\0" a); echo done'], logPath: 'x/0.log', linux: { resources: { memoryLimitInBytes: 16 * 1024 * 1024 } } },
      sbc,
    );
    await fx.runtime.startContainer(id);
    const s = await exited(fx, id);
    assert.equal(s.reason, 'OOMKilled');
    assert.equal(s.exitCode, 137);
    await fx.runtime.removePodSandbox(sb);
  });

  it('streams exec over SPDY: stdin EOF reaches the process, and more than a 64 KiB window flows both ways', async () => {
    const sbc = { metadata: { name: 'cat', uid: `cat-${Date.now()}`, namespace: 'default', attempt: 0 }, logDirectory: `${fx.dir}/logs/cat` };
    const sb = await fx.runtime.runPodSandbox(sbc);
    const id = await fx.runtime.createContainer(sb, { metadata: { name: 'c', attempt: 0 }, image: { image: fx.image }, command: ['sleep', '60'], logPath: 'c/0.log' }, sbc);
    await fx.runtime.startContainer(id);
    const input = Buffer.alloc(200 * 1024, 'abcdefgh');
    // The process counts what it read before it writes it back: a short answer then says which way was cut.
    const sess = await fx.runtime.exec({ containerId: id, cmd: ['sh', '-c', 'cat > /tmp/in; wc -c < /tmp/in >&2; cat /tmp/in; echo done >&2'], stdin: true, stdout: true, stderr: true });
    const out: Buffer[] = [];
    let err = '';
    sess.stdout!.on('data', (d: Buffer) => out.push(d));
    sess.stderr!.on('data', (d) => (err += d));
    sess.stdin!.end(input);
    assert.equal(await sess.exit, 0);
    assert.equal(err.replace(/^\s+/, ''), `${input.length}\ndone\n`, 'the process read all of stdin');
    assert.equal(Buffer.concat(out).length, input.length, 'all of stdout arrived');
    assert.ok(Buffer.concat(out).equals(input));

    // A TTY: one output stream, and the terminal size arrives through the resize stream.
    const tty = await fx.runtime.exec({ containerId: id, cmd: ['sh', '-c', 'sleep 0.3; stty size'], tty: true, stdout: true });
    assert.equal(tty.stderr, undefined);
    tty.resize(123, 45);
    let text = '';
    tty.stdout!.on('data', (d) => (text += d));
    assert.equal(await tty.exit, 0);
    assert.match(text, /45 123/);

    const failing = await fx.runtime.exec({ containerId: id, cmd: ['sh', '-c', 'exit 7'], stdout: true });
    failing.stdout!.resume();
    assert.equal(await failing.exit, 7);
    await fx.runtime.removePodSandbox(sb);
  });

  it('attaches to a TTY container (resize reaches it); detach leaves the container running', async () => {
    const sbc = { metadata: { name: 'tty', uid: `tty-${Date.now()}`, namespace: 'default', attempt: 0 }, logDirectory: `${fx.dir}/logs/tty` };
    const sb = await fx.runtime.runPodSandbox(sbc);
    const cfg = { metadata: { name: 't', attempt: 0 }, image: { image: fx.image }, logPath: 't/0.log', stdin: true, tty: true };
    const id = await fx.runtime.createContainer(sb, { ...cfg, command: ['sh', '-c', 'while read l; do echo "size:$(stty size)"; done'] }, sbc);
    await fx.runtime.startContainer(id);
    const a = await fx.runtime.attach({ containerId: id, stdin: true, stdout: true, stderr: true, tty: true });
    assert.equal(a.stderr, undefined, 'a TTY has one output stream');
    let out = '';
    a.stdout!.on('data', (d) => (out += d));
    a.resize(101, 33);
    await until('the size seen in the container', async () => {
      a.stdin!.write('x\n');
      return /size:33 101/.test(out) ? true : undefined;
    }, 15_000);
    a.detach();
    assert.equal(await a.exit, -1);
    assert.equal((await fx.runtime.containerStatus(id)).state, 'CONTAINER_RUNNING');

    // A second session still reaches it, and ends when the container does.
    const b = await fx.runtime.attach({ containerId: id, stdin: true, stdout: true, tty: true });
    b.stdout!.resume();
    await fx.runtime.stopContainer(id, 0);
    assert.equal(await b.exit, 137);
    await fx.runtime.removePodSandbox(sb);
  });

  it('fails a pull of a missing image with NotFound-ish message', async () => {
    await assert.rejects(fx.runtime.pullImage({ image: `${fx.registry.host}/skiff/nope:1` }), /not found/);
  });

  it('runs a container with the CRI security context (run-as user and groups, read-only rootfs)', async () => {
    const sbc = { metadata: { name: 'sec', uid: `sec-${Date.now()}`, namespace: 'default', attempt: 0 }, logDirectory: `${fx.dir}/logs/sec`, linux: { securityContext: { supplementalGroups: [2000] } } };
    const sb = await fx.runtime.runPodSandbox(sbc);
    const id = await fx.runtime.createContainer(
      sb,
      {
        metadata: { name: 's', attempt: 0 },
        image: { image: fx.image },
        command: ['sh', '-c', 'id -u; id -G; touch /x 2>/dev/null && echo writable || echo read-only'],
        logPath: 's/0.log',
        linux: { securityContext: { runAsUser: { value: 1000 }, runAsGroup: { value: 3000 }, supplementalGroups: [2000], readonlyRootfs: true, noNewPrivs: true, seccomp: { profileType: 'Unconfined' }, capabilities: { dropCapabilities: ['ALL'] } } },
      },
      sbc,
    );
    await fx.runtime.startContainer(id);
    const s = await exited(fx, id);
    assert.equal(s.exitCode, 0);
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(s.logPath, 'utf8').trim().split('\n').map((l) => l.split(' ').slice(3).join(' '));
    assert.equal(lines[0], '1000');
    assert.deepEqual(lines[1].split(' ').sort(), ['2000', '3000']);
    assert.equal(lines[2], 'read-only');
    await fx.runtime.removePodSandbox(sb);
  });

  it('reports container stats (CPU, memory, writable layer) through CRI', async () => {
    const sbc = { metadata: { name: 'stats', uid: `stats-${Date.now()}`, namespace: 'default', attempt: 0 }, logDirectory: `${fx.dir}/logs/stats` };
    const sb = await fx.runtime.runPodSandbox(sbc);
    const id = await fx.runtime.createContainer(sb, { metadata: { name: 'busy', attempt: 0 }, image: { image: fx.image }, command: ['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 60'], logPath: 'busy/0.log', labels: { app: 'stats' } }, sbc);
    await fx.runtime.startContainer(id);
    const deadline = Date.now() + 15000;
    let st = await fx.runtime.containerStats(id);
    while (!(st.cpu?.usageCoreNanoSeconds && st.memory?.workingSetBytes) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      st = await fx.runtime.containerStats(id);
    }
    assert.equal(st.id, id);
    assert.equal(st.metadata.name, 'busy');
    assert.ok(st.timestamp > 0);
    assert.ok((st.cpu?.usageCoreNanoSeconds ?? 0) > 0, JSON.stringify(st));
    assert.ok((st.memory?.workingSetBytes ?? 0) > 0, JSON.stringify(st));
    const list = await fx.runtime.listContainerStats({ labelSelector: { app: 'stats' } });
    assert.deepEqual(list.map((s) => s.id), [id]);
    await fx.runtime.stopContainer(id, 0);
    await fx.runtime.removePodSandbox(sb);
  });

  it('uses an existing endpoint as any CRI runtime: name from CRI, no daemon or network state of its own', async () => {
    const { containerdRuntime } = await import('./runtime.js');
    const ext = containerdRuntime({ endpoint: fx.runtime.endpoint });
    await ext.start();
    assert.equal(ext.name, (await ext.version()).runtimeName);
    assert.equal(ext.supervisor, undefined);
    // Network leftovers belong to that runtime: reconcile leaves its IPAM state alone.
    const sv = fx.runtime.supervisor!;
    const planted = path.join(sv.cni.ipamDataDir, sv.cni.name, '10.244.0.250');
    mkdirSync(path.dirname(planted), { recursive: true });
    writeFileSync(planted, 'nobody');
    assert.deepEqual(await ext.reconcile(), { removedSandboxes: [], releasedIPs: [], removedNetns: [] });
    assert.ok(existsSync(planted));
    rmSync(planted);
    await ext.close();
    assert.ok((await fx.runtime.version()).runtimeVersion, 'closing a client of an existing endpoint leaves the daemon running');
  });

  it('serves a /stats/summary-shaped view of the pods from CRI stats and ImageFsInfo', async () => {
    const { collectStatsSummary } = await import('./summary.js');
    const uid = `sum-${Date.now()}`;
    const labels = { 'io.kubernetes.pod.name': 'sum', 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': uid };
    const sbc = { metadata: { name: 'sum', uid, namespace: 'default', attempt: 0 }, labels, logDirectory: `${fx.dir}/logs/sum` };
    const sb = await fx.runtime.runPodSandbox(sbc);
    const id = await fx.runtime.createContainer(sb, { metadata: { name: 'app', attempt: 0 }, image: { image: fx.image }, command: ['sleep', '60'], logPath: 'app/0.log', labels: { ...labels, 'io.kubernetes.container.name': 'app' } }, sbc);
    await fx.runtime.startContainer(id);
    const summary = await until('the pod with memory stats in the summary', async () => {
      const s = await collectStatsSummary(fx.runtime, { nodeName: 'n' });
      const p = s.pods.find((x) => x.podRef.uid === uid);
      return p?.memory?.workingSetBytes ? s : undefined;
    }, 15_000);
    const p = summary.pods.find((x) => x.podRef.uid === uid)!;
    assert.deepEqual(p.podRef, { name: 'sum', namespace: 'default', uid });
    assert.deepEqual(p.containers.map((c) => c.name), ['app']);
    assert.ok((summary.node.runtime?.imageFs?.capacityBytes ?? 0) > 0);
    await fx.runtime.stopContainer(id, 0);
    await fx.runtime.removePodSandbox(sb);
  });

  // Last: the registry requires credentials from here on.
  it('pulls with CRI AuthConfig from a registry that requires it', async () => {
    const image = fx.authRegistry.push(busyboxImage('skiff.local/private:1'), 'private/busybox', '1');
    fx.authRegistry.requireAuth('puller', 's3cret');
    await assert.rejects(fx.runtime.pullImage({ image }), /401|unauthori[sz]ed/i);
    await assert.rejects(fx.runtime.pullImage({ image }, { username: 'puller', password: 'wrong' }), /401|unauthori[sz]ed/i);
    const ref = await fx.runtime.pullImage({ image }, { username: 'puller', password: 's3cret' });
    assert.match(ref, /^sha256:/);
  });
});

describe('containerd after an abrupt stop (kill -9 of the process that ran it)', { skip: missing }, () => {
  it('restarts its daemon, keeps live pods, and releases orphaned sandboxes, IPs and network namespaces', async () => {
    const dir = mkdtempSync('/tmp/skc-');
    const podCIDR = '10.244.127.0/24';
    const sv = new ContainerdSupervisor({ dir });
    const ipamNet = path.join(sv.cni.ipamDataDir, sv.cni.name);
    let rt: ContainerdRuntime | undefined;
    try {
      // A process runs containerd and two pods, then dies without cleaning up.
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { startContainerdRuntime } = await import(${JSON.stringify(new URL('./runtime.js', import.meta.url).href)});
           const rt = await startContainerdRuntime({ dir: ${JSON.stringify(dir)}, podCIDR: ${JSON.stringify(podCIDR)} });
           const ids = [];
           for (const uid of ['keep-me', 'gone']) ids.push(await rt.runPodSandbox({ metadata: { name: uid, uid, namespace: 'default', attempt: 0 }, labels: { 'io.kubernetes.pod.uid': uid } }));
           console.log(JSON.stringify(ids));
           setInterval(() => {}, 1000);`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const [keepId, goneId] = await new Promise<string[]>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve(JSON.parse(out));
        });
        child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
      });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      // Its containerd is still running (an orphan). Leftovers of a crash mid-RunPodSandbox: an IP
      // reserved for a sandbox containerd never recorded, and an unused namespace file.
      writeFileSync(path.join(ipamNet, '10.244.127.250'), 'never-recorded\r\neth0');
      mkdirSync(sv.netnsDir, { recursive: true });
      writeFileSync(path.join(sv.netnsDir, 'cni-leaked'), '');

      rt = await startContainerdRuntime({ dir, podCIDR });
      assert.ok(!existsSync(path.join(ipamNet, '10.244.127.250')), 'the unowned IP is released at start');
      assert.ok(!existsSync(path.join(sv.netnsDir, 'cni-leaked')), 'the unused namespace is removed at start');
      const ready = await rt.listPodSandbox({ state: 'SANDBOX_READY' });
      assert.deepEqual(ready.map((s) => s.id).sort(), [keepId, goneId].sort(), 'pods outlive the killed process');
      const ipOf = async (id: string) => (await rt!.podSandboxStatus(id)).network?.ip ?? '';
      const goneIP = await ipOf(goneId);
      assert.ok(existsSync(path.join(ipamNet, goneIP)));
      const netnsBefore = readdirSync(sv.netnsDir).length;

      // The kubelet knows its pods: the other sandbox goes, with its IP and namespace.
      const r = await rt.reconcile(new Set(['keep-me']));
      assert.deepEqual(r.removedSandboxes, [goneId]);
      assert.deepEqual((await rt.listPodSandbox()).map((s) => s.id), [keepId]);
      assert.ok(!existsSync(path.join(ipamNet, goneIP)), 'its IP is released');
      assert.ok(existsSync(path.join(ipamNet, await ipOf(keepId))), 'the kept pod keeps its IP');
      assert.equal(readdirSync(sv.netnsDir).length, netnsBefore - 1, 'its namespace is gone');
    } finally {
      await rt?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
