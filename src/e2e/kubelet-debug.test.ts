/**
 * `kubectl debug` with the real kubectl against a cluster with a kubelet on the process runtime:
 * ephemeral containers through pods/ephemeralcontainers (interactive on a terminal, and detached
 * with logs and attach), their status and events, upstream's refusals, and the variants that make
 * new pods (--copy-to, node/NAME); on containerd, --target joins the target's PID namespace.
 * kubectl only asks for a TTY when its own stdin is a terminal, so
 * the interactive case runs it on a pseudo-terminal from the process runtime's spawner helper.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { clientFromKubeconfig, type ApiClient } from '../testing/client.js';
import { needs, which } from '../testing/real.js';
import { until } from '../testing/wait.js';
import { attachUntilEcho } from '../testing/attach.js';
import { HelperSpawner, type Spawned } from '../runtime/process/spawner.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createKubelet } from '../kubelet/agent.js';
import { startTestRegistry, type TestRegistry } from '../images/distribution.js';
import { busyboxImage } from '../images/testimages.js';
import { containerdFixtureMissing } from '../runtime/containerd/testing.js';

describe('kubectl debug (process runtime)', () => {
  let c: TestCluster | undefined;
  let api: ApiClient | undefined;
  let sp: HelperSpawner | undefined;
  const node = `dbg-${randomBytes(2).toString('hex')}`;
  const children: ChildProcess[] = [];
  const kubectl = which('kubectl');
  let skip: string | undefined = kubectl ? undefined : 'kubectl is not on PATH';
  const podPath = '/api/v1/namespaces/default/pods/target';

  before(async () => {
    if (skip) return;
    sp = await HelperSpawner.start();
    // Controllers: node IPAM and the default ServiceAccount; the scheduler places --copy-to's pod.
    c = await startTestCluster({ components: { kubelet: true, controllers: true, scheduler: true }, up: { runtime: 'process', networkMode: 'loopback', nodeName: node, networkPrefix: `dg${node.slice(4)}` } });
    api = await clientFromKubeconfig(c.kubeconfig);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'target' }, spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] } };
    await until('pod target created', async () => (await c!.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) })).code === 0);
    await c.run(['wait', '--for=jsonpath={.status.phase}=Running', 'pod/target', '--timeout=60s']);
  });

  after(async () => {
    for (const ch of children) ch.kill();
    api?.close();
    await sp?.close();
    await c?.stop();
  });

  const ephemeralStatus = async (name: string) => {
    const pod = JSON.parse(await c!.run(['get', 'pod', 'target', '-o', 'json']));
    return (pod.status.ephemeralContainerStatuses ?? []).find((s: any) => s.name === name);
  };

  it('kubectl debug -it: a shell in an ephemeral container on a terminal; it ends terminated and is not restarted', async (t) => {
    if (skip) return void needs(t, skip);
    if (!sp) return void needs(t, 'no C compiler (gcc) for the spawner helper, which owns the terminals');
    const p: Spawned = await sp.spawn({
      file: kubectl!,
      argv: ['kubectl', 'debug', 'target', '-it', '--image=busybox', '--container=shell', '--', 'sh'],
      cwd: '/',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', KUBECONFIG: c!.kubeconfig, KUBECACHEDIR: `${c!.dataDir}/kube-cache-tty`, TERM: 'xterm' },
      stdin: true,
      tty: true,
    });
    p.resize!(100, 30);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((r) => p.once('exit', (code: number | null) => r(code)));
    await until('attached', () => /If you don't see a command prompt/.test(out), 30_000).catch((e) => assert.fail(`${e.message}: ${JSON.stringify(out)}`));
    await until(
      'the shell answers on a terminal',
      () => {
        if (/from-42 tty:yes/.test(out)) return true;
        p.stdin!.write('echo "from-$((40+2)) tty:$([ -t 0 ] && echo yes)"\n');
        return undefined;
      },
      20_000,
      300,
    ).catch((e) => assert.fail(`${e.message}: ${JSON.stringify(out)}`));
    p.stdin!.write('exit 0\n');
    assert.equal(await exited, 0, out);
    await until('terminated in ephemeralContainerStatuses', async () => (await ephemeralStatus('shell'))?.state?.terminated, 20_000);
    const s = await ephemeralStatus('shell');
    assert.equal(s.state.terminated.exitCode, 0);
    assert.equal(s.state.terminated.reason, 'Completed');
    assert.equal(s.restartCount, 0);
    assert.equal(s.ready, false);
    // The pod runs on, and the shell is not started again.
    assert.equal(await c!.run(['get', 'pod', 'target', '-o', 'jsonpath={.status.phase}']), 'Running');
  });

  it('kubectl debug -- sh -c: the output is in kubectl logs -c, the status in jsonpath, the steps in events', async (t) => {
    if (skip) return void needs(t, skip);
    const r = await c!.kubectl(['debug', 'target', '--image=busybox', '--', 'sh', '-c', 'echo hi']);
    assert.equal(r.code, 0, r.stderr);
    const name = /Defaulting debug container name to (debugger-\w+)/.exec(r.stdout + r.stderr)?.[1];
    assert.ok(name, r.stdout + r.stderr);
    await until(`logs of ${name}`, async () => (await c!.kubectl(['logs', 'target', '-c', name])).stdout === 'hi\n', 20_000);
    const names = await c!.run(['get', 'pod', 'target', '-o', 'jsonpath={.status.ephemeralContainerStatuses[*].name}']);
    assert.ok(names.split(' ').includes(name), names);
    await until('Completed', async () => (await c!.run(['get', 'pod', 'target', '-o', `jsonpath={.status.ephemeralContainerStatuses[?(@.name=="${name}")].state.terminated.reason}`])) === 'Completed', 20_000);
    const described = await c!.run(['describe', 'pod', 'target']);
    assert.match(described, new RegExp(`Ephemeral Containers:[\\s\\S]*\\n\\s+${name}:`));
    assert.match(await c!.run(['get', 'pod', 'target']), /target\s+1\/1\s+Running/, 'READY counts app containers only');
    const fieldPath = `spec.ephemeralContainers{${name}}`;
    await until('events for the container', async () => {
      const evs = JSON.parse(await c!.run(['get', 'events', '--field-selector', 'involvedObject.name=target', '-o', 'json'])).items.filter((e: any) => e.involvedObject.fieldPath === fieldPath);
      const reasons = new Set(evs.map((e: any) => e.reason));
      return ['Pulling', 'Pulled', 'Created', 'Started'].every((x) => reasons.has(x));
    }, 20_000);
  });

  it('kubectl attach reaches a running ephemeral container started with stdin', async (t) => {
    if (skip) return void needs(t, skip);
    await c!.run(['debug', 'target', '-i', '--attach=false', '--image=busybox', '--container=reader', '--', 'sh', '-c', 'while read l; do echo "got:$l"; done']);
    await until('reader running', async () => (await ephemeralStatus('reader'))?.state?.running, 20_000);
    const { ch } = await attachUntilEcho(kubectl!, ['target', '-c', 'reader'], { ...process.env, KUBECONFIG: c!.kubeconfig, KUBECACHEDIR: `${c!.dataDir}/kube-cache-attach` }, 'ping', /got:ping/);
    children.push(ch);
    ch.kill();
  });

  it('refuses changes to existing ephemeral containers and forbidden fields with 422 Invalid, changing nothing', async (t) => {
    if (skip) return void needs(t, skip);
    await c!.run(['debug', 'target', '--image=busybox', '--container=fixed', '--', 'sleep', '600']);
    await until('fixed running', async () => (await ephemeralStatus('fixed'))?.state?.running, 20_000);
    const before = (await api!.request('GET', `${podPath}/ephemeralcontainers`)).json();
    assert.equal(before.kind, 'Pod');
    const i = before.spec.ephemeralContainers.findIndex((e: any) => e.name === 'fixed');
    const attempts: [string, any, string, RegExp][] = [
      ['change an existing one', [{ op: 'replace', path: `/spec/ephemeralContainers/${i}/image`, value: 'alpine' }], 'application/json-patch+json', /spec\.ephemeralContainers: Forbidden: existing ephemeral containers "fixed" may not be changed/],
      ['remove an existing one', [{ op: 'remove', path: `/spec/ephemeralContainers/${i}` }], 'application/json-patch+json', /spec\.ephemeralContainers: Forbidden: existing ephemeral containers "fixed" may not be removed/],
      ['ports', { spec: { ephemeralContainers: [{ name: 'withports', image: 'busybox', ports: [{ containerPort: 80 }] }] } }, 'application/strategic-merge-patch+json', /spec\.ephemeralContainers\[\d+\]\.ports: Forbidden: cannot be set for an Ephemeral Container/],
      ['a name taken by an app container', { spec: { ephemeralContainers: [{ name: 'main', image: 'busybox' }] } }, 'application/strategic-merge-patch+json', /spec\.ephemeralContainers\[\d+\]\.name: Duplicate value: "main"/],
      ['an unknown target', { spec: { ephemeralContainers: [{ name: 'x', image: 'busybox', targetContainerName: 'nope' }] } }, 'application/strategic-merge-patch+json', /targetContainerName: Not found: "nope"/],
    ];
    for (const [what, body, type, message] of attempts) {
      const res = await api!.request('PATCH', `${podPath}/ephemeralcontainers`, body, { 'content-type': type });
      assert.equal(res.status, 422, `${what}: ${res.body}`);
      const st = res.json();
      assert.equal(st.reason, 'Invalid', what);
      assert.match(st.message, /^Pod "target" is invalid: /, what);
      assert.match(st.message, message, what);
    }
    // The same through kubectl, and through the main resource (which may not touch them at all).
    const k = await c!.kubectl(['patch', 'pod', 'target', '--subresource=ephemeralcontainers', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: `/spec/ephemeralContainers/${i}/image`, value: 'alpine' }])]);
    assert.notEqual(k.code, 0);
    assert.match(k.stderr, /The Pod "target" is invalid: spec\.ephemeralContainers: Forbidden: existing ephemeral containers "fixed" may not be changed/);
    const main = await c!.kubectl(['patch', 'pod', 'target', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: `/spec/ephemeralContainers/${i}/image`, value: 'alpine' }])]);
    assert.notEqual(main.code, 0);
    assert.match(main.stderr, /spec: Forbidden: pod updates may not change fields other than/);
    const after = (await api!.request('GET', podPath)).json();
    // (The kubelet may write status meanwhile: the spec is what must not change.)
    assert.deepEqual(after.spec, before.spec, 'nothing was written');
  });

  it('discovery lists pods/ephemeralcontainers', async (t) => {
    if (skip) return void needs(t, skip);
    const list = JSON.parse(await c!.run(['get', '--raw', '/api/v1']));
    const sub = list.resources.find((r: any) => r.name === 'pods/ephemeralcontainers');
    assert.deepEqual(sub, { name: 'pods/ephemeralcontainers', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] });
    const v3 = JSON.parse(await c!.run(['get', '--raw', '/openapi/v3/api/v1']));
    const ops = v3.paths['/api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers'];
    assert.ok(ops?.get && ops.put && ops.patch, 'OpenAPI v3 describes the subresource');
    assert.ok('application/strategic-merge-patch+json' in ops.patch.requestBody.content);
  });

  it('kubectl debug --copy-to makes a copy of the pod with the debug container', async (t) => {
    if (skip) return void needs(t, skip);
    await c!.run(['debug', 'target', '--copy-to=target-copy', '--image=busybox', '--container=dbg', '--', 'sleep', '600']);
    await c!.run(['wait', '--for=jsonpath={.status.phase}=Running', 'pod/target-copy', '--timeout=60s']);
    const names = await c!.run(['get', 'pod', 'target-copy', '-o', 'jsonpath={.status.containerStatuses[*].name}']);
    assert.deepEqual(names.split(' ').sort(), ['dbg', 'main']);
  });

  it('kubectl debug node/NAME runs a host-network pod on the node with its root at /host', async (t) => {
    if (skip) return void needs(t, skip);
    const r = await c!.kubectl(['debug', `node/${node}`, '--image=busybox', '--', 'sh', '-c', 'test -d /host/proc && echo host-root-ok']);
    assert.equal(r.code, 0, r.stderr);
    const name = /debugging pod (\S+)/.exec(r.stdout)?.[1];
    assert.ok(name, r.stdout);
    const pod = JSON.parse(await c!.run(['get', 'pod', name, '-o', 'json']));
    assert.equal(pod.spec.nodeName, node);
    assert.equal(pod.spec.hostNetwork, true);
    await until('the debugger ran', async () => /host-root-ok/.test((await c!.kubectl(['logs', name])).stdout), 20_000);
  });
});

describe('kubectl debug (containerd runtime)', () => {
  const NODE = 'skiff-ctr-debug';
  let tc: TestCluster | undefined;
  let registry: TestRegistry | undefined;
  let stopKubelet: (() => Promise<void>) | undefined;
  let dir = '';
  // 10.244.40-63: apart from the other containerd tests' ranges.
  const third = randomInt(40, 64);

  before(async (t) => {
    if (!needs(t as any, which('kubectl') ? containerdFixtureMissing() : 'kubectl not on PATH')) return;
    registry = await startTestRegistry();
    await registry.publish(busyboxImage('docker.io/library/busybox:latest'), 'library/busybox', 'latest');
    dir = mkdtempSync('/tmp/skd-'); // short: containerd's socket lives under it
    tc = await startTestCluster();
    const client = new RestClient(configFromKubeconfig(tc.kubeconfig, 'kubelet-debug-e2e'));
    const comp = createKubelet(client, { nodeName: NODE, dataDir: dir, runtime: 'containerd', registryMirrors: { 'docker.io': [`http://${registry.host}`] }, podCIDR: `10.244.${third}.0/24`, port: 0, resyncMs: 2000 });
    await comp.start();
    stopKubelet = () => comp.stop();
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'target' }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '600'] }] } };
    await until('pod target created', async () => (await tc!.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) })).code === 0);
    await tc.run(['wait', '--for=jsonpath={.status.phase}=Running', 'pod/target', '--timeout=60s']);
  });

  after(async () => {
    await stopKubelet?.();
    await tc?.stop();
    await registry?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("--target shares the target container's processes; without it the debugger sees only its own", async (t) => {
    if (!tc) return void needs(t, containerdFixtureMissing() ?? 'no cluster');
    const ps = async (container: string, target?: string) => {
      await tc!.run(['debug', 'target', '--image=busybox', `--container=${container}`, ...(target ? [`--target=${target}`] : []), '--', 'ps', '-o', 'pid,args']);
      return until(`${container} logs`, async () => {
        const r = await tc!.kubectl(['logs', 'target', '-c', container]);
        return r.code === 0 && /PID/.test(r.stdout) ? r.stdout : undefined;
      }, 60_000);
    };
    assert.match(await ps('with-target', 'app'), /sleep 600/);
    assert.doesNotMatch(await ps('alone'), /sleep 600/);
    const st = JSON.parse(await tc.run(['get', 'pod', 'target', '-o', 'json'])).status.ephemeralContainerStatuses;
    assert.deepEqual(st.map((s: any) => s.name).sort(), ['alone', 'with-target']);
    for (const s of st) assert.match(s.containerID, /^containerd:\/\//);
  });
});
