import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRuntime } from '../../runtime/fake.js';
import { RuntimeError } from '../../runtime/cri.js';
import { Backoff } from './backoff.js';
import { PodWorker, podPortMappings, type ProbeView, type PodWorkerDeps } from './worker.js';
import type { Clock } from '../../client/workqueue.js';

class FakeClock implements Clock {
  t = Date.parse('2024-01-01T00:00:00Z');
  now = () => this.t;
  setTimeout = () => 0;
  clearTimeout = () => undefined;
  advance(ms: number) {
    this.t += ms;
  }
}

class FakeProbes implements ProbeView {
  notReady = new Set<string>();
  failing = new Map<string, string>();
  ready = (_u: string, n: string) => !this.notReady.has(n);
  started = () => true;
  failure = (_u: string, n: string) => {
    const m = this.failing.get(n);
    if (!m) return undefined;
    this.failing.delete(n);
    return { probe: 'Liveness' as const, message: m };
  };
  containerStarted() {}
  containerStopped() {}
  podRemoved() {}
}

function setup(podSpec: any, meta: any = {}, extra: Partial<PodWorkerDeps> = {}) {
  const clock = new FakeClock();
  const rt = new FakeRuntime(clock.now);
  const probes = new FakeProbes();
  const events: string[] = [];
  const wakes: number[] = [];
  const deps: PodWorkerDeps = {
    runtime: rt,
    clock,
    nodeName: 'n1',
    nodeIP: '10.0.0.1',
    logRoot: '/tmp/none',
    events: (_p, type, reason, message) => events.push(`${type} ${reason} ${message}`),
    probes,
    env: {
      setupVolumes: async () => undefined,
      teardownVolumes: async () => undefined,
      containerEnv: async () => ({ envs: [], mounts: [] }),
      runHook: async () => undefined,
    },
    backoff: new Backoff(clock),
    wakeAt: (_u, at) => wakes.push(at),
    ...extra,
  };
  const pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1', ...meta }, spec: { restartPolicy: 'Always', ...podSpec }, status: { phase: 'Pending', qosClass: 'BestEffort' } as any };
  const worker = new PodWorker(deps, pod);
  const sync = async () => {
    const r = await worker.sync();
    pod.status = r.status;
    return r;
  };
  return { clock, rt, probes, events, wakes, worker, pod, sync };
}

const cond = (st: any, type: string) => st.conditions.find((c: any) => c.type === type);
const app = (name = 'app') => ({ name, image: 'busybox:1.36', command: ['sh', '-c', 'true'] });

describe('pod worker', () => {
  it('runs a pod to Succeeded with upstream conditions and container states', async () => {
    const { rt, sync, events } = setup({ restartPolicy: 'Never', containers: [app()] });
    let { status } = await sync();
    assert.equal(status.phase, 'Running');
    assert.equal(status.podIP, '127.0.0.11');
    assert.equal(status.hostIP, '10.0.0.1');
    assert.ok(status.startTime);
    for (const t of ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready', 'PodScheduled']) assert.equal(cond(status, t).status, 'True', t);
    assert.ok(status.containerStatuses[0].state.running);
    assert.equal(status.containerStatuses[0].ready, true);
    assert.deepEqual(events.slice(0, 4), ['Normal Pulling Pulling image "busybox:1.36"', 'Normal Pulled Successfully pulled image "busybox:1.36" in 0s (0s including waiting). Image size: 0 bytes.', 'Normal Created Created container app', 'Normal Started Started container app']);
    rt.exit('app', 0);
    ({ status } = await sync());
    assert.equal(status.phase, 'Succeeded');
    assert.equal(cond(status, 'Ready').status, 'False');
    assert.equal(cond(status, 'Ready').reason, 'PodCompleted');
    assert.equal(cond(status, 'Initialized').reason, 'PodCompleted', 'even without init containers');
    assert.equal(status.containerStatuses[0].state.terminated.reason, 'Completed');
    assert.equal(status.containerStatuses[0].state.terminated.exitCode, 0);
  });

  it('reports the volume mounts in container statuses, read-only ones with recursiveReadOnly Disabled', async () => {
    const vms = [{ name: 'data', mountPath: '/data' }, { name: 'kube-api-access-x', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }];
    const { sync } = setup({ containers: [{ ...app(), volumeMounts: vms }, app('plain')] });
    const { status } = await sync();
    assert.deepEqual(status.containerStatuses[0].volumeMounts, [
      { name: 'data', mountPath: '/data' },
      { name: 'kube-api-access-x', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true, recursiveReadOnly: 'Disabled' },
    ]);
    assert.equal(status.containerStatuses[1].volumeMounts, undefined);
  });

  it('runs init containers in order before app containers', async () => {
    const { rt, sync } = setup({ restartPolicy: 'Always', initContainers: [app('init1'), app('init2')], containers: [app()] });
    let { status } = await sync();
    assert.equal(status.phase, 'Pending');
    assert.deepEqual(rt.ops.filter((o) => o.startsWith('start:')), ['start:init1']);
    assert.equal(cond(status, 'Initialized').message, 'containers with incomplete status: [init1 init2]');
    assert.equal(status.containerStatuses[0].state.waiting.reason, 'PodInitializing');
    rt.exit('init1', 0);
    await sync();
    assert.deepEqual(rt.ops.filter((o) => o.startsWith('start:')), ['start:init1', 'start:init2']);
    rt.exit('init2', 0);
    ({ status } = await sync());
    assert.deepEqual(rt.ops.filter((o) => o.startsWith('start:')), ['start:init1', 'start:init2', 'start:app']);
    assert.equal(status.phase, 'Running');
    assert.equal(cond(status, 'Initialized').status, 'True');
    assert.equal(status.initContainerStatuses[1].state.terminated.reason, 'Completed');
  });

  it('fails the pod when an init container fails under restartPolicy Never', async () => {
    const { rt, sync } = setup({ restartPolicy: 'Never', initContainers: [app('init1')], containers: [app()] });
    await sync();
    rt.exit('init1', 2);
    const { status } = await sync();
    assert.equal(status.phase, 'Failed');
    assert.ok(!rt.ops.includes('start:app'));
    assert.equal(cond(status, 'ContainersReady').reason, 'PodFailed');
    assert.equal(cond(status, 'Ready').reason, 'PodFailed');
    assert.equal(cond(status, 'Initialized').reason, 'ContainersNotInitialized');
  });

  it('kills a container whose postStart hook fails and shows PostStartHookError until it starts again; a failed preStop is "PreStopHook failed"', async () => {
    const env = {
      setupVolumes: async () => undefined,
      teardownVolumes: async () => undefined,
      containerEnv: async () => ({ envs: [], mounts: [] }),
      runHook: async (_p: any, _s: any, _id: string, h: any) => (h.exec.command[0] === 'post' ? 'post failed' : 'secret output'),
    };
    const lifecycle = { postStart: { exec: { command: ['post'] } }, preStop: { exec: { command: ['pre'] } } };
    const { sync, events, pod } = setup({ containers: [{ ...app(), lifecycle }] }, {}, { env });
    const { status } = await sync();
    assert.ok(events.includes('Warning FailedPostStartHook post failed'));
    assert.ok(events.includes('Normal Killing FailedPostStartHook'));
    assert.ok(events.includes('Warning FailedPreStopHook PreStopHook failed'), 'the hook output stays out of the event');
    assert.deepEqual(status.containerStatuses[0].state, { waiting: { reason: 'PostStartHookError', message: 'post failed' } });
    assert.equal(status.containerStatuses[0].lastState.terminated.reason, 'Error');
    pod.status = status;
    const next = await sync();
    assert.equal(next.status.containerStatuses[0].restartCount, 1, 'started again at once');
  });

  it('expands $(VAR) in command and args from the container environment, as upstream', async () => {
    const env = {
      setupVolumes: async () => undefined,
      teardownVolumes: async () => undefined,
      containerEnv: async () => ({ envs: [{ key: 'GREETING', value: 'hi' }, { key: 'POD', value: 'p' }], mounts: [] }),
      runHook: async () => undefined,
    };
    const { rt, sync } = setup({ containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'echo $(GREETING) $(POD) $(NOPE) $$(GREETING) $HOME'], args: ['$(POD)'] }] }, {}, { env });
    await sync();
    const c = [...rt.containers.values()][0].config;
    assert.deepEqual(c.command, ['sh', '-c', 'echo hi p $(NOPE) $(GREETING) $HOME']);
    assert.deepEqual(c.args, ['p']);
  });

  it('backs off crashing containers: immediate, 10s, 20s, and shows CrashLoopBackOff', async () => {
    const { rt, sync, clock, events } = setup({ containers: [app()] });
    await sync();
    rt.exit('app', 1);
    let { status } = await sync();
    assert.equal(status.containerStatuses[0].restartCount, 1, 'first restart is immediate');
    assert.equal(status.containerStatuses[0].lastState.terminated.exitCode, 1);
    clock.advance(1000);
    rt.exit('app', 1);
    ({ status } = await sync());
    const cs = status.containerStatuses[0];
    assert.equal(cs.state.waiting.reason, 'CrashLoopBackOff');
    assert.match(cs.state.waiting.message, /^back-off 10s restarting failed container=app pod=p_default\(u1\)$/);
    assert.equal(cs.lastState.terminated.reason, 'Error');
    assert.equal(status.phase, 'Running');
    assert.ok(events.some((e) => e.startsWith('Warning BackOff Back-off restarting failed container app in pod p_default(u1)')));
    clock.advance(10_000);
    ({ status } = await sync());
    assert.equal(status.containerStatuses[0].restartCount, 2);
    assert.ok(status.containerStatuses[0].state.running);
    rt.exit('app', 1);
    ({ status } = await sync());
    assert.match(status.containerStatuses[0].state.waiting.message, /^back-off 20s/);
  });

  it('restarts a container whose liveness probe failed', async () => {
    const { rt, sync, probes, events } = setup({ containers: [app()] });
    await sync();
    probes.failing.set('app', 'HTTP probe failed with statuscode: 500');
    const { status } = await sync();
    assert.ok(rt.ops.includes('stop:app:30'));
    assert.equal(status.containerStatuses[0].restartCount, 1);
    assert.ok(events.includes('Normal Killing Container app failed liveness probe, will be restarted'));
  });

  it('kills with the liveness probe\'s own terminationGracePeriodSeconds when it has one', async () => {
    const { rt, sync, probes } = setup({ containers: [{ ...app(), livenessProbe: { exec: { command: ['false'] }, terminationGracePeriodSeconds: 5 } }] });
    await sync();
    probes.failing.set('app', 'probe failed');
    await sync();
    assert.ok(rt.ops.includes('stop:app:5'));
  });

  it('gates Ready on readiness and readiness gates', async () => {
    const { sync, probes, pod } = setup({ containers: [app()], readinessGates: [{ conditionType: 'example.com/gate' }] });
    probes.notReady.add('app');
    let { status } = await sync();
    assert.equal(cond(status, 'ContainersReady').message, 'containers with unready status: [app]');
    assert.equal(cond(status, 'Ready').status, 'False');
    probes.notReady.clear();
    ({ status } = await sync());
    assert.equal(cond(status, 'ContainersReady').status, 'True');
    assert.equal(cond(status, 'Ready').reason, 'ReadinessGatesNotReady');
    pod.status.conditions.push({ type: 'example.com/gate', status: 'True' });
    ({ status } = await sync());
    assert.equal(cond(status, 'Ready').status, 'True');
  });

  it('deletes gracefully: app containers with the grace period, then sidecars, then the sandbox', async () => {
    const { rt, sync, pod } = setup({ initContainers: [{ ...app('side'), restartPolicy: 'Always' }], containers: [app()], terminationGracePeriodSeconds: 7 });
    await sync();
    assert.ok(rt.running('side') && rt.running('app'));
    (pod.metadata as any).deletionTimestamp = new Date().toISOString();
    (pod.metadata as any).deletionGracePeriodSeconds = 7;
    const r = await sync();
    assert.equal(r.finished, true);
    const stops = rt.ops.filter((o) => o.startsWith('stop'));
    assert.deepEqual(stops, ['stop:app:7', 'stop:side:2', 'stopPodSandbox:p']);
    assert.equal(r.status.phase, 'Failed');
  });

  it('cuts a kill short when a second delete shortens the grace period while preStop runs', async () => {
    let hookStarted!: () => void;
    const started = new Promise<void>((r) => (hookStarted = r));
    const env = {
      setupVolumes: async () => undefined,
      teardownVolumes: async () => undefined,
      containerEnv: async () => ({ envs: [], mounts: [] }),
      // A preStop that never ends (sleep 3600).
      runHook: () => (hookStarted(), new Promise<string | undefined>(() => undefined)),
    };
    const { rt, worker, pod } = setup({ containers: [{ ...app(), lifecycle: { preStop: { exec: { command: ['sleep', '3600'] } } } }], terminationGracePeriodSeconds: 60 }, {}, { env });
    pod.status = (await worker.sync()).status;
    worker.pod = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 60 } };
    const deleting = worker.sync();
    await started;
    worker.pod = { ...worker.pod, metadata: { ...worker.pod.metadata, deletionGracePeriodSeconds: 0 } };
    const r = await deleting;
    assert.equal(r.finished, true);
    assert.deepEqual(rt.ops.filter((o) => o.startsWith('stop:')), ['stop:app:0']);
  });

  it('evicts a pod whose emptyDir grows past its sizeLimit, killing it at once, as the eviction manager', async () => {
    let used = 1024;
    const env = {
      setupVolumes: async () => undefined,
      teardownVolumes: async () => undefined,
      containerEnv: async () => ({ envs: [], mounts: [] }),
      runHook: async () => undefined,
      emptyDirUsage: async () => new Map([['cache', used]]),
    };
    const { rt, sync, clock, events } = setup({ containers: [app()], volumes: [{ name: 'cache', emptyDir: { sizeLimit: '5Mi' } }] }, {}, { env });
    let { status } = await sync();
    assert.equal(status.phase, 'Running');
    used = 6 * 1024 * 1024;
    await sync();
    assert.equal(rt.ops.filter((o) => o.startsWith('stop:')).length, 0, 'checked every 10 s, not every sync');
    clock.advance(10_000);
    ({ status } = await sync());
    const message = 'Usage of EmptyDir volume "cache" exceeds the limit "5Mi". ';
    assert.equal(status.phase, 'Failed');
    assert.equal(status.reason, 'Evicted');
    assert.equal(status.message, message);
    assert.ok(events.includes(`Warning Evicted ${message}`));
    assert.ok(rt.ops.includes('stop:app:0'));
  });

  it('fails the pod after activeDeadlineSeconds', async () => {
    const { sync, clock } = setup({ containers: [app()], activeDeadlineSeconds: 5 });
    await sync();
    clock.advance(6000);
    const { status } = await sync();
    assert.equal(status.phase, 'Failed');
    assert.equal(status.reason, 'DeadlineExceeded');
  });

  it('reports a runtime refusal as a CreateContainerError waiting reason with an event', async () => {
    const { rt, sync, events } = setup({ containers: [{ name: 'app', image: 'nginx' }] });
    rt.createErrors.set('app', new RuntimeError('InvalidArgument', 'the process runtime needs `command`'));
    const { status } = await sync();
    assert.equal(status.phase, 'Pending');
    assert.deepEqual(status.containerStatuses[0].state.waiting, { reason: 'CreateContainerError', message: 'the process runtime needs `command`' });
    assert.ok(events.includes('Warning Failed Error: the process runtime needs `command`'));
  });

  it("creates the sandbox with the RuntimeClass's handler, and reports a failed lookup as FailedCreatePodSandBox", async () => {
    let fail = true;
    const runtimeHandler = async () => {
      if (fail) throw new Error('failed to get sandbox runtime: no runtime for "kata" is configured');
      return 'runc';
    };
    const { rt, sync, events, wakes } = setup({ runtimeClassName: 'x', containers: [app()] }, {}, { runtimeHandler });
    const handlers: (string | undefined)[] = [];
    const run = rt.runPodSandbox.bind(rt);
    // FakeRuntime takes no handler: record what the worker passes.
    (rt as any).runPodSandbox = (config: Parameters<typeof run>[0], handler?: string) => {
      handlers.push(handler);
      return run(config);
    };
    const { status } = await sync();
    assert.equal(status.phase, 'Pending');
    assert.deepEqual(events, ['Warning FailedCreatePodSandBox Failed to create pod sandbox: failed to get sandbox runtime: no runtime for "kata" is configured']);
    assert.equal(rt.sandboxes.size, 0);
    assert.equal(wakes.length, 1);
    fail = false;
    await sync();
    assert.deepEqual(handlers, ['runc']);
    assert.equal(rt.sandboxes.size, 1);
  });

  it('OnFailure restarts failures but completes on success', async () => {
    const { rt, sync } = setup({ restartPolicy: 'OnFailure', containers: [app()] });
    await sync();
    rt.exit('app', 1);
    let { status } = await sync();
    assert.equal(status.containerStatuses[0].restartCount, 1);
    rt.exit('app', 0);
    ({ status } = await sync());
    assert.equal(status.phase, 'Succeeded');
  });

  it('keeps a finished pod\'s reported container states when the runtime no longer has the containers (agent restart)', async () => {
    const { rt, sync } = setup({ restartPolicy: 'OnFailure', containers: [app()] });
    await sync();
    rt.exit('app', 1);
    await sync();
    rt.exit('app', 0);
    const before = (await sync()).status;
    assert.equal(before.phase, 'Succeeded');
    // A new agent: a new worker over the pod as the API has it, and a runtime that forgot everything.
    const fresh = setup({ restartPolicy: 'OnFailure', containers: [app()] });
    fresh.pod.status = structuredClone(before);
    const again = new PodWorker((fresh.worker as any).deps, fresh.pod);
    const { status } = await again.sync();
    assert.equal(status.phase, 'Succeeded');
    assert.deepEqual(status.containerStatuses[0].state, before.containerStatuses[0].state);
    assert.equal(status.containerStatuses[0].restartCount, 1);
  });
});

describe('pod worker: ephemeral containers', () => {
  const debug = (name = 'debugger', extra: any = {}) => ({ name, image: 'busybox', command: ['sh'], stdin: true, tty: true, terminationMessagePolicy: 'File', ...extra });

  it('starts an added ephemeral container once, reports it without started/ready, and never restarts it', async () => {
    const { rt, sync, pod, events } = setup({ containers: [app()] });
    await sync();
    (pod.spec as any).ephemeralContainers = [debug()];
    let { status } = await sync();
    assert.ok(rt.running('debugger'));
    const cfg = [...(rt as any).containers.values()].find((c: any) => c.config.metadata.name === 'debugger').config;
    assert.equal(cfg.stdin, true);
    assert.equal(cfg.tty, true);
    const es = status.ephemeralContainerStatuses[0];
    assert.equal(es.name, 'debugger');
    assert.ok(es.state.running);
    assert.equal(es.ready, false);
    assert.equal(es.restartCount, 0);
    assert.equal('started' in es, false);
    assert.equal(status.containerStatuses.length, 1, 'not among the app containers');
    assert.equal(cond(status, 'Ready').status, 'True', 'readiness ignores ephemeral containers');
    assert.ok(events.includes('Normal Created Created container debugger'));
    assert.ok(events.includes('Normal Started Started container debugger'));
    rt.exit('debugger', 3);
    ({ status } = await sync());
    ({ status } = await sync());
    assert.equal(rt.ops.filter((o) => o === 'start:debugger').length, 1, 'no restart, whatever the restart policy');
    assert.deepEqual(
      { exitCode: status.ephemeralContainerStatuses[0].state.terminated.exitCode, reason: status.ephemeralContainerStatuses[0].state.terminated.reason },
      { exitCode: 3, reason: 'Error' },
    );
    assert.equal(status.phase, 'Running');
  });

  it('waits as ContainerCreating until started, and retries a failed start', async () => {
    const { rt, sync, pod } = setup({ containers: [app()] });
    await sync();
    (pod.spec as any).ephemeralContainers = [debug('dbg', { command: undefined })];
    rt.createErrors.set('dbg', new RuntimeError('InvalidArgument', 'the process runtime needs `command`'));
    let { status } = await sync();
    assert.deepEqual(status.ephemeralContainerStatuses[0].state.waiting, { reason: 'CreateContainerError', message: 'the process runtime needs `command`' });
    rt.createErrors.delete('dbg');
    ({ status } = await sync());
    assert.ok(status.ephemeralContainerStatuses[0].state.running);
  });

  it("shares the target container's process namespace and is stopped with the pod", async () => {
    const { rt, sync, pod } = setup({ containers: [app()], terminationGracePeriodSeconds: 5 });
    await sync();
    (pod.spec as any).ephemeralContainers = [debug('dbg', { targetContainerName: 'app' })];
    await sync();
    const all = [...(rt as any).containers.values()];
    const target = all.find((c: any) => c.config.metadata.name === 'app');
    const ns = all.find((c: any) => c.config.metadata.name === 'dbg').config.linux.securityContext.namespaceOptions;
    assert.equal(ns.pid, 'TARGET');
    assert.equal(ns.targetId, target.id);
    (pod.metadata as any).deletionTimestamp = new Date().toISOString();
    (pod.metadata as any).deletionGracePeriodSeconds = 5;
    const r = await sync();
    assert.equal(r.finished, true);
    assert.ok(rt.ops.includes('stop:dbg:5'));
  });
});

describe('pod worker: images', () => {
  it('reports ErrImagePull, then ImagePullBackOff, and pulls again after the back-off', async () => {
    const { rt, sync, clock, events, wakes } = setup({ containers: [{ name: 'app', image: 'nope:1', command: ['true'] }] });
    let fail = true;
    const pull = rt.pullImage.bind(rt);
    rt.pullImage = async (img: any) => {
      if (fail) throw new Error('failed to pull and unpack image "docker.io/library/nope:1": not found');
      return pull(img);
    };
    let { status } = await sync();
    assert.deepEqual(status.containerStatuses[0].state.waiting, { reason: 'ErrImagePull', message: 'failed to pull and unpack image "docker.io/library/nope:1": not found' });
    assert.deepEqual(events, [
      'Normal Pulling Pulling image "nope:1"',
      'Warning Failed Failed to pull image "nope:1": failed to pull and unpack image "docker.io/library/nope:1": not found',
      'Warning Failed Error: ErrImagePull',
    ]);
    assert.ok(wakes.includes(clock.t + 10_000), 'wakes when the back-off ends');
    events.length = 0;
    clock.advance(1000);
    ({ status } = await sync());
    assert.equal(status.containerStatuses[0].state.waiting.reason, 'ImagePullBackOff');
    assert.match(status.containerStatuses[0].state.waiting.message, /^Back-off pulling image "nope:1": ErrImagePull: failed to pull/);
    assert.deepEqual(events, ['Normal BackOff Back-off pulling image "nope:1"', 'Warning Failed Error: ImagePullBackOff']);
    fail = false;
    clock.advance(9000);
    ({ status } = await sync());
    assert.ok(status.containerStatuses[0].state.running);
  });

  it('pulls with credentials from imagePullSecrets and warns about missing ones', async () => {
    const { rt, sync, events, worker } = setup({ imagePullSecrets: [{ name: 'regcred' }, { name: 'gone' }], containers: [{ name: 'app', image: 'registry.example.com/app:1', command: ['true'] }] });
    const auths: any[] = [];
    const pull = rt.pullImage.bind(rt);
    rt.pullImage = async (img: any, auth?: any) => {
      auths.push(auth);
      return pull(img);
    };
    const cfg = { auths: { 'registry.example.com': { auth: Buffer.from('me:secret').toString('base64') } } };
    (worker as any).deps.secret = async (_ns: string, n: string) => (n === 'regcred' ? { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(JSON.stringify(cfg)).toString('base64') } } : undefined);
    const { status } = await sync();
    assert.ok(status.containerStatuses[0].state.running);
    assert.deepEqual(auths, [{ username: 'me', password: 'secret' }]);
    assert.ok(events.includes('Warning FailedToRetrieveImagePullSecret Unable to retrieve some image pull secrets (gone); attempting to pull the image may not succeed.'));
  });

  it("falls back to the node's docker config credentials after the pod's pull secrets", async () => {
    const { Keyring } = await import('../images.js');
    const node = new Keyring();
    node.add({ 'registry.example.com': { auth: Buffer.from('node:pw').toString('base64') } });
    for (const pullSecrets of [undefined, [{ name: 'other' }]]) {
      const { rt, sync, worker } = setup({ imagePullSecrets: pullSecrets, containers: [{ name: 'app', image: 'registry.example.com/app:1', command: ['true'] }] });
      const auths: any[] = [];
      const pull = rt.pullImage.bind(rt);
      rt.pullImage = async (img: any, auth?: any) => {
        auths.push(auth);
        return pull(img);
      };
      // The pod's secret holds credentials for another registry only: the node's are used.
      const cfg = { auths: { 'elsewhere.example.com': { auth: Buffer.from('pod:x').toString('base64') } } };
      (worker as any).deps.secret = async () => ({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(JSON.stringify(cfg)).toString('base64') } });
      (worker as any).deps.nodeKeyring = { get: () => node };
      const { status } = await sync();
      assert.ok(status.containerStatuses[0].state.running);
      assert.deepEqual(auths, [{ username: 'node', password: 'pw' }]);
    }
  });
});

describe('pod worker: volumes', () => {
  it('refreshes configMap volumes on later syncs, keeping the pod running when a refresh fails', async () => {
    const { sync, clock, worker, events } = setup({ volumes: [{ name: 'v', configMap: { name: 'c' } }], containers: [app()] });
    let calls = 0;
    let fail = false;
    (worker as any).deps.env.setupVolumes = async () => {
      calls++;
      if (fail) throw new Error('MountVolume.SetUp failed for volume "v" : configmap "c" not found');
    };
    await sync();
    await sync();
    assert.equal(calls, 1, 'not before the resync interval');
    clock.advance(10_000);
    await sync();
    assert.equal(calls, 2);
    fail = true;
    clock.advance(10_000);
    const { status } = await sync();
    assert.equal(calls, 3);
    assert.ok(status.containerStatuses[0].state.running);
    assert.ok(events.includes('Warning FailedMount MountVolume.SetUp failed for volume "v" : configmap "c" not found'));
  });
});

describe('pod worker: security context', () => {
  it('hands the effective security context to the runtime and refuses runAsUser 0 under runAsNonRoot', async () => {
    const { rt, sync } = setup({
      securityContext: { runAsUser: 1000, fsGroup: 2000, sysctls: [{ name: 'kernel.shm_rmid_forced', value: '1' }] },
      containers: [{ ...app(), securityContext: { readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } } }, { ...app('root'), securityContext: { runAsNonRoot: true, runAsUser: 0 } }],
    });
    const { status } = await sync();
    const c = [...rt.containers.values()].find((x) => x.config.metadata.name === 'app')!;
    const sc = c.config.linux!.securityContext!;
    assert.deepEqual(sc.runAsUser, { value: 1000 });
    assert.deepEqual(sc.supplementalGroups, [2000]);
    assert.equal(sc.readonlyRootfs, true);
    assert.deepEqual(sc.capabilities, { addCapabilities: [], dropCapabilities: ['ALL'] });
    const sb = [...rt.sandboxes.values()][0];
    assert.deepEqual(sb.config.linux?.securityContext?.runAsUser, { value: 1000 });
    assert.deepEqual(sb.config.linux?.sysctls, { 'kernel.shm_rmid_forced': '1' });
    const root = status.containerStatuses.find((s: any) => s.name === 'root');
    assert.equal(root.state.waiting.reason, 'CreateContainerConfigError');
    assert.equal(root.state.waiting.message, 'container\'s runAsUser breaks non-root policy (pod: "p_default(u1)", container: root)');
  });
});

describe('pod worker: port mappings', () => {
  it('maps the app containers’ ports into the sandbox config once per name, as MakePortMappings', async () => {
    assert.deepEqual(
      podPortMappings({
        spec: {
          initContainers: [{ name: 'i', ports: [{ containerPort: 1 }] }],
          containers: [
            { name: 'a', ports: [{ name: 'http', containerPort: 80, hostPort: 8080 }, { name: 'http', containerPort: 81 }, { containerPort: 53, protocol: 'UDP', hostIP: '10.0.0.1' }] },
            { name: 'b', ports: [{ containerPort: 9090 }, { containerPort: 9090 }] },
          ],
        },
      }),
      [
        { protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' },
        { protocol: 'UDP', containerPort: 53, hostPort: 0, hostIp: '10.0.0.1' },
        { protocol: 'TCP', containerPort: 9090, hostPort: 0, hostIp: '' },
      ],
    );
    const { rt, sync } = setup({ containers: [{ ...app(), ports: [{ containerPort: 80, hostPort: 8080 }] }] });
    await sync();
    assert.deepEqual([...rt.sandboxes.values()][0].config.portMappings, [{ protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' }]);
  });
});

describe('pod worker: runtime reads', () => {
  it("reads the runtime once per new pod's first sync, then only the containers it started", async () => {
    const { rt, sync } = setup({ initContainers: [{ ...app('sidecar'), restartPolicy: 'Always' }], containers: [app('a'), app('b')] });
    const calls = countReads(rt);
    const { status } = await sync();
    assert.equal(status.phase, 'Running');
    assert.equal(status.podIP, '127.0.0.11');
    assert.deepEqual(rt.ops.filter((o) => o.startsWith('start:')), ['start:sidecar', 'start:a', 'start:b']);
    assert.ok(status.initContainerStatuses[0].state.running && status.containerStatuses.every((c: any) => c.state.running));
    // Upstream's SyncPod works from one PodStatus per sync: a whole-pod read at the start, the new
    // sandbox's status, and one ContainerStatus per started container (sidecar, then a and b).
    assert.deepEqual(calls, { listPodSandbox: 1, podSandboxStatus: 1, listContainers: 1, containerStatus: 3 });
  });

  it('reports the same status from the containers it re-read as from a whole-pod read', async () => {
    // Syncs until one has nothing to do (a whole-pod read, no runtime changes): it must report
    // what the sync before it reported from the containers that one re-read.
    const settle = async (what: string) => {
      let prev = await sync();
      for (let i = 0; i < 10; i++) {
        const ops = rt.ops.length;
        const next = await sync();
        if (rt.ops.length === ops) {
          assert.deepEqual(next.status, prev.status, what);
          return prev;
        }
        prev = next;
      }
      throw new Error(`${what}: never settled`);
    };
    const { rt, sync, clock, probes, pod } = setup({ initContainers: [app('init'), { ...app('sidecar'), restartPolicy: 'Always' }], containers: [app('a'), app('b')] });
    rt.autoExit.set('init', 0);
    const first = await settle('first syncs');
    assert.equal(first.status.phase, 'Running');
    // Crash loop: restarts 1 and 2 (the second removes the oldest instance, keeping the last for --previous).
    rt.exit('a', 1);
    await settle('first restart');
    clock.advance(1000);
    rt.exit('a', 2);
    await sync();
    clock.advance(10_000);
    const r = await settle('restart after back-off');
    assert.equal(r.status.containerStatuses[0].restartCount, 2);
    assert.equal(r.status.containerStatuses[0].lastState.terminated.exitCode, 2);
    assert.equal([...rt.containers.values()].filter((c) => c.config.metadata.name === 'a').length, 2);
    // A liveness failure kills and restarts within one sync.
    probes.failing.set('b', 'probe failed');
    const killed = await settle('liveness restart');
    assert.equal(killed.status.containerStatuses[1].restartCount, 1);
    // A sidecar that exits after initialization is restarted.
    rt.exit('sidecar', 0);
    const sc = await settle('sidecar restart');
    assert.equal(sc.status.initContainerStatuses[1].restartCount, 1);
    // An ephemeral container.
    (pod.spec as any).ephemeralContainers = [{ name: 'debugger', image: 'busybox:1.36', stdin: true, tty: true }];
    const eph = await settle('ephemeral container');
    assert.ok(eph.status.ephemeralContainerStatuses[0].state.running);
  });
});

/** Counts the runtime's read calls (the CPU a real runtime spends per sync). */
function countReads(rt: FakeRuntime): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const m of ['listPodSandbox', 'podSandboxStatus', 'listContainers', 'containerStatus'] as const) {
    const orig = (rt as any)[m].bind(rt);
    (rt as any)[m] = (...a: unknown[]) => {
      calls[m] = (calls[m] ?? 0) + 1;
      return orig(...a);
    };
  }
  return calls;
}
