/**
 * Node-facing controllers end to end with the real kubectl and the real scheduler: DaemonSets (a
 * node added later gets its pod; rolling update), StatefulSets (web-0, web-1, web-2 in order;
 * partitioned rolling update in reverse order; ordered scale-down), node lifecycle (a node whose
 * Lease stops being renewed is tainted unreachable and its pods are evicted after their
 * tolerationSeconds and recreated elsewhere) and `kubectl drain` against a PodDisruptionBudget.
 *
 * Nodes are simulated here, each with its own agent: it renews the node's Lease in kube-node-lease
 * and reports its pods Running and Ready, and finishes their graceful deletion. Stopping an agent
 * is a node going dark.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { Informer, keyOf } from '../client/informer.js';
import { createControllerManager, loadBuiltinControllers, registerController, type ControllerManager } from '../controllers/manager.js';
import { nodeLifecycleFactory } from '../controllers/nodelifecycle/index.js';
import { createScheduler, type Scheduler } from '../scheduler/scheduler.js';
import { until } from '../testing/wait.js';


const rfc = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const micro = () => new Date().toISOString().replace('Z', '000Z');

/** Simulated nodes: per-node Lease renewal and pod status, until the node is "stopped". */
class NodeSim {
  private readonly alive = new Set<string>();
  private readonly pods: Informer;
  private timer?: NodeJS.Timeout;
  private ip = 1;

  constructor(private readonly client: RestClient) {
    this.pods = new Informer(client, { group: '', version: 'v1', resource: 'pods' });
    this.pods.addHandlers({ add: (p) => this.handle(p), update: (_o, p) => this.handle(p) });
  }

  async start(): Promise<void> {
    await this.pods.start();
    const renew = () => {
      for (const n of this.alive) {
        void this.client.patch(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${n}`, { spec: { renewTime: micro() } }).catch(() => undefined);
      }
      this.timer = setTimeout(renew, 300);
    };
    renew();
  }

  async addNode(name: string): Promise<void> {
    await this.client.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } } });
    const t = rfc();
    await this.client.patch(`/api/v1/nodes/${name}/status`, {
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: t, lastTransitionTime: t }],
        capacity: { cpu: '8', memory: '32Gi', pods: '110' },
        allocatable: { cpu: '8', memory: '32Gi', pods: '110' },
        addresses: [{ type: 'InternalIP', address: `10.0.0.${this.alive.size + 10}` }, { type: 'Hostname', address: name }],
      },
    });
    await this.client.create('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: 'kube-node-lease' },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: micro() },
    });
    this.alive.add(name);
    for (const p of this.pods.list()) this.handle(p);
  }

  /** The node's agent dies: no more Lease renewals, pod updates or deletions. */
  stopNode(name: string): void {
    this.alive.delete(name);
  }

  private handle(p: any): void {
    const node = p.spec?.nodeName;
    if (!node || !this.alive.has(node)) return;
    const base = `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`;
    if (p.metadata.deletionTimestamp) {
      void this.client.delete(base, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid } }).catch(() => undefined);
      return;
    }
    if (p.status?.phase === 'Running' || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return;
    const t = rfc();
    const n = this.ip++;
    const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: t });
    void this.client
      .patch(`${base}/status`, {
        metadata: { resourceVersion: p.metadata.resourceVersion },
        status: {
          phase: 'Running',
          conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
          podIP: `10.244.${(n >> 8) & 255}.${n & 255}`,
          startTime: t,
          containerStatuses: (p.spec.containers ?? []).map((c: any) => ({ name: c.name, image: c.image, imageID: '', ready: true, restartCount: 0, started: true, state: { running: { startedAt: t } } })),
        },
      })
      .catch(() => undefined);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.alive.clear();
    this.pods.stop();
  }
}

const kubectlMissing = which('kubectl') ? undefined : 'kubectl is not on PATH';

describe('node controllers (kubectl)', () => {
  let c: TestCluster;
  let client: RestClient;
  let mgrClient: RestClient;
  let schedClient: RestClient;
  let mgr: ControllerManager;
  let sched: Scheduler;
  let sim: NodeSim;
  before(async () => {
    c = await startTestCluster();
    client = new RestClient(configFromKubeconfig(c.kubeconfig, 'e2e-nodes'));
    sim = new NodeSim(client);
    await sim.start();
    for (const n of ['n1', 'n2', 'n3']) await sim.addNode(n);
    // A short grace period so a silent node is noticed in seconds, not upstream's 40.
    await loadBuiltinControllers();
    registerController('node-lifecycle', nodeLifecycleFactory({ gracePeriodMs: 2000, monitorPeriodMs: 500, startupGracePeriodMs: 5000 }));
    // The controllers and the scheduler run as `skiff up` runs them, under their own identities, so
    // the bootstrap RBAC roles must grant what each controller does (as upstream's controller roles).
    mgrClient = new RestClient(configFromKubeconfig(path.join(c.dataDir, 'components', 'controller-manager.kubeconfig'), 'e2e-nodes-controllers'));
    schedClient = new RestClient(configFromKubeconfig(path.join(c.dataDir, 'components', 'scheduler.kubeconfig'), 'e2e-nodes-scheduler'));
    mgr = createControllerManager(mgrClient, {
      identity: 'e2e-nodes',
      controllers: ['daemonset', 'statefulset', 'persistentvolume-binder', 'replicaset', 'deployment', 'node-lifecycle', 'taint-eviction-controller', 'disruption', 'garbage-collector', 'serviceaccount'],
    });
    await mgr.start();
    await mgr.whenRunning();
    sched = createScheduler(schedClient, { leaderElect: false });
    await sched.start();
  });
  after(async () => {
    await sched?.stop();
    await mgr?.stop();
    sim?.stop();
    client?.close();
    mgrClient?.close();
    schedClient?.close();
    await c?.stop();
  });

  const k = (args: string[], input?: string) => c.run(args, input);
  const podsOf = async (selector: string) => (await client.get('/api/v1/namespaces/default/pods', { labelSelector: selector })).items as any[];

  it('a DaemonSet lands on every node, including one added later, and rolls updates', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'busybox:1' }] } } },
    }));
    await k(['rollout', 'status', 'daemonset/agent', '--timeout=60s']);
    let pods = await podsOf('app=agent');
    assert.deepEqual(pods.map((p) => p.spec.nodeName).sort(), ['n1', 'n2', 'n3']);
    for (const p of pods) {
      assert.deepEqual(p.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [p.spec.nodeName] }] }]);
      assert.ok(p.spec.tolerations.some((x: any) => x.key === 'node.kubernetes.io/unreachable' && x.effect === 'NoExecute'));
    }
    await sim.addNode('n4');
    await until('a pod on n4', async () => (await podsOf('app=agent')).some((p) => p.spec.nodeName === 'n4' && p.status?.phase === 'Running'));
    await k(['rollout', 'status', 'daemonset/agent', '--timeout=60s']);
    // rollout status can return on the rollout's own counters before numberReady catches up.
    await until('DaemonSet status: 4 desired, 4 ready, current generation', async () => {
      const ds = await client.get('/apis/apps/v1/namespaces/default/daemonsets/agent');
      return ds.status.desiredNumberScheduled === 4 && ds.status.numberReady === 4 && ds.status.observedGeneration === ds.metadata.generation;
    });

    await k(['set', 'image', 'daemonset/agent', 'agent=busybox:2']);
    await k(['rollout', 'status', 'daemonset/agent', '--timeout=60s']);
    pods = (await podsOf('app=agent')).filter((p) => !p.metadata.deletionTimestamp);
    assert.equal(pods.length, 4);
    for (const p of pods) assert.equal(p.spec.containers[0].image, 'busybox:2');
    const revs = (await client.get('/apis/apps/v1/namespaces/default/controllerrevisions')).items.filter((r: any) => r.metadata.ownerReferences?.[0]?.name === 'agent');
    assert.deepEqual(revs.map((r: any) => r.revision).sort(), [1, 2]);
    assert.match(await k(['rollout', 'history', 'daemonset/agent']), /1\s+<none>[\s\S]*2\s+<none>/);
  });

  it('a StatefulSet starts web-0, web-1, web-2 in order, rolls back-to-front above its partition and scales down from the top', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    const created: string[] = [];
    const deleted: string[] = [];
    const readyAt = new Map<string, number>();
    const createdAt = new Map<string, number>();
    const w = new Informer(client, { group: '', version: 'v1', resource: 'pods', labelSelector: 'app=web' });
    const seen = (p: any) => {
      if (!createdAt.has(p.metadata.uid)) {
        createdAt.set(p.metadata.uid, Date.now());
        created.push(p.metadata.name);
      }
      if ((p.status?.conditions ?? []).some((x: any) => x.type === 'Ready' && x.status === 'True') && !readyAt.has(p.metadata.name)) readyAt.set(p.metadata.name, Date.now());
    };
    w.addHandlers({ add: seen, update: (_o, p) => seen(p), delete: (p) => deleted.push(p.metadata.name) });
    await w.start();
    try {
      await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ port: 80 }] } }));
      // Static volumes for the set's claims (this cluster has no provisioner), bound by the PV controller.
      for (const i of [0, 1, 2]) {
        await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: `web-pv-${i}` }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/tmp/skiff-e2e-web-pv-${i}` } } }));
      }
      await k(['apply', '-f', '-'], JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'web' },
        spec: {
          serviceName: 'web',
          replicas: 3,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] } },
          volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
        },
      }));
      await k(['rollout', 'status', 'statefulset/web', '--timeout=120s']);
      assert.deepEqual(created, ['web-0', 'web-1', 'web-2']);
      // Each started only once its predecessor was Ready.
      const ready = (n: string) => readyAt.get(n)!;
      assert.ok(ready('web-0') <= ready('web-1') && ready('web-1') <= ready('web-2'));
      let pods = await podsOf('app=web');
      for (const p of pods) {
        assert.equal(p.spec.hostname, p.metadata.name);
        assert.equal(p.spec.subdomain, 'web');
        assert.equal(p.metadata.labels['statefulset.kubernetes.io/pod-name'], p.metadata.name);
        assert.equal(p.metadata.labels['apps.kubernetes.io/pod-index'], p.metadata.name.slice(4));
      }
      let sts = await client.get('/apis/apps/v1/namespaces/default/statefulsets/web');
      assert.equal(sts.status.readyReplicas, 3);
      assert.equal(sts.status.currentRevision, sts.status.updateRevision);
      // Each pod has its own claim <template>-<set>-<ordinal>, bound to one of the volumes.
      for (const p of pods) assert.deepEqual(p.spec.volumes.find((v: any) => v.name === 'data'), { name: 'data', persistentVolumeClaim: { claimName: `data-${p.metadata.name}` } });
      const claims = (await client.get('/api/v1/namespaces/default/persistentvolumeclaims')).items as any[];
      assert.deepEqual(claims.map((x) => [x.metadata.name, x.status.phase, x.metadata.labels.app]).sort(), [['data-web-0', 'Bound', 'web'], ['data-web-1', 'Bound', 'web'], ['data-web-2', 'Bound', 'web']]);

      // Partition 1: web-2 then web-1 move to the new revision; web-0 stays.
      await k(['patch', 'statefulset', 'web', '--type=merge', '-p', JSON.stringify({ spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } }, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:2', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] } } } })]);
      sts = await until('partitioned update done', async () => {
        const s = await client.get('/apis/apps/v1/namespaces/default/statefulsets/web');
        return s.status.observedGeneration === s.metadata.generation && s.status.updatedReplicas === 2 && s.status.readyReplicas === 3 && s;
      });
      assert.notEqual(sts.status.currentRevision, sts.status.updateRevision);
      assert.deepEqual(deleted.filter((n) => n !== 'web-0'), ['web-2', 'web-1']);
      pods = await podsOf('app=web');
      const image = (n: string) => pods.find((p) => p.metadata.name === n)?.spec.containers[0].image;
      assert.deepEqual([image('web-0'), image('web-1'), image('web-2')], ['nginx:1', 'nginx:2', 'nginx:2']);

      deleted.length = 0;
      await k(['scale', 'statefulset', 'web', '--replicas=1']);
      await until('scaled to 1', async () => (await podsOf('app=web')).length === 1);
      assert.deepEqual(deleted, ['web-2', 'web-1']);
    } finally {
      w.stop();
    }
  });

  it('a node whose Lease stops being renewed is tainted and its pods are evicted and recreated elsewhere', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'survivor' },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: 'survivor' } },
        template: {
          metadata: { labels: { app: 'survivor' } },
          spec: {
            containers: [{ name: 'c', image: 'busybox' }],
            // Explicit, short tolerations (DefaultTolerationSeconds would give 300 s).
            tolerations: ['unreachable', 'not-ready'].map((x) => ({ key: `node.kubernetes.io/${x}`, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 })),
          },
        },
      },
    }));
    await k(['rollout', 'status', 'deployment/survivor', '--timeout=60s']);
    const before = (await podsOf('app=survivor')).filter((p) => !p.metadata.deletionTimestamp);
    const victim = before[0].spec.nodeName as string;
    const doomed = before.filter((p) => p.spec.nodeName === victim).map((p) => p.metadata.name);
    sim.stopNode(victim);

    const node = await until('node Unknown and tainted', async () => {
      const n = await client.get(`/api/v1/nodes/${victim}`);
      const ready = n.status.conditions.find((x: any) => x.type === 'Ready');
      const taints = (n.spec.taints ?? []).map((x: any) => `${x.key}:${x.effect}`);
      return ready.status === 'Unknown' && taints.includes('node.kubernetes.io/unreachable:NoExecute') && taints.includes('node.kubernetes.io/unreachable:NoSchedule') && n;
    });
    assert.equal(node.status.conditions.find((x: any) => x.type === 'Ready').reason, 'NodeStatusUnknown');
    // Evicted after 2 s, replaced on live nodes.
    await until('survivors rescheduled', async () => {
      const ps = await podsOf('app=survivor');
      const live = ps.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running');
      return doomed.every((n) => ps.find((p) => p.metadata.name === n)?.metadata.deletionTimestamp || !ps.some((p) => p.metadata.name === n)) && live.length === 4 && live.every((p) => p.spec.nodeName !== victim);
    });
    const evicted = (await podsOf('app=survivor')).find((p) => p.metadata.name === doomed[0]);
    if (evicted) assert.ok((evicted.status.conditions ?? []).some((x: any) => x.type === 'DisruptionTarget' && x.reason === 'DeletionByTaintManager'));
    const events = await k(['get', 'events', '--field-selector', `involvedObject.name=${doomed[0]}`, '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
    assert.match(events, new RegExp(`TaintManagerEviction: Marking for deletion Pod default/${doomed[0]}`));
    // The DaemonSet pod tolerates the node's trouble and stays.
    assert.ok((await podsOf('app=agent')).some((p) => p.spec.nodeName === victim && !p.metadata.deletionTimestamp));
  });

  it('kubectl drain respects a PodDisruptionBudget', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    const nodes = (await client.get('/api/v1/nodes')).items.filter((n: any) => n.status.conditions.find((x: any) => x.type === 'Ready').status === 'True').map((n: any) => n.metadata.name);
    assert.ok(nodes.length >= 2);
    const target = nodes[0];
    // Two replicas pinned to the node being drained, a budget that allows one disruption at a time.
    await k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'guarded' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'guarded' } },
        template: {
          metadata: { labels: { app: 'guarded' } },
          spec: {
            containers: [{ name: 'c', image: 'busybox' }],
            affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchFields: [{ key: 'metadata.name', operator: 'In', values: [target] }] } }] } },
          },
        },
      },
    }));
    await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'guarded' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'guarded' } } } }));
    await k(['rollout', 'status', 'deployment/guarded', '--timeout=60s']);
    const pdb = await until('budget computed', async () => {
      const b = await client.get('/apis/policy/v1/namespaces/default/poddisruptionbudgets/guarded');
      return b.status?.observedGeneration === b.metadata.generation && b.status.currentHealthy === 2 && b;
    });
    assert.deepEqual([pdb.status.expectedPods, pdb.status.desiredHealthy, pdb.status.disruptionsAllowed], [2, 1, 1]);
    assert.match(await k(['get', 'pdb', 'guarded']), /guarded\s+1\s+N\/A\s+1/);

    // Watch: at least one guarded pod stays Ready (and not terminating) throughout the drain.
    let minHealthy = Infinity;
    const healthy = new Set<string>();
    const w = new Informer(client, { group: '', version: 'v1', resource: 'pods', labelSelector: 'app=guarded' });
    const trace: string[] = [];
    const see = (p: any) => {
      const ok = !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((x: any) => x.type === 'Ready' && x.status === 'True');
      if (ok) healthy.add(keyOf(p));
      else healthy.delete(keyOf(p));
      minHealthy = Math.min(minHealthy, healthy.size);
      trace.push(`${Date.now() % 100000} ${p.metadata.name} ${p.spec.nodeName} ${p.status?.phase} dt=${!!p.metadata.deletionTimestamp} ok=${ok} n=${healthy.size}`);
    };
    w.addHandlers({ add: see, update: (_o, p) => see(p), delete: (p) => (healthy.delete(keyOf(p)), (minHealthy = Math.min(minHealthy, healthy.size))) });
    await w.start();
    minHealthy = healthy.size;
    // kubectl drain evicts only if /api/v1 lists pods/eviction with its group and version
    // (CheckEvictionSupport); otherwise it deletes, and no budget applies.
    const v1 = await client.get('/api/v1');
    const evictable = v1.resources.some((r: any) => r.name === 'pods/eviction' && r.kind === 'Eviction' && r.group && r.version);
    assert.ok(evictable, '/api/v1 must list pods/eviction with group policy and version v1, or kubectl drain deletes instead of evicting');
    let out = '';
    try {
      const r = await c.kubectl(['drain', target, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=90s']);
      assert.equal(r.code, 0, r.stderr);
      out = r.stdout + r.stderr;
      assert.match(out, new RegExp(`node/${target} drained`));
    } finally {
      w.stop();
    }
    assert.ok(minHealthy >= 1, `the budget kept a healthy pod (min ${minHealthy}): ${out}\n${trace.join('\n')}`);
    await until('replacements running elsewhere', async () => {
      const ps = (await podsOf('app=guarded')).filter((p) => !p.metadata.deletionTimestamp);
      return ps.length === 2 && ps.every((p) => p.status?.phase === 'Running' && p.spec.nodeName !== target);
    });
    const n = await client.get(`/api/v1/nodes/${target}`);
    assert.equal(n.spec.unschedulable, true);
    await k(['uncordon', target]);
  });
});
