import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateObject, validateObjectUpdate } from './index.js';
import { applyDefaults } from '../defaults/index.js';

const clone = (o: any) => JSON.parse(JSON.stringify(o));

function errors(key: string, obj: any, namespaced: boolean): string[] {
  applyDefaults(key, obj);
  return validateObject(key, obj, { namespaced }).map((e) => `${e.field}: ${e.message}`);
}

function updateErrors(key: string, obj: any, old: any, namespaced: boolean): string[] {
  applyDefaults(key, old);
  applyDefaults(key, obj);
  return validateObjectUpdate(key, obj, old, { namespaced }).map((e) => `${e.field}: ${e.message}`);
}

const PV = { metadata: { name: 'pv1' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } } };
const PVC = { metadata: { name: 'c', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
const SC = { metadata: { name: 'fast' }, provisioner: 'example.com/fast' };

test('defaults as upstream', () => {
  const pv = clone(PV);
  applyDefaults('persistentvolumes', pv);
  assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
  assert.equal(pv.spec.volumeMode, 'Filesystem');
  assert.equal(pv.status.phase, 'Pending');
  const pvc = clone(PVC);
  applyDefaults('persistentvolumeclaims', pvc);
  assert.equal(pvc.spec.volumeMode, 'Filesystem');
  assert.equal(pvc.status.phase, 'Pending');
  const sc = clone(SC);
  applyDefaults('storage.k8s.io/storageclasses', sc);
  assert.equal(sc.reclaimPolicy, 'Delete');
  assert.equal(sc.volumeBindingMode, 'Immediate');
});

test('persistent volumes', () => {
  assert.deepEqual(errors('persistentvolumes', clone(PV), false), []);
  assert.deepEqual(errors('persistentvolumes', { metadata: { name: 'pv1' }, spec: {} }, false), [
    'spec.accessModes: Required value',
    'spec.capacity: Required value',
    'spec.capacity: Unsupported value: core.ResourceList(nil): supported values: "storage"',
    'spec: Required value: must specify a volume type',
  ]);
  const two = clone(PV);
  two.spec.nfs = { server: 'nfs', path: '/x' };
  assert.deepEqual(errors('persistentvolumes', two, false), ['spec.nfs: Forbidden: may not specify more than 1 volume type']);
  const local = clone(PV);
  delete local.spec.hostPath;
  local.spec.local = { path: '/mnt' };
  assert.deepEqual(errors('persistentvolumes', local, false), ['spec.nodeAffinity: Required value: Local volume requires node affinity']);
  const bad = clone(PV);
  bad.spec.persistentVolumeReclaimPolicy = 'Keep';
  assert.deepEqual(errors('persistentvolumes', bad, false), [
    'spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"',
  ]);
  const moved = clone(PV);
  moved.spec.hostPath.path = '/other';
  assert.deepEqual(updateErrors('persistentvolumes', moved, clone(PV), false), [
    'spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation\n',
  ]);
  const claimed = clone(PV);
  claimed.spec.claimRef = { namespace: 'default', name: 'c' };
  assert.deepEqual(updateErrors('persistentvolumes', claimed, clone(PV), false), []);
});

test('persistent volume claims', () => {
  assert.deepEqual(errors('persistentvolumeclaims', clone(PVC), true), []);
  assert.deepEqual(errors('persistentvolumeclaims', { metadata: PVC.metadata, spec: {} }, true), [
    'spec.accessModes: Required value: at least 1 access mode is required',
    'spec.resources[storage]: Required value',
  ]);
  const grown = clone(PVC);
  grown.spec.resources.requests.storage = '2Gi';
  grown.spec.volumeAttributesClassName = 'gold';
  assert.deepEqual(updateErrors('persistentvolumeclaims', grown, clone(PVC), true), []);
  const changed = clone(PVC);
  changed.spec.accessModes = ['ReadWriteMany'];
  assert.deepEqual(updateErrors('persistentvolumeclaims', changed, clone(PVC), true), [
    'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n',
  ]);
});

test('storage classes', () => {
  assert.deepEqual(errors('storage.k8s.io/storageclasses', clone(SC), false), []);
  assert.deepEqual(errors('storage.k8s.io/storageclasses', { metadata: { name: 'x' }, reclaimPolicy: 'Recycle', volumeBindingMode: 'Later' }, false), [
    'provisioner: Required value',
    'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
    'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
  ]);
  const changed = { ...clone(SC), provisioner: 'example.com/slow', parameters: { type: 'ssd' }, volumeBindingMode: 'WaitForFirstConsumer' };
  assert.deepEqual(updateErrors('storage.k8s.io/storageclasses', changed, clone(SC), false), [
    'parameters: Forbidden: updates to parameters are forbidden.',
    'provisioner: Forbidden: updates to provisioner are forbidden.',
    'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
  ]);
  const labelled = { ...clone(SC), metadata: { name: 'fast', labels: { a: 'b' } }, allowVolumeExpansion: true };
  assert.deepEqual(updateErrors('storage.k8s.io/storageclasses', labelled, clone(SC), false), []);
});
