import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiServicePrinter } from './apiregistration.js';
import { printerFor } from './index.js';
import { NOW, meta } from './testutil.js';

const m = (name: string) => ({ ...meta(name), namespace: undefined });

test('APIService columns and cells, as kube-aggregator prints them', () => {
  assert.equal(printerFor('apiregistration.k8s.io/apiservices'), apiServicePrinter);
  assert.deepEqual(apiServicePrinter.columns.map((c) => c.name.toUpperCase()), ['NAME', 'SERVICE', 'AVAILABLE', 'AGE']);
  const local = { metadata: m('v1.apps'), spec: { group: 'apps', version: 'v1' }, status: { conditions: [{ type: 'Available', status: 'True', reason: 'Local' }] } };
  assert.deepEqual(apiServicePrinter.cells(local, NOW), ['v1.apps', 'Local', 'True', '5m']);
  const remote = (conditions?: unknown[]) => ({ metadata: m('v1beta1.metrics.k8s.io'), spec: { service: { namespace: 'kube-system', name: 'metrics-server' } }, status: conditions ? { conditions } : {} });
  assert.deepEqual(apiServicePrinter.cells(remote([{ type: 'Available', status: 'False', reason: 'MissingEndpoints' }]), NOW), ['v1beta1.metrics.k8s.io', 'kube-system/metrics-server', 'False (MissingEndpoints)', '5m']);
  assert.deepEqual(apiServicePrinter.cells(remote([{ type: 'Available', status: 'True', reason: 'Passed' }]), NOW).slice(1, 3), ['kube-system/metrics-server', 'True']);
  assert.deepEqual(apiServicePrinter.cells(remote([{ type: 'Available', status: 'False' }]), NOW)[2], 'False');
  assert.deepEqual(apiServicePrinter.cells(remote(), NOW)[2], 'Unknown');
});
