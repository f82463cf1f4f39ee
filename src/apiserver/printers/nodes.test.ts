import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodePrinter } from './nodes.js';
import { NOW, meta } from './testutil.js';

const nodeInfo = {
  kubeletVersion: 'v1.32.0',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  kernelVersion: '6.1.0-18-amd64',
  containerRuntimeVersion: 'containerd://1.7.13',
};

function node(opts: { labels?: Record<string, string>; conditions?: unknown[]; unschedulable?: boolean; addresses?: unknown[]; info?: unknown }) {
  return {
    metadata: { ...meta('n1'), namespace: undefined, labels: opts.labels },
    spec: opts.unschedulable === undefined ? {} : { unschedulable: opts.unschedulable },
    status: { conditions: opts.conditions, addresses: opts.addresses, nodeInfo: opts.info },
  };
}
const ready = (status: string) => [
  { type: 'MemoryPressure', status: 'False' },
  { type: 'Ready', status },
];

test('node columns', () => {
  assert.deepEqual(
    nodePrinter.columns.map((c) => [c.name, c.priority]),
    [
      ['Name', 0],
      ['Status', 0],
      ['Roles', 0],
      ['Age', 0],
      ['Version', 0],
      ['Internal-IP', 1],
      ['External-IP', 1],
      ['OS-Image', 1],
      ['Kernel-Version', 1],
      ['Container-Runtime', 1],
    ],
  );
});

test('node rows', () => {
  assert.deepEqual(
    nodePrinter.cells(
      node({
        labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': 'n1' },
        conditions: ready('True'),
        addresses: [
          { type: 'Hostname', address: 'n1' },
          { type: 'InternalIP', address: '10.0.0.11' },
          { type: 'InternalIP', address: '10.0.0.12' },
        ],
        info: nodeInfo,
      }),
      NOW,
    ),
    ['n1', 'Ready', 'control-plane', '5m', 'v1.32.0', '10.0.0.11', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0-18-amd64', 'containerd://1.7.13'],
  );
  assert.deepEqual(nodePrinter.cells(node({}), NOW), ['n1', 'Unknown', '<none>', '5m', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
});

test('node status and roles', () => {
  const cases: Array<[string, any, string, string]> = [
    ['cordoned', node({ conditions: ready('True'), unschedulable: true }), 'Ready,SchedulingDisabled', '<none>'],
    ['not ready', node({ conditions: ready('False') }), 'NotReady', '<none>'],
    ['unknown ready', node({ conditions: ready('Unknown') }), 'NotReady', '<none>'],
    ['no conditions, cordoned', node({ unschedulable: true }), 'Unknown,SchedulingDisabled', '<none>'],
    [
      'several roles, sorted and de-duplicated',
      node({
        conditions: ready('True'),
        labels: { 'node-role.kubernetes.io/worker': 'true', 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'worker', 'node-role.kubernetes.io/': 'x' },
      }),
      'Ready',
      'control-plane,worker',
    ],
    ['legacy role label', node({ conditions: ready('True'), labels: { 'kubernetes.io/role': 'master' } }), 'Ready', 'master'],
  ];
  for (const [name, n, status, roles] of cases) assert.deepEqual(nodePrinter.cells(n, NOW).slice(1, 3), [status, roles], name);
});

test('node external IP', () => {
  const n = node({ conditions: ready('True'), addresses: [{ type: 'ExternalIP', address: '203.0.113.5' }] });
  assert.deepEqual(nodePrinter.cells(n, NOW).slice(5, 7), ['<none>', '203.0.113.5']);
});
