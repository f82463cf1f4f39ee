import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flowSchemaPrinter, priorityLevelConfigurationPrinter } from './flowcontrol.js';
import { printerFor } from './index.js';
import { NOW, meta } from './testutil.js';
import { toTable } from '../table.js';
import { findResource } from '../resources.js';

const m = (name: string) => ({ ...meta(name), namespace: undefined });

test('FlowSchema columns and cells, as upstream', () => {
  assert.equal(printerFor('flowcontrol.apiserver.k8s.io/flowschemas'), flowSchemaPrinter);
  assert.deepEqual(flowSchemaPrinter.columns.map((c) => c.name.toUpperCase()), ['NAME', 'PRIORITYLEVEL', 'MATCHINGPRECEDENCE', 'DISTINGUISHERMETHOD', 'AGE', 'MISSINGPL']);
  const fs = { metadata: m('system-leader-election'), spec: { priorityLevelConfiguration: { name: 'leader-election' }, matchingPrecedence: 100, distinguisherMethod: { type: 'ByUser' } }, status: { conditions: [{ type: 'Dangling', status: 'False' }] } };
  assert.deepEqual(flowSchemaPrinter.cells(fs, NOW), ['system-leader-election', 'leader-election', 100, 'ByUser', '5m', 'False']);
  assert.deepEqual(flowSchemaPrinter.cells({ metadata: m('exempt'), spec: { priorityLevelConfiguration: { name: 'exempt' }, matchingPrecedence: 1 } }, NOW), ['exempt', 'exempt', 1, '<none>', '5m', '?']);
});

test('PriorityLevelConfiguration columns and cells, as upstream', () => {
  assert.equal(printerFor('flowcontrol.apiserver.k8s.io/prioritylevelconfigurations'), priorityLevelConfigurationPrinter);
  assert.deepEqual(priorityLevelConfigurationPrinter.columns.map((c) => c.name.toUpperCase()), ['NAME', 'TYPE', 'NOMINALCONCURRENCYSHARES', 'QUEUES', 'HANDSIZE', 'QUEUELENGTHLIMIT', 'AGE']);
  const limited = { metadata: m('workload-low'), spec: { type: 'Limited', limited: { nominalConcurrencyShares: 100, limitResponse: { type: 'Queue', queuing: { queues: 128, handSize: 6, queueLengthLimit: 50 } } } } };
  assert.deepEqual(priorityLevelConfigurationPrinter.cells(limited, NOW), ['workload-low', 'Limited', 100, 128, 6, 50, '5m']);
  const reject = { metadata: m('catch-all'), spec: { type: 'Limited', limited: { nominalConcurrencyShares: 5, limitResponse: { type: 'Reject' } } } };
  assert.deepEqual(priorityLevelConfigurationPrinter.cells(reject, NOW), ['catch-all', 'Limited', 5, '<none>', '<none>', '<none>', '5m']);
  assert.deepEqual(priorityLevelConfigurationPrinter.cells({ metadata: m('exempt'), spec: { type: 'Exempt', exempt: {} } }, NOW), ['exempt', 'Exempt', '<none>', '<none>', '<none>', '<none>', '5m']);
});

test('lists FlowSchemas in matching order (precedence, then name), as upstream prints them', () => {
  const fs = (name: string, matchingPrecedence: number) => ({ metadata: { name }, spec: { matchingPrecedence, priorityLevelConfiguration: { name: 'x' } } });
  const info = findResource('flowcontrol.apiserver.k8s.io', 'v1', 'flowschemas')!;
  const t = toTable(info, [fs('catch-all', 10000), fs('b', 500), fs('exempt', 1), fs('a', 500)], {});
  assert.deepEqual(t.rows.map((r: any) => r.cells[0]), ['exempt', 'a', 'b', 'catch-all']);
});
