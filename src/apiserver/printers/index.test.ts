import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPrinter, formatAge, printerFor } from './index.js';
import { podPrinter } from './pods.js';
import { deploymentPrinter } from './workloads.js';
import { eventsV1Printer } from './events.js';
import { NOW, ago, meta } from './testutil.js';

const KEYS = [
  'namespaces',
  'pods',
  'nodes',
  'services',
  'endpoints',
  'configmaps',
  'secrets',
  'serviceaccounts',
  'events',
  'resourcequotas',
  'events.k8s.io/events',
  'coordination.k8s.io/leases',
  'apps/deployments',
  'apps/replicasets',
  'apps/daemonsets',
  'apps/statefulsets',
  'apps/controllerrevisions',
  'batch/jobs',
  'batch/cronjobs',
  'networking.k8s.io/ingresses',
  'networking.k8s.io/ingressclasses',
  'networking.k8s.io/networkpolicies',
  'discovery.k8s.io/endpointslices',
  'rbac.authorization.k8s.io/rolebindings',
  'rbac.authorization.k8s.io/clusterrolebindings',
];

test('printerFor finds printers by resource key', () => {
  assert.equal(printerFor('pods'), podPrinter);
  assert.equal(printerFor('apps/deployments'), deploymentPrinter);
  assert.equal(printerFor('events.k8s.io/events'), eventsV1Printer);
  for (const key of KEYS) assert.notEqual(printerFor(key), defaultPrinter, key);
});

test('kinds without an upstream printer use the default table', () => {
  for (const key of ['limitranges', 'rbac.authorization.k8s.io/roles', 'rbac.authorization.k8s.io/clusterroles', 'example.com/widgets', 'deployments']) {
    assert.equal(printerFor(key), defaultPrinter, key);
  }
  assert.deepEqual(defaultPrinter.columns, [
    { name: 'Name', type: 'string', format: 'name', description: defaultPrinter.columns[0]!.description, priority: 0 },
    { name: 'Created At', type: 'date', format: '', description: defaultPrinter.columns[1]!.description, priority: 0 },
  ]);
  assert.match(defaultPrinter.columns[0]!.description, /^Name must be unique within a namespace\./);
  assert.match(defaultPrinter.columns[1]!.description, /^CreationTimestamp is a timestamp/);
  assert.deepEqual(defaultPrinter.cells({ metadata: meta('view') }, NOW), ['view', '2024-06-01T11:55:00Z']);
  assert.deepEqual(defaultPrinter.cells({ metadata: { name: 'x', creationTimestamp: '2024-06-01T13:55:00+02:00' } }, NOW), ['x', '2024-06-01T11:55:00Z']);
  assert.deepEqual(defaultPrinter.cells({ metadata: { name: 'x' } }, NOW), ['x', '0001-01-01T00:00:00Z']);
});

test('every printer emits one cell per column, even for a bare object', () => {
  for (const key of [...KEYS, 'limitranges']) {
    const p = printerFor(key);
    assert.equal(p.columns.filter((c) => c.format === 'name').length, 1, `${key}: one name column`);
    assert.equal(p.cells({ metadata: meta('x') }, NOW).length, p.columns.length, key);
    assert.equal(p.cells({}, NOW).length, p.columns.length, `${key} (empty)`);
    for (const c of p.columns) {
      assert.ok(c.description.length > 0, `${key}/${c.name} has a description`);
      assert.ok(['string', 'integer', 'number', 'boolean', 'date'].includes(c.type), `${key}/${c.name} type`);
    }
  }
});

test('formatAge is exported', () => {
  assert.equal(formatAge(ago(5 * 3600 + 600), NOW), '5h10m');
  assert.equal(formatAge(undefined, NOW), '<unknown>');
});
