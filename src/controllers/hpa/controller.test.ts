/**
 * One sync of the HPA controller against in-memory informers and a scripted API (no sockets): the
 * status, conditions, events and scale writes upstream's horizontal_test.go checks, word for word.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HorizontalController } from './controller.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

class FakeInformer {
  readonly items = new Map<string, any>();
  addHandlers(): void {}
  get(k: string) {
    return this.items.get(k);
  }
  list() {
    return [...this.items.values()];
  }
}

class NotFound extends Error {
  status = 404;
}

interface World {
  replicas: number;
  selector?: string;
  pods: { name: string; cpu?: string; usage?: string; labels?: Record<string, string> }[];
  failScaleUpdate?: string;
}

function setup(w: World, hpaSpec: any, extraHpas: [string, any][] = []) {
  const hpas = new FakeInformer();
  const pods = new FakeInformer();
  const events: string[] = [];
  const scaleWrites: number[] = [];
  const statusWrites: any[] = [];
  const mk = (name: string, spec: any) => ({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name, namespace: 'default', uid: `u-${name}`, generation: 1 }, spec });
  hpas.items.set('default/web', mk('web', hpaSpec));
  for (const [n, spec] of extraHpas) hpas.items.set(`default/${n}`, mk(n, spec));
  for (const p of w.pods) {
    pods.items.set(`default/${p.name}`, {
      metadata: { name: p.name, namespace: 'default', labels: p.labels ?? { app: 'web' } },
      spec: { containers: [{ name: 'main', resources: p.cpu ? { requests: { cpu: p.cpu } } : {} }] },
      status: { phase: 'Running', startTime: iso(NOW - 600_000), conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: iso(NOW - 600_000) }] },
    });
  }
  const client = {
    async get(p: string) {
      if (p === '/apis/apps/v1') return { resources: [{ name: 'deployments', kind: 'Deployment' }, { name: 'deployments/scale', kind: 'Scale' }, { name: 'daemonsets', kind: 'DaemonSet' }] };
      if (p === '/apis/apps/v1/namespaces/default/deployments/web/scale')
        return { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'default', resourceVersion: '7' }, spec: { replicas: w.replicas }, status: { replicas: w.replicas, selector: w.selector ?? 'app=web' } };
      if (p === '/apis/apps/v1/namespaces/default/deployments/gone/scale') throw new NotFound('deployments.apps "gone" not found');
      if (p === '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods')
        return {
          items: w.pods
            .filter((x) => x.usage)
            .map((x) => ({ metadata: { name: x.name, namespace: 'default' }, timestamp: iso(NOW - 5000), window: '15s', containers: [{ name: 'main', usage: { cpu: x.usage, memory: '1Mi' } }] })),
        };
      if (p === '/apis/custom.metrics.k8s.io') throw new NotFound('the server could not find the requested resource');
      if (p.startsWith('/apis/external.metrics.k8s.io/')) throw new NotFound('the server could not find the requested resource');
      throw new NotFound('the server could not find the requested resource');
    },
    async update(p: string, body: any) {
      if (p.endsWith('/scale')) {
        if (w.failScaleUpdate) throw new Error(w.failScaleUpdate);
        scaleWrites.push(body.spec.replicas);
      } else {
        statusWrites.push(structuredClone(body.status));
        // As the informer would see the write.
        const k = `default/${body.metadata.name}`;
        hpas.items.set(k, { ...hpas.items.get(k), status: structuredClone(body.status) });
      }
      return body;
    },
  };
  const ctx: any = {
    client,
    informers: { for: (ref: any) => (ref.resource === 'pods' ? pods : hpas) },
    recorder: () => ({ event: (_o: any, type: string, reason: string, message: string) => events.push(`${type} ${reason} ${message}`) }),
    clock: { now: () => NOW, setTimeout: () => 0, clearTimeout: () => undefined },
    identity: 't',
    log: () => undefined,
  };
  const c = new HorizontalController(ctx);
  const sync = async (key = 'default/web') => {
    await (c as any).reconcile(key);
    return statusWrites.at(-1);
  };
  return { sync, events, scaleWrites, statusWrites, hpas };
}

const cpu = (pct: number) => [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: pct } } }];
const spec = (metrics: any[], min = 1, max = 5, extra: any = {}) => ({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: min, maxReplicas: max, metrics, ...extra });
const cond = (s: any, t: string) => {
  const c = s.conditions.find((x: any) => x.type === t);
  return c && [c.status, c.reason, c.message];
};

test('scale up on cpu utilization: scale write, status, conditions, SuccessfulRescale', async () => {
  const f = setup({ replicas: 1, pods: [{ name: 'web-1', cpu: '100m', usage: '190m' }] }, spec(cpu(50), 1, 3));
  const s = await f.sync();
  assert.deepEqual(f.scaleWrites, [3]);
  assert.deepEqual(f.events, ['Normal SuccessfulRescale New size: 3; reason: cpu resource utilization (percentage of request) above target']);
  assert.equal(s.currentReplicas, 1);
  assert.equal(s.desiredReplicas, 3);
  assert.equal(s.lastScaleTime, iso(NOW));
  assert.deepEqual(s.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 190, averageValue: '190m' } } }]);
  assert.deepEqual(cond(s, 'AbleToScale'), ['True', 'SucceededRescale', 'the HPA controller was able to update the target scale to 3']);
  assert.deepEqual(cond(s, 'ScalingActive'), ['True', 'ValidMetricFound', 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)']);
  assert.deepEqual(cond(s, 'ScalingLimited'), ['True', 'TooManyReplicas', 'the desired replica count is more than the maximum replica count']);
  assert.deepEqual(s.conditions.map((c: any) => c.type), ['AbleToScale', 'ScalingActive', 'ScalingLimited']);
});

test('within tolerance: no scale write, ReadyForNewScale, status written once', async () => {
  const f = setup({ replicas: 2, pods: [{ name: 'web-1', cpu: '100m', usage: '52m' }, { name: 'web-2', cpu: '100m', usage: '50m' }] }, spec(cpu(50)));
  const s = await f.sync();
  assert.deepEqual(f.scaleWrites, []);
  assert.deepEqual([s.currentReplicas, s.desiredReplicas, s.lastScaleTime], [2, 2, undefined]);
  assert.deepEqual(cond(s, 'AbleToScale'), ['True', 'ReadyForNewScale', 'recommended size matches current size']);
  assert.deepEqual(cond(s, 'ScalingLimited'), ['False', 'DesiredWithinRange', 'the desired count is within the acceptable range']);
  await f.sync();
  assert.equal(f.statusWrites.length, 1, 'an unchanged status is not written again');
});

test('AverageValue target and ContainerResource metric names', async () => {
  const f = setup({ replicas: 2, pods: [{ name: 'web-1', cpu: '100m', usage: '300m' }, { name: 'web-2', cpu: '100m', usage: '300m' }] }, spec([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'AverageValue', averageValue: '100m' } } }], 1, 10));
  const s = await f.sync();
  assert.deepEqual(f.scaleWrites, [4], 'ratio 3 → 6, limited to max(2×2, 4)');
  assert.deepEqual(s.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageValue: '300m' } } }]);
  assert.deepEqual(f.events, ['Normal SuccessfulRescale New size: 4; reason: cpu resource above target']);
  assert.deepEqual(cond(s, 'ScalingLimited'), ['True', 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']);

  const g = setup({ replicas: 1, pods: [{ name: 'web-1', cpu: '100m', usage: '200m' }] }, spec([{ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'main', target: { type: 'Utilization', averageUtilization: 100 } } }]));
  const s2 = await g.sync();
  assert.deepEqual(g.events, ['Normal SuccessfulRescale New size: 2; reason: cpu container resource utilization (percentage of request) above target']);
  assert.deepEqual(s2.currentMetrics, [{ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'main', current: { averageUtilization: 200, averageValue: '200m' } } }]);
});

test('failed resource metrics: FailedGetResourceMetric + FailedComputeMetricsReplicas, nothing scaled', async () => {
  const f = setup({ replicas: 2, pods: [{ name: 'web-1', cpu: '100m' }, { name: 'web-2', cpu: '100m' }] }, spec(cpu(50)));
  const s = await f.sync();
  assert.deepEqual(f.scaleWrites, []);
  assert.deepEqual(f.events, [
    'Warning FailedGetResourceMetric failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
    'Warning FailedComputeMetricsReplicas invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
  ]);
  assert.deepEqual(cond(s, 'ScalingActive'), ['False', 'FailedGetResourceMetric', 'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API']);
  assert.deepEqual(cond(s, 'AbleToScale'), ['True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale"]);
  assert.deepEqual([s.currentReplicas, s.desiredReplicas, s.currentMetrics], [2, 0, [{ type: '' }]]);

  const g = setup({ replicas: 1, pods: [{ name: 'web-1', usage: '10m' }] }, spec(cpu(50)));
  await g.sync();
  assert.equal(g.events[0], 'Warning FailedGetResourceMetric failed to get cpu utilization: missing request for cpu in container main of Pod web-1');
});

test('Pods, Object and External metrics: upstream reasons while no custom/external metrics API is served', async () => {
  const pods = setup({ replicas: 1, pods: [{ name: 'web-1', cpu: '100m', usage: '10m' }] }, spec([{ type: 'Pods', pods: { metric: { name: 'packets-per-second' }, target: { type: 'AverageValue', averageValue: '1k' } } }]));
  const s = await pods.sync();
  const inner = 'unable to get metric packets-per-second: unable to fetch metrics from custom metrics API: no known available metric versions found';
  assert.deepEqual(cond(s, 'ScalingActive'), ['False', 'FailedGetPodsMetric', `the HPA was unable to compute the replica count: ${inner}`]);
  assert.deepEqual(pods.events, [`Warning FailedGetPodsMetric ${inner}`, `Warning FailedComputeMetricsReplicas invalid metrics (1 invalid out of 1), first error is: failed to get pods metric value: ${inner}`]);

  const obj = setup({ replicas: 1, pods: [] }, spec([{ type: 'Object', object: { describedObject: { apiVersion: 'v1', kind: 'Service', name: 'front' }, metric: { name: 'rps' }, target: { type: 'Value', value: '10' } } }]));
  const s2 = await obj.sync();
  assert.deepEqual(cond(s2, 'ScalingActive')?.slice(0, 2), ['False', 'FailedGetObjectMetric']);
  assert.equal(obj.events[0], 'Warning FailedGetObjectMetric unable to get metric rps: Service on default front/unable to fetch metrics from custom metrics API: no known available metric versions found');

  const ext = setup({ replicas: 1, pods: [] }, spec([{ type: 'External', external: { metric: { name: 'queue' }, target: { type: 'Value', value: '10' } } }]));
  const s3 = await ext.sync();
  assert.deepEqual(cond(s3, 'ScalingActive'), ['False', 'FailedGetExternalMetric', 'the HPA was unable to compute the replica count: unable to get external metric default/queue/nil: unable to fetch metrics from external metrics API: the server could not find the requested resource']);
  assert.equal(ext.events[1], 'Warning FailedComputeMetricsReplicas invalid metrics (1 invalid out of 1), first error is: failed to get queue external metric value: failed to get external metric queue: unable to get external metric default/queue/nil: unable to fetch metrics from external metrics API: the server could not find the requested resource');
});

test('one failing metric does not stop a scale up on another; it does stop a scale down', async () => {
  const ext = { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'Value', value: '10' } } };
  const up = setup({ replicas: 1, pods: [{ name: 'web-1', cpu: '100m', usage: '200m' }] }, spec([ext, ...cpu(100)]));
  const s = await up.sync();
  assert.deepEqual(up.scaleWrites, [2]);
  assert.deepEqual(cond(s, 'ScalingActive')?.slice(0, 2), ['True', 'ValidMetricFound']);
  assert.equal(s.currentMetrics[0].type, '');

  const down = setup({ replicas: 3, pods: ['a', 'b', 'c'].map((n) => ({ name: n, cpu: '100m', usage: '1m' })) }, spec([ext, ...cpu(100)], 1, 5, { behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }));
  const s2 = await down.sync();
  assert.deepEqual(down.scaleWrites, []);
  assert.deepEqual(cond(s2, 'ScalingActive')?.slice(0, 2), ['False', 'FailedGetExternalMetric']);
});

test('target scaled to zero, out of range, missing selector, missing target, unknown kind', async () => {
  const zero = setup({ replicas: 0, pods: [] }, spec(cpu(50)));
  const s0 = await zero.sync();
  assert.deepEqual(zero.scaleWrites, []);
  assert.deepEqual(cond(s0, 'ScalingActive'), ['False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero']);
  assert.equal(s0.desiredReplicas, 0);

  const above = setup({ replicas: 9, pods: [] }, spec(cpu(50), 1, 5));
  await above.sync();
  assert.deepEqual(above.scaleWrites, [5]);
  assert.deepEqual(above.events, ['Normal SuccessfulRescale New size: 5; reason: Current number of replicas above Spec.MaxReplicas']);
  const below = setup({ replicas: 1, pods: [] }, spec(cpu(50), 2, 5));
  await below.sync();
  assert.deepEqual(below.events, ['Normal SuccessfulRescale New size: 2; reason: Current number of replicas below Spec.MinReplicas']);

  const nosel = setup({ replicas: 1, selector: '', pods: [] }, spec(cpu(50)));
  const s1 = await nosel.sync();
  assert.deepEqual(cond(s1, 'ScalingActive'), ['False', 'InvalidSelector', "the HPA target's scale is missing a selector"]);
  assert.deepEqual(nosel.events, ['Warning SelectorRequired selector is required', 'Warning FailedComputeMetricsReplicas selector is required']);

  const gone = setup({ replicas: 1, pods: [] }, { ...spec(cpu(50)), scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'gone' } });
  const s2 = await gone.sync();
  assert.deepEqual(cond(s2, 'AbleToScale'), ['False', 'FailedGetScale', 'the HPA controller was unable to get the target\'s current scale: deployments.apps "gone" not found']);
  assert.deepEqual(gone.events, ['Warning FailedGetScale deployments.apps "gone" not found']);

  const kind = setup({ replicas: 1, pods: [] }, { ...spec(cpu(50)), scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Widget', name: 'web' } });
  const s3 = await kind.sync();
  assert.deepEqual(cond(s3, 'AbleToScale'), ['False', 'FailedGetScale', 'the HPA controller was unable to get the target\'s current scale: no matches for kind "Widget" in group "apps"']);

  const noScale = setup({ replicas: 1, pods: [] }, { ...spec(cpu(50)), scaleTargetRef: { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'web' } });
  const s4 = await noScale.sync();
  assert.deepEqual(cond(s4, 'AbleToScale'), ['False', 'FailedGetScale', "the HPA controller was unable to get the target's current scale: the server could not find the requested resource"]);
});

test('a failed scale write: FailedRescale event, AbleToScale FailedUpdateScale', async () => {
  const f = setup({ replicas: 1, failScaleUpdate: 'Operation cannot be fulfilled', pods: [{ name: 'web-1', cpu: '100m', usage: '190m' }] }, spec(cpu(50), 1, 3));
  const s = await f.sync();
  assert.deepEqual(f.events, ['Warning FailedRescale New size: 3; reason: cpu resource utilization (percentage of request) above target; error: Operation cannot be fulfilled']);
  assert.deepEqual(cond(s, 'AbleToScale'), ['False', 'FailedUpdateScale', 'the HPA controller was unable to update the target scale: Operation cannot be fulfilled']);
  assert.equal(s.lastScaleTime, undefined);
});

test('two HPAs over the same pods: AmbiguousSelector, no scaling', async () => {
  const f = setup({ replicas: 1, pods: [{ name: 'web-1', cpu: '100m', usage: '190m' }] }, spec(cpu(50)), [['web2', spec(cpu(50))]]);
  await f.sync('default/web2');
  const s = await f.sync('default/web');
  const msg = 'pods by selector app=web are controlled by multiple HPAs: [default/web default/web2]';
  assert.deepEqual(cond(s, 'ScalingActive'), ['False', 'AmbiguousSelector', msg]);
  assert.ok(f.events.includes(`Warning AmbiguousSelector ${msg}`), f.events.join('\n'));
  assert.ok(!f.scaleWrites.length || f.scaleWrites.length === 1, 'only the first HPA, alone at the time, scaled');
});
