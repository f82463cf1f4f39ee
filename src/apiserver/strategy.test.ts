import { test } from 'node:test';
import assert from 'node:assert/strict';
import { persistentVolumeStrategy } from './strategy.js';

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
