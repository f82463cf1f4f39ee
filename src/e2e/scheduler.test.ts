import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, requireReal, which } from '../testing/real.js';
import { createScheduler, type Scheduler } from '../scheduler/scheduler.js';
import { createSimulatedNodes, registerSimulatedNodes, type SimulatedNodes } from '../simnodes/simulator.js';
import { until } from '../testing/wait.js';


const pod = (name: string, spec: Record<string, unknown> = {}, o: { cpu?: string; labels?: Record<string, string>; ns?: string } = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.ns ?? 'default', labels: o.labels },
    spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: o.cpu ? { requests: { cpu: o.cpu } } : undefined }], ...spec },
  });

/** The scheduler and simulated nodes against a real API server, checked with the real kubectl. */
describe('scheduler e2e (kubectl, simulated nodes)', { skip: !which('kubectl') && !requireReal && 'kubectl not on PATH' }, () => {
  let c: TestCluster;
  let client: RestClient;
  let sched: Scheduler;
  let sim: SimulatedNodes;
  const k = (args: string[], input?: string) => c.run(args, input);
  const nodeOf = async (name: string, ns = 'default') => (await k(['get', 'pod', name, '-n', ns, '-o', 'jsonpath={.spec.nodeName}'])).trim();
  const runningOn = (name: string, ns = 'default') =>
    until(`${ns}/${name} running`, async () => {
      const out = await k(['get', 'pod', name, '-n', ns, '-o', 'jsonpath={.status.phase} {.spec.nodeName}']);
      const [phase, node] = out.trim().split(' ');
      return phase === 'Running' && node;
    });

  before(async () => {
    c = await startTestCluster();
    client = new RestClient(configFromKubeconfig(c.kubeconfig, 'e2e'));
    sim = createSimulatedNodes(client, { count: 3, namePrefix: 'small-', capacity: { cpu: '2', memory: '4Gi', pods: '110' }, labels: { pool: 'small' }, leaderElect: false, leaseRenewMs: 2000 });
    await sim.start();
    sched = createScheduler(client, { config: { podInitialBackoffSeconds: 0.2, podMaxBackoffSeconds: 1 } });
    await sched.start();
    await until('scheduler leading', async () => sched.isLeader);
  });
  after(async () => {
    await sched?.stop();
    await sim?.stop();
    client?.close();
    await c?.stop();
  });

  it('simulated nodes are Ready with fresh Leases', async (t) => {
    if (!needs(t, which('kubectl') ? undefined : 'kubectl not on PATH')) return;
    const out = await k(['get', 'nodes', '-l', 'pool=small', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}']);
    assert.deepEqual(out.trim().split(' ').sort(), ['small-0=True', 'small-1=True', 'small-2=True']);
    await until('leases', async () => (await k(['get', 'leases', '-n', 'kube-node-lease', '-o', 'name'])).includes('small-2'));
  });

  it('a too-large pod stays Pending with the upstream message, then schedules on a big enough new node', async () => {
    await k(['apply', '-f', '-'], pod('big', {}, { cpu: '3' }));
    const want = '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    await until('FailedScheduling event', async () => (await k(['get', 'events', '--field-selector', 'involvedObject.name=big,reason=FailedScheduling', '-o', 'jsonpath={.items[*].message}'])).includes(want));
    const describe = await k(['describe', 'pod', 'big']);
    assert.match(describe, /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/3 nodes are available: 3 Insufficient cpu\./);
    const cond = await k(['get', 'pod', 'big', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}/{.status.conditions[?(@.type=="PodScheduled")].reason}/{.status.phase}']);
    assert.equal(cond.trim(), 'False/Unschedulable/Pending');
    await registerSimulatedNodes(client, { count: 1, namePrefix: 'big-', capacity: { cpu: '8', memory: '16Gi', pods: '110' }, labels: { pool: 'big' } });
    assert.equal(await runningOn('big'), 'big-0');
    const ev = await k(['get', 'events', '--field-selector', 'involvedObject.name=big,reason=Scheduled', '-o', 'jsonpath={.items[*].message}']);
    assert.equal(ev.trim(), 'Successfully assigned default/big to big-0');
    const ip = (await k(['get', 'pod', 'big', '-o', 'jsonpath={.status.podIP}'])).trim();
    assert.match(ip, /^10\.\d+\.\d+\.\d+$/);
    await k(['delete', 'pod', 'big', '--wait=true', '--timeout=20s']);
  });

  it('taints and tolerations', async () => {
    await registerSimulatedNodes(client, { count: 1, namePrefix: 'gpu-', labels: { pool: 'gpu' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
    await k(['apply', '-f', '-'], pod('no-tol', { nodeSelector: { pool: 'gpu' } }));
    await until('untolerated taint message', async () =>
      (await k(['get', 'events', '--field-selector', 'involvedObject.name=no-tol,reason=FailedScheduling', '-o', 'jsonpath={.items[*].message}'])).includes("1 node(s) had untolerated taint {dedicated: gpu}, 4 node(s) didn't match Pod's node affinity/selector."),
    );
    await k(['apply', '-f', '-'], pod('tol', { nodeSelector: { pool: 'gpu' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }));
    assert.equal(await runningOn('tol'), 'gpu-0');
    await k(['delete', 'pod', 'no-tol', 'tol', '--wait=true']);
  });

  it('node affinity, pod anti-affinity across zones and topology spread', async () => {
    await registerSimulatedNodes(client, { count: 6, namePrefix: 'zone-node-', zones: 3, labels: { pool: 'zoned' } });
    const inPool = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['zoned'] }] }] } } };
    // Required node affinity to one zone.
    await k(['apply', '-f', '-'], pod('in-zone-1', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-1'] }] }] } } } }));
    const n = await runningOn('in-zone-1');
    assert.ok(['zone-node-1', 'zone-node-4'].includes(n as string), String(n));
    // Anti-affinity: one replica per zone; the fourth has nowhere to go.
    const anti = (i: number) =>
      pod(`web-${i}`, { affinity: { ...inPool, podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'topology.kubernetes.io/zone' }] } } }, { labels: { app: 'web' } });
    for (const i of [1, 2, 3]) {
      await k(['apply', '-f', '-'], anti(i));
      await runningOn(`web-${i}`);
    }
    const zones = new Set<string>();
    for (const i of [1, 2, 3]) zones.add(String(Number(/(\d+)$/.exec(await nodeOf(`web-${i}`))![1]) % 3));
    assert.equal(zones.size, 3);
    await k(['apply', '-f', '-'], anti(4));
    await until('anti-affinity message', async () => (await k(['get', 'events', '--field-selector', 'involvedObject.name=web-4,reason=FailedScheduling', '-o', 'jsonpath={.items[*].message}'])).includes("6 node(s) didn't match pod anti-affinity rules"));
    // Topology spread: 6 pods, maxSkew 1 over 3 zones → 2 per zone.
    for (let i = 1; i <= 6; i++) {
      await k(['apply', '-f', '-'], pod(`spread-${i}`, { affinity: inPool, topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }] }, { labels: { app: 'spread' } }));
    }
    const perZone = [0, 0, 0];
    for (let i = 1; i <= 6; i++) perZone[Number(/(\d+)$/.exec((await runningOn(`spread-${i}`)) as string)![1]) % 3]++;
    assert.deepEqual(perZone, [2, 2, 2]);
  });

  it('a high-priority pod preempts a lower one', async () => {
    await registerSimulatedNodes(client, { count: 1, namePrefix: 'prio-', capacity: { cpu: '1', memory: '4Gi', pods: '110' }, labels: { pool: 'prio' }, taints: [{ key: 'prio', value: 'only', effect: 'NoSchedule' }] });
    await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 }));
    const onPrio = { nodeSelector: { pool: 'prio' }, tolerations: [{ key: 'prio', operator: 'Exists' }] };
    await k(['apply', '-f', '-'], pod('low', onPrio, { cpu: '800m' }));
    assert.equal(await runningOn('low'), 'prio-0');
    await k(['apply', '-f', '-'], pod('high', { ...onPrio, priorityClassName: 'high' }, { cpu: '800m' }));
    assert.equal(await runningOn('high'), 'prio-0');
    await until('victim gone', async () => (await c.kubectl(['get', 'pod', 'low'])).code !== 0);
    const ev = await k(['get', 'events', '--field-selector', 'involvedObject.name=low,reason=Preempted', '-o', 'jsonpath={.items[*].message}']);
    assert.match(ev, /^Preempted by pod \S+ on node prio-0/);
    const prio = await k(['get', 'pod', 'high', '-o', 'jsonpath={.spec.priority}']);
    assert.equal(prio, '1000');
  });

  it('a second scheduler waits for the lease', async () => {
    const other = createScheduler(client, { config: { leaderElection: { leaseDuration: '15s' } } });
    await other.start();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(other.isLeader, false);
    await other.stop();
  });
});
