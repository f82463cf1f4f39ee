import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leaderStatus } from './componentstatus.js';
import { componentStatusPrinter } from './printers/componentstatus.js';

const now = Date.parse('2026-11-25T10:00:00Z');
const lease = (renew: string, holder = 'node-a_1234') => ({ spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime: renew } });

test('a component is healthy while its leader Lease is renewed within its duration', () => {
  assert.deepEqual(leaderStatus('scheduler', 'kube-scheduler', lease('2026-11-25T09:59:50.000000Z'), now).conditions, [{ type: 'Healthy', status: 'True', message: 'ok' }]);
  const stale = leaderStatus('scheduler', 'kube-scheduler', lease('2026-11-25T09:59:00.000000Z'), now).conditions[0];
  assert.equal(stale.status, 'False');
  assert.equal(stale.error, 'no leader: Lease kube-system/kube-scheduler last renewed 60s ago (lease duration 15s)');
  assert.equal(leaderStatus('controller-manager', 'kube-controller-manager', lease('2026-11-25T09:59:59Z', ''), now).conditions[0].status, 'False', 'released');
  assert.equal(leaderStatus('controller-manager', 'kube-controller-manager', undefined, now).conditions[0].error, 'no leader: Lease kube-system/kube-controller-manager not found');
});

test('kubectl get cs shows the Healthy condition as upstream prints it', () => {
  const cells = (conditions: object[]) => componentStatusPrinter.cells({ metadata: { name: 'x' }, conditions }, new Date(now));
  assert.deepEqual(cells([{ type: 'Healthy', status: 'True', message: 'ok' }]), ['x', 'Healthy', 'ok', '']);
  assert.deepEqual(cells([{ type: 'Healthy', status: 'False', message: '', error: 'down' }]), ['x', 'Unhealthy', '', 'down']);
  assert.deepEqual(cells([]), ['x', 'Unknown', '', '']);
});
