import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  controllerRevisionPrinter,
  daemonSetPrinter,
  deploymentPrinter,
  replicaSetPrinter,
  statefulSetPrinter,
} from './workloads.js';
import { NOW, meta } from './testutil.js';

const template = {
  metadata: { labels: { app: 'web' } },
  spec: {
    containers: [
      { name: 'web', image: 'nginx:1.25' },
      { name: 'sidecar', image: 'busybox' },
    ],
  },
};

test('deployment columns', () => {
  assert.deepEqual(
    deploymentPrinter.columns.map((c) => [c.name, c.type, c.priority]),
    [
      ['Name', 'string', 0],
      ['Ready', 'string', 0],
      ['Up-to-date', 'string', 0],
      ['Available', 'string', 0],
      ['Age', 'string', 0],
      ['Containers', 'string', 1],
      ['Images', 'string', 1],
      ['Selector', 'string', 1],
    ],
  );
});

test('deployment rows', () => {
  const d = (spec: Record<string, unknown>, status?: Record<string, unknown>) => ({
    metadata: meta('web'),
    spec: { template, ...spec },
    status,
  });
  const cases: Array<[string, any, unknown[]]> = [
    [
      'partially ready',
      d({ replicas: 3, selector: { matchLabels: { app: 'web' } } }, { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2 }),
      ['web', '2/3', 3, 2, '5m', 'web,sidecar', 'nginx:1.25,busybox', 'app=web'],
    ],
    [
      'no status yet',
      d({ replicas: 3, selector: { matchLabels: { app: 'web' } } }),
      ['web', '0/3', 0, 0, '5m', 'web,sidecar', 'nginx:1.25,busybox', 'app=web'],
    ],
    [
      'scaled to zero, set-based selector',
      d(
        {
          replicas: 0,
          selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe', 'be'] }] },
        },
        {},
      ),
      ['web', '0/0', 0, 0, '5m', 'web,sidecar', 'nginx:1.25,busybox', 'app=web,tier in (be,fe)'],
    ],
    ['invalid selector', d({ replicas: 1, selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } }), ['web', '0/1', 0, 0, '5m', 'web,sidecar', 'nginx:1.25,busybox', '<invalid>']],
    ['empty selector prints empty', d({ replicas: 1, selector: {} }), ['web', '0/1', 0, 0, '5m', 'web,sidecar', 'nginx:1.25,busybox', '']],
  ];
  for (const [name, obj, want] of cases) assert.deepEqual(deploymentPrinter.cells(obj, NOW), want, name);
});

test('replicaset rows', () => {
  const rs = {
    metadata: meta('web-5d4f8c7b9'),
    spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d4f8c7b9' } }, template },
    status: { replicas: 3, readyReplicas: 1 },
  };
  assert.deepEqual(replicaSetPrinter.cells(rs, NOW), [
    'web-5d4f8c7b9',
    3,
    3,
    1,
    '5m',
    'web,sidecar',
    'nginx:1.25,busybox',
    'app=web,pod-template-hash=5d4f8c7b9',
  ]);
  assert.deepEqual(replicaSetPrinter.cells({ metadata: meta('x'), spec: { replicas: 0, selector: {} } }, NOW), ['x', 0, 0, 0, '5m', '', '', '<none>']);
  assert.deepEqual(
    replicaSetPrinter.columns.map((c) => [c.name, c.type]),
    [
      ['Name', 'string'],
      ['Desired', 'integer'],
      ['Current', 'integer'],
      ['Ready', 'integer'],
      ['Age', 'string'],
      ['Containers', 'string'],
      ['Images', 'string'],
      ['Selector', 'string'],
    ],
  );
});

test('daemonset rows', () => {
  const ds = (nodeSelector?: Record<string, string>) => ({
    metadata: meta('agent'),
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { spec: { nodeSelector, containers: [{ name: 'agent', image: 'agent:1' }] } },
    },
    status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 1, numberAvailable: 2 },
  });
  assert.deepEqual(daemonSetPrinter.cells(ds({ 'kubernetes.io/os': 'linux' }), NOW), [
    'agent',
    3,
    3,
    2,
    1,
    2,
    'kubernetes.io/os=linux',
    '5m',
    'agent',
    'agent:1',
    'app=agent',
  ]);
  assert.equal(daemonSetPrinter.cells(ds(), NOW)[6], '<none>');
  assert.deepEqual(
    daemonSetPrinter.columns.map((c) => c.name),
    ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers', 'Images', 'Selector'],
  );
});

test('statefulset rows', () => {
  const ss = { metadata: meta('db'), spec: { replicas: 3, template }, status: { replicas: 2, readyReplicas: 1 } };
  assert.deepEqual(statefulSetPrinter.cells(ss, NOW), ['db', '1/3', '5m', 'web,sidecar', 'nginx:1.25,busybox']);
  assert.deepEqual(
    statefulSetPrinter.columns.map((c) => [c.name, c.priority]),
    [
      ['Name', 0],
      ['Ready', 0],
      ['Age', 0],
      ['Containers', 1],
      ['Images', 1],
    ],
  );
});

test('controllerrevision rows', () => {
  const cr = (ownerReferences?: unknown[]) => ({ metadata: meta('db-7f9c', { ownerReferences }), revision: 2 });
  const cases: Array<[string, any, string]> = [
    ['apps owner', cr([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u', controller: true }]), 'statefulset.apps/db'],
    ['core owner', cr([{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u', controller: true }]), 'pod/p'],
    ['non-controller owner', cr([{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ds', uid: 'u' }]), '<none>'],
    ['no owner', cr(), '<none>'],
  ];
  for (const [name, obj, want] of cases) assert.deepEqual(controllerRevisionPrinter.cells(obj, NOW), ['db-7f9c', want, 2, '5m'], name);
  assert.throws(() => controllerRevisionPrinter.cells(cr([{ apiVersion: 'a/b/c', kind: 'X', name: 'x', controller: true }]), NOW));
});
