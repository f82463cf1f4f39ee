import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHPAMetrics, horizontalPodAutoscalerPrinter, horizontalPodAutoscalerV1Printer } from './autoscaling.js';
import { NOW, meta } from './testutil.js';

const cpu = (u: number) => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: u } } });

test('columns as upstream', () => {
  assert.deepEqual(horizontalPodAutoscalerPrinter.columns.map((c) => c.name), ['Name', 'Reference', 'Targets', 'MinPods', 'MaxPods', 'Replicas', 'Age']);
});

test('row: reference, targets, replicas', () => {
  const h = { metadata: meta('web'), spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, metrics: [cpu(50)] }, status: { currentReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 198, averageValue: '198m' } } }] } };
  assert.deepEqual(horizontalPodAutoscalerPrinter.cells(h, NOW), ['web', 'Deployment/web', 'cpu: 198%/50%', '1', 5, 2, '5m']);
  const fresh = { metadata: meta('web'), spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 5, metrics: [cpu(50)] }, status: {} };
  assert.deepEqual(horizontalPodAutoscalerPrinter.cells(fresh, NOW), ['web', 'Deployment/web', 'cpu: <unknown>/50%', '<unset>', 5, 0, '5m']);
});

test('v1 rows print from the converted object', () => {
  const h = { metadata: meta('web'), spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 }, status: { currentReplicas: 1, desiredReplicas: 1 } };
  assert.deepEqual(horizontalPodAutoscalerV1Printer.cells(h, NOW), ['web', 'Deployment/web', 'cpu: <unknown>/50%', '1', 5, 1, '5m']);
});

test('metric kinds and "+ N more..."', () => {
  const specs = [
    cpu(50),
    { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
    { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
    { type: 'External', external: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: '5' } } },
  ];
  const statuses = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 10 } } }, { type: 'Resource', resource: { name: 'memory', current: { averageValue: '50Mi' } } }];
  assert.equal(formatHPAMetrics(specs, statuses), 'cpu: 10%/50%, memory: 50Mi/100Mi + 2 more...');
  assert.equal(formatHPAMetrics(specs.slice(2), []), '<unknown>/10, <unknown>/5 (avg)');
  assert.equal(formatHPAMetrics([], []), '<none>');
  assert.equal(formatHPAMetrics([{ type: 'Object', object: { target: { type: 'Value', value: '2k' } } }], [{ type: 'Object', object: { current: { value: '1500' } } }]), '1500/2k');
});
