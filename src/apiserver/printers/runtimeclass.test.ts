import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podTemplatePrinter, runtimeClassPrinter } from './runtimeclass.js';
import { printerFor } from './index.js';
import { NOW, meta } from './testutil.js';

test('RuntimeClass columns and cells, as upstream', () => {
  assert.equal(printerFor('node.k8s.io/runtimeclasses'), runtimeClassPrinter);
  assert.deepEqual(runtimeClassPrinter.columns.map((c) => c.name.toUpperCase()), ['NAME', 'HANDLER', 'AGE']);
  assert.deepEqual(runtimeClassPrinter.cells({ metadata: { ...meta('gvisor'), namespace: undefined }, handler: 'runsc' }, NOW), ['gvisor', 'runsc', '5m']);
});

test('PodTemplate columns and cells, as upstream (no age)', () => {
  assert.equal(printerFor('podtemplates'), podTemplatePrinter);
  assert.deepEqual(podTemplatePrinter.columns.map((c) => c.name.toUpperCase()), ['NAME', 'CONTAINERS', 'IMAGES', 'POD LABELS']);
  const pt = { metadata: meta('web'), template: { metadata: { labels: { app: 'web', tier: 'fe' } }, spec: { containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'busybox' }] } } };
  assert.deepEqual(podTemplatePrinter.cells(pt, NOW), ['web', 'a,b', 'nginx,busybox', 'app=web,tier=fe']);
  assert.deepEqual(podTemplatePrinter.cells({ metadata: meta('empty'), template: {} }, NOW), ['empty', '', '', '<none>']);
});
