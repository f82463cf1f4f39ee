import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideClaim, shouldDelete, volumeFor, type ProvisionerScope } from './plan.js';

const scope: ProvisionerScope = { provisioner: 'rancher.io/local-path', nodeName: 'n1', baseDir: '/data/storage' };
const sc = (extra: any = {}) => ({ metadata: { name: 'standard' }, provisioner: 'rancher.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer', ...extra });
const claim = (ann: Record<string, string> = {}, spec: any = {}) => ({
  metadata: { name: 'data-web-0', namespace: 'default', uid: 'abc', resourceVersion: '3', annotations: ann },
  spec: { storageClassName: 'standard', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem', ...spec },
});
const handed = { 'volume.kubernetes.io/storage-provisioner': 'rancher.io/local-path' };

describe('local-path: which claims this node provisions', () => {
  const cases: [string, any, any, string][] = [
    ['handed over, selected here', claim({ ...handed, 'volume.kubernetes.io/selected-node': 'n1' }), sc(), 'provision'],
    ['selected elsewhere', claim({ ...handed, 'volume.kubernetes.io/selected-node': 'n2' }), sc(), 'ignore'],
    ['not handed over yet', claim({ 'volume.kubernetes.io/selected-node': 'n1' }), sc(), 'ignore'],
    ['the beta annotation also hands over', claim({ 'volume.beta.kubernetes.io/storage-provisioner': 'rancher.io/local-path', 'volume.kubernetes.io/selected-node': 'n1' }), sc(), 'provision'],
    ['waiting for a consumer', claim(handed), sc(), 'ignore'],
    ['immediate class without a node', claim(handed), sc({ volumeBindingMode: 'Immediate' }), 'fail'],
    ['another provisioner', claim({ 'volume.kubernetes.io/storage-provisioner': 'x', 'volume.kubernetes.io/selected-node': 'n1' }), sc(), 'ignore'],
    ['bound already', claim({ ...handed, 'volume.kubernetes.io/selected-node': 'n1' }, { volumeName: 'pv1' }), sc(), 'ignore'],
    ['no such class', claim({ ...handed, 'volume.kubernetes.io/selected-node': 'n1' }), undefined, 'ignore'],
  ];
  for (const [name, c, s, want] of cases) it(name, () => assert.equal(decideClaim(c, s, scope).action, want));
});

describe('local-path: the volume', () => {
  it('is a hostPath under the base dir, pre-bound and pinned to the node', () => {
    const pv = volumeFor(claim(), sc(), scope);
    assert.equal(pv.metadata.name, 'pvc-abc');
    assert.equal(pv.metadata.annotations['pv.kubernetes.io/provisioned-by'], 'rancher.io/local-path');
    assert.deepEqual(pv.spec.hostPath, { path: '/data/storage/pvc-abc_default_data-web-0', type: 'DirectoryOrCreate' });
    assert.deepEqual(pv.spec.capacity, { storage: '1Gi' });
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
    assert.equal(pv.spec.claimRef.uid, 'abc');
    assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0], { key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] });
  });
  it('is a local volume when the class asks for it', () => {
    const pv = volumeFor(claim(), sc({ parameters: { volumeType: 'local' }, reclaimPolicy: 'Retain' }), scope);
    assert.deepEqual(pv.spec.local, { path: '/data/storage/pvc-abc_default_data-web-0' });
    assert.equal(pv.spec.hostPath, undefined);
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
  });
  it('is deleted, with its directory, when Released under Delete on this node', () => {
    const pv = { ...volumeFor(claim(), sc(), scope), status: { phase: 'Released' } };
    assert.deepEqual(shouldDelete(pv, scope), { delete: true, removeDir: '/data/storage/pvc-abc_default_data-web-0' });
    assert.equal(shouldDelete({ ...pv, status: { phase: 'Bound' } }, scope).delete, false);
    assert.equal(shouldDelete(pv, { ...scope, nodeName: 'n2' }).delete, false);
    const outside = structuredClone(pv);
    outside.spec.hostPath.path = '/etc';
    assert.deepEqual(shouldDelete(outside, scope), { delete: true, removeDir: undefined });
    const retained = structuredClone(pv);
    retained.spec.persistentVolumeReclaimPolicy = 'Retain';
    assert.equal(shouldDelete(retained, scope).delete, false);
  });
});
