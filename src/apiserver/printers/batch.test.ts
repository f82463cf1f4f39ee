import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cronJobPrinter, jobPrinter } from './batch.js';
import { NOW, ago, meta } from './testutil.js';

const podTemplate = { spec: { containers: [{ name: 'pi', image: 'perl:5.34' }], restartPolicy: 'Never' } };
const selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': 'abc' } };

function job(spec: Record<string, unknown>, status: Record<string, unknown> = {}, metaExtra: Record<string, unknown> = {}) {
  return { metadata: meta('pi', metaExtra), spec: { template: podTemplate, selector, ...spec }, status };
}
const cond = (type: string, status = 'True') => ({ type, status });

test('job columns', () => {
  assert.deepEqual(
    jobPrinter.columns.map((c) => [c.name, c.priority]),
    [
      ['Name', 0],
      ['Status', 0],
      ['Completions', 0],
      ['Duration', 0],
      ['Age', 0],
      ['Containers', 1],
      ['Images', 1],
      ['Selector', 1],
    ],
  );
});

test('job rows', () => {
  assert.deepEqual(
    jobPrinter.cells(job({ completions: 1, parallelism: 1 }, { succeeded: 1, startTime: ago(600), completionTime: ago(570), conditions: [cond('Complete')] }), NOW),
    ['pi', 'Complete', '1/1', '30s', '5m', 'pi', 'perl:5.34', 'batch.kubernetes.io/controller-uid=abc'],
  );
  const cases: Array<[string, any, [string, string, string]]> = [
    ['running, work queue with parallelism', job({ parallelism: 3 }, { startTime: ago(65), active: 3 }), ['Running', '0/1 of 3', '65s']],
    ['work queue, single pod', job({ parallelism: 1 }, { succeeded: 1, startTime: ago(65) }), ['Running', '1/1', '65s']],
    ['not started', job({ completions: 5 }), ['Running', '0/5', '']],
    ['failed', job({ completions: 2 }, { failed: 6, startTime: ago(7200), conditions: [cond('FailureTarget'), cond('Failed')] }), ['Failed', '0/2', '120m']],
    ['failure target only', job({ completions: 2 }, { conditions: [cond('FailureTarget')] }), ['FailureTarget', '0/2', '']],
    ['suspended', job({ completions: 2, suspend: true }, { conditions: [cond('Suspended')] }), ['Suspended', '0/2', '']],
    ['condition not true', job({ completions: 2 }, { conditions: [cond('Complete', 'False')] }), ['Running', '0/2', '']],
    ['terminating', job({ completions: 1 }, {}, { deletionTimestamp: ago(1) }), ['Terminating', '0/1', '']],
    ['complete beats terminating', job({ completions: 1 }, { succeeded: 1, conditions: [cond('Complete')] }, { deletionTimestamp: ago(1) }), ['Complete', '1/1', '']],
  ];
  for (const [name, j, want] of cases) assert.deepEqual(jobPrinter.cells(j, NOW).slice(1, 4), want, name);
});

test('cronjob rows', () => {
  const cj = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => ({
    metadata: meta('backup'),
    spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: podTemplate } }, ...spec },
    status,
  });
  assert.deepEqual(
    cronJobPrinter.cells(cj({ suspend: false }, { active: [{ name: 'backup-1' }], lastScheduleTime: ago(180) }), NOW),
    ['backup', '*/5 * * * *', '<none>', 'False', 1, '3m', '5m', 'pi', 'perl:5.34', '<none>'],
  );
  assert.deepEqual(
    cronJobPrinter.cells(cj({ timeZone: 'Etc/UTC', suspend: true }), NOW).slice(1, 6),
    ['*/5 * * * *', 'Etc/UTC', 'True', 0, '<none>'],
  );
  assert.equal(cronJobPrinter.cells(cj({}), NOW)[3], '<unset>');
  assert.deepEqual(
    cronJobPrinter.columns.map((c) => [c.name, c.type]),
    [
      ['Name', 'string'],
      ['Schedule', 'string'],
      ['Timezone', 'string'],
      ['Suspend', 'boolean'],
      ['Active', 'integer'],
      ['Last Schedule', 'string'],
      ['Age', 'string'],
      ['Containers', 'string'],
      ['Images', 'string'],
      ['Selector', 'string'],
    ],
  );
});
