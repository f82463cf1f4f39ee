/**
 * The HorizontalPodAutoscaler controller end to end with the real kubectl: an in-process API server,
 * the deployment/replicaset controllers and the HPA controller (1 s sync period), the scheduler and
 * a real kubelet with the process runtime, whose /metrics/resource feeds metrics.k8s.io.
 * The controllers and the scheduler run under their own identities, as `skiff up` runs them.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createKubelet } from '../kubelet/agent.js';
import { createControllerManager, loadBuiltinControllers, registerController, type ControllerManager } from '../controllers/manager.js';
import { HorizontalController } from '../controllers/hpa/controller.js';
import { createScheduler, type Scheduler } from '../scheduler/scheduler.js';
import { needs, which } from '../testing/real.js';
import { until } from '../testing/wait.js';

const NODE = 'skiff-hpa-node';
const kubectlMissing = which('kubectl') ? undefined : 'kubectl is not on PATH';

function deployment(name: string, replicas: number, script: string, resources: any) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', script], resources }] },
      },
    },
  };
}

function hpa(name: string, spec: any) {
  return { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name, namespace: 'default' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, ...spec } };
}

const GIZMO_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gizmos.e2e.skiff.dev' },
  spec: {
    group: 'e2e.skiff.dev',
    scope: 'Namespaced',
    names: { plural: 'gizmos', singular: 'gizmo', kind: 'Gizmo' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } },
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { replicas: { type: 'integer' } } }, status: { type: 'object', properties: { replicas: { type: 'integer' }, selector: { type: 'string' } } } } } },
      },
    ],
  },
};

const cpu50 = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }];

describe('HorizontalPodAutoscaler (real kubectl, real kubelet, metrics.k8s.io)', () => {
  let tc: TestCluster;
  let client: RestClient;
  let mgr: ControllerManager;
  let sched: Scheduler;
  let stopKubelet: (() => Promise<void>) | undefined;
  let mgrClient: RestClient;
  let schedClient: RestClient;

  before(async () => {
    tc = await startTestCluster();
    client = new RestClient(configFromKubeconfig(tc.kubeconfig, 'hpa-e2e'));
    const kubelet = createKubelet(client, { nodeName: NODE, dataDir: path.join(tc.dataDir, 'kubelet'), runtime: 'process', podCIDR: '10.244.12.0/24', port: 0, resyncMs: 2000 });
    await kubelet.start();
    stopKubelet = () => kubelet.stop();
    await loadBuiltinControllers();
    // A 1 s sync period instead of upstream's 15 s; everything else at upstream's defaults.
    registerController('horizontal-pod-autoscaler', (ctx) => new HorizontalController(ctx, { syncPeriodMs: 1000 }));
    mgrClient = new RestClient(configFromKubeconfig(path.join(tc.dataDir, 'components', 'controller-manager.kubeconfig'), 'hpa-e2e-controllers'));
    schedClient = new RestClient(configFromKubeconfig(path.join(tc.dataDir, 'components', 'scheduler.kubeconfig'), 'hpa-e2e-scheduler'));
    mgr = createControllerManager(mgrClient, { identity: 'e2e-hpa', controllers: ['deployment', 'replicaset', 'horizontal-pod-autoscaler'] });
    await mgr.start();
    await mgr.whenRunning();
    sched = createScheduler(schedClient, { leaderElect: false });
    await sched.start();
    // Every workload up front, so pods start and get metrics while earlier tests run.
    const items = [
      // The cpu limit (a cgroup quota under root) keeps each busy loop at ~100m on a shared machine.
      deployment('busy', 1, 'while :; do :; done', { requests: { cpu: '50m' }, limits: { cpu: '100m' } }),
      deployment('idle', 3, 'while :; do sleep 5; done', { requests: { cpu: '50m' } }),
      deployment('ext', 1, 'while :; do sleep 5; done', { requests: { cpu: '10m' } }),
      // Nobody runs a Gizmo's pods: one bare, idle pod stands for them.
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'gizmo-1', namespace: 'default', labels: { app: 'gizmo' } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'while :; do sleep 5; done'], resources: { requests: { cpu: '50m' } } }] } },
      GIZMO_CRD,
    ];
    await tc.run(['apply', '-f', '-'], items.map((x) => JSON.stringify(x)).join('\n'));
    await until('gizmos served', async () => (await tc.kubectl(['get', 'gizmos'])).code === 0);
    await tc.run(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'e2e.skiff.dev/v1', kind: 'Gizmo', metadata: { name: 'g', namespace: 'default' }, spec: { replicas: 2 } }));
    await tc.run(['patch', 'gizmo', 'g', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { replicas: 2, selector: 'app=gizmo' } })]);
  });

  after(async () => {
    // Busy loops first: they cost the machine CPU until they are gone.
    await tc?.kubectl(['delete', 'deployment', '--all', '--wait=false']);
    await sched?.stop();
    await mgr?.stop();
    await stopKubelet?.();
    client?.close();
    mgrClient?.close();
    schedClient?.close();
    await tc?.stop();
  });

  const hpaOf = (name: string) => client.get(`/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/${name}`);
  const cond = (h: any, type: string) => (h.status?.conditions ?? []).find((c: any) => c.type === type);
  const eventsFor = async (name: string) =>
    ((await client.get('/api/v1/namespaces/default/events', { fieldSelector: `involvedObject.name=${name},involvedObject.kind=HorizontalPodAutoscaler` })).items as any[]).map((e) => `${e.type} ${e.reason} ${e.message}`);

  it('busy pods at 2× their cpu request scale 1 → 3 (max), with upstream status, conditions and events', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await tc.run(['autoscale', 'deployment', 'busy', '--cpu-percent=50', '--min=1', '--max=3']);

    const h = await until(
      'the HPA scales busy to 3',
      async () => {
        const x = await hpaOf('busy');
        return x.status?.desiredReplicas === 3 && x.status?.currentReplicas === 3 ? x : undefined;
      },
      40_000,
      250,
    );
    const d = await client.get('/apis/apps/v1/namespaces/default/deployments/busy');
    assert.equal(d.spec.replicas, 3);
    const m = h.status.currentMetrics?.[0];
    assert.equal(m?.type, 'Resource');
    assert.equal(m.resource.name, 'cpu');
    t.diagnostic(`busy at 3 replicas: cpu ${m.resource.current.averageUtilization}%/50% (average ${m.resource.current.averageValue})`);
    assert.ok(m.resource.current.averageUtilization > 55, `utilization ${m.resource.current.averageUtilization}% is above the 50% target`);
    assert.match(m.resource.current.averageValue, /^\d+m?$/);
    assert.match(h.status.lastScaleTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(cond(h, 'AbleToScale')?.status, 'True');
    assert.deepEqual([cond(h, 'ScalingActive')?.status, cond(h, 'ScalingActive')?.reason], ['True', 'ValidMetricFound']);
    assert.equal(cond(h, 'ScalingActive').message, 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)');
    // Still far above target at the maximum: limited by maxReplicas.
    await until('ScalingLimited TooManyReplicas', async () => {
      const c = cond(await hpaOf('busy'), 'ScalingLimited');
      return c?.status === 'True' && c.reason === 'TooManyReplicas' && c.message === 'the desired replica count is more than the maximum replica count';
    });
    const events = await until('SuccessfulRescale event', async () => {
      const ev = await eventsFor('busy');
      return ev.some((e) => e.startsWith('Normal SuccessfulRescale')) ? ev : undefined;
    });
    assert.ok(events.includes('Normal SuccessfulRescale New size: 3; reason: cpu resource utilization (percentage of request) above target'), events.join('\n'));

    const out = await tc.run(['get', 'hpa', 'busy']);
    const [head, row] = out.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
    assert.deepEqual(head, ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
    assert.equal(row[1], 'Deployment/busy');
    assert.match(row[2], /^cpu: \d+%\/50%$/);
    assert.deepEqual(row.slice(3, 6), ['1', '3', '3']);
    // kubectl's own describer (autoscaling/v2 client side) reads what the controller wrote.
    const desc = await tc.run(['describe', 'hpa', 'busy']);
    assert.match(desc, /resource cpu on pods\s+\(as a percentage of request\):\s+\d+% \(\d+m\) \/ 50%/);
    assert.match(desc, /ScalingActive\s+True\s+ValidMetricFound/);
    assert.match(desc, /SuccessfulRescale\s+.*New size: 3; reason: cpu resource utilization \(percentage of request\) above target/);
    // Stop the busy loops now rather than at the end.
    await tc.run(['delete', 'deployment', 'busy', '--wait=false']);
  });

  it('idle pods scale 3 → 1 at once with behavior.scaleDown.stabilizationWindowSeconds: 0', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await tc.run(['apply', '-f', '-'], JSON.stringify(hpa('idle', { minReplicas: 1, maxReplicas: 3, metrics: cpu50, behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } })));
    const h = await until(
      'the HPA scales idle to 1',
      async () => {
        const x = await hpaOf('idle');
        return x.status?.desiredReplicas === 1 ? x : undefined;
      },
      30_000,
      250,
    );
    assert.equal((await client.get('/apis/apps/v1/namespaces/default/deployments/idle')).spec.replicas, 1);
    assert.ok(h.status.currentMetrics[0].resource.current.averageUtilization < 45);
    const events = await until('SuccessfulRescale event', async () => {
      const ev = await eventsFor('idle');
      return ev.some((e) => e.startsWith('Normal SuccessfulRescale')) ? ev : undefined;
    });
    assert.ok(events.includes('Normal SuccessfulRescale New size: 1; reason: All metrics below target'), events.join('\n'));
  });

  it('a custom resource with a scale subresource is scaled through it', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await tc.run(['apply', '-f', '-'], JSON.stringify({ ...hpa('g', {}), spec: { scaleTargetRef: { apiVersion: 'e2e.skiff.dev/v1', kind: 'Gizmo', name: 'g' }, minReplicas: 1, maxReplicas: 3, metrics: cpu50, behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } } }));
    await until('the Gizmo scaled to 1', async () => (await client.get('/apis/e2e.skiff.dev/v1/namespaces/default/gizmos/g')).spec.replicas === 1, 30_000, 250);
    const events = await until('SuccessfulRescale event', async () => {
      const ev = await eventsFor('g');
      return ev.some((e) => e.startsWith('Normal SuccessfulRescale')) ? ev : undefined;
    });
    assert.ok(events.includes('Normal SuccessfulRescale New size: 1; reason: All metrics below target'), events.join('\n'));
  });

  it('unsupported and failing sources: External metric, missing target — upstream reasons, no scaling', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    const external = [{ type: 'External', external: { metric: { name: 'queue_depth', selector: { matchLabels: { queue: 'jobs' } } }, target: { type: 'AverageValue', averageValue: '30' } } }];
    await tc.run(['apply', '-f', '-'], JSON.stringify(hpa('ext', { minReplicas: 1, maxReplicas: 4, metrics: external })));
    await tc.run(['apply', '-f', '-'], JSON.stringify(hpa('ghost', { minReplicas: 1, maxReplicas: 4, metrics: cpu50 })));

    const ext = await until('ext: ScalingActive False', async () => {
      const x = await hpaOf('ext');
      return cond(x, 'ScalingActive')?.status === 'False' ? x : undefined;
    });
    const sa = cond(ext, 'ScalingActive');
    assert.equal(sa.reason, 'FailedGetExternalMetric');
    assert.match(sa.message, /^the HPA was unable to compute the replica count: unable to get external metric default\/queue_depth\/&LabelSelector\{MatchLabels:map\[string\]string\{queue: jobs,\},MatchExpressions:\[\]LabelSelectorRequirement\{\},\}: unable to fetch metrics from external metrics API: /);
    assert.deepEqual([cond(ext, 'AbleToScale')?.status, cond(ext, 'AbleToScale')?.reason], ['True', 'SucceededGetScale']);
    const evs = await until('FailedComputeMetricsReplicas event', async () => {
      const ev = await eventsFor('ext');
      return ev.some((e) => e.startsWith('Warning FailedComputeMetricsReplicas')) ? ev : undefined;
    });
    assert.ok(evs.some((e) => e.startsWith('Warning FailedComputeMetricsReplicas invalid metrics (1 invalid out of 1), first error is: failed to get queue_depth external metric value: failed to get queue_depth external metric: unable to get external metric')), evs.join('\n'));
    assert.ok(evs.some((e) => e.startsWith('Warning FailedGetExternalMetric unable to get external metric default/queue_depth/')), evs.join('\n'));
    assert.equal((await client.get('/apis/apps/v1/namespaces/default/deployments/ext')).spec.replicas, 1);

    const ghost = await until('ghost: AbleToScale False', async () => {
      const x = await hpaOf('ghost');
      return cond(x, 'AbleToScale')?.status === 'False' ? x : undefined;
    });
    assert.equal(cond(ghost, 'AbleToScale').reason, 'FailedGetScale');
    assert.match(cond(ghost, 'AbleToScale').message, /^the HPA controller was unable to get the target's current scale: deployments\.apps "ghost" not found$/);
  });
});
