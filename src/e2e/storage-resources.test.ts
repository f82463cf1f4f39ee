import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { requireReal, which } from '../testing/real.js';

const SC = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  provisioner: 'example.com/hostpath',
  volumeBindingMode: 'WaitForFirstConsumer',
  allowVolumeExpansion: true,
};
const PV = {
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name: 'pv1' },
  spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'standard', hostPath: { path: '/tmp/pv1' } },
};
const PVC = {
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'data', namespace: 'default' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' },
};

/** Rows of `kubectl get` output, split on runs of 2+ spaces as kubectl pads its columns. */
const rows = (out: string) => out.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));

/** PersistentVolumes, PersistentVolumeClaims and StorageClasses through the real kubectl. */
describe('storage resources (kubectl)', { skip: !which('kubectl') && !requireReal && 'kubectl not on PATH' }, () => {
  let c: TestCluster;
  const k = (args: string[], input?: string) => c.run(args, input);

  before(async () => {
    c = await startTestCluster();
  });
  after(async () => {
    await c?.stop();
  });

  it('discovery lists pv, pvc and sc with their scopes', async () => {
    const out = await k(['api-resources', '--no-headers']);
    const line = (name: string) => rows(out).find((r) => r[0] === name);
    assert.deepEqual(line('persistentvolumes'), ['persistentvolumes', 'pv', 'v1', 'false', 'PersistentVolume']);
    assert.deepEqual(line('persistentvolumeclaims'), ['persistentvolumeclaims', 'pvc', 'v1', 'true', 'PersistentVolumeClaim']);
    assert.deepEqual(line('storageclasses'), ['storageclasses', 'sc', 'storage.k8s.io/v1', 'false', 'StorageClass']);
  });

  it('creates a StorageClass, PV and PVC with upstream defaults and shows kubectl columns', async () => {
    await k(['create', '-f', '-'], JSON.stringify(SC));
    await k(['create', '-f', '-'], JSON.stringify(PV));
    await k(['create', '-f', '-'], JSON.stringify(PVC));
    assert.equal(await k(['get', 'sc', 'standard', '-o', 'jsonpath={.reclaimPolicy}']), 'Delete');
    assert.equal(await k(['get', 'pv', 'pv1', '-o', 'jsonpath={.spec.persistentVolumeReclaimPolicy} {.spec.volumeMode} {.status.phase}']), 'Retain Filesystem Pending');
    assert.equal(await k(['get', 'pvc', 'data', '-o', 'jsonpath={.spec.volumeMode} {.status.phase}']), 'Filesystem Pending');

    const pv = rows(await k(['get', 'pv']));
    assert.deepEqual(pv[0], ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE']);
    // Empty CLAIM and REASON cells collapse into the padding.
    assert.deepEqual(pv[1].slice(0, 6), ['pv1', '5Gi', 'RWO', 'Retain', 'Pending', 'standard']);
    assert.equal(pv[1][6], '<unset>');
    const pvc = rows(await k(['get', 'pvc']));
    assert.deepEqual(pvc[0], ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
    assert.deepEqual(pvc[1].slice(0, 4), ['data', 'Pending', 'standard', '<unset>']);
    const sc = rows(await k(['get', 'sc']));
    assert.deepEqual(sc[0], ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']);
    assert.deepEqual(sc[1].slice(0, 5), ['standard (default)', 'example.com/hostpath', 'Delete', 'WaitForFirstConsumer', 'true']);

    const all = await k(['get', 'pv,pvc,sc', '-o', 'name']);
    assert.deepEqual(all.trim().split('\n').sort(), ['persistentvolume/pv1', 'persistentvolumeclaim/data', 'storageclass.storage.k8s.io/standard']);
  });

  it('binding through the status subresource shows in the columns', async () => {
    await k(['patch', 'pv', 'pv1', '--type=merge', '-p', JSON.stringify({ spec: { claimRef: { namespace: 'default', name: 'data' } } })]);
    await k(['patch', 'pv', 'pv1', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Bound"}}']);
    await k(['patch', 'pvc', 'data', '--type=merge', '-p', '{"spec":{"volumeName":"pv1"}}']);
    await k(['patch', 'pvc', 'data', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Bound', capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'] } })]);
    // A main-resource write cannot change status.
    await k(['patch', 'pvc', 'data', '--type=merge', '-p', '{"status":{"phase":"Lost"}}']);
    assert.deepEqual(rows(await k(['get', 'pv', '--no-headers']))[0].slice(0, 6), ['pv1', '5Gi', 'RWO', 'Retain', 'Bound', 'default/data']);
    assert.match(await k(['get', 'pv', 'pv1', '-o', 'jsonpath={.status.lastPhaseTransitionTime}']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // A status write leaves the spec alone.
    await k(['patch', 'pv', 'pv1', '--subresource=status', '--type=merge', '-p', '{"spec":{"persistentVolumeReclaimPolicy":"Delete"}}']);
    assert.equal(await k(['get', 'pv', 'pv1', '-o', 'jsonpath={.spec.persistentVolumeReclaimPolicy}']), 'Retain');
    assert.deepEqual(rows(await k(['get', 'pvc', '--no-headers']))[0].slice(0, 6), ['data', 'Bound', 'pv1', '5Gi', 'RWO', 'standard']);
  });

  it('validates with upstream messages', async () => {
    const bad = await c.kubectl(['create', '-f', '-'], { input: JSON.stringify({ ...PVC, metadata: { name: 'bad', namespace: 'default' }, spec: {} }) });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec.accessModes: Required value: at least 1 access mode is required/);
    assert.match(bad.stderr, /spec.resources\[storage\]: Required value/);
    const noSource = await c.kubectl(['create', '-f', '-'], { input: JSON.stringify({ ...PV, metadata: { name: 'pv2' }, spec: { ...PV.spec, hostPath: undefined } }) });
    assert.match(noSource.stderr, /spec: Required value: must specify a volume type/);
    const noProvisioner = await c.kubectl(['create', '-f', '-'], { input: JSON.stringify({ ...SC, metadata: { name: 'x' }, provisioner: undefined }) });
    assert.match(noProvisioner.stderr, /provisioner: Required value/);
    const immutable = await c.kubectl(['patch', 'pvc', 'data', '--type=merge', '-p', '{"spec":{"accessModes":["ReadWriteMany"]}}']);
    assert.match(immutable.stderr, /spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims/);
    await k(['patch', 'pvc', 'data', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}']);
    // kubectl's client-side schema check knows the kinds (the OpenAPI schemas are served).
    const unknown = await c.kubectl(['create', '-f', '-'], { input: JSON.stringify({ ...SC, metadata: { name: 'y' }, bogus: 1 }) });
    assert.match(unknown.stderr, /unknown field "bogus"/);
  });

  it('the scheduler may read volumes, claims and classes and update volumes and claims', async () => {
    for (const [verb, res] of [['list', 'persistentvolumes'], ['watch', 'persistentvolumeclaims'], ['get', 'storageclasses.storage.k8s.io'], ['update', 'persistentvolumes'], ['update', 'persistentvolumeclaims']]) {
      assert.equal((await k(['auth', 'can-i', verb, res, '--as', 'system:kube-scheduler'])).trim(), 'yes', `${verb} ${res}`);
    }
  });

  it('deletes them', async () => {
    await k(['delete', 'pvc', 'data']);
    await k(['delete', 'pv', 'pv1']);
    await k(['delete', 'sc', 'standard']);
    assert.equal((await k(['get', 'pv,pvc,sc', '-o', 'name'])).trim(), '');
  });
});
