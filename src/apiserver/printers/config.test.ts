import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configMapPrinter, secretPrinter, serviceAccountPrinter } from './config.js';
import { leasePrinter } from './leases.js';
import { namespacePrinter } from './namespaces.js';
import { resourceQuotaPrinter } from './quota.js';
import { NOW, meta } from './testutil.js';

test('configmap, secret and serviceaccount rows', () => {
  assert.deepEqual(configMapPrinter.cells({ metadata: meta('cfg'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }, NOW), ['cfg', 3, '5m']);
  assert.deepEqual(configMapPrinter.cells({ metadata: meta('empty') }, NOW), ['empty', 0, '5m']);
  assert.deepEqual(secretPrinter.cells({ metadata: meta('s'), type: 'Opaque', data: { password: 'cGFzcw==' } }, NOW), ['s', 'Opaque', 1, '5m']);
  assert.deepEqual(
    secretPrinter.cells({ metadata: meta('tls'), type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } }, NOW),
    ['tls', 'kubernetes.io/tls', 2, '5m'],
  );
  assert.deepEqual(serviceAccountPrinter.cells({ metadata: meta('default') }, NOW), ['default', 0, '5m']);
  assert.deepEqual(serviceAccountPrinter.cells({ metadata: meta('builder'), secrets: [{ name: 'a' }] }, NOW), ['builder', 1, '5m']);
  assert.deepEqual(secretPrinter.columns.map((c) => c.name), ['Name', 'Type', 'Data', 'Age']);
});

test('namespace and lease rows', () => {
  assert.deepEqual(namespacePrinter.cells({ metadata: meta('kube-system'), status: { phase: 'Active' } }, NOW), ['kube-system', 'Active', '5m']);
  assert.deepEqual(
    namespacePrinter.cells({ metadata: meta('old', { deletionTimestamp: '2024-06-01T11:59:00Z' }), status: { phase: 'Terminating' } }, NOW),
    ['old', 'Terminating', '5m'],
  );
  assert.deepEqual(leasePrinter.cells({ metadata: meta('node1'), spec: { holderIdentity: 'node1', leaseDurationSeconds: 40 } }, NOW), ['node1', 'node1', '5m']);
  assert.deepEqual(leasePrinter.cells({ metadata: meta('free'), spec: {} }, NOW), ['free', '', '5m']);
});

test('resourcequota rows split requests and limits', () => {
  const rq = {
    metadata: meta('compute'),
    spec: {},
    status: {
      hard: {
        pods: '10',
        'requests.cpu': '1',
        'requests.memory': '1Gi',
        'limits.cpu': '2',
        'limits.memory': '2Gi',
        'count/configmaps': '5',
      },
      used: { pods: '2', 'requests.cpu': '500m', 'requests.memory': '512Mi', 'limits.cpu': '1000m' },
    },
  };
  assert.deepEqual(resourceQuotaPrinter.cells(rq, NOW), [
    'compute',
    'count/configmaps: 0/5, pods: 2/10, requests.cpu: 500m/1, requests.memory: 512Mi/1Gi',
    'limits.cpu: 1/2, limits.memory: 0/2Gi',
    '5m',
  ]);
  assert.deepEqual(resourceQuotaPrinter.cells({ metadata: meta('new'), spec: { hard: { pods: '1' } } }, NOW), ['new', '', '', '5m']);
  assert.deepEqual(resourceQuotaPrinter.columns.map((c) => c.name), ['Name', 'Request', 'Limit', 'Age']);
});
