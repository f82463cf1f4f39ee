import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUTOMANAGED_LABEL, defaultAPIService, isAvailable, localAPIService, localAvailableCondition, sameCondition, serviceRefOf, withCondition } from './apiservice.js';

test('withCondition keeps the transition time while the status holds, and replaces the condition of its type', () => {
  const old = { conditions: [{ type: 'Other', status: 'True' }, { type: 'Available', status: 'False', reason: 'MissingEndpoints', lastTransitionTime: '2024-01-01T00:00:00Z' }] };
  const same = withCondition(old, { type: 'Available', status: 'False', reason: 'FailedDiscoveryCheck', message: 'x', lastTransitionTime: '2024-06-01T00:00:00Z' });
  assert.equal(same.conditions.length, 2);
  assert.deepEqual(same.conditions[1], { type: 'Available', status: 'False', reason: 'FailedDiscoveryCheck', message: 'x', lastTransitionTime: '2024-01-01T00:00:00Z' });
  const flipped = withCondition(old, { type: 'Available', status: 'True', reason: 'Passed', lastTransitionTime: '2024-06-01T00:00:00Z' });
  assert.equal(flipped.conditions[1].lastTransitionTime, '2024-06-01T00:00:00Z');
  assert.equal(old.conditions[1]!.reason, 'MissingEndpoints', 'the input is not changed');
  assert.ok(isAvailable({ status: flipped }));
  assert.ok(sameCondition(localAvailableCondition(new Date(0)), localAvailableCondition()));
  assert.ok(!sameCondition(undefined, localAvailableCondition()));
});

test('local APIServices carry upstream priorities and the automanaged label', () => {
  assert.deepEqual(localAPIService('', 'v1', 'onstart'), {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: 'v1.', labels: { [AUTOMANAGED_LABEL]: 'onstart' } },
    spec: { group: '', version: 'v1', groupPriorityMinimum: 18000, versionPriority: 1 },
  });
  assert.deepEqual(localAPIService('autoscaling', 'v2', 'onstart').spec, { group: 'autoscaling', version: 'v2', groupPriorityMinimum: 17500, versionPriority: 30 });
  // CRD groups get what upstream's CRD registration gives them.
  const crd = localAPIService('stable.example.com', 'v1', 'true');
  assert.deepEqual([crd.metadata.name, crd.spec.groupPriorityMinimum, crd.spec.versionPriority, crd.metadata.labels[AUTOMANAGED_LABEL]], ['v1.stable.example.com', 1000, 100, 'true']);
});

test('the service port defaults to 443', () => {
  const o: any = { spec: { service: { namespace: 'ns', name: 's' } } };
  defaultAPIService(o);
  assert.equal(o.spec.service.port, 443);
  assert.deepEqual(serviceRefOf({ spec: { service: { namespace: 'ns', name: 's', port: 8443 } } }), { namespace: 'ns', name: 's', port: 8443 });
  assert.equal(serviceRefOf({ spec: { service: null } }), undefined);
  assert.equal(serviceRefOf({}), undefined);
});
