import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextBackoffRecord, remainingBackoff, podFinishTime } from './backoff.js';
import { formatIndexes, parseIndexes, podIndex } from './indexes.js';
import { matchPodFailurePolicy } from './failurepolicy.js';
import { rankForDeletion } from './job.js';

describe('job pod-failure backoff', () => {
  it('grows exponentially with failures since the last success, capped', () => {
    let r = nextBackoffRecord({ failuresAfterLastSuccess: 0 }, [], [1000]);
    assert.deepEqual(r, { failuresAfterLastSuccess: 1, lastFailureTime: 1000 });
    assert.equal(remainingBackoff(r, 1000), 10_000);
    assert.equal(remainingBackoff(r, 5000), 6_000);
    assert.equal(remainingBackoff(r, 11_000), 0);
    r = nextBackoffRecord(r, [], [2000, 3000]);
    assert.equal(r.failuresAfterLastSuccess, 3);
    assert.equal(remainingBackoff(r, 3000), 40_000);
    r = { failuresAfterLastSuccess: 20, lastFailureTime: 0 };
    assert.equal(remainingBackoff(r, 0), 360_000);
    assert.equal(remainingBackoff(r, 0, 100, 1000), 1000);
  });

  it('a success resets; failures after it still count', () => {
    const r = { failuresAfterLastSuccess: 4, lastFailureTime: 500 };
    assert.deepEqual(nextBackoffRecord(r, [1000], []), { failuresAfterLastSuccess: 0 });
    assert.deepEqual(nextBackoffRecord(r, [1000], [900, 1200]), { failuresAfterLastSuccess: 1, lastFailureTime: 1200 });
    assert.equal(remainingBackoff({ failuresAfterLastSuccess: 0 }, 0), 0);
  });

  it('finish time from container termination', () => {
    const p = { metadata: {}, status: { containerStatuses: [{ state: { terminated: { finishedAt: '2024-01-01T00:00:05Z' } } }, { state: { terminated: { finishedAt: '2024-01-01T00:00:07Z' } } }] } };
    assert.equal(podFinishTime(p, 0), Date.parse('2024-01-01T00:00:07Z'));
    assert.equal(podFinishTime({ metadata: {} }, 42), 42);
  });
});

describe('indexed jobs', () => {
  it('parses and formats completed indexes', () => {
    assert.deepEqual([...parseIndexes('1,3-5,9', 6)].sort(), [1, 3, 4, 5]);
    assert.equal(formatIndexes([5, 1, 3, 4, 0]), '0-1,3-5');
    assert.equal(formatIndexes([]), '');
    assert.equal(podIndex({ metadata: { annotations: { 'batch.kubernetes.io/job-completion-index': '3' } } }), 3);
    assert.equal(podIndex({ metadata: { annotations: { 'batch.kubernetes.io/job-completion-index': '03' } } }), undefined);
  });
});

describe('pod failure policy', () => {
  const pod = (code: number, conds: any[] = []) => ({
    metadata: { namespace: 'ns', name: 'p' },
    status: { phase: 'Failed', conditions: conds, containerStatuses: [{ name: 'main', state: { terminated: { exitCode: code } } }] },
  });
  const policy = {
    rules: [
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
      { action: 'Count', onExitCodes: { operator: 'NotIn', values: [1] } },
    ],
  };
  it('first matching rule wins, with upstream messages', () => {
    assert.deepEqual(matchPodFailurePolicy(policy, pod(42)), { action: 'FailJob', message: 'Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1' });
    assert.equal(matchPodFailurePolicy(policy, pod(42, [{ type: 'DisruptionTarget', status: 'True' }]))?.action, 'Ignore');
    assert.equal(matchPodFailurePolicy(policy, pod(7))?.action, 'Count');
    assert.equal(matchPodFailurePolicy(policy, pod(1)), undefined);
  });
});

describe('deletion ranking', () => {
  it('prefers unscheduled, pending, not ready, newer pods', () => {
    const mk = (name: string, node: string | undefined, phase: string, ready: boolean, created: string) => ({
      metadata: { name, creationTimestamp: created },
      spec: { nodeName: node },
      status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    });
    const ps = [mk('ready-old', 'n', 'Running', true, '2024-01-01T00:00:00Z'), mk('ready-new', 'n', 'Running', true, '2024-01-02T00:00:00Z'), mk('unsched', undefined, 'Pending', false, '2024-01-01T00:00:00Z'), mk('notready', 'n', 'Running', false, '2024-01-01T00:00:00Z')];
    assert.deepEqual(rankForDeletion(ps).map((p) => p.metadata.name), ['unsched', 'notready', 'ready-new', 'ready-old']);
  });
});
