import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventPrinter, eventsV1Printer } from './events.js';
import { NOW, ago, meta } from './testutil.js';

test('event columns', () => {
  assert.deepEqual(
    eventPrinter.columns.map((c) => [c.name, c.format, c.priority]),
    [
      ['Last Seen', '', 0],
      ['Type', '', 0],
      ['Reason', '', 0],
      ['Object', '', 0],
      ['Subobject', '', 1],
      ['Source', '', 1],
      ['Message', '', 0],
      ['First Seen', '', 1],
      ['Count', '', 1],
      ['Name', 'name', 1],
    ],
  );
  assert.deepEqual(eventsV1Printer.columns, eventPrinter.columns);
});

test('core/v1 event rows', () => {
  const cases: Array<[string, any, unknown[]]> = [
    [
      'old-style event with count',
      {
        metadata: meta('web-1.17a'),
        involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-1', fieldPath: 'spec.containers{web}' },
        reason: 'BackOff',
        message: 'Back-off restarting failed container web in pod web-1\n',
        source: { component: 'kubelet', host: 'node1' },
        firstTimestamp: ago(600),
        lastTimestamp: ago(120),
        count: 3,
        type: 'Warning',
      },
      ['2m', 'Warning', 'BackOff', 'pod/web-1', 'spec.containers{web}', 'kubelet, node1', 'Back-off restarting failed container web in pod web-1', '10m', 3, 'web-1.17a'],
    ],
    [
      'new-style singleton event',
      {
        metadata: meta('web-1.17b'),
        involvedObject: { kind: 'Pod', name: 'web-1' },
        reason: 'Scheduled',
        message: 'Successfully assigned default/web-1 to node1',
        source: {},
        eventTime: '2024-06-01T11:59:30.000000Z',
        reportingComponent: 'default-scheduler',
        reportingInstance: 'default-scheduler-node1',
        type: 'Normal',
      },
      ['30s', 'Normal', 'Scheduled', 'pod/web-1', '', 'default-scheduler, default-scheduler-node1', 'Successfully assigned default/web-1 to node1', '30s', 1, 'web-1.17b'],
    ],
    [
      'series',
      {
        metadata: meta('x'),
        involvedObject: { kind: 'Node' },
        reason: 'Rebooted',
        message: 'm',
        eventTime: ago(900),
        series: { count: 5, lastObservedTime: ago(60) },
        reportingComponent: 'kubelet',
        type: 'Warning',
      },
      ['60s', 'Warning', 'Rebooted', 'node', '', 'kubelet', 'm', '15m', 5, 'x'],
    ],
    [
      'no timestamps at all',
      { metadata: meta('y'), involvedObject: {}, reason: 'R', message: '', type: 'Normal' },
      ['<unknown>', 'Normal', 'R', '', '', '', '', '<unknown>', 1, 'y'],
    ],
  ];
  for (const [name, e, want] of cases) assert.deepEqual(eventPrinter.cells(e, NOW), want, name);
});

test('events.k8s.io/v1 rows map onto the same cells', () => {
  const e = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: meta('web-1.17c'),
    eventTime: '2024-06-01T11:58:00.000000Z',
    reportingController: 'kubelet',
    reportingInstance: 'node1',
    action: 'Pulling',
    reason: 'Pulling',
    regarding: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{web}' },
    note: 'Pulling image "nginx"',
    type: 'Normal',
  };
  assert.deepEqual(eventsV1Printer.cells(e, NOW), [
    '2m',
    'Normal',
    'Pulling',
    'pod/web-1',
    'spec.containers{web}',
    'kubelet, node1',
    'Pulling image "nginx"',
    '2m',
    1,
    'web-1.17c',
  ]);
  const legacy = {
    metadata: meta('old'),
    regarding: { kind: 'Deployment', name: 'web' },
    note: 'Scaled up',
    reason: 'ScalingReplicaSet',
    type: 'Normal',
    deprecatedSource: { component: 'deployment-controller' },
    deprecatedFirstTimestamp: ago(3600),
    deprecatedLastTimestamp: ago(60),
    deprecatedCount: 4,
  };
  assert.deepEqual(eventsV1Printer.cells(legacy, NOW), ['60s', 'Normal', 'ScalingReplicaSet', 'deployment/web', '', 'deployment-controller', 'Scaled up', '60m', 4, 'old']);
});
