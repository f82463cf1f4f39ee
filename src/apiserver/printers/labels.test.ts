import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLabelSelector, formatLabels, labelSelectorString } from './labels.js';

test('formatLabels sorts keys and shows <none> when empty', () => {
  assert.equal(formatLabels({ b: '2', a: '1' }), 'a=1,b=2');
  assert.equal(formatLabels({}), '<none>');
  assert.equal(formatLabels(undefined), '<none>');
});

test('label selectors print like LabelSelectorAsSelector().String()', () => {
  const cases: Array<[unknown, string]> = [
    [undefined, ''],
    [{}, ''],
    [{ matchLabels: { app: 'web', tier: 'fe' } }, 'app=web,tier=fe'],
    [
      {
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'env', operator: 'NotIn', values: ['prod', 'dev'] },
          { key: 'zone', operator: 'Exists' },
          { key: 'canary', operator: 'DoesNotExist' },
          { key: 'tier', operator: 'In', values: ['b', 'a'] },
        ],
      },
      'app=web,!canary,env notin (dev,prod),tier in (a,b),zone',
    ],
  ];
  for (const [sel, want] of cases) assert.equal(labelSelectorString(sel), want);
});

test('formatLabelSelector shows <none> and <error>', () => {
  assert.equal(formatLabelSelector({}), '<none>');
  assert.equal(formatLabelSelector(undefined), '<none>');
  assert.equal(formatLabelSelector({ matchLabels: { a: 'b' } }), 'a=b');
  assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }), '<error>');
  assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), '<error>');
});
