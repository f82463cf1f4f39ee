import { test } from 'node:test';
import assert from 'node:assert/strict';
import { persistentVolumeStrategy, strategyFor } from './strategy.js';
import { findResource } from './resources.js';

const T0 = '2020-01-01T00:00:00Z';
const old = () => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name: 'pv1', labels: { a: 'b' } },
  spec: { capacity: { storage: '1Gi' } },
  status: { phase: 'Available', lastPhaseTransitionTime: T0 },
});

test('a new persistent volume starts Pending with a transition time', () => {
  const pv: any = { metadata: { name: 'pv1' }, spec: {}, status: { phase: 'Bound' } };
  persistentVolumeStrategy.prepareForCreate!(pv);
  assert.equal(pv.status.phase, 'Pending');
  assert.match(pv.status.lastPhaseTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test('a persistent volume status write changes status only and stamps phase changes', () => {
  const written: any = { ...old(), metadata: { name: 'pv1', labels: { a: 'c' } }, spec: { capacity: { storage: '9Gi' } }, status: { phase: 'Bound', lastPhaseTransitionTime: T0 } };
  persistentVolumeStrategy.prepareForStatusUpdate!(written, old());
  assert.deepEqual(written.metadata.labels, { a: 'b' });
  assert.deepEqual(written.spec, { capacity: { storage: '1Gi' } });
  assert.equal(written.status.phase, 'Bound');
  assert.notEqual(written.status.lastPhaseTransitionTime, T0);

  const same: any = { ...old(), status: { phase: 'Available', lastPhaseTransitionTime: T0, message: 'x' } };
  persistentVolumeStrategy.prepareForStatusUpdate!(same, old());
  assert.equal(same.status.lastPhaseTransitionTime, T0);

  const ownTime: any = { ...old(), status: { phase: 'Released', lastPhaseTransitionTime: '2021-01-01T00:00:00Z' } };
  persistentVolumeStrategy.prepareForStatusUpdate!(ownTime, old());
  assert.equal(ownTime.status.lastPhaseTransitionTime, '2021-01-01T00:00:00Z');
});

test('APIService strategy: a local one is Available at once, a service-backed one starts without status and port 443', () => {
  const s = strategyFor(findResource('apiregistration.k8s.io', 'v1', 'apiservices')!);
  const local: any = { metadata: { name: 'v1.apps' }, spec: { group: 'apps', version: 'v1' }, status: { conditions: [{ type: 'Available', status: 'False' }] } };
  s.prepareForCreate!(local);
  assert.deepEqual(local.status.conditions.map((c: any) => [c.type, c.status, c.reason, c.message]), [['Available', 'True', 'Local', 'Local APIServices are always available']]);
  const remote: any = { metadata: { name: 'v1beta1.metrics.k8s.io' }, spec: { service: { namespace: 'kube-system', name: 'metrics-server' } }, status: { conditions: [{ type: 'Available', status: 'True' }] } };
  s.prepareForCreate!(remote);
  assert.deepEqual(remote.status, {});
  assert.equal(remote.spec.service.port, 443);
});

test('CSIDriver, FlowSchema and PriorityLevelConfiguration strategies apply v1 defaults on create and update', () => {
  const csi = strategyFor(findResource('storage.k8s.io', 'v1', 'csidrivers')!);
  const d: any = { metadata: { name: 'd' }, spec: { podInfoOnMount: true } };
  csi.prepareForUpdate!(d, d);
  assert.deepEqual([d.spec.attachRequired, d.spec.podInfoOnMount, d.spec.volumeLifecycleModes], [true, true, ['Persistent']]);
  const fs = strategyFor(findResource('flowcontrol.apiserver.k8s.io', 'v1', 'flowschemas')!);
  const f: any = { metadata: { name: 'f' }, spec: { priorityLevelConfiguration: { name: 'p' } }, status: { conditions: [] } };
  fs.prepareForCreate!(f);
  assert.deepEqual([f.spec.matchingPrecedence, f.status], [1000, {}]);
});
