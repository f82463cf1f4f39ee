import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateObject, validateObjectUpdate, validateStatusUpdate } from './index.js';
import { applyDefaults } from '../defaults/index.js';

const KEY = 'autoscaling/horizontalpodautoscalers';

function hpa(spec: any): any {
  return { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, ...spec } };
}

function errors(obj: any): string[] {
  applyDefaults(KEY, obj);
  return validateObject(KEY, obj, { namespaced: true }).map((e) => `${e.field}: ${e.message}`);
}

test('defaults: minReplicas 1, cpu 80%, behavior rules', () => {
  const o = hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 30 } } });
  applyDefaults(KEY, o);
  assert.equal(o.spec.minReplicas, 1);
  assert.deepEqual(o.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.deepEqual(o.spec.behavior.scaleUp, { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] });
  assert.deepEqual(o.spec.behavior.scaleDown, { stabilizationWindowSeconds: 30, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });
  const plain = hpa({});
  applyDefaults(KEY, plain);
  assert.equal(plain.spec.behavior, undefined);
});

test('a valid HPA passes', () => {
  assert.deepEqual(errors(hpa({ minReplicas: 2 })), []);
});

test('replica bounds and the scale target, with upstream messages', () => {
  assert.deepEqual(errors(hpa({ minReplicas: 3, maxReplicas: 2 })), ['spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`']);
  assert.deepEqual(errors(hpa({ minReplicas: 0, maxReplicas: 0 })), [
    'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
    'spec.maxReplicas: Invalid value: 0: must be greater than 0',
    'spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to zero replicas',
  ]);
  assert.deepEqual(errors(hpa({ scaleTargetRef: {} })), ['spec.scaleTargetRef.kind: Required value', 'spec.scaleTargetRef.name: Required value']);
});

test('metric sources', () => {
  assert.deepEqual(errors(hpa({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } }] })), [
    'spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
  ]);
  assert.deepEqual(errors(hpa({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'AverageValue' } } }] })), [
    'spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization',
  ]);
  assert.deepEqual(errors(hpa({ metrics: [{ type: 'Pods', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 5 } } }] })), [
    'spec.metrics[0].pods: Required value: must populate information for the given metric source',
  ]);
  assert.deepEqual(errors(hpa({ metrics: [{ type: 'External', external: { metric: { name: 'q' }, target: { type: 'Value', value: '-1' } } }] })), [
    'spec.metrics[0].external.target.value: Invalid value: -1: must be positive',
  ]);
  assert.deepEqual(errors(hpa({ metrics: [{ type: 'Bogus' }] })), [
    'spec.metrics[0].type: Unsupported value: "Bogus": supported values: "ContainerResource", "External", "Object", "Pods", "Resource"',
    'spec.metrics[0].type: Unsupported value: "Bogus": supported values: "ContainerResource", "External", "Object", "Pods", "Resource"',
  ]);
});

test('behavior policies', () => {
  assert.deepEqual(errors(hpa({ behavior: { scaleUp: { stabilizationWindowSeconds: 4000, selectPolicy: 'Most', policies: [{ type: 'Nodes', value: 0, periodSeconds: 1801 }] }, scaleDown: { policies: [] } } })), [
    'spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600',
    'spec.behavior.scaleUp.selectPolicy: Unsupported value: "Most": supported values: "Disabled", "Max", "Min"',
    'spec.behavior.scaleUp.policies[0].type: Unsupported value: "Nodes": supported values: "Percent", "Pods"',
    'spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
    'spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800',
    'spec.behavior.scaleDown.policies: Required value: must specify at least one Policy',
  ]);
});

test('updates may keep minReplicas 0 when it was already 0; status updates check replica counts', () => {
  const old = hpa({ minReplicas: 0, metrics: [{ type: 'External', external: { metric: { name: 'q' }, target: { type: 'Value', value: '1' } } }] });
  const next = structuredClone(old);
  next.spec.maxReplicas = 6;
  assert.deepEqual(validateObjectUpdate(KEY, next, old, { namespaced: true }), []);
  const st = structuredClone(old);
  st.status = { currentReplicas: -1, desiredReplicas: 0 };
  assert.deepEqual(validateStatusUpdate(KEY, st, old, { namespaced: true }).map((e) => `${e.field}: ${e.message}`), ['status.currentReplicas: Invalid value: -1: must be greater than or equal to 0']);
});
