import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customResourcePrinter } from './crd.js';
import { evaluate, parseJsonPath } from './jsonpath.js';
import { NOW, ago, meta } from './testutil.js';

const widget = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: meta('w1', { labels: { app: 'w' } }),
  spec: { replicas: 3, ratio: 0.25, big: 1234567.5, enabled: true, size: 'large', tags: ['a', 'b'], when: ago(90) },
  status: {
    conditions: [
      { type: 'Synced', status: 'True' },
      { type: 'Ready', status: 'False', reason: 'Waiting' },
    ],
  },
};

test('without columns a CRD serves Name and Age', () => {
  const p = customResourcePrinter(undefined);
  assert.deepEqual(
    p.columns.map((c) => [c.name, c.type, c.format, c.priority]),
    [
      ['Name', 'string', 'name', 0],
      ['Age', 'date', '', 0],
    ],
  );
  assert.match(p.columns[1]!.description, /^CreationTimestamp is a timestamp/);
  assert.deepEqual(p.cells(widget, NOW), ['w1', '5m']);
  assert.deepEqual(customResourcePrinter([]).cells(widget, NOW), ['w1', '5m']);
});

test('additionalPrinterColumns cells are typed like the CRD table convertor', () => {
  const p = customResourcePrinter([
    { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
    { name: 'Ratio', type: 'number', jsonPath: '.spec.ratio' },
    { name: 'Enabled', type: 'boolean', jsonPath: '.spec.enabled' },
    { name: 'Size', type: 'string', jsonPath: '.spec.size', description: 'How big', priority: 1 },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'Reason', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].reason" },
    { name: 'Tags', type: 'string', jsonPath: '.spec.tags' },
    { name: 'Labels', type: 'string', jsonPath: '.metadata.labels' },
    { name: 'FirstTag', type: 'string', jsonPath: '.spec.tags[0]' },
    { name: 'Replicas as text', type: 'string', jsonPath: '.spec.replicas' },
    { name: 'Big', type: 'string', jsonPath: '.spec.big' },
    { name: 'When', type: 'date', jsonPath: '.spec.when' },
    { name: 'Bad date', type: 'date', jsonPath: '.spec.size' },
    { name: 'Missing', type: 'string', jsonPath: '.status.nothing' },
    { name: 'Wrong type', type: 'integer', jsonPath: '.spec.size' },
    { name: 'Broken path', type: 'string', jsonPath: '.spec[' },
  ]);
  assert.deepEqual(p.columns[4], { name: 'Size', type: 'string', format: '', description: 'How big', priority: 1 });
  assert.equal(p.columns[1]!.description, 'Custom resource definition column (in JSONPath format): .spec.replicas');
  assert.deepEqual(p.cells(widget, NOW), [
    'w1',
    3,
    0.25,
    true,
    'large',
    'False',
    'Waiting',
    '["a","b"]',
    '{"app":"w"}',
    'a',
    '3',
    '1.2345675e+06',
    '90s',
    '<invalid>',
    null,
    null,
    null,
  ]);
});

test('jsonpath subset', () => {
  const doc = { a: { 'b.c': 1, list: [{ n: 1 }, { n: 2 }, { n: 3 }] } };
  const cases: Array<[string, unknown[]]> = [
    ['.a.list[1].n', [2]],
    ['.a.list[-1].n', [3]],
    ['.a.list[*].n', [1, 2, 3]],
    ['.a.list[0:2].n', [1, 2]],
    ["['a']['b.c']", [1]],
    ['.a.list[?(@.n>1)].n', [2, 3]],
    ['.a.list[?(@.n)].n', [1, 2, 3]],
    ['..n', [1, 2, 3]],
    ['.a.missing', []],
    ['.a.list[7]', []],
  ];
  for (const [path, want] of cases) assert.deepEqual(evaluate(doc, parseJsonPath(path)), want, path);
  assert.throws(() => parseJsonPath('.a['));
});
