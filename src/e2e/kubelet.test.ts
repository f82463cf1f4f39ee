/**
 * The kubelet with the process runtime against a real API server, driven with the real kubectl.
 * Pods are bound by setting spec.nodeName (the scheduler is not part of this suite). `kubectl logs`
 * and `kubectl exec` need the API server to call apiproxy.ts; until it does, the proxy functions
 * are tested here behind a small local server, against the kubelet's real API.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import WebSocket from 'ws';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createKubelet, type Kubelet } from '../kubelet/agent.js';
import { proxyPodExec, proxyPodLog } from '../kubelet/apiproxy.js';
import { needs, which } from '../testing/real.js';
import { JOURNEY_ANNOTATION } from '../kubelet/journey.js';
import { renderTrace } from '../trace/trace.js';
import { until } from '../testing/wait.js';

const NODE = 'skiff-node-1';


describe('kubelet e2e (process runtime, real kubectl)', () => {
  let tc: TestCluster;
  let client: RestClient;
  let kubelet: Kubelet;
  let stopKubelet: () => Promise<void>;
  let proxy: http.Server;
  let proxyURL: string;
  let hostDir: string;

  const kubectl = async (...args: string[]) => {
    const r = await tc.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = (obj: any) => tc.kubectl(['apply', '-f', '-'], { input: YAML.stringify(obj) });
  const getPod = async (name: string) => JSON.parse(await kubectl('get', 'pod', name, '-o', 'json'));
  const cond = (pod: any, t: string) => pod.status?.conditions?.find((c: any) => c.type === t);
  const pod = (name: string, spec: any) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 5, ...spec } });
  const sh = (name: string, script: string, extra: any = {}) => ({ name, image: 'busybox', command: ['sh', '-c', script], ...extra });
  /** The pod's Events once `pred` holds (the kubelet sends them after status, so poll). */
  const eventsOf = (name: string, what: string, pred: (items: any[]) => boolean) =>
    until(what, async () => {
      const items = JSON.parse(await kubectl('get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'json')).items;
      return pred(items) ? items : undefined;
    });
  const logs = async (name: string, query = '') => {
    const r = await fetch(`${proxyURL}/api/v1/namespaces/default/pods/${name}/log${query ? '?' + query : ''}`);
    return { status: r.status, text: await r.text() };
  };

  before(async (t) => {
    if (!needs(t as any, which('kubectl') ? undefined : 'kubectl not on PATH')) return;
    tc = await startTestCluster();
    client = new RestClient(configFromKubeconfig(tc.kubeconfig, 'kubelet-e2e'));
    const comp = createKubelet(client, { nodeName: NODE, dataDir: path.join(tc.dataDir, 'kubelet'), runtime: 'process', podCIDR: '10.244.7.0/24', port: 0, resyncMs: 2000 });
    kubelet = comp.kubelet;
    await comp.start();
    stopKubelet = () => comp.stop();
    hostDir = mkdtempSync(path.join(tmpdir(), 'skiff-kubelet-host-'));
    const kc = YAML.parse(readFileSync(tc.kubeconfig, 'utf8'));
    const b64 = (s: string) => Buffer.from(s, 'base64').toString();
    const tls = { certPem: b64(kc.users[0].user['client-certificate-data']), keyPem: b64(kc.users[0].user['client-key-data']) };
    // Stands in for the API server's pods/log and pods/exec handlers.
    const lookup = async (url: string) => {
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/?]+)\/(log|exec)/.exec(url)!;
      const p = await client.get(`/api/v1/namespaces/${m[1]}/pods/${m[2]}`);
      const n = await client.get(`/api/v1/nodes/${p.spec.nodeName}`);
      return { p, n };
    };
    proxy = http.createServer((req, res) => void lookup(req.url!).then(({ p, n }) => proxyPodLog(req, res, p, n, tls)));
    proxy.on('upgrade', (req, socket, head) => void lookup(req.url!).then(({ p, n }) => proxyPodExec(req, socket, head, p, n, tls)));
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    proxyURL = `http://127.0.0.1:${(proxy.address() as any).port}`;
  });

  after(async () => {
    proxy?.close();
    await stopKubelet?.();
    await tc?.stop();
  });

  it('registers a Ready node with capacity, addresses, nodeInfo, labels and a Lease', async () => {
    const node = JSON.parse(await kubectl('get', 'node', NODE, '-o', 'json'));
    assert.equal(node.metadata.labels['kubernetes.io/hostname'], NODE);
    assert.equal(node.metadata.labels['kubernetes.io/os'], 'linux');
    assert.ok(Number(node.status.capacity.cpu) >= 1);
    assert.match(node.status.allocatable.memory, /^\d+Ki$/);
    assert.equal(node.status.addresses[0].type, 'InternalIP');
    assert.equal(node.status.daemonEndpoints.kubeletEndpoint.Port, kubelet.port);
    assert.equal(node.status.nodeInfo.kubeletVersion, 'v1.32.0');
    assert.equal(cond(node, 'Ready').status, 'True');
    const lease = JSON.parse(await kubectl('get', 'lease', '-n', 'kube-node-lease', NODE, '-o', 'json'));
    assert.equal(lease.spec.holderIdentity, NODE);
    const out = await kubectl('get', 'nodes');
    assert.match(out, new RegExp(`${NODE}\\s+Ready`));
  });

  it('runs a pod Pending → Running → Succeeded with conditions, IPs and logs', async () => {
    const r = await apply(pod('hello', { restartPolicy: 'Never', containers: [sh('main', 'echo hello from $HOSTNAME; sleep 1; echo bye')] }));
    assert.equal(r.code, 0, r.stderr);
    const running = await until('Running', async () => {
      const p = await getPod('hello');
      return p.status.phase === 'Running' || p.status.phase === 'Succeeded' ? p : undefined;
    });
    assert.match(running.status.podIP, /^127\.244\.7\.\d+$/);
    assert.equal(running.status.hostIP, '127.0.0.1');
    assert.ok(running.status.startTime);
    const done = await until('Succeeded', async () => {
      const p = await getPod('hello');
      return p.status.phase === 'Succeeded' ? p : undefined;
    });
    for (const t of ['Initialized', 'PodScheduled']) assert.equal(cond(done, t).status, 'True', t);
    // The sandbox of a finished pod is stopped, as upstream.
    assert.equal(cond(done, 'PodReadyToStartContainers').status, 'False');
    assert.equal(done.status.podIP, running.status.podIP);
    assert.equal(cond(done, 'Ready').status, 'False');
    assert.equal(cond(done, 'Ready').reason, 'PodCompleted');
    const cs = done.status.containerStatuses[0];
    assert.equal(cs.state.terminated.reason, 'Completed');
    assert.equal(cs.state.terminated.exitCode, 0);
    assert.match(cs.containerID, /^process:\/\//);
    const l = await logs('hello');
    assert.equal(l.status, 200);
    assert.equal(l.text, 'hello from hello\nbye\n');
    const tl = await logs('hello', 'tailLines=1&timestamps=true');
    assert.match(tl.text, /^\d{4}-\d\d-\d\dT[\d:.]+Z bye\n$/);
    await eventsOf('hello', 'Pulled, Created, Started events', (items) => ['Pulled', 'Created', 'Started'].every((want) => items.some((e) => e.reason === want)));
    const described = await kubectl('describe', 'pod', 'hello');
    assert.match(described, /Started container main/);
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
    const done = await until('Succeeded', async () => {
      const p = await getPod('inits');
      return p.status.phase === 'Succeeded' || p.status.phase === 'Failed' ? p : undefined;
    });
    assert.equal(done.status.phase, 'Succeeded', JSON.stringify(done.status));
    assert.equal((await logs('inits', 'container=app')).text, 'first\nsecond\napp\n');
    assert.deepEqual(done.status.initContainerStatuses.map((s: any) => s.state.terminated.reason), ['Completed', 'Completed']);
  });

  it('restarts a container whose liveness probe fails (restartCount increments)', async () => {
    await apply(pod('live', { containers: [sh('app', 'sleep 600', { livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 1 } })] }));
    const p = await until('a restart', async () => {
      const x = await getPod('live');
      return x.status.containerStatuses?.[0]?.restartCount >= 1 ? x : undefined;
    });
    assert.ok(p.status.containerStatuses[0].lastState.terminated);
    await eventsOf('live', 'Unhealthy and Killing events', (ev) =>
      ev.some((e: any) => e.reason === 'Unhealthy' && e.message.startsWith('Liveness probe failed')) &&
      ev.some((e: any) => e.reason === 'Killing' && e.message === 'Container app failed liveness probe, will be restarted'),
    );
  });

  it('gates Ready on the readiness probe', async () => {
    await apply(
      pod('ready', {
        volumes: [{ name: 'flag', emptyDir: {} }],
        containers: [sh('app', 'sleep 600', { volumeMounts: [{ name: 'flag', mountPath: '/flag' }], readinessProbe: { exec: { command: ['test', '-f', '/flag/ok'] }, periodSeconds: 1 } })],
      }),
    );
    const notReady = await until('Running but not Ready', async () => {
      const x = await getPod('ready');
      return x.status.phase === 'Running' && cond(x, 'Ready') ? x : undefined;
    });
    assert.equal(cond(notReady, 'Ready').status, 'False');
    assert.equal(cond(notReady, 'ContainersReady').message, 'containers with unready status: [app]');
    // Flip the probe by creating the file in the volume's host directory.
    const dir = path.join(tc.dataDir, 'kubelet', 'pods', notReady.metadata.uid, 'volumes', 'kubernetes.io~empty-dir', 'flag');
    writeFileSync(path.join(dir, 'ok'), '');
    const ready = await until('Ready', async () => {
      const x = await getPod('ready');
      return cond(x, 'Ready')?.status === 'True' ? x : undefined;
    });
    assert.equal(ready.status.containerStatuses[0].ready, true);
    // The journey rides in the status write that makes the pod Ready (pods/status keeps metadata, as upstream).
    const journey = ready.metadata.annotations?.[JOURNEY_ANNOTATION];
    assert.ok(journey, 'the journey annotation comes with the Ready status');
    const steps = JSON.parse(journey).steps.map((s: any) => s.step);
    for (const s of ['seen', 'sandbox', 'container:app', 'ready']) assert.ok(steps.includes(s), `${s} in ${steps}`);
    // Events come after the status (lower priority): the trace shows them once they are written.
    const text = await until('the trace with its Events', async () => {
      const t = await renderTrace(client, { name: 'ready', namespace: 'default' });
      return /Started: Started container app/.test(t) ? t : undefined;
    });
    assert.match(text, /seen by kubelet/);
    assert.match(text, /Ready/);
  });

  it('shows CrashLoopBackOff for a container that keeps failing', async () => {
    await apply(pod('crash', { containers: [sh('app', 'echo crashing; exit 1')] }));
    const p = await until('CrashLoopBackOff', async () => {
      const x = await getPod('crash');
      return x.status.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' ? x : undefined;
    });
    const cs = p.status.containerStatuses[0];
    assert.match(cs.state.waiting.message, /^back-off \d+s restarting failed container=app pod=crash_default\(/);
    assert.equal(cs.lastState.terminated.exitCode, 1);
    assert.ok(cs.restartCount >= 1);
    assert.match(await kubectl('get', 'pod', 'crash'), /CrashLoopBackOff/);
    assert.equal((await logs('crash', 'previous=true')).text, 'crashing\n');
  });

  it('exposes ConfigMap and Secret values as env and as volumes; downward API env', async () => {
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { color: 'blue', 'app.conf': 'x=1' } });
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec', namespace: 'default' }, stringData: { password: 's3cret' } });
    await apply(
      pod('envs', {
        restartPolicy: 'Never',
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
    const p = await until('Running', async () => {
      const x = await getPod('envs');
      return x.status.phase === 'Running' ? x : undefined;
    });
    const text = await until('log lines', async () => {
      const l = (await logs('envs')).text;
      return l.split('\n').length >= 4 ? l : undefined;
    });
    assert.equal(text, `COLOR=blue PASS=s3cret IP=${p.status.podIP} NAME=envs FROM=blue\nx=1\ns3cret\n`);

    // exec through the proxy: the downward-API variables are there.
    const ws = new WebSocket(`${proxyURL.replace('http', 'ws')}/api/v1/namespaces/default/pods/envs/exec?command=env&stdout=true&stderr=true`, ['v5.channel.k8s.io']);
    let out = '';
    let status = '';
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (d: Buffer) => {
        if (d[0] === 1) out += d.subarray(1).toString();
        if (d[0] === 3) status = d.subarray(1).toString();
      });
      ws.on('close', () => resolve());
      ws.on('error', reject);
    });
    assert.equal(ws.protocol, 'v5.channel.k8s.io');
    assert.match(out, new RegExp(`^MY_IP=${p.status.podIP.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(out, /^MY_NAME=envs$/m);
    assert.equal(JSON.parse(status).status, 'Success');
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
    await until('started', async () => existsSync(path.join(hostDir, 'started')));
    const r = await tc.kubectl(['delete', 'pod', 'graceful', '--wait=true', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(marker, 'utf8'), 'TERM\n');
    const gone = await tc.kubectl(['get', 'pod', 'graceful']);
    assert.notEqual(gone.code, 0);
    await eventsOf('graceful', 'a Killing event', (ev) => ev.some((e: any) => e.reason === 'Killing' && e.message === 'Stopping container app'));
  });

  it('runs as runAsUser/runAsGroup, refuses runAsNonRoot without a user, and says what it cannot enforce (root agent)', async (t) => {
    if (process.getuid?.() !== 0) return void needs(t as any, 'switching users needs a root agent');
    await apply(pod('asuser', { restartPolicy: 'Never', securityContext: { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000] }, containers: [sh('app', 'echo "ids $(id -u) $(id -g) $(id -G)"', { securityContext: { capabilities: { drop: ['ALL'] } } })] }));
    await until('Succeeded', async () => (await getPod('asuser')).status.phase === 'Succeeded');
    assert.match((await logs('asuser')).text, /^ids 1000 3000 3000 4000\n$/);
    await eventsOf('asuser', 'a SecurityContextNotEnforced warning', (ev) => ev.some((e: any) => e.type === 'Warning' && e.reason === 'SecurityContextNotEnforced' && /does not enforce: capabilities/.test(e.message)));
    await apply(pod('nonroot', { securityContext: { runAsNonRoot: true }, containers: [sh('app', 'sleep 60')] }));
    const p = await until('CreateContainerConfigError', async () => {
      const x = await getPod('nonroot');
      return x.status.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError' ? x : undefined;
    });
    assert.match(p.status.containerStatuses[0].state.waiting.message, /^container has runAsNonRoot and image will run as root \(pod: "nonroot_default\(.+\)", container: app\)$/);
  });

  it('reports termination messages from terminationMessagePath (a per-container host file, never the host\'s own path)', async () => {
    const custom = path.join(hostDir, 'msg'); // a path the container names: it must map to a file of the kubelet's
    await apply(
      pod('termmsg', {
        restartPolicy: 'Never',
        containers: [sh('file', 'echo bye > /dev/termination-log; exit 3'), sh('custom', `printf hi > ${custom}`, { terminationMessagePath: custom })],
      }),
    );
    const p = await until('both terminated', async () => {
      const x = await getPod('termmsg');
      return x.status.containerStatuses?.every((c: any) => c.state.terminated) ? x : undefined;
    });
    const byName = (n: string) => p.status.containerStatuses.find((c: any) => c.name === n).state.terminated;
    assert.equal(byName('file').message, 'bye\n');
    assert.equal(byName('file').exitCode, 3);
    assert.equal(byName('custom').message, 'hi');
    assert.ok(!existsSync(custom), 'the host path itself is untouched');
  });

  it('says why a container without command cannot run on the process runtime', async () => {
    await apply(pod('nocmd', { containers: [{ name: 'web', image: 'nginx' }] }));
    const p = await until('waiting reason', async () => {
      const x = await getPod('nocmd');
      return x.status.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerError' ? x : undefined;
    });
    assert.match(p.status.containerStatuses[0].state.waiting.message, /process runtime .* needs `command`/);
    await eventsOf('nocmd', 'a Failed event', (ev) => ev.some((e: any) => e.reason === 'Failed' && /needs `command`/.test(e.message)));
  });
});
