import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterEach, mkNode, mkPod, mkWorld, scheduleAll } from '../../testutil.js';
import { ERR_BIND_CONFLICT, ERR_NODE_CONFLICT, ERR_PV_NOT_EXIST, ERR_UNBOUND_IMMEDIATE, type VolumeLister } from './volumebinding.js';

const ZONE = 'topology.kubernetes.io/zone';
const nodes = () => [mkNode('a', { labels: { [ZONE]: 'a' } }), mkNode('b', { labels: { [ZONE]: 'b' } })];
const zoneAffinity = (z: string) => ({ required: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE, operator: 'In', values: [z] }] }] } });

function lister(o: { pvcs?: any[]; pvs?: any[]; classes?: any[]; served?: boolean }): VolumeLister {
  return {
    served: o.served ?? true,
    pvc: (ns, n) => o.pvcs?.find((c) => c.metadata.name === n && c.metadata.namespace === ns),
    pv: (n) => o.pvs?.find((v) => v.metadata.name === n),
    pvs: () => o.pvs ?? [],
    storageClass: (n) => o.classes?.find((c) => c.metadata.name === n),
  };
}
const pvc = (name: string, o: { cls?: string; volumeName?: string; size?: string; deleting?: boolean } = {}) => ({
  metadata: { name, namespace: 'default', uid: `pvc-${name}`, deletionTimestamp: o.deleting ? '2026-01-01T00:00:00Z' : undefined },
  spec: { storageClassName: o.cls ?? 'standard', volumeName: o.volumeName, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: o.size ?? '1Gi' } } },
});
const pv = (name: string, o: { cls?: string; zone?: string; size?: string; claimRef?: any } = {}) => ({
  metadata: { name },
  spec: { storageClassName: o.cls ?? 'local', capacity: { storage: o.size ?? '1Gi' }, accessModes: ['ReadWriteOnce'], nodeAffinity: o.zone ? zoneAffinity(o.zone) : undefined, claimRef: o.claimRef },
  status: { phase: o.claimRef ? 'Bound' : 'Available' },
});
const sc = (name: string, mode: string, provisioner = 'example.com/csi') => ({ metadata: { name }, provisioner, volumeBindingMode: mode });
const withClaim = (name: string, claim: string) => mkPod(name, { spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }] } });

const cases: { name: string; vols: Parameters<typeof lister>[0]; claim: string; want: Record<string, string> }[] = [
  { name: 'a missing claim', vols: {}, claim: 'nope', want: { a: 'persistentvolumeclaim "nope" not found', b: 'persistentvolumeclaim "nope" not found' } },
  { name: 'a terminating claim', vols: { pvcs: [pvc('c', { deleting: true })] }, claim: 'c', want: { a: 'persistentvolumeclaim "c" is being deleted', b: 'persistentvolumeclaim "c" is being deleted' } },
  { name: 'an unbound Immediate claim', vols: { pvcs: [pvc('c')], classes: [sc('standard', 'Immediate')] }, claim: 'c', want: { a: ERR_UNBOUND_IMMEDIATE, b: ERR_UNBOUND_IMMEDIATE } },
  { name: 'an unbound claim without a StorageClass (not served) counts as Immediate', vols: { pvcs: [pvc('c')] }, claim: 'c', want: { a: ERR_UNBOUND_IMMEDIATE, b: ERR_UNBOUND_IMMEDIATE } },
  { name: "a bound claim follows its PV's node affinity", vols: { pvcs: [pvc('c', { volumeName: 'pv-a' })], pvs: [pv('pv-a', { zone: 'a', claimRef: { name: 'c', namespace: 'default' } })] }, claim: 'c', want: { a: '', b: ERR_NODE_CONFLICT } },
  { name: 'a claim bound to a missing PV', vols: { pvcs: [pvc('c', { volumeName: 'gone' })] }, claim: 'c', want: { a: ERR_PV_NOT_EXIST, b: ERR_PV_NOT_EXIST } },
  {
    name: 'WaitForFirstConsumer with a local PV in zone b only',
    vols: { pvcs: [pvc('c', { cls: 'local' })], pvs: [pv('pv-b', { zone: 'b' })], classes: [sc('local', 'WaitForFirstConsumer', 'kubernetes.io/no-provisioner')] },
    claim: 'c',
    want: { a: ERR_BIND_CONFLICT, b: '' },
  },
  {
    name: 'WaitForFirstConsumer: a PV too small does not match',
    vols: { pvcs: [pvc('c', { cls: 'local', size: '10Gi' })], pvs: [pv('pv-b', { zone: 'b' })], classes: [sc('local', 'WaitForFirstConsumer', 'kubernetes.io/no-provisioner')] },
    claim: 'c',
    want: { a: ERR_BIND_CONFLICT, b: ERR_BIND_CONFLICT },
  },
  {
    name: 'WaitForFirstConsumer with a provisioner fits anywhere',
    vols: { pvcs: [pvc('c', { cls: 'fast' })], classes: [sc('fast', 'WaitForFirstConsumer')] },
    claim: 'c',
    want: { a: '', b: '' },
  },
  {
    name: 'WaitForFirstConsumer with a provisioner limited by allowedTopologies',
    vols: { pvcs: [pvc('c', { cls: 'fast' })], classes: [{ ...sc('fast', 'WaitForFirstConsumer'), allowedTopologies: [{ matchLabelExpressions: [{ key: ZONE, values: ['a'] }] }] }] },
    claim: 'c',
    want: { a: '', b: ERR_BIND_CONFLICT },
  },
];

for (const c of cases) {
  test(`VolumeBinding filter: ${c.name}`, () => {
    assert.deepEqual(filterEach(mkWorld(nodes(), [], { volumes: lister(c.vols) }), withClaim('p', c.claim)), c.want);
  });
}

test('VolumeBinding: pods without claims, or PVCs not served by the API server, are not checked', () => {
  assert.deepEqual(filterEach(mkWorld(nodes(), [], { volumes: lister({}) }), mkPod('p')), { a: '', b: '' });
  assert.deepEqual(filterEach(mkWorld(nodes(), [], { volumes: lister({ served: false }) }), withClaim('p', 'c')), { a: '', b: '' });
  assert.deepEqual(filterEach(mkWorld(nodes()), withClaim('p', 'c')), { a: '', b: '' });
});

test('VolumeBinding: the upstream FailedScheduling message for an unbound immediate claim', () => {
  const w = mkWorld(nodes(), [], { volumes: lister({ pvcs: [pvc('c')], classes: [sc('standard', 'Immediate')] }) });
  assert.match(scheduleAll(w, [withClaim('p', 'c')]).p, /^0\/2 nodes are available: pod has unbound immediate PersistentVolumeClaims\./);
});
