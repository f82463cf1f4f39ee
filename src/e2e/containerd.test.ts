/**
 * The seed's pod.yml (`image: nginx`), unchanged, as a real container: the kubelet with the
 * containerd runtime (its own containerd, CNI bridge over the node's 10.244 range), nginx pulled
 * through CRI from a loopback registry that stands in for docker.io (a registry mirror, as
 * `--registry-mirror docker.io=http://…` configures), driven with the real kubectl.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import http from 'node:http';
import { randomInt } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import YAML from 'yaml';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createKubelet } from '../kubelet/agent.js';
import { needs, which } from '../testing/real.js';
import { until } from '../testing/wait.js';
import { startLocalRegistry, type LocalRegistry } from '../images/registry.js';
import { startTestRegistry, type TestRegistry } from '../images/distribution.js';
import { busyboxImage, nginxImage } from '../images/testimages.js';
import { nginxMissing } from '../images/rootfs.js';
import { containerdFixtureMissing } from '../runtime/containerd/testing.js';
import type { ContainerdRuntime } from '../runtime/containerd/runtime.js';

const NODE = 'skiff-ctr-node';
const DEADLINE = 60_000;

/** The seed's pod.yml, verbatim. */
const SEED_POD_YML = `apiVersion: v1
kind: Pod
metadata:
  name: example-pod
spec:
  containers:
  - name: example-container
    image: nginx
    ports:
    - containerPort: 80
`;

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

describe('containerd e2e: the seed pod.yml runs nginx for real (real kubectl)', () => {
  let tc: TestCluster;
  /** Debian's docker-registry (where installed) standing in for docker.io. */
  let registry: TestRegistry;
  /** A second registry that requires basic auth (imagePullSecrets). */
  let privateRegistry: LocalRegistry;
  let privateImage = '';
  let secretsWired = false;
  let runtime: ContainerdRuntime;
  let stopKubelet: (() => Promise<void>) | undefined;
  let dir: string;
  // 128–191: apart from the containerd fixture's 192–249 (runtime/containerd/testing.ts), which may run meanwhile.
  const third = randomInt(128, 192);
  const podCIDR = `10.244.${third}.0/24`;

  const kubectl = async (...args: string[]) => {
    const r = await tc.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const getPod = async (name: string) => JSON.parse(await kubectl('get', 'pod', name, '-o', 'json'));

  before(async (t) => {
    if (!needs(t as any, which('kubectl') ? containerdFixtureMissing() ?? nginxMissing() : 'kubectl not on PATH')) return;
    registry = await startTestRegistry();
    await registry.publish(nginxImage(), 'library/nginx', 'latest');
    await registry.publish(busyboxImage('docker.io/library/busybox:latest'), 'library/busybox', 'latest');
    (t as any).diagnostic?.(`registry: ${registry.kind}`);
    privateRegistry = await startLocalRegistry();
    privateImage = privateRegistry.push(busyboxImage('skiff.local/private:1'), 'private/busybox', '1');
    privateRegistry.requireAuth('puller', 's3cret');
    // A short data dir: containerd's socket lives under it.
    dir = mkdtempSync('/tmp/skc-');
    tc = await startTestCluster();
    const client = new RestClient(configFromKubeconfig(tc.kubeconfig, 'kubelet-containerd-e2e'));
    const comp = createKubelet(client, { nodeName: NODE, dataDir: dir, runtime: 'containerd', registryMirrors: { 'docker.io': [`http://${registry.host}`], [privateRegistry.host]: [`http://${privateRegistry.host}`] }, podCIDR, port: 0, resyncMs: 2000 });
    runtime = comp.kubelet.runtime as ContainerdRuntime;
    // imagePullSecrets need the kubelet to hand the pod worker a Secret reader (PodWorkerDeps.secret).
    secretsWired = typeof (comp.kubelet as any).workerDeps === 'function' && typeof (comp.kubelet as any).workerDeps().secret === 'function';
    await comp.start();
    stopKubelet = () => comp.stop();
  });

  after(async () => {
    await stopKubelet?.(); // closes the runtime, which stops its containerd
    if (!stopKubelet) await runtime?.close().catch(() => undefined);
    await tc?.stop();
    await registry?.close();
    await privateRegistry?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the seed pod.yml: Running, an IP from the node range, nginx answers, logs and exec work', async () => {
    await tc.kubectl(['create', '-f', '-'], { input: SEED_POD_YML.replace('spec:\n', `spec:\n  nodeName: ${NODE}\n`) }).then((r) => assert.equal(r.code, 0, r.stderr));
    const pod = await until(
      'example-pod Running',
      async () => {
        const p = await getPod('example-pod');
        return p.status.phase === 'Running' && p.status.podIP ? p : undefined;
      },
      DEADLINE,
    );
    assert.equal(pod.status.podIP.split('.').slice(0, 3).join('.'), `10.244.${third}`);
    assert.match(pod.status.containerStatuses[0].containerID, /^containerd:\/\//);
    assert.match(pod.status.containerStatuses[0].imageID, /sha256:/);
    await until('the pull in the registry log', async () => (registry.requests.some((r) => r.startsWith('GET /v2/library/nginx/blobs/')) ? true : undefined));

    const res = await until('nginx answers', () => httpGet(`http://${pod.status.podIP}/`).catch(() => undefined), DEADLINE);
    assert.equal(res.status, 200);
    assert.match(res.body, /Welcome to nginx!/);

    const logs = await until('access log line', async () => {
      const out = await kubectl('logs', 'example-pod');
      return /"GET \/ HTTP\/1\.1" 200/.test(out) ? out : undefined;
    });
    assert.match(logs, /GET \/ HTTP\/1\.1/);

    const v = await tc.kubectl(['exec', 'example-pod', '--', 'nginx', '-v']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stderr + v.stdout, /nginx version: nginx\/1\.\d+/);

    await until('Pulling, Pulled, Created and Started events', async () => {
      const events = JSON.parse(await kubectl('get', 'events', '--field-selector', 'involvedObject.name=example-pod', '-o', 'json')).items.map((e: any) => e.reason);
      return ['Pulling', 'Pulled', 'Created', 'Started'].every((want) => events.includes(want)) ? true : undefined;
    }, DEADLINE);

    // Deleting the pod removes its containers, sandbox, IP and network namespace — as ctr and the
    // CNI plugin's own state see it, not only through CRI.
    const uid = pod.metadata.uid;
    const [sandbox] = await runtime.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': uid } });
    const containerId = pod.status.containerStatuses[0].containerID.replace('containerd://', '');
    const sv = runtime.supervisor!;
    const ctr = (...args: string[]) => execFileSync('ctr', ['--address', sv.paths.socket, '--namespace', 'k8s.io', ...args], { encoding: 'utf8' });
    const ipFile = path.join(sv.cni.ipamDataDir, sv.cni.name, pod.status.podIP);
    assert.ok(ctr('containers', 'ls', '-q').includes(sandbox.id) && ctr('containers', 'ls', '-q').includes(containerId), 'ctr sees the sandbox and the container');
    assert.equal(readFileSync(ipFile, 'utf8').split(/\r?\n/)[0], sandbox.id, 'host-local holds the IP for the sandbox');
    const netnsBefore = readdirSync(sv.netnsDir).length;
    await kubectl('delete', 'pod', 'example-pod', '--wait=true', '--timeout=60s');
    await until('sandbox removed', async () => ((await runtime.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': uid } })).length === 0 ? true : undefined), DEADLINE);
    assert.equal((await runtime.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': uid } })).length, 0);
    const left = ctr('containers', 'ls', '-q');
    assert.ok(!left.includes(sandbox.id) && !left.includes(containerId), `ctr still lists: ${left}`);
    assert.ok(!ctr('tasks', 'ls').includes(containerId));
    assert.ok(!existsSync(ipFile), 'the IP is released in host-local');
    assert.equal(readdirSync(sv.netnsDir).length, netnsBefore - 1, 'the network namespace is gone');
  });

  it('reports a missing image as ErrImagePull, then ImagePullBackOff, with upstream messages and events', async () => {
    const bad = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'missing-image' }, spec: { nodeName: NODE, containers: [{ name: 'c', image: 'skiff-no-such-image:1' }] } };
    assert.equal((await tc.kubectl(['create', '-f', '-'], { input: YAML.stringify(bad) })).code, 0);
    const w = await until(
      'ImagePullBackOff',
      async () => {
        const p = await getPod('missing-image');
        const s = p.status.containerStatuses?.[0]?.state?.waiting;
        return s?.reason === 'ImagePullBackOff' ? s : undefined;
      },
      DEADLINE,
    );
    assert.match(w.message, /^Back-off pulling image "skiff-no-such-image:1": ErrImagePull: .*failed to pull and unpack image "docker\.io\/library\/skiff-no-such-image:1"/);
    const events = await until('pull events', async () => {
      const evs = JSON.parse(await kubectl('get', 'events', '--field-selector', 'involvedObject.name=missing-image', '-o', 'json')).items.map((e: any) => `${e.type} ${e.reason} ${e.message}`);
      return evs.some((e: string) => e.startsWith('Normal BackOff')) ? evs : undefined;
    });
    for (const want of [
      'Normal Pulling Pulling image "skiff-no-such-image:1"',
      'Warning Failed Failed to pull image "skiff-no-such-image:1": ',
      'Warning Failed Error: ErrImagePull',
      'Normal BackOff Back-off pulling image "skiff-no-such-image:1"',
      'Warning Failed Error: ImagePullBackOff',
    ])
      assert.ok(events.some((e: string) => e.startsWith(want)), `event "${want}" in ${events.join(' | ')}`);
    await kubectl('delete', 'pod', 'missing-image', '--wait=false');
  });

  it('passes securityContext to the container: runAsUser, groups, readOnlyRootFilesystem, runAsNonRoot', async () => {
    const sec = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sec' },
      spec: {
        nodeName: NODE,
        restartPolicy: 'Never',
        securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000 },
        containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'id -u; id -G; touch /x 2>&1 || echo read-only'], securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false } }],
      },
    };
    const root = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nonroot' }, spec: { nodeName: NODE, securityContext: { runAsNonRoot: true }, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '60'] }] } };
    assert.equal((await tc.kubectl(['create', '-f', '-'], { input: YAML.stringify(sec) })).code, 0);
    assert.equal((await tc.kubectl(['create', '-f', '-'], { input: YAML.stringify(root) })).code, 0);
    await until('sec Succeeded', async () => ((await getPod('sec')).status.phase === 'Succeeded' ? true : undefined), DEADLINE);
    const lines = (await kubectl('logs', 'sec')).trim().split('\n');
    assert.equal(lines[0], '1000');
    assert.deepEqual(lines[1].split(' ').sort(), ['2000', '3000']);
    assert.match(lines.slice(2).join('\n'), /Read-only file system/);
    assert.equal(lines.at(-1), 'read-only');
    const w = await until(
      'CreateContainerConfigError',
      async () => {
        const s = (await getPod('nonroot')).status.containerStatuses?.[0]?.state?.waiting;
        return s?.reason === 'CreateContainerConfigError' ? s : undefined;
      },
      DEADLINE,
    );
    assert.match(w.message, /^container has runAsNonRoot and image will run as root \(pod: "nonroot_default\(.+\)", container: c\)$/);
    await kubectl('delete', 'pod', 'sec', 'nonroot', '--wait=false');
  });

  it('pulls from a registry that requires auth only with imagePullSecrets', async (t) => {
    const pod = (name: string, secrets?: string[]) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { nodeName: NODE, restartPolicy: 'Never', ...(secrets ? { imagePullSecrets: secrets.map((n) => ({ name: n })) } : {}), containers: [{ name: 'c', image: privateImage, command: ['true'] }] },
    });
    const created = await tc.kubectl(['create', '-f', '-'], { input: YAML.stringify(pod('private-nosecret')) });
    assert.equal(created.code, 0, created.stderr);
    const w = await until(
      'ImagePullBackOff without credentials',
      async () => {
        const s = (await getPod('private-nosecret')).status.containerStatuses?.[0]?.state?.waiting;
        return s?.reason === 'ImagePullBackOff' ? s : undefined;
      },
      DEADLINE,
    );
    assert.match(w.message, /401|unauthori[sz]ed/i);
    await kubectl('delete', 'pod', 'private-nosecret', '--wait=false');
    if (!secretsWired) {
      t.skip('the kubelet does not hand Secrets to the pod worker yet (agent.ts: PodWorkerDeps.secret)');
      return;
    }
    await kubectl('create', 'secret', 'docker-registry', 'regcred', `--docker-server=${privateRegistry.host}`, '--docker-username=puller', '--docker-password=s3cret');
    assert.equal((await tc.kubectl(['create', '-f', '-'], { input: YAML.stringify(pod('private-secret', ['missing-cred', 'regcred'])) })).code, 0);
    await until('private-secret Succeeded', async () => ((await getPod('private-secret')).status.phase === 'Succeeded' ? true : undefined), DEADLINE);
    // Events go out after the status (lower priority): poll for them.
    await until('a FailedToRetrieveImagePullSecret event', async () => {
      const events = JSON.parse(await kubectl('get', 'events', '--field-selector', 'involvedObject.name=private-secret', '-o', 'json')).items.map((e: any) => e.reason);
      return events.includes('FailedToRetrieveImagePullSecret') ? true : undefined;
    }, DEADLINE);
    await kubectl('delete', 'pod', 'private-secret', '--wait=false');
  });

  it('gives containers the service environment variables (enableServiceLinks) and the kubernetes service', async () => {
    await kubectl('create', 'service', 'clusterip', 'web-svc', '--tcp=80:8080');
    const svcIP = JSON.parse(await kubectl('get', 'service', 'web-svc', '-o', 'json')).spec.clusterIP;
    const kube = JSON.parse(await kubectl('get', 'service', 'kubernetes', '-o', 'json')).spec.clusterIP;
    const envPod = (name: string, links: boolean) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { nodeName: NODE, restartPolicy: 'Never', enableServiceLinks: links, containers: [{ name: 'c', image: 'busybox', command: ['env'], env: [{ name: 'WEB', value: '$(WEB_SVC_SERVICE_HOST)' }] }] },
    });
    for (const [n, l] of [['env-links', true], ['env-nolinks', false]] as const) assert.equal((await tc.kubectl(['create', '-f', '-'], { input: YAML.stringify(envPod(n, l)) })).code, 0);
    const envOf = async (name: string) => {
      await until(`${name} Succeeded`, async () => ((await getPod(name)).status.phase === 'Succeeded' ? true : undefined), DEADLINE);
      return Object.fromEntries((await kubectl('logs', name)).trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    };
    const links = await envOf('env-links');
    assert.equal(links.WEB_SVC_SERVICE_HOST, svcIP);
    assert.equal(links.WEB_SVC_SERVICE_PORT, '80');
    assert.equal(links.WEB_SVC_PORT_80_TCP, `tcp://${svcIP}:80`);
    assert.equal(links.WEB, svcIP, '$(VAR) expands service variables');
    assert.equal(links.KUBERNETES_SERVICE_HOST, kube);
    const nolinks = await envOf('env-nolinks');
    assert.equal(nolinks.WEB_SVC_SERVICE_HOST, undefined);
    assert.equal(nolinks.KUBERNETES_SERVICE_HOST, kube, 'the master service is always there');
    await kubectl('delete', 'pod', 'env-links', 'env-nolinks', '--wait=false');
    await kubectl('delete', 'service', 'web-svc');
  });

  it('updates a mounted ConfigMap in a running container when the ConfigMap changes', async () => {
    await kubectl('create', 'configmap', 'live-cfg', '--from-literal=k=v1');
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'live' },
      spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, volumes: [{ name: 'cfg', configMap: { name: 'live-cfg' } }], containers: [{ name: 'c', image: 'busybox', command: ['sleep', '300'], volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] }] },
    };
    assert.equal((await tc.kubectl(['create', '-f', '-'], { input: YAML.stringify(pod) })).code, 0);
    await until('live Running', async () => ((await getPod('live')).status.phase === 'Running' ? true : undefined), DEADLINE);
    const cat = async () => (await tc.kubectl(['exec', 'live', '--', 'cat', '/cfg/k'])).stdout;
    // Polled like the update below: one CI run read '' from an exec made right after Running (an
    // exec race noted on the issue; the content itself is checked exactly).
    assert.equal(await until('v1 visible in the container', async () => ((await cat()) === 'v1' ? 'v1' : undefined), DEADLINE), 'v1');
    await kubectl('patch', 'configmap', 'live-cfg', '-p', '{"data":{"k":"v2"}}');
    await until('v2 visible in the container', async () => ((await cat()) === 'v2' ? true : undefined), DEADLINE);
    await kubectl('delete', 'pod', 'live', '--wait=false');
    await kubectl('delete', 'configmap', 'live-cfg');
  });

  it('publishes a hostPort through the runtime’s port mappings', async (t) => {
    const hostIP = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!hostIP) {
      t.skip('no non-loopback IPv4 address on this host');
      return;
    }
    const hostPort = randomInt(20000, 30000);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'hostport' }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80, hostPort }] }] } };
    assert.equal((await tc.kubectl(['create', '-f', '-'], { input: YAML.stringify(pod) })).code, 0);
    await until('hostport Running', async () => ((await getPod('hostport')).status.phase === 'Running' ? true : undefined), DEADLINE);
    const res = await until('nginx on the host port', () => httpGet(`http://${hostIP}:${hostPort}/`).catch(() => undefined), DEADLINE);
    assert.equal(res.status, 200);
    assert.match(res.body, /Welcome to nginx!/);
    await kubectl('delete', 'pod', 'hostport', '--wait=true', '--timeout=60s');
  });

  it('mounts a subPathExpr of an emptyDir (created on demand) shared with another container', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'subpath-pod' },
      spec: {
        nodeName: NODE,
        restartPolicy: 'Never',
        volumes: [{ name: 'data', emptyDir: {} }],
        initContainers: [
          {
            name: 'w',
            image: 'busybox',
            command: ['sh', '-c', 'echo hello > /out/f'],
            env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            volumeMounts: [{ name: 'data', mountPath: '/out', subPathExpr: 'logs/$(POD)' }],
          },
        ],
        containers: [{ name: 'r', image: 'busybox', command: ['cat', '/all/logs/subpath-pod/f'], volumeMounts: [{ name: 'data', mountPath: '/all' }] }],
      },
    };
    assert.equal((await tc.kubectl(['create', '-f', '-'], { input: YAML.stringify(pod) })).code, 0);
    await until('subpath-pod Succeeded', async () => ((await getPod('subpath-pod')).status.phase === 'Succeeded' ? true : undefined), DEADLINE);
    assert.equal((await kubectl('logs', 'subpath-pod', '-c', 'r')).trim(), 'hello');
    await kubectl('delete', 'pod', 'subpath-pod', '--wait=false');
  });

  it('reports termination messages from the file and, with FallbackToLogsOnError, from the logs', async () => {
    const pod = (name: string, command: string, policy?: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { nodeName: NODE, restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', command], ...(policy ? { terminationMessagePolicy: policy } : {}) }] },
    });
    for (const p of [pod('term-file', 'echo bye > /dev/termination-log; exit 3'), pod('term-logs', 'echo oops; exit 1', 'FallbackToLogsOnError')])
      assert.equal((await tc.kubectl(['create', '-f', '-'], { input: YAML.stringify(p) })).code, 0);
    const terminated = (name: string) => until(`${name} terminated`, async () => (await getPod(name)).status.containerStatuses?.[0]?.state?.terminated, DEADLINE);
    const f = await terminated('term-file');
    assert.equal(f.exitCode, 3);
    assert.equal(f.message, 'bye\n');
    const l = await terminated('term-logs');
    assert.equal(l.message, 'oops\n');
    await kubectl('delete', 'pod', 'term-file', 'term-logs', '--wait=false');
  });

  it('runs a busybox pod with command, env and an OOM kill under a memory limit', async () => {
    const oom = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'oom' },
      spec: {
        nodeName: NODE,
        restartPolicy: 'Never',
        containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'x=$(head -c 64000000 /dev/zero | tr "\\0" a); echo done'], resources: { limits: { memory: '16Mi' } } }],
      },
    };
    assert.equal((await tc.kubectl(['create', '-f', '-'], { input: YAML.stringify(oom) })).code, 0);
    const t = await until(
      'terminated',
      async () => {
        const p = await getPod('oom');
        return p.status.containerStatuses?.[0]?.state?.terminated;
      },
      DEADLINE,
    );
    assert.equal(t.reason, 'OOMKilled');
    assert.equal(t.exitCode, 137);
  });
});
