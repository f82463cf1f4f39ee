/**
 * The kubelet e2e (kubelet.test.ts) with the containerd runtime: real containers pulled through a
 * loopback registry that stands in for docker.io, driven with the real kubectl (logs and exec go
 * through the API server to the kubelet, and from there to CRI).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createKubelet } from '../kubelet/agent.js';
import { needs, which } from '../testing/real.js';
import { until } from '../testing/wait.js';
import { startTestRegistry, type TestRegistry } from '../images/distribution.js';
import { busyboxImage } from '../images/testimages.js';
import { containerdFixtureMissing } from '../runtime/containerd/testing.js';

const NODE = 'skiff-ctr-kubelet';
const DEADLINE = 60_000;

describe('kubelet e2e (containerd runtime, real kubectl)', () => {
  let tc: TestCluster;
  let registry: TestRegistry | undefined;
  let stopKubelet: (() => Promise<void>) | undefined;
  let dir = '';
  let hostDir = '';
  // 10.244.64-126: apart from containerd.test.ts and the runtime fixture (128-254) and the
  // abrupt-stop test (127), which may run at the same time.
  const third = randomInt(64, 127);

  const kubectl = async (...args: string[]) => {
    const r = await tc.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = (obj: any) => tc.kubectl(['apply', '-f', '-'], { input: YAML.stringify(obj) });
  const getPod = async (name: string) => JSON.parse(await kubectl('get', 'pod', name, '-o', 'json'));
  const cond = (pod: any, t: string) => pod.status?.conditions?.find((c: any) => c.type === t);
  const pod = (name: string, spec: any) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 5, ...spec } });
  const sh = (name: string, script: string, extra: any = {}) => ({ name, image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], ...extra });
  const eventsOf = (name: string, what: string, pred: (items: any[]) => boolean) =>
    until(what, async () => {
      const items = JSON.parse(await kubectl('get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'json')).items;
      return pred(items) ? items : undefined;
    });
  const phase = (name: string, phases: string[]) =>
    until(
      `${name} ${phases.join(' or ')}`,
      async () => {
        const p = await getPod(name);
        return phases.includes(p.status.phase) ? p : undefined;
      },
      DEADLINE,
    );

  before(async (t) => {
    if (!needs(t as any, which('kubectl') ? containerdFixtureMissing() : 'kubectl not on PATH')) return;
    registry = await startTestRegistry(); // Debian's docker-registry where installed
    await registry.publish(busyboxImage('docker.io/library/busybox:latest'), 'library/busybox', 'latest');
    dir = mkdtempSync('/tmp/skc-'); // short: containerd's socket lives under it
    hostDir = mkdtempSync(path.join(tmpdir(), 'skiff-ctr-host-'));
    tc = await startTestCluster();
    const client = new RestClient(configFromKubeconfig(tc.kubeconfig, 'kubelet-containerd-e2e'));
    const comp = createKubelet(client, { nodeName: NODE, dataDir: dir, runtime: 'containerd', registryMirrors: { 'docker.io': [`http://${registry.host}`] }, podCIDR: `10.244.${third}.0/24`, port: 0, resyncMs: 2000 });
    await comp.start();
    stopKubelet = () => comp.stop();
  });

  after(async () => {
    await stopKubelet?.();
    await tc?.stop();
    await registry?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (hostDir) rmSync(hostDir, { recursive: true, force: true });
  });

  it('registers a Ready node whose runtime is containerd', async () => {
    const node = JSON.parse(await kubectl('get', 'node', NODE, '-o', 'json'));
    assert.equal(cond(node, 'Ready').status, 'True');
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\/1\./);
  });

  it('runs a pod Pending → Running → Succeeded with conditions, IPs and logs', async () => {
    const r = await apply(pod('hello', { restartPolicy: 'Never', containers: [sh('main', 'echo hello from $HOSTNAME; sleep 1; echo bye')] }));
    assert.equal(r.code, 0, r.stderr);
    const running = await phase('hello', ['Running', 'Succeeded']);
    assert.ok(running.status.podIP.startsWith(`10.244.${third}.`), running.status.podIP);
    const done = await phase('hello', ['Succeeded', 'Failed']);
    assert.equal(done.status.phase, 'Succeeded', JSON.stringify(done.status));
    for (const t of ['Initialized', 'PodScheduled']) assert.equal(cond(done, t).status, 'True', t);
    assert.equal(cond(done, 'PodReadyToStartContainers').status, 'False');
    assert.equal(cond(done, 'Ready').reason, 'PodCompleted');
    const cs = done.status.containerStatuses[0];
    assert.equal(cs.state.terminated.reason, 'Completed');
    assert.equal(cs.state.terminated.exitCode, 0);
    assert.match(cs.containerID, /^containerd:\/\//);
    assert.equal(await kubectl('logs', 'hello'), 'hello from hello\nbye\n');
    assert.match(await kubectl('logs', 'hello', '--tail=1', '--timestamps'), /^\d{4}-\d\d-\d\dT[\d:.]+Z bye\n$/);
    await eventsOf('hello', 'Created and Started events', (items) => ['Created', 'Started'].every((want) => items.some((e) => e.reason === want)));
  });

  it('runs init containers in order before the app container, sharing an emptyDir', async () => {
    const work = { volumeMounts: [{ name: 'work', mountPath: '/work' }] };
    await apply(
      pod('inits', {
        restartPolicy: 'Never',
        volumes: [{ name: 'work', emptyDir: {} }],
        initContainers: [sh('first', 'echo first >> /work/order', work), sh('second', 'echo second >> /work/order', work)],
        containers: [sh('app', 'echo app >> /work/order; cat /work/order', work)],
      }),
    );
    const done = await phase('inits', ['Succeeded', 'Failed']);
    assert.equal(done.status.phase, 'Succeeded', JSON.stringify(done.status));
    assert.equal(await kubectl('logs', 'inits', '-c', 'app'), 'first\nsecond\napp\n');
    assert.deepEqual(done.status.initContainerStatuses.map((s: any) => s.state.terminated.reason), ['Completed', 'Completed']);
  });

  it('restarts a container whose liveness probe (exec, through CRI ExecSync) fails', async () => {
    await apply(pod('live', { containers: [sh('app', 'sleep 600', { livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 1 } })] }));
    const p = await until(
      'a restart',
      async () => {
        const x = await getPod('live');
        return x.status.containerStatuses?.[0]?.restartCount >= 1 ? x : undefined;
      },
      DEADLINE,
    );
    assert.ok(p.status.containerStatuses[0].lastState.terminated);
    await eventsOf('live', 'Unhealthy and Killing events', (ev) =>
      ev.some((e: any) => e.reason === 'Unhealthy' && e.message.startsWith('Liveness probe failed')) &&
      ev.some((e: any) => e.reason === 'Killing' && e.message === 'Container app failed liveness probe, will be restarted'),
    );
  });

  it('gates Ready on the readiness probe', async () => {
    await apply(pod('ready', { containers: [sh('app', 'sleep 600', { readinessProbe: { exec: { command: ['test', '-f', '/tmp/ok'] }, periodSeconds: 1 } })] }));
    const notReady = await until(
      'Running but not Ready',
      async () => {
        const x = await getPod('ready');
        return x.status.phase === 'Running' && cond(x, 'Ready') ? x : undefined;
      },
      DEADLINE,
    );
    assert.equal(cond(notReady, 'Ready').status, 'False');
    assert.equal(cond(notReady, 'ContainersReady').message, 'containers with unready status: [app]');
    await kubectl('exec', 'ready', '--', 'touch', '/tmp/ok');
    const ready = await until('Ready', async () => {
      const x = await getPod('ready');
      return cond(x, 'Ready')?.status === 'True' ? x : undefined;
    });
    assert.equal(ready.status.containerStatuses[0].ready, true);
  });

  it('shows CrashLoopBackOff for a container that keeps failing; logs --previous', async () => {
    await apply(pod('crash', { containers: [sh('app', 'echo crashing; exit 1')] }));
    const p = await until(
      'CrashLoopBackOff',
      async () => {
        const x = await getPod('crash');
        return x.status.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' ? x : undefined;
      },
      DEADLINE,
    );
    const cs = p.status.containerStatuses[0];
    assert.match(cs.state.waiting.message, /^back-off \d+s restarting failed container=app pod=crash_default\(/);
    assert.equal(cs.lastState.terminated.exitCode, 1);
    assert.equal(await kubectl('logs', 'crash', '--previous'), 'crashing\n');
  });

  it('exposes ConfigMap and Secret values as env and as volumes; downward API env; exec sees them', async () => {
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { color: 'blue', 'app.conf': 'x=1' } });
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec', namespace: 'default' }, stringData: { password: 's3cret' } });
    await apply(
      pod('envs', {
        volumes: [
          { name: 'cfgvol', configMap: { name: 'cfg' } },
          { name: 'secvol', secret: { secretName: 'sec' } },
        ],
        containers: [
          sh('app', 'echo "COLOR=$COLOR PASS=$PASS IP=$MY_IP NAME=$MY_NAME FROM=$CFG_color"; cat /etc/cfg/app.conf; echo; cat /etc/sec/password; echo; sleep 600', {
            env: [
              { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'color' } } },
              { name: 'PASS', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
              { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ],
            envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'cfg' } }],
            volumeMounts: [
              { name: 'cfgvol', mountPath: '/etc/cfg' },
              { name: 'secvol', mountPath: '/etc/sec', readOnly: true },
            ],
          }),
        ],
      }),
    );
    const p = await phase('envs', ['Running']);
    const text = await until('log lines', async () => {
      const l = await kubectl('logs', 'envs');
      return l.split('\n').length >= 4 ? l : undefined;
    });
    assert.equal(text, `COLOR=blue PASS=s3cret IP=${p.status.podIP} NAME=envs FROM=blue\nx=1\ns3cret\n`);
    const env = await kubectl('exec', 'envs', '--', 'env');
    assert.match(env, new RegExp(`^MY_IP=${p.status.podIP.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(env, /^MY_NAME=envs$/m);
    await kubectl('delete', 'pod', 'envs', '--wait=false');
  });

  it('deletes a pod gracefully: SIGTERM, then the grace period, then the object is gone', async () => {
    const marker = path.join(hostDir, 'term');
    await apply(
      pod('graceful', {
        terminationGracePeriodSeconds: 10,
        volumes: [{ name: 'host', hostPath: { path: hostDir } }],
        containers: [sh('app', `trap 'echo TERM > /host/term; exit 0' TERM; echo started > /host/started; while :; do sleep 0.1; done`, { volumeMounts: [{ name: 'host', mountPath: '/host' }] })],
      }),
    );
    await until('started', async () => existsSync(path.join(hostDir, 'started')), DEADLINE);
    const r = await tc.kubectl(['delete', 'pod', 'graceful', '--wait=true', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(marker, 'utf8'), 'TERM\n');
    assert.notEqual((await tc.kubectl(['get', 'pod', 'graceful'])).code, 0);
    await eventsOf('graceful', 'a Killing event', (ev) => ev.some((e: any) => e.reason === 'Killing' && e.message === 'Stopping container app'));
  });
});
