import { test } from 'node:test';
import assert from 'node:assert/strict';
import { persistentVolumeClaimPrinter, persistentVolumePrinter, storageClassPrinter } from './storage.js';
import { printerFor } from './index.js';
import { NOW, meta } from './testutil.js';

const names = (cols: { name: string; priority: number }[]) => cols.filter((c) => c.priority === 0).map((c) => c.name.toUpperCase());

test('registered for the storage resources', () => {
  assert.equal(printerFor('persistentvolumes'), persistentVolumePrinter);
  assert.equal(printerFor('persistentvolumeclaims'), persistentVolumeClaimPrinter);
  assert.equal(printerFor('storage.k8s.io/storageclasses'), storageClassPrinter);
});

test('persistent volume columns', () => {
  assert.deepEqual(names(persistentVolumePrinter.columns), ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE']);
  const pv = {
    metadata: { ...meta('pv1'), namespace: undefined },
    spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'fast', claimRef: { namespace: 'default', name: 'c' }, volumeMode: 'Filesystem' },
    status: { phase: 'Bound' },
  };
  assert.deepEqual(persistentVolumePrinter.cells(pv, NOW), ['pv1', '5Gi', 'RWO,RWX', 'Retain', 'Bound', 'default/c', 'fast', '<unset>', '', '5m', 'Filesystem']);
  const deleting = { metadata: { ...meta('pv2'), deletionTimestamp: NOW.toISOString() }, spec: {}, status: { phase: 'Released' } };
  assert.deepEqual(persistentVolumePrinter.cells(deleting, NOW).slice(0, 6), ['pv2', '0', '', '', 'Terminating', '']);
});

test('persistent volume claim columns', () => {
  assert.deepEqual(names(persistentVolumeClaimPrinter.columns), ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
  const pending = { metadata: meta('c'), spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'fast' }, status: { phase: 'Pending' } };
  assert.deepEqual(persistentVolumeClaimPrinter.cells(pending, NOW), ['c', 'Pending', '', '', '', 'fast', '<unset>', '5m', '<unset>']);
  const bound = { ...pending, spec: { ...pending.spec, volumeName: 'pv1', volumeMode: 'Block' }, status: { phase: 'Bound', capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'] } };
  assert.deepEqual(persistentVolumeClaimPrinter.cells(bound, NOW), ['c', 'Bound', 'pv1', '5Gi', 'RWO', 'fast', '<unset>', '5m', 'Block']);
});

test('storage class columns, default marked', () => {
  assert.deepEqual(names(storageClassPrinter.columns), ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']);
  const sc = { metadata: { ...meta('std'), annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'example.com/p', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true };
  assert.deepEqual(storageClassPrinter.cells(sc, NOW), ['std (default)', 'example.com/p', 'Retain', 'WaitForFirstConsumer', 'true', '5m']);
  assert.deepEqual(storageClassPrinter.cells({ metadata: meta('plain'), provisioner: 'p' }, NOW), ['plain', 'p', 'Delete', 'Immediate', 'false', '5m']);
});
