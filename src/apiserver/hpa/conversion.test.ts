import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BEHAVIOR_ANNOTATION, CONDITIONS_ANNOTATION, METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, hpaV1ToV2, hpaV2ToV1 } from './conversion.js';

const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

test('v1 targetCPUUtilizationPercentage becomes a cpu Utilization metric, and back', () => {
  const v1 = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' }, spec: { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 } };
  const v2 = hpaV1ToV2(v1);
  assert.equal(v2.apiVersion, 'autoscaling/v2');
  assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
  assert.equal(v2.metadata.annotations, undefined);
  const back = hpaV2ToV1(v2);
  assert.deepEqual(back.spec, v1.spec);
  assert.equal(back.metadata.annotations, undefined);
});

test('v1 without a target converts to the cpu 80% default', () => {
  const v2 = hpaV1ToV2({ metadata: { name: 'x' }, spec: { scaleTargetRef: ref, maxReplicas: 3 } });
  assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
});

test('current cpu utilization maps to status.currentMetrics; the raw status rides in annotations', () => {
  const v2 = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', annotations: { keep: 'me' } },
    spec: {
      scaleTargetRef: ref,
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
        { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
        { type: 'External', external: { metric: { name: 'queue', selector: { matchLabels: { q: 'a' } } }, target: { type: 'Value', value: '30' } } },
        { type: 'Object', object: { describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' }, metric: { name: 'rps' }, target: { type: 'Value', value: '2k' } } },
        { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization', averageUtilization: 60 } } },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] } },
    },
    status: {
      observedGeneration: 2,
      currentReplicas: 2,
      desiredReplicas: 3,
      currentMetrics: [
        { type: 'Resource', resource: { name: 'cpu', current: { averageValue: '198m', averageUtilization: 198 } } },
        { type: 'Pods', pods: { metric: { name: 'qps' }, current: { averageValue: '12' } } },
      ],
      conditions: [{ type: 'AbleToScale', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'SucceededRescale', message: 'ok' }],
    },
  };
  const v1 = hpaV2ToV1(v2);
  assert.deepEqual(v1.spec, { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 });
  assert.deepEqual(v1.status, { observedGeneration: 2, currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 198 });
  const ann = v1.metadata.annotations;
  assert.equal(ann.keep, 'me');
  assert.deepEqual(JSON.parse(ann[METRIC_SPECS_ANNOTATION]), [
    { type: 'Resource', resource: { name: 'memory', targetAverageValue: '100Mi' } },
    { type: 'Pods', pods: { metricName: 'qps', targetAverageValue: '10' } },
    { type: 'External', external: { metricName: 'queue', metricSelector: { matchLabels: { q: 'a' } }, targetValue: '30' } },
    { type: 'Object', object: { target: { kind: 'Ingress', name: 'main', apiVersion: 'networking.k8s.io/v1' }, metricName: 'rps', targetValue: '2k' } },
    { type: 'ContainerResource', containerResource: { name: 'cpu', targetAverageUtilization: 60, container: 'app' } },
  ]);
  assert.deepEqual(JSON.parse(ann[METRIC_STATUSES_ANNOTATION])[0], { type: 'Resource', resource: { name: 'cpu', currentAverageUtilization: 198, currentAverageValue: '198m' } });
  assert.deepEqual(JSON.parse(ann[CONDITIONS_ANNOTATION]), v2.status.conditions);
  assert.deepEqual(JSON.parse(ann[BEHAVIOR_ANNOTATION]), v2.spec.behavior);
  // The input is not changed.
  assert.deepEqual(v2.metadata.annotations, { keep: 'me' });

  const round = hpaV1ToV2(v1);
  assert.deepEqual(round.metadata.annotations, { keep: 'me' });
  // Other metrics first, then the cpu target (upstream's order).
  assert.deepEqual(round.spec.metrics, [...v2.spec.metrics.slice(1), v2.spec.metrics[0]]);
  assert.deepEqual(round.spec.behavior, v2.spec.behavior);
  assert.deepEqual(round.status, v2.status);
});

test('a v1 status without annotations gives the cpu current metric', () => {
  const v2 = hpaV1ToV2({ metadata: { name: 'x' }, spec: { scaleTargetRef: ref, maxReplicas: 3, targetCPUUtilizationPercentage: 50 }, status: { currentReplicas: 1, desiredReplicas: 1, currentCPUUtilizationPercentage: 20 } });
  assert.deepEqual(v2.status, { currentReplicas: 1, desiredReplicas: 1, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 20 } } }] });
});
