/**
 * node.k8s.io/v1 RuntimeClasses and core/v1 PodTemplates with the real kubectl: `kubectl get`
 * columns, the RuntimeClass admission plugin (overhead, scheduling, missing classes, conflicts) and
 * upstream's validation errors.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { which } from '../testing/real.js';
import { until } from '../testing/wait.js';

const RUNTIME_CLASS = `apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata:
  name: sandboxed
handler: runsc
overhead:
  podFixed:
    cpu: 250m
    memory: 0.5Gi
scheduling:
  nodeSelector:
    sandbox: "true"
  tolerations:
  - key: sandbox
    operator: Exists
    effect: NoSchedule
`;

function podYAML(name: string, runtimeClassName: string, extra = ''): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  runtimeClassName: ${runtimeClassName}
  containers:
  - name: app
    image: busybox
${extra}`;
}

describe('RuntimeClasses and PodTemplates', () => {
  let c: TestCluster | undefined;
  const skip = !which('kubectl') ? 'kubectl is not on PATH' : undefined;
  before(async () => {
    if (skip) return;
    c = await startTestCluster();
  });
  after(async () => {
    await c?.stop();
  });

  it('creates a RuntimeClass and lists it with upstream columns', { skip }, async () => {
    assert.match(await c!.run(['create', '-f', '-'], RUNTIME_CLASS), /runtimeclass\.node\.k8s\.io\/sandboxed created/);
    assert.match(await c!.run(['get', 'runtimeclass']), /^NAME +HANDLER +AGE\nsandboxed +runsc +\S+\n$/);
    const rc = JSON.parse(await c!.run(['get', 'runtimeclasses', 'sandboxed', '-o', 'json']));
    assert.deepEqual(rc.overhead.podFixed, { cpu: '250m', memory: '512Mi' });
    // The handler is immutable and must be a DNS label.
    const r = await c!.kubectl(['patch', 'runtimeclass', 'sandboxed', '--type=merge', '-p', '{"handler":"kata"}']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /handler: Invalid value: "kata": field is immutable/);
    const bad = await c!.kubectl(['create', '-f', '-'], { input: RUNTIME_CLASS.replace('sandboxed', 'bad').replace('runsc', 'Run_SC') });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /The RuntimeClass "bad" is invalid: handler: Invalid value: "Run_SC": a lowercase RFC 1123 label must consist of/);
  });

  it('gives a pod its RuntimeClass overhead, node selector and tolerations', { skip }, async () => {
    await c!.run(['create', '-f', '-'], podYAML('sandboxed-pod', 'sandboxed', '  nodeSelector:\n    zone: a\n'));
    const pod = JSON.parse(await c!.run(['get', 'pod', 'sandboxed-pod', '-o', 'json']));
    assert.deepEqual(pod.spec.overhead, { cpu: '250m', memory: '512Mi' });
    assert.deepEqual(pod.spec.nodeSelector, { zone: 'a', sandbox: 'true' });
    // Appended after DefaultTolerationSeconds' two, which runs first upstream too.
    assert.deepEqual(pod.spec.tolerations.at(-1), { key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' });
    assert.equal(pod.spec.tolerations.length, 3);
  });

  it('rejects a pod naming a missing RuntimeClass, a conflicting node selector or its own overhead', { skip }, async () => {
    const missing = await c!.kubectl(['create', '-f', '-'], { input: podYAML('p1', 'nope') });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Error from server \(Forbidden\).*pods "p1" is forbidden: pod rejected: RuntimeClass "nope" not found/);

    const conflict = await c!.kubectl(['create', '-f', '-'], { input: podYAML('p2', 'sandboxed', '  nodeSelector:\n    sandbox: "false"\n') });
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /pods "p2" is forbidden: conflict: runtimeClass\.scheduling\.nodeSelector\[sandbox\] = true; pod\.spec\.nodeSelector\[sandbox\] = false/);

    const overhead = await c!.kubectl(['create', '-f', '-'], { input: podYAML('p3', 'sandboxed', '  overhead:\n    cpu: "1"\n') });
    assert.notEqual(overhead.code, 0);
    assert.match(overhead.stderr, /pods "p3" is forbidden: pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead/);

    const r = await c!.kubectl(['get', 'pods', '-o', 'name']);
    assert.doesNotMatch(r.stdout, /p1|p2|p3/);
  });

  it('creates and lists PodTemplates, validating the template as a pod template', { skip }, async () => {
    const tpl = `apiVersion: v1
kind: PodTemplate
metadata:
  name: web
template:
  metadata:
    labels:
      app: web
  spec:
    containers:
    - name: nginx
      image: nginx:1.27
    - name: sidecar
      image: busybox
`;
    assert.match(await c!.run(['create', '-f', '-'], tpl), /podtemplate\/web created/);
    assert.match(await c!.run(['get', 'podtemplates']), /^NAME +CONTAINERS +IMAGES +POD LABELS\nweb +nginx,sidecar +nginx:1\.27,busybox +app=web\n$/);
    const got = JSON.parse(await c!.run(['get', 'podtemplate', 'web', '-o', 'json']));
    // Defaulted as a pod template.
    assert.equal(got.template.spec.restartPolicy, 'Always');
    assert.equal(got.template.spec.containers[0].terminationMessagePath, '/dev/termination-log');

    const bad = await c!.kubectl(['create', '-f', '-'], { input: tpl.replace('name: web', 'name: bad').replace('image: busybox', 'image: ""') });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /PodTemplate "bad" is invalid: template\.spec\.containers\[1\]\.image: Required value/);
  });
});

describe('RuntimeClasses on the process runtime', () => {
  let c: TestCluster | undefined;
  const node = `rtc-${randomBytes(2).toString('hex')}`;
  const skip = !which('kubectl') ? 'kubectl is not on PATH' : undefined;
  before(async () => {
    if (skip) return;
    // Controllers: node IPAM (the pod network needs a podCIDR) and the default ServiceAccount.
    c = await startTestCluster({ components: { kubelet: true, controllers: true }, up: { runtime: 'process', networkMode: 'loopback', nodeName: node, networkPrefix: `rc${node.slice(4)}` } });
  });
  after(async () => {
    await c?.stop();
  });

  const pod = (name: string, runtimeClassName: string) =>
    JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: node, runtimeClassName, terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] } });
  const rc = (name: string, handler: string) => JSON.stringify({ apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name }, handler });

  it("runs a pod whose handler is the runtime's, and fails the sandbox of one it does not have", { skip }, async () => {
    await c!.run(['create', '-f', '-'], rc('plain', 'runc'));
    await c!.run(['create', '-f', '-'], rc('gvisor', 'runsc'));
    // The ServiceAccount admission plugin waits for the default ServiceAccount.
    await until('pod plain created', async () => (await c!.kubectl(['create', '-f', '-'], { input: pod('plain', 'plain') })).code === 0);
    await c!.run(['create', '-f', '-'], pod('sandboxed', 'gvisor'));
    await c!.run(['wait', '--for=jsonpath={.status.phase}=Running', 'pod/plain', '--timeout=60s']);
    await until('FailedCreatePodSandBox event', async () => {
      const out = await c!.run(['get', 'events', '--field-selector', 'involvedObject.name=sandboxed,reason=FailedCreatePodSandBox', '-o', 'jsonpath={.items[*].message}']);
      return out.includes('Failed to create pod sandbox: failed to get sandbox runtime: no runtime for "runsc" is configured');
    });
    assert.equal(JSON.parse(await c!.run(['get', 'pod', 'sandboxed', '-o', 'json'])).status.phase, 'Pending');
  });
});
