import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  boundClaimStatus,
  claimBoundTo,
  claimClass,
  defaultClass,
  findBestMatch,
  reclaimOf,
  volumeBoundTo,
  volumeSatisfiesClaim,
  volumeUnbound,
} from './binding.js';

const pv = (name: string, size: string, extra: any = {}) => ({
  metadata: { name, labels: extra.labels ?? {}, annotations: extra.annotations ?? {} },
  spec: { capacity: { storage: size }, accessModes: extra.modes ?? ['ReadWriteOnce'], storageClassName: extra.cls, volumeMode: extra.volumeMode ?? 'Filesystem', claimRef: extra.claimRef, persistentVolumeReclaimPolicy: extra.policy ?? 'Retain' },
  status: { phase: extra.phase ?? 'Available' },
});
const pvc = (extra: any = {}) => ({
  metadata: { name: 'c', namespace: 'ns', uid: 'u1', resourceVersion: '7', annotations: extra.annotations ?? {} },
  spec: { resources: { requests: { storage: extra.size ?? '1Gi' } }, accessModes: extra.modes ?? ['ReadWriteOnce'], storageClassName: extra.cls, volumeMode: extra.volumeMode ?? 'Filesystem', selector: extra.selector, volumeName: extra.volumeName },
  status: { phase: 'Pending' },
});

describe('findBestMatch', () => {
  const cases: { name: string; claim: any; pvs: any[]; delayed?: boolean; want: string | undefined }[] = [
    { name: 'smallest fitting volume', claim: pvc({ size: '1Gi' }), pvs: [pv('big', '10Gi'), pv('fit', '2Gi'), pv('small', '500Mi')], want: 'fit' },
    { name: 'exact size fits', claim: pvc({ size: '1Gi' }), pvs: [pv('a', '1024Mi')], want: 'a' },
    { name: 'nothing big enough', claim: pvc({ size: '5Gi' }), pvs: [pv('a', '1Gi')], want: undefined },
    { name: 'class must match', claim: pvc({ cls: 'fast' }), pvs: [pv('slow', '1Gi', { cls: 'slow' }), pv('fast', '5Gi', { cls: 'fast' })], want: 'fast' },
    { name: 'no class only matches no class', claim: pvc({ cls: '' }), pvs: [pv('x', '1Gi', { cls: 'x' }), pv('none', '1Gi')], want: 'none' },
    { name: 'access modes must be a subset', claim: pvc({ modes: ['ReadWriteMany'] }), pvs: [pv('rwo', '1Gi'), pv('rwx', '1Gi', { modes: ['ReadWriteOnce', 'ReadWriteMany'] })], want: 'rwx' },
    { name: 'fewer access modes win a size tie', claim: pvc(), pvs: [pv('many', '1Gi', { modes: ['ReadWriteOnce', 'ReadOnlyMany'] }), pv('one', '1Gi')], want: 'one' },
    { name: 'volumeMode must match', claim: pvc({ volumeMode: 'Block' }), pvs: [pv('fs', '1Gi'), pv('blk', '1Gi', { volumeMode: 'Block' })], want: 'blk' },
    { name: 'selector filters labels', claim: pvc({ selector: { matchLabels: { tier: 'db' } } }), pvs: [pv('web', '1Gi', { labels: { tier: 'web' } }), pv('db', '3Gi', { labels: { tier: 'db' } })], want: 'db' },
    { name: 'selector with expressions', claim: pvc({ selector: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } }), pvs: [pv('b', '1Gi', { labels: { zone: 'b' } }), pv('a', '1Gi', { labels: { zone: 'a' } })], want: 'a' },
    { name: 'only Available volumes', claim: pvc(), pvs: [pv('rel', '1Gi', { phase: 'Released' }), pv('ok', '2Gi')], want: 'ok' },
    { name: 'claimed volumes are skipped', claim: pvc(), pvs: [pv('taken', '1Gi', { claimRef: { namespace: 'ns', name: 'other', uid: 'u9' } })], want: undefined },
    { name: 'pre-bound volume wins over a smaller one', claim: pvc(), pvs: [pv('small', '1Gi'), pv('mine', '9Gi', { claimRef: { namespace: 'ns', name: 'c' } })], want: 'mine' },
    { name: 'pre-bound with another uid does not count', claim: pvc(), pvs: [pv('old', '1Gi', { claimRef: { namespace: 'ns', name: 'c', uid: 'u0' } })], want: undefined },
    { name: 'pre-bound ignores class and selector', claim: pvc({ cls: 'x', selector: { matchLabels: { a: 'b' } } }), pvs: [pv('mine', '1Gi', { claimRef: { namespace: 'ns', name: 'c', uid: 'u1' }, phase: 'Pending' })], want: 'mine' },
    { name: 'delayed binding: only pre-bound volumes', claim: pvc(), pvs: [pv('free', '1Gi')], delayed: true, want: undefined },
    { name: 'delayed binding: scheduler pre-bound', claim: pvc(), pvs: [pv('free', '1Gi'), pv('chosen', '1Gi', { claimRef: { namespace: 'ns', name: 'c', uid: 'u1' } })], delayed: true, want: 'chosen' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(findBestMatch(c.claim, c.pvs, !!c.delayed)?.metadata.name, c.want));
  }
});

describe('volumeSatisfiesClaim (claims naming a volume)', () => {
  const cases: [string, any, any, string | undefined][] = [
    ['fits', pv('a', '1Gi'), pvc(), undefined],
    ['too small', pv('a', '1Mi'), pvc(), 'requested PV is too small'],
    ['class', pv('a', '1Gi', { cls: 'x' }), pvc(), 'storageClassName does not match'],
    ['mode', pv('a', '1Gi', { volumeMode: 'Block' }), pvc(), 'incompatible volumeMode'],
    ['access', pv('a', '1Gi'), pvc({ modes: ['ReadWriteMany'] }), 'incompatible accessMode'],
  ];
  for (const [name, v, c, want] of cases) it(name, () => assert.equal(volumeSatisfiesClaim(v, c), want));
});

describe('binding objects', () => {
  it('binds both sides with upstream annotations', () => {
    const v = volumeBoundTo(pv('a', '1Gi'), pvc())!;
    assert.deepEqual(v.spec.claimRef, { kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'c', uid: 'u1', apiVersion: 'v1', resourceVersion: '7' });
    assert.equal(v.metadata.annotations[ANN_BOUND_BY_CONTROLLER], 'yes');
    const c = claimBoundTo(pvc(), v)!;
    assert.equal(c.spec.volumeName, 'a');
    assert.equal(c.metadata.annotations[ANN_BIND_COMPLETED], 'yes');
    assert.equal(c.metadata.annotations[ANN_BOUND_BY_CONTROLLER], 'yes');
    assert.deepEqual(boundClaimStatus(c, v), { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } });
    // Done already: nothing to write.
    assert.equal(volumeBoundTo(v, pvc()), undefined);
    assert.equal(claimBoundTo(c, v), undefined);
    assert.equal(boundClaimStatus({ ...c, status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } } }, v), undefined);
  });
  it('a user pre-binding is completed without bound-by-controller', () => {
    const v = volumeBoundTo(pv('a', '1Gi', { claimRef: { namespace: 'ns', name: 'c' } }), pvc())!;
    assert.equal(v.spec.claimRef.uid, 'u1');
    assert.equal(v.metadata.annotations[ANN_BOUND_BY_CONTROLLER], undefined);
    const c = claimBoundTo(pvc({ volumeName: 'a' }), v)!;
    assert.equal(c.metadata.annotations[ANN_BOUND_BY_CONTROLLER], undefined);
    assert.equal(c.metadata.annotations[ANN_BIND_COMPLETED], 'yes');
  });
  it('unbinding drops a controller link and keeps a user pre-binding by name', () => {
    const byCtl = volumeUnbound(volumeBoundTo(pv('a', '1Gi'), pvc())!);
    assert.equal(byCtl.spec.claimRef, undefined);
    assert.equal(byCtl.metadata.annotations[ANN_BOUND_BY_CONTROLLER], undefined);
    const byUser = volumeUnbound(pv('a', '1Gi', { claimRef: { namespace: 'ns', name: 'c', uid: 'u1' } }));
    assert.deepEqual(byUser.spec.claimRef, { namespace: 'ns', name: 'c' });
  });
});

describe('classes and reclaim', () => {
  it('the beta class annotation wins', () => {
    assert.equal(claimClass(pvc({ cls: 'a', annotations: { 'volume.beta.kubernetes.io/storage-class': 'b' } })), 'b');
    assert.equal(claimClass(pvc()), '');
  });
  it('the newest default class is the default', () => {
    const sc = (name: string, at: string, def?: string) => ({ metadata: { name, creationTimestamp: at, annotations: def ? { 'storageclass.kubernetes.io/is-default-class': def } : {} } });
    assert.equal(defaultClass([sc('a', '2024-01-01T00:00:00Z', 'true'), sc('b', '2025-01-01T00:00:00Z', 'true'), sc('c', '2026-01-01T00:00:00Z')])?.metadata.name, 'b');
    assert.equal(defaultClass([sc('a', '2024-01-01T00:00:00Z', 'false')]), undefined);
  });
  it('reclaim policies', () => {
    assert.deepEqual(reclaimOf(pv('a', '1Gi')), { action: 'retain' });
    assert.deepEqual(reclaimOf(pv('a', '1Gi', { policy: 'Delete', annotations: { 'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path' } })), { action: 'external', provisioner: 'rancher.io/local-path' });
    assert.equal((reclaimOf(pv('a', '1Gi', { policy: 'Delete' })) as any).reason, 'VolumeFailedDelete');
    assert.equal((reclaimOf(pv('a', '1Gi', { policy: 'Recycle' })) as any).reason, 'VolumeFailedRecycle');
  });
});
