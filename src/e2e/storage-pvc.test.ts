/**
 * PersistentVolumeClaims end to end, as `skiff up` composes them: the controller manager (with the
 * persistentvolume-binder and the StatefulSet controller), the scheduler (VolumeBinding), a kubelet
 * with the process runtime and the node's local-path provisioner, all under their own identities,
 * driven with the real kubectl.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { until } from '../testing/wait.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createKubelet } from '../kubelet/agent.js';
import { createLocalPathProvisioner } from '../controllers/localpath/provisioner.js';

describe('PersistentVolumeClaims (local-path provisioner, StatefulSet, kubelet)', () => {
  let c: TestCluster | undefined;
  const node = `pv-${randomBytes(2).toString('hex')}`;
  const skip = which('kubectl') ? undefined : 'kubectl is not on PATH';
  let hostDir = '';

  before(async () => {
    if (skip) return;
    c = await startTestCluster({
      components: { kubelet: true, controllers: true, scheduler: true },
      up: { runtime: 'process', networkMode: 'loopback', nodeName: node, networkPrefix: `pv${node.slice(3)}` },
    });
    hostDir = mkdtempSync(path.join(tmpdir(), 'skiff-pv-static-'));
  });
  after(async () => {
    await c?.stop();
    if (hostDir) rmSync(hostDir, { recursive: true, force: true });
  });

  const json = async (args: string[]) => JSON.parse(await c!.run([...args, '-o', 'json']));
  const get = async (args: string[]) => {
    const r = await c!.kubectl([...args, '-o', 'json']);
    return r.code === 0 ? JSON.parse(r.stdout) : undefined;
  };
  const eventsOf = (name: string) => json(['get', 'events', '--field-selector', `involvedObject.name=${name}`]).then((l) => l.items as any[]);

  it('the default StorageClass is standard (rancher.io/local-path, WaitForFirstConsumer, Delete)', async (t) => {
    if (!needs(t, skip)) return;
    const out = await c!.run(['get', 'storageclass']);
    assert.match(out, /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE/);
    assert.match(out, /\nstandard \(default\)\s+rancher\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false/);
    assert.match(out, /\nlocal-path\s+rancher\.io\/local-path\s+Delete\s+WaitForFirstConsumer/);
  });

  it('a StatefulSet claim is provisioned, bound, mounted, and outlives its pod; deleting it deletes the volume', async (t) => {
    if (!needs(t, skip)) return;
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        serviceName: 'web',
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'if [ -f /data/f ]; then cp /data/f /data/seen; else echo first > /data/f; fi; sleep 3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data', labels: { tier: 'db' } }, spec: { storageClassName: 'standard', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    };
    await c!.run(['apply', '-f', '-'], JSON.stringify(sts));
    const pvc = await until('claim data-web-0 Bound', async () => {
      const p = await get(['get', 'pvc', 'data-web-0']);
      return p?.status?.phase === 'Bound' ? p : undefined;
    }, 60_000, 200);
    assert.deepEqual(pvc.metadata.labels, { tier: 'db', app: 'web' });
    assert.equal(pvc.metadata.ownerReferences, undefined, 'whenDeleted: Retain (the default) leaves the claim unowned');
    assert.equal(pvc.metadata.annotations['pv.kubernetes.io/bind-completed'], 'yes');
    assert.equal(pvc.metadata.annotations['volume.kubernetes.io/selected-node'], node);
    assert.equal(pvc.metadata.annotations['volume.kubernetes.io/storage-provisioner'], 'rancher.io/local-path');
    assert.deepEqual(pvc.status.capacity, { storage: '1Gi' });
    const pvName = pvc.spec.volumeName;
    assert.equal(pvName, `pvc-${pvc.metadata.uid}`);
    const pv = await until('PV Bound', async () => {
      const v = await get(['get', 'pv', pvName]);
      return v?.status?.phase === 'Bound' ? v : undefined;
    });
    const dir = pv.spec.hostPath.path;
    assert.equal(dir, path.join(c!.dataDir, 'storage', `${pvName}_default_data-web-0`));
    assert.equal(pv.spec.claimRef.uid, pvc.metadata.uid);
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
    assert.equal(pv.metadata.annotations['pv.kubernetes.io/provisioned-by'], 'rancher.io/local-path');

    const pvcOut = await c!.run(['get', 'pvc', 'data-web-0']);
    assert.match(pvcOut, /^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE\n/);
    assert.match(pvcOut, new RegExp(`\\ndata-web-0\\s+Bound\\s+${pvName}\\s+1Gi\\s+RWO\\s+standard\\s+<unset>\\s+\\d+s`));
    const pvOut = await c!.run(['get', 'pv', pvName]);
    assert.match(pvOut, /^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE\n/);
    assert.match(pvOut, new RegExp(`\\n${pvName}\\s+1Gi\\s+RWO\\s+Delete\\s+Bound\\s+default/data-web-0\\s+standard\\s+<unset>\\s+\\d+s`));
    const both = await c!.run(['get', 'pvc,pv']);
    assert.match(both, /persistentvolumeclaim\/data-web-0\s+Bound/);
    assert.match(both, new RegExp(`persistentvolume/${pvName}\\s+1Gi`));

    // Events are sent after the writes: wait for them.
    const want = ['WaitForFirstConsumer', 'ExternalProvisioning', 'Provisioning', 'ProvisioningSucceeded'];
    const evs = await until('claim events', async () => {
      const items = await eventsOf('data-web-0');
      return want.every((r) => items.some((e) => e.reason === r)) ? items : undefined;
    });
    const ok = evs.find((e) => e.reason === 'ProvisioningSucceeded');
    assert.equal(ok.message, `Successfully provisioned volume ${pvName}`);
    assert.match(ok.source.component, /^rancher\.io\/local-path_/);
    assert.equal(evs.find((e) => e.reason === 'WaitForFirstConsumer').message, 'waiting for first consumer to be created before binding');

    // The pod writes into the volume; a new pod of the set sees what the first one wrote.
    const first = await until('web-0 Running', async () => {
      const p = await get(['get', 'pod', 'web-0']);
      return p?.status?.phase === 'Running' ? p : undefined;
    }, 60_000, 200);
    assert.deepEqual(first.spec.volumes.find((v: any) => v.name === 'data'), { name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } });
    await until('the pod wrote /data/f', () => existsSync(path.join(dir, 'f')), 30_000, 100);
    await c!.run(['delete', 'pod', 'web-0', '--wait=true', '--timeout=60s']);
    await until('web-0 recreated and Running', async () => {
      const p = await get(['get', 'pod', 'web-0']);
      return p && p.metadata.uid !== first.metadata.uid && p.status?.phase === 'Running' ? p : undefined;
    }, 60_000, 200);
    await until('the new pod saw the file', () => existsSync(path.join(dir, 'seen')), 30_000, 100);
    assert.equal(readFileSync(path.join(dir, 'seen'), 'utf8'), 'first\n');
    assert.equal((await json(['get', 'pvc'])).items.length, 1, 'the same claim, not a new one');

    // A claim in use is protected: deleted under its running pod, it stays Terminating and its volume Bound.
    await c!.run(['delete', 'pvc', 'data-web-0', '--wait=false']);
    const terminating = await json(['get', 'pvc', 'data-web-0']);
    assert.ok(terminating.metadata.deletionTimestamp);
    assert.deepEqual(terminating.metadata.finalizers, ['kubernetes.io/pvc-protection']);
    assert.match(await c!.run(['get', 'pvc', 'data-web-0']), /\ndata-web-0\s+Terminating\s+/);
    assert.equal((await json(['get', 'pv', pvName])).status.phase, 'Bound');
    // Once the pod is gone (the set deleted), the claim goes, and with it (Delete) the volume and its directory.
    await c!.run(['delete', 'statefulset', 'web', '--wait=true']);
    await until('claim deleted', async () => (await c!.kubectl(['get', 'pvc', 'data-web-0'])).code !== 0, 60_000, 200);
    await until('PV deleted', async () => (await c!.kubectl(['get', 'pv', pvName])).code !== 0, 30_000, 200);
    await until('directory removed', () => !existsSync(dir), 10_000, 100);
  });

  it('persistentVolumeClaimRetentionPolicy Delete: claims go with condemned pods and with the set', async (t) => {
    if (!needs(t, skip)) return;
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        serviceName: 'db',
        replicas: 2,
        podManagementPolicy: 'Parallel',
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' },
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { storageClassName: 'local-path', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Mi' } } } }],
      },
    };
    await c!.run(['apply', '-f', '-'], JSON.stringify(sts));
    const claims = await until('both claims Bound', async () => {
      const items = (await json(['get', 'pvc', '-l', 'app=db'])).items as any[];
      return items.length === 2 && items.every((x) => x.status.phase === 'Bound') ? items : undefined;
    }, 60_000, 200);
    for (const x of claims) assert.equal(x.metadata.ownerReferences?.[0]?.kind, 'StatefulSet');
    const pv1 = claims.find((x) => x.metadata.name === 'data-db-1').spec.volumeName;
    await c!.run(['scale', 'statefulset', 'db', '--replicas=1']);
    await until('data-db-1 deleted with its pod', async () => (await c!.kubectl(['get', 'pvc', 'data-db-1'])).code !== 0, 60_000, 200);
    await until('its volume deleted', async () => (await c!.kubectl(['get', 'pv', pv1])).code !== 0, 30_000, 200);
    assert.ok(await get(['get', 'pvc', 'data-db-0']), 'the remaining pod keeps its claim');
    await c!.run(['delete', 'statefulset', 'db']);
    await until('data-db-0 deleted with the set', async () => (await c!.kubectl(['get', 'pvc', 'data-db-0'])).code !== 0, 60_000, 200);
  });

  // Upstream assigns the default class in the DefaultStorageClass admission plugin, and the PV
  // controller assigns it retroactively (spec.storageClassName nil → set is a permitted update).
  // Skiff's API server has neither yet: the controller's update is rejected as immutable.
  it('a claim without a class gets the default class (at creation, and retroactively)', async (t) => {
    if (!needs(t, skip)) return;
    const claim = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
    // At creation (DefaultStorageClass admission).
    await c!.run(['apply', '-f', '-'], claim('classless'));
    assert.equal((await json(['get', 'pvc', 'classless'])).spec.storageClassName, 'standard');
    // Retroactively (the PV controller), for a claim created while there was no default class.
    await c!.run(['annotate', 'storageclass', 'standard', 'storageclass.kubernetes.io/is-default-class=false', '--overwrite']);
    try {
      await c!.run(['apply', '-f', '-'], claim('late'));
      const ev = await until('FailedBinding', async () => (await eventsOf('late')).find((e) => e.reason === 'FailedBinding'));
      assert.equal(ev.message, 'no persistent volumes available for this claim and no storage class is set');
      assert.equal((await json(['get', 'pvc', 'late'])).spec.storageClassName, undefined);
    } finally {
      await c!.run(['annotate', 'storageclass', 'standard', 'storageclass.kubernetes.io/is-default-class=true', '--overwrite']);
    }
    await until('default class assigned retroactively', async () => (await json(['get', 'pvc', 'late'])).spec.storageClassName === 'standard', 10_000, 200);
    await c!.run(['delete', 'pvc', 'classless', 'late']);
  });

  it('a claim of a class nobody provisions stays Pending, and a pod using it waits (FailedMount)', async (t) => {
    if (!needs(t, skip)) return;
    await c!.run(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'nfs' }, provisioner: 'example.com/nfs' }));
    await c!.run(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'orphan' }, spec: { storageClassName: 'nfs', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }));
    const ev = await until('ExternalProvisioning event', async () => (await eventsOf('orphan')).find((e) => e.reason === 'ExternalProvisioning'));
    assert.equal(ev.type, 'Normal');
    assert.equal(ev.source.component, 'persistentvolume-controller');
    assert.equal(ev.message, "Waiting for a volume to be created either by the external provisioner 'example.com/nfs' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.");
    const pvc = await json(['get', 'pvc', 'orphan']);
    assert.equal(pvc.status.phase, 'Pending');
    assert.equal(pvc.metadata.annotations['volume.kubernetes.io/storage-provisioner'], 'example.com/nfs');
    assert.equal(pvc.metadata.annotations['volume.beta.kubernetes.io/storage-provisioner'], 'example.com/nfs');
    assert.match(await c!.run(['get', 'pvc', 'orphan']), /\norphan\s+Pending\s+nfs\s+<unset>/);
    // Placed on the node directly (the scheduler would keep it Pending): the kubelet waits for the claim.
    await c!.run(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'waits' },
      spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'orphan' } }] },
    }));
    const fm = await until('FailedMount', async () => (await eventsOf('waits')).find((e) => e.reason === 'FailedMount'));
    assert.equal(fm.type, 'Warning');
    assert.match(fm.message, /^Unable to attach or mount volumes: unmounted volumes=\[data\], unattached volumes=\[.*data.*\]: error processing PVC default\/orphan: PVC is not bound$/);
    assert.equal((await json(['get', 'pod', 'waits'])).status.phase, 'Pending');
    await c!.run(['delete', 'pod', 'waits', '--grace-period=0', '--force']);
  });

  it('a static PV binds to the claim whose selector matches it (smallest fit), with upstream annotations', async (t) => {
    if (!needs(t, skip)) return;
    const pv = (name: string, size: string, labels: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name, labels },
      spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: '', hostPath: { path: path.join(hostDir, name), type: 'DirectoryOrCreate' } },
    });
    for (const v of [pv('static-big', '5Gi', { disk: 'ssd' }), pv('static-small', '2Gi', { disk: 'ssd' }), pv('static-hdd', '1Gi', { disk: 'hdd' })]) await c!.run(['apply', '-f', '-'], JSON.stringify(v));
    await until('static PVs Available', async () => (await json(['get', 'pv'])).items.filter((v: any) => v.metadata.name.startsWith('static-') && v.status.phase === 'Available').length === 3);
    await c!.run(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'fast' },
      spec: { storageClassName: '', selector: { matchLabels: { disk: 'ssd' } }, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    }));
    const claim = await until('fast Bound', async () => {
      const p = await get(['get', 'pvc', 'fast']);
      return p?.status?.phase === 'Bound' ? p : undefined;
    });
    assert.equal(claim.spec.volumeName, 'static-small');
    assert.equal(claim.metadata.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.deepEqual(claim.status.capacity, { storage: '2Gi' });
    const bound = await until('static-small Bound', async () => {
      const v = await get(['get', 'pv', 'static-small']);
      return v?.status?.phase === 'Bound' ? v : undefined;
    });
    assert.equal(bound.spec.claimRef.name, 'fast');
    assert.equal(bound.spec.claimRef.uid, claim.metadata.uid);
    assert.equal(bound.metadata.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');
    for (const n of ['static-big', 'static-hdd']) assert.equal((await json(['get', 'pv', n])).status.phase, 'Available');
    // Retain: the volume outlives its claim as Released.
    await c!.run(['delete', 'pvc', 'fast', '--wait=true']);
    await until('static-small Released', async () => (await get(['get', 'pv', 'static-small']))?.status?.phase === 'Released');
    assert.match(await c!.run(['get', 'pv', 'static-small']), /\nstatic-small\s+2Gi\s+RWO\s+Retain\s+Released\s+default\/fast/);
  });

  it('pre-binding (claimRef, volumeName), mismatches and reclaim failures, as upstream', async (t) => {
    if (!needs(t, skip)) return;
    const pv = (name: string, size: string, extra: any = {}) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name },
      spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: extra.policy ?? 'Retain', storageClassName: 'manual', hostPath: { path: path.join(hostDir, name) }, ...(extra.claimRef ? { claimRef: extra.claimRef } : {}) },
    });
    const claim = (name: string, size: string, volumeName?: string) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name },
      spec: { storageClassName: 'manual', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, ...(volumeName ? { volumeName } : {}) },
    });
    const apply = (o: any) => c!.run(['apply', '-f', '-'], JSON.stringify(o));
    const bound = (name: string) =>
      until(`${name} Bound`, async () => {
        const p = await get(['get', 'pvc', name]);
        return p?.status?.phase === 'Bound' ? p : undefined;
      });
    await apply(pv('reserved', '1Gi', { claimRef: { namespace: 'default', name: 'wants-reserved' } }));
    await apply(pv('free', '1Gi'));
    await apply(pv('tiny', '1Mi'));
    // A volume pre-bound to another claim is not taken, even when it fits.
    await apply(claim('grabby', '1Gi'));
    assert.equal((await bound('grabby')).spec.volumeName, 'free');
    // The claim a volume is pre-bound to gets it; the volume is not marked bound-by-controller.
    await apply(claim('wants-reserved', '500Mi'));
    assert.equal((await bound('wants-reserved')).spec.volumeName, 'reserved');
    const reserved = await json(['get', 'pv', 'reserved']);
    assert.equal(reserved.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], undefined);
    // A claim naming a volume too small for it stays Pending with VolumeMismatch.
    await apply(claim('named', '1Gi', 'tiny'));
    const mm = await until('VolumeMismatch', async () => (await eventsOf('named')).find((e) => e.reason === 'VolumeMismatch'));
    assert.equal(mm.type, 'Warning');
    assert.equal(mm.message, 'Cannot bind to requested volume "tiny": requested PV is too small');
    assert.equal((await json(['get', 'pvc', 'named'])).status.phase, 'Pending');
    // Delete without a provisioner that made the volume: Failed, with upstream's reason.
    await apply(pv('nodeleter', '1Gi', { policy: 'Delete' }));
    await apply(claim('short-lived', '1Gi'));
    assert.equal((await bound('short-lived')).spec.volumeName, 'nodeleter');
    await c!.run(['delete', 'pvc', 'short-lived', '--wait=true']);
    const failed = await until('nodeleter Failed', async () => {
      const v = await get(['get', 'pv', 'nodeleter']);
      return v?.status?.phase === 'Failed' ? v : undefined;
    });
    assert.equal(failed.status.message, 'error getting deleter volume plugin for volume "nodeleter": no deletable volume plugin matched');
    const fe = await until('VolumeFailedDelete', async () => (await eventsOf('nodeleter')).find((e) => e.reason === 'VolumeFailedDelete'));
    assert.equal(fe.type, 'Warning');
    await c!.run(['delete', 'pvc', 'grabby', 'wants-reserved', 'named', '--wait=true']);
  });

  it("with two nodes, each node's provisioner makes the volumes of the claims scheduled there", async (t) => {
    if (!needs(t, skip)) return;
    // A second node as `skiff agent` runs it: a kubelet and that node's local-path provisioner.
    const node2 = `${node}-b`;
    const client = new RestClient(configFromKubeconfig(c!.kubeconfig, 'e2e-node2'));
    const kubelet2 = createKubelet(client, { nodeName: node2, dataDir: path.join(c!.dataDir, 'node2', 'kubelet'), runtime: 'process', podCIDR: '10.244.9.0/24', port: 0 });
    const lpClient = new RestClient(configFromKubeconfig(path.join(c!.dataDir, 'components', 'local-path-provisioner.kubeconfig'), 'e2e-local-path-2'));
    const base2 = path.join(c!.dataDir, 'node2', 'storage');
    const provisioner2 = createLocalPathProvisioner(lpClient, { nodeName: node2, baseDir: base2 });
    await kubelet2.start();
    await provisioner2.start();
    try {
      await until('node2 Ready', async () => (await get(['get', 'node', node2]))?.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True'), 30_000, 200);
      await c!.run(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'remote' }, spec: { storageClassName: 'standard', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Mi' } } } }));
      await c!.run(['apply', '-f', '-'], JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'remote' },
        spec: {
          nodeSelector: { 'kubernetes.io/hostname': node2 },
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo from-node2 > /data/hello; sleep 3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'remote' } }],
        },
      }));
      const pvc = await until('remote Bound', async () => {
        const p = await get(['get', 'pvc', 'remote']);
        return p?.status?.phase === 'Bound' ? p : undefined;
      }, 60_000, 200);
      assert.equal(pvc.metadata.annotations['volume.kubernetes.io/selected-node'], node2);
      const pv = await json(['get', 'pv', pvc.spec.volumeName]);
      assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, [node2]);
      const dir = pv.spec.hostPath.path;
      assert.ok(dir.startsWith(base2 + path.sep), `${dir} is under node2's storage`);
      await until('the pod on node2 wrote into its volume', () => existsSync(path.join(dir, 'hello')), 60_000, 200);
      assert.equal(readFileSync(path.join(dir, 'hello'), 'utf8'), 'from-node2\n');
      await c!.run(['delete', 'pod', 'remote', '--grace-period=0', '--force']);
      await c!.run(['delete', 'pvc', 'remote', '--wait=true', '--timeout=60s']);
      await until('PV deleted by node2', async () => (await c!.kubectl(['get', 'pv', pvc.spec.volumeName])).code !== 0, 30_000, 200);
      await until('directory removed on node2', () => !existsSync(dir), 10_000, 100);
    } finally {
      await provisioner2.stop();
      lpClient.close();
      await kubelet2.stop();
      client.close();
    }
  });
});
