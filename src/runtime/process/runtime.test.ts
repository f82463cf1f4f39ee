import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runtimeContract } from '../contract.js';
import { RuntimeError, parseLogLine } from '../cri.js';
import { ProcessRuntime, NEEDS_COMMAND_MESSAGE, LISTEN_IP_ENV, resolvConf, containerUser } from './runtime.js';
import { needs } from '../../testing/real.js';
import { createPodNetwork } from '../../network/pod/select.js';
import { LoopbackIPAM } from './ipam.js';
import { pathMapper } from './paths.js';
import { CriLogWriter, rotatedFiles } from './logwriter.js';
import { PassThrough } from 'node:stream';
import { detectCgroups } from './cgroup.js';
import { until as untilT } from '../../testing/wait.js';
const until = <T>(fn: () => Promise<T | undefined>) => untilT('the container log', fn, 10_000);

runtimeContract('process', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'skiff-proc-'));
  const runtime = new ProcessRuntime({ root, podCIDR: '10.244.3.0/24' });
  return {
    runtime,
    image: 'busybox',
    cleanup: async () => {
      await runtime.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
});

describe('process runtime specifics', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'skiff-proc-'));
  const rt = new ProcessRuntime({ root });
  after(async () => {
    await rt.close();
    rmSync(root, { recursive: true, force: true });
  });
  const sbc = (name: string) => ({ metadata: { name, uid: `u-${name}`, namespace: 'default', attempt: 0 }, logDirectory: path.join(root, 'logs', name) });

  it("serves the RuntimeClass handler 'runc' (or none) and refuses another as containerd does", async () => {
    const sb = await rt.runPodSandbox(sbc('runc'), 'runc');
    await rt.removePodSandbox(sb);
    await assert.rejects(rt.runPodSandbox(sbc('gvisor'), 'runsc'), { code: 'NotFound', message: 'failed to get sandbox runtime: no runtime for "runsc" is configured' });
  });

  it('refuses a container without command, saying why', async () => {
    const c = sbc('nocmd');
    const sb = await rt.runPodSandbox(c);
    await assert.rejects(rt.createContainer(sb, { metadata: { name: 'x', attempt: 0 }, image: { image: 'nginx' } }, c), (e: unknown) => e instanceof RuntimeError && e.code === 'InvalidArgument' && e.message === NEEDS_COMMAND_MESSAGE);
  });

  it('runs args alone as the command line, as an image without ENTRYPOINT would (kubectl run … -- sh -c …)', async () => {
    const c = sbc('argsonly');
    const sb = await rt.runPodSandbox(c);
    const id = await rt.createContainer(sb, { metadata: { name: 'x', attempt: 0 }, image: { image: 'busybox' }, args: ['sh', '-c', 'exit 7'] }, c);
    await rt.startContainer(id);
    await untilT('the container exits', async () => (await rt.containerStatus(id)).state === 'CONTAINER_EXITED', 10_000);
    assert.equal((await rt.containerStatus(id)).exitCode, 7);
  });

  it('reports a missing executable as StartError with exit code 128', async () => {
    const c = sbc('noexe');
    const sb = await rt.runPodSandbox(c);
    const id = await rt.createContainer(sb, { metadata: { name: 'x', attempt: 0 }, image: { image: 'x' }, command: ['no-such-binary-skiff'] }, c);
    await assert.rejects(rt.startContainer(id));
    const s = await rt.containerStatus(id);
    assert.equal(s.state, 'CONTAINER_EXITED');
    assert.equal(s.reason, 'StartError');
    assert.equal(s.exitCode, 128);
    assert.match(s.message, /executable file not found/);
  });

  it('ends an exec of a quick command even when nobody reads its output', async () => {
    const c = sbc('quickexec');
    const sb = await rt.runPodSandbox(c);
    const id = await rt.createContainer(sb, { metadata: { name: 'x', attempt: 0 }, image: { image: 'x' }, command: ['sleep', '30'] }, c);
    await rt.startContainer(id);
    const codes = await Promise.all(Array.from({ length: 20 }, async () => (await rt.exec({ containerId: id, cmd: ['sh', '-c', 'echo out; echo err >&2'], stdout: true, stderr: true })).exit));
    assert.deepEqual(codes, Array(20).fill(0));
    await rt.stopContainer(id, 0);
  });

  it('kills what was exec\'d into a container when the container stops (a preStop hook still running)', async () => {
    const c = sbc('execdies');
    const sb = await rt.runPodSandbox(c);
    const id = await rt.createContainer(sb, { metadata: { name: 'x', attempt: 0 }, image: { image: 'busybox' }, command: ['sleep', '60'] }, c);
    await rt.startContainer(id);
    const hook = rt.execSync(id, ['sleep', '60'], 0);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await rt.stopContainer(id, 0);
    const r = await hook;
    assert.ok(Date.now() - t0 < 5000, 'the exec ended with the container');
    assert.equal(r.exitCode, 137);
  });

  it('ListContainerStats: a running container\'s process group, filtered as CRI filters', async () => {
    const c = sbc('stats');
    const sb = await rt.runPodSandbox(c);
    const id = await rt.createContainer(sb, { metadata: { name: 'x', attempt: 0 }, image: { image: 'x' }, command: ['sh', '-c', 'sleep 30 & wait'], labels: { app: 'stats' } }, c);
    await rt.startContainer(id);
    // Right after the start the group may still be forking: poll until it holds memory.
    const s = await untilT('the container holds memory', async () => (await rt.listContainerStats({ podSandboxId: sb })).find((x) => x.memory!.workingSetBytes! > 0), 10_000);
    assert.equal(s.id, id);
    assert.equal(s.metadata.name, 'x');
    assert.equal(s.labels?.app, 'stats');
    assert.ok(s.cpu!.usageCoreNanoSeconds! >= 0);
    assert.ok(Math.abs(s.timestamp / 1e6 - Date.now()) < 60_000, 'sampled now, in ns');
    assert.equal((await rt.containerStats(id)).id, id);
    assert.deepEqual(await rt.listContainerStats({ labelSelector: { app: 'other' } }), []);
    await rt.stopContainer(id, 0);
    assert.deepEqual(await rt.listContainerStats({ id }), []);
  });

  it('runs processes as runAsUser/runAsGroup with supplementalGroups and no_new_privs (root only), exec too', async (t) => {
    if (process.getuid?.() !== 0) return void needs(t, 'switching users needs a root agent');
    if ((await rt.spawnerKind()) !== 'helper') return void needs(t, 'no C compiler (gcc) for the spawner helper');
    const c = sbc('user');
    const sb = await rt.runPodSandbox(c);
    const securityContext = { runAsUser: { value: 1234 }, runAsGroup: { value: 2345 }, supplementalGroups: [3456, 4567], noNewPrivs: true };
    const config = { metadata: { name: 'x', attempt: 0 }, image: { image: 'x' }, command: ['sh', '-c', 'echo "$(id -u) $(id -g) $(id -G)"; grep NoNewPrivs /proc/self/status; sleep 30'], linux: { securityContext } };
    assert.deepEqual(rt.unenforcedSecurity(config), []);
    const id = await rt.createContainer(sb, config, c);
    await rt.startContainer(id);
    const log = await until(async () => {
      const l = readFileSync((await rt.containerStatus(id)).logPath, 'utf8');
      return /NoNewPrivs/.test(l) ? l : undefined;
    });
    assert.match(log, / 1234 2345 2345 3456 4567\n/);
    assert.match(log, /NoNewPrivs:\s+1/);
    const r = await rt.execSync(id, ['id', '-u'], 10);
    assert.equal(r.stdout.toString().trim(), '1234', 'kubectl exec and probes run as the container user too');
    // A TTY exec too: the terminal is the user's.
    const tty = await rt.exec({ containerId: id, cmd: ['sh', '-c', 'echo "$(id -u) $(stat -c %u $(tty))"'], tty: true, stdout: true });
    let out = '';
    tty.stdout!.on('data', (d) => (out += d));
    assert.equal(await tty.exit, 0);
    await until(async () => (out.includes('1234 1234') ? true : undefined));
    await rt.stopContainer(id, 0);
  });

  it('says what host processes cannot enforce', () => {
    const sc = { capabilities: { dropCapabilities: ['ALL'] }, readonlyRootfs: true, seccomp: { profileType: 'RuntimeDefault' as const }, apparmor: { profileType: 'Unconfined' as const } };
    const out = rt.unenforcedSecurity({ metadata: { name: 'x', attempt: 0 }, image: { image: 'x' }, linux: { securityContext: sc } });
    assert.deepEqual(out.filter((x) => !x.startsWith('runAsUser')), ['capabilities', 'readOnlyRootFilesystem', 'seccompProfile RuntimeDefault']);
  });

  it('picks the user: runAsGroup, else the primary group from passwd, else 0 (root agents only)', (t) => {
    if (process.getuid?.() !== 0) return void needs(t, 'switching users needs a root agent');
    const passwd = () => new Map([[1000, 1001]]);
    const cfg = (securityContext: any) => ({ metadata: { name: 'x', attempt: 0 }, image: { image: 'x' }, linux: { securityContext } });
    assert.deepEqual(containerUser(cfg({ runAsUser: { value: 1000 } }), passwd), { uid: 1000, gid: 1001, groups: [] });
    assert.deepEqual(containerUser(cfg({ runAsUser: { value: 77 } }), passwd), { uid: 77, gid: 0, groups: [] });
    assert.deepEqual(containerUser(cfg({ runAsUser: { value: 1000 }, runAsGroup: { value: 5 }, supplementalGroups: [5, 6, 6] }), passwd), { uid: 1000, gid: 5, groups: [5, 6] });
    assert.equal(containerUser(cfg({ seccomp: { profileType: 'RuntimeDefault' } }), passwd), undefined);
  });

  it('enforces a memory limit and reports OOMKilled (root with cgroups only)', async (t) => {
    if (!detectCgroups()) return t.skip('needs root and cgroups');
    const c = sbc('oom');
    const sb = await rt.runPodSandbox(c);
    const id = await rt.createContainer(
      sb,
      { metadata: { name: 'x', attempt: 0 }, image: { image: 'x' }, command: ['sh', '-c', 'x=$(head -c 64000000 /dev/zero | tr "\\0" a); echo done'], linux: { resources: { memoryLimitInBytes: 16 * 1024 * 1024 } } },
      c,
    );
    await rt.startContainer(id);
    const deadline = Date.now() + 15000;
    let s = await rt.containerStatus(id);
    while (s.state !== 'CONTAINER_EXITED' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      s = await rt.containerStatus(id);
    }
    assert.equal(s.reason, 'OOMKilled');
    assert.equal(s.exitCode, 137);
  });
});

describe('process runtime on a pod network', () => {
  it('takes sandbox IPs from the network, tells processes where to listen, releases on stop; hostNetwork gets none', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'skiff-procnet-'));
    const network = createPodNetwork('loopback', { dataDir: path.join(root, 'net') });
    const rt = new ProcessRuntime({ root, network, cgroups: false });
    try {
      await rt.updateRuntimeConfig({ networkConfig: { podCidr: '10.244.9.0/24' } });
      const c = { metadata: { name: 'n', uid: 'u-n', namespace: 'default', attempt: 0 }, logDirectory: path.join(root, 'logs') };
      const sb = await rt.runPodSandbox(c);
      const ip = (await rt.podSandboxStatus(sb)).network!.ip;
      assert.match(ip, /^10\.244\.9\.\d+$/);
      const id = await rt.createContainer(sb, { metadata: { name: 'x', attempt: 0 }, image: { image: 'x' }, command: ['sleep', '30'] }, c);
      await rt.startContainer(id);
      const r = await rt.execSync(id, ['sh', '-c', `echo $${LISTEN_IP_ENV}`], 5);
      assert.equal(r.stdout.toString().trim(), `127.${ip.split('.').slice(1).join('.')}`);
      await rt.stopPodSandbox(sb);
      assert.equal((await rt.podSandboxStatus(sb)).network?.ip, '');
      // The address is free again (never twice while held): a new sandbox may get any free one.
      const host = { ...c, metadata: { ...c.metadata, name: 'h', uid: 'u-h' }, linux: { securityContext: { namespaceOptions: { network: 'NODE' as const } } } };
      const hsb = await rt.runPodSandbox(host);
      assert.equal((await rt.podSandboxStatus(hsb)).network?.ip, '');
    } finally {
      await rt.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('gives a pod in its own network namespace its hostname (UTS namespace, /etc/hostname), gone on stop (root)', async (t) => {
    if (!needs(t, process.getuid?.() === 0 ? undefined : 'needs root (network namespaces)')) return;
    const root = mkdtempSync(path.join(tmpdir(), 'skiff-procuts-'));
    const id = Math.random().toString(16).slice(2, 6);
    const network = createPodNetwork('netns', { dataDir: path.join(root, 'net'), bridge: `sku${id}`, netnsPrefix: `sku${id}-` });
    const rt = new ProcessRuntime({ root, network, cgroups: false, utsDir: path.join(root, 'uts'), netnsEtcDir: path.join(root, 'netns-etc') });
    try {
      await rt.updateRuntimeConfig({ networkConfig: { podCidr: '10.251.77.0/24' } });
      const c = { metadata: { name: 'web-0', uid: 'u-uts', namespace: 'default', attempt: 0 }, hostname: 'alpha', logDirectory: path.join(root, 'logs') };
      const sb = await rt.runPodSandbox(c);
      const cid = await rt.createContainer(sb, { metadata: { name: 'x', attempt: 0 }, image: { image: 'x' }, command: ['sleep', '30'] }, c);
      await rt.startContainer(cid);
      const r = await rt.execSync(cid, ['sh', '-c', 'cat /proc/sys/kernel/hostname'], 5);
      assert.equal(r.stdout.toString().trim(), 'alpha');
      assert.equal(readFileSync(path.join(root, 'netns-etc', readdirSync(path.join(root, 'netns-etc'))[0], 'hostname'), 'utf8'), 'alpha\n');
      assert.deepEqual(readdirSync(path.join(root, 'uts')), [sb]);
      await rt.stopPodSandbox(sb);
      assert.deepEqual(readdirSync(path.join(root, 'uts')), [], 'the UTS namespace is unmounted and removed');
    } finally {
      await rt.close();
      await network.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a hostNetwork pod with a resolver of its own (ClusterFirstWithHostNet) reads it, on the node network (root)', async (t) => {
    if (!needs(t, process.getuid?.() === 0 ? undefined : 'needs root (network namespaces)')) return;
    const root = mkdtempSync(path.join(tmpdir(), 'skiff-prochn-'));
    const id = Math.random().toString(16).slice(2, 6);
    const network = createPodNetwork('netns', { dataDir: path.join(root, 'net'), bridge: `skh${id}`, netnsPrefix: `skh${id}-` });
    // The real /etc/netns: that is where `ip netns exec` looks.
    const rt = new ProcessRuntime({ root, network, cgroups: false, utsDir: path.join(root, 'uts') });
    try {
      await rt.updateRuntimeConfig({ networkConfig: { podCidr: '10.251.78.0/24' } });
      const dnsConfig = { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] };
      const c = { metadata: { name: 'hn', uid: 'u-hn', namespace: 'default', attempt: 0 }, logDirectory: path.join(root, 'logs'), dnsConfig, linux: { securityContext: { namespaceOptions: { network: 'NODE' as const } } } };
      const sb = await rt.runPodSandbox(c);
      const cid = await rt.createContainer(sb, { metadata: { name: 'x', attempt: 0 }, image: { image: 'x' }, command: ['sleep', '30'] }, c);
      await rt.startContainer(cid);
      assert.equal((await rt.execSync(cid, ['cat', '/etc/resolv.conf'], 5)).stdout.toString(), resolvConf(dnsConfig));
      const netns = (await rt.execSync(cid, ['readlink', '/proc/self/ns/net'], 5)).stdout.toString().trim();
      assert.equal(netns, readlinkSync('/proc/self/ns/net'), 'still the node network namespace');
      assert.equal((await rt.podSandboxStatus(sb)).network?.ip, '');
      await rt.stopPodSandbox(sb);
      const name = `skiff-hostnet-${sb.slice(0, 12)}`;
      assert.ok(!existsSync(`/etc/netns/${name}`) && !existsSync(`/run/netns/${name}`), 'its name and resolv.conf are gone with it');
    } finally {
      await rt.close();
      await network.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('writes resolv.conf as runtimes do', () => {
    assert.equal(resolvConf({ servers: ['10.96.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local'], options: ['ndots:5'] }), 'search default.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
  });
});

describe('loopback IPAM', () => {
  it('maps the pod range onto 127/8 and skips network and gateway', () => {
    const ipam = new LoopbackIPAM('10.244.1.0/24');
    assert.equal(ipam.allocate('a'), '127.244.1.2');
    assert.equal(ipam.allocate('b'), '127.244.1.3');
    ipam.release('a');
    assert.equal(ipam.allocate('c'), '127.244.1.4');
    const small = new LoopbackIPAM('127.5.5.0/30');
    assert.equal(small.allocate('x'), '127.5.5.2');
    assert.throws(() => small.allocate('y'), RuntimeError);
  });
});

describe('path mapping', () => {
  it('rewrites whole container paths only', () => {
    const map = pathMapper([
      { containerPath: '/etc/config', hostPath: '/h/cfg' },
      { containerPath: '/etc/config/deep', hostPath: '/h/deep' },
    ]);
    assert.equal(map('cat /etc/config/key'), 'cat /h/cfg/key');
    assert.equal(map('/etc/config'), '/h/cfg');
    assert.equal(map('ls /etc/config/deep/x'), 'ls /h/deep/x');
    assert.equal(map('/etc/configuration'), '/etc/configuration');
    assert.equal(map('CFG=/etc/config'), 'CFG=/h/cfg');
    assert.equal(map('x/etc/config'), 'x/etc/config');
  });
});

describe('CRI log writer', () => {
  it('rotates past maxSize and keeps maxFiles', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'skiff-log-'));
    const file = path.join(dir, 'c', '0.log');
    const w = new CriLogWriter(file, { maxSize: 200, maxFiles: 3 });
    const s = new PassThrough();
    w.attach(s, 'stdout');
    for (let i = 0; i < 40; i++) s.write(`line ${i}\n`);
    s.end();
    await w.done();
    assert.equal(rotatedFiles(file).length, 2);
    const last = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => parseLogLine(l)!);
    assert.equal(last.at(-1)?.content, 'line 39');
    rmSync(dir, { recursive: true, force: true });
  });
});
