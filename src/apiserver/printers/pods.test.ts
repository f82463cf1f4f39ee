import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podPrinter } from './pods.js';
import { NOW, ago, meta } from './testutil.js';

const running = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  ready: true,
  restartCount: 0,
  state: { running: { startedAt: ago(600) } },
  ...extra,
});
const waiting = (name: string, reason: string, extra: Record<string, unknown> = {}) => ({
  name,
  ready: false,
  restartCount: 0,
  state: { waiting: { reason } },
  ...extra,
});
const terminated = (name: string, term: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  name,
  ready: false,
  restartCount: 0,
  state: { terminated: term },
  ...extra,
});
const lastTerminated = (secondsAgo: number) => ({ terminated: { exitCode: 1, finishedAt: ago(secondsAgo) } });

function pod(spec: Record<string, unknown>, status: Record<string, unknown>, metaExtra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta('p', metaExtra),
    spec: { containers: [{ name: 'app', image: 'nginx' }], ...spec },
    status,
  };
}

test('pod columns match upstream', () => {
  assert.deepEqual(
    podPrinter.columns.map((c) => [c.name, c.type, c.format, c.priority]),
    [
      ['Name', 'string', 'name', 0],
      ['Ready', 'string', '', 0],
      ['Status', 'string', '', 0],
      ['Restarts', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['IP', 'string', '', 1],
      ['Node', 'string', '', 1],
      ['Nominated Node', 'string', '', 1],
      ['Readiness Gates', 'string', '', 1],
    ],
  );
});

test('pod rows (full, wide)', () => {
  const rows: Array<[string, any, unknown[]]> = [
    [
      'running and ready',
      pod({ nodeName: 'n1' }, { phase: 'Running', podIP: '10.0.0.5', containerStatuses: [running('app')] }),
      ['p', '1/1', 'Running', '0', '5m', '10.0.0.5', 'n1', '<none>', '<none>'],
    ],
    [
      'pending, unscheduled',
      pod({ containers: [{ name: 'a' }, { name: 'b' }] }, { phase: 'Pending' }),
      ['p', '0/2', 'Pending', '0', '5m', '<none>', '<none>', '<none>', '<none>'],
    ],
    [
      'nominated node, IPv6 from podIPs, readiness gates',
      pod(
        { readinessGates: [{ conditionType: 'a' }, { conditionType: 'b' }] },
        {
          phase: 'Running',
          podIPs: [{ ip: 'fd00::1' }],
          nominatedNodeName: 'n2',
          conditions: [
            { type: 'a', status: 'True' },
            { type: 'b', status: 'False' },
          ],
          containerStatuses: [running('app')],
        },
      ),
      ['p', '1/1', 'Running', '0', '5m', 'fd00::1', '<none>', 'n2', '1/2'],
    ],
  ];
  for (const [name, p, want] of rows) assert.deepEqual(podPrinter.cells(p, NOW), want, name);
});

test('pod Ready / Status / Restarts cells', () => {
  const two = { containers: [{ name: 'a' }, { name: 'b' }] };
  const initTwo = { initContainers: [{ name: 'i1' }, { name: 'i2' }] };
  const sidecar = { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] };
  const cases: Array<[string, any, [string, string, string]]> = [
    ['container creating', pod({}, { phase: 'Pending', containerStatuses: [waiting('app', 'ContainerCreating')] }), ['0/1', 'ContainerCreating', '0']],
    [
      'crash loop with last restart',
      pod({}, { phase: 'Running', containerStatuses: [waiting('app', 'CrashLoopBackOff', { restartCount: 5, lastState: lastTerminated(310) })] }),
      ['0/1', 'CrashLoopBackOff', '5 (5m10s ago)'],
    ],
    ['restarts without a last state', pod({}, { phase: 'Running', containerStatuses: [running('app', { restartCount: 2 })] }), ['1/1', 'Running', '2']],
    [
      'first init container running',
      pod(initTwo, {
        phase: 'Pending',
        initContainerStatuses: [running('i1', { ready: false }), waiting('i2', 'PodInitializing')],
        containerStatuses: [waiting('app', 'PodInitializing')],
      }),
      ['0/1', 'Init:0/2', '0'],
    ],
    [
      'second init container running',
      pod(initTwo, {
        phase: 'Pending',
        initContainerStatuses: [terminated('i1', { exitCode: 0, reason: 'Completed' }), running('i2', { ready: false })],
        containerStatuses: [waiting('app', 'PodInitializing')],
      }),
      ['0/1', 'Init:1/2', '0'],
    ],
    [
      'init container waiting on PodInitializing shows progress',
      pod(initTwo, { phase: 'Pending', initContainerStatuses: [waiting('i1', 'PodInitializing')] }),
      ['0/1', 'Init:0/2', '0'],
    ],
    [
      'init crash loop counts init restarts',
      pod(initTwo, {
        phase: 'Pending',
        initContainerStatuses: [waiting('i1', 'CrashLoopBackOff', { restartCount: 3, lastState: lastTerminated(120) })],
        containerStatuses: [waiting('app', 'PodInitializing')],
      }),
      ['0/1', 'Init:CrashLoopBackOff', '3 (2m ago)'],
    ],
    ['init error', pod(initTwo, { phase: 'Pending', initContainerStatuses: [terminated('i1', { exitCode: 1, reason: 'Error' })] }), ['0/1', 'Init:Error', '0']],
    ['init exit code', pod(initTwo, { phase: 'Pending', initContainerStatuses: [terminated('i1', { exitCode: 2 })] }), ['0/1', 'Init:ExitCode:2', '0']],
    ['init signal', pod(initTwo, { phase: 'Pending', initContainerStatuses: [terminated('i1', { exitCode: 137, signal: 9 })] }), ['0/1', 'Init:Signal:9', '0']],
    [
      'sidecar counts towards ready and restarts',
      pod(sidecar, {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [running('proxy', { started: true, restartCount: 2, lastState: lastTerminated(3600) })],
        containerStatuses: [running('app', { restartCount: 1, lastState: lastTerminated(600) })],
      }),
      ['2/2', 'Running', '3 (10m ago)'],
    ],
    [
      'sidecar not started yet blocks initialization',
      pod(sidecar, { phase: 'Pending', initContainerStatuses: [waiting('proxy', 'ContainerCreating', { started: false })] }),
      ['0/2', 'Init:ContainerCreating', '0'],
    ],
    [
      'completed',
      pod({}, { phase: 'Succeeded', containerStatuses: [terminated('app', { exitCode: 0, reason: 'Completed' })] }),
      ['0/1', 'Completed', '0'],
    ],
    [
      'one container completed, another running and pod Ready',
      pod(two, {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [terminated('a', { exitCode: 0, reason: 'Completed' }), running('b')],
      }),
      ['1/2', 'Running', '0'],
    ],
    [
      'one container completed, another running, pod not Ready',
      pod(two, {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [terminated('a', { exitCode: 0, reason: 'Completed' }), running('b')],
      }),
      ['1/2', 'NotReady', '0'],
    ],
    ['first container state wins', pod(two, { phase: 'Running', containerStatuses: [waiting('a', 'ImagePullBackOff'), waiting('b', 'ErrImagePull')] }), ['0/2', 'ImagePullBackOff', '0']],
    ['terminated without reason', pod({}, { phase: 'Failed', containerStatuses: [terminated('app', { exitCode: 137 })] }), ['0/1', 'ExitCode:137', '0']],
    ['killed by signal', pod({}, { phase: 'Failed', containerStatuses: [terminated('app', { exitCode: 137, signal: 9 })] }), ['0/1', 'Signal:9', '0']],
    ['evicted', pod({}, { phase: 'Failed', reason: 'Evicted' }), ['0/1', 'Evicted', '0']],
    ['node lost, not deleted', pod({}, { phase: 'Running', reason: 'NodeLost', containerStatuses: [running('app')] }), ['1/1', 'NodeLost', '0']],
    [
      'scheduling gated',
      pod({}, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }),
      ['0/1', 'SchedulingGated', '0'],
    ],
    ['terminating', pod({}, { phase: 'Running', containerStatuses: [running('app')] }, { deletionTimestamp: ago(10) }), ['1/1', 'Terminating', '0']],
    [
      'deleted on an unreachable node',
      pod({}, { phase: 'Running', reason: 'NodeLost', containerStatuses: [running('app')] }, { deletionTimestamp: ago(10) }),
      ['1/1', 'Unknown', '0'],
    ],
    [
      'deleted after finishing stays Completed',
      pod({}, { phase: 'Succeeded', containerStatuses: [terminated('app', { exitCode: 0, reason: 'Completed' })] }, { deletionTimestamp: ago(10) }),
      ['0/1', 'Completed', '0'],
    ],
    [
      'deleted after failing keeps its reason',
      pod({}, { phase: 'Failed', containerStatuses: [terminated('app', { exitCode: 1, reason: 'Error' })] }, { deletionTimestamp: ago(10) }),
      ['0/1', 'Error', '0'],
    ],
  ];
  for (const [name, p, [ready, status, restarts]] of cases) {
    const cells = podPrinter.cells(p, NOW);
    assert.deepEqual(cells.slice(1, 4), [ready, status, restarts], name);
  }
});

test('pod with missing pieces does not throw', () => {
  assert.deepEqual(podPrinter.cells({ metadata: { name: 'x' } }, NOW), [
    'x',
    '0/0',
    '',
    '0',
    '<unknown>',
    '<none>',
    '<none>',
    '<none>',
    '<none>',
  ]);
});
