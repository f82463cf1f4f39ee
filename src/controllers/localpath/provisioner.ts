import { mkdir, chmod, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { EventRecorder, refOf } from '../../client/events.js';
import { SharedInformerFactory } from '../../client/factory.js';
import type { Informer } from '../../client/informer.js';
import type { RestClient } from '../../client/rest.js';
import { WorkQueue, runWorkers } from '../../client/workqueue.js';
import type { Component } from '../../cluster/component.js';
import { PV_RESOURCE, PVC_RESOURCE, SC_RESOURCE } from '../persistentvolume/controller.js';
import { claimClass } from '../persistentvolume/binding.js';
import { LOCAL_PATH_PROVISIONER, decideClaim, shouldDelete, volumeDir, volumeFor, type ProvisionerScope } from './plan.js';

export interface LocalPathOptions {
  nodeName: string;
  /** This node's volume directory (`skiff up`: `<dataDir>/storage`). */
  baseDir: string;
  provisioner?: string;
  log?: (msg: string) => void;
}

/**
 * A local-path provisioner for one node, as rancher's local-path-provisioner (which k3s ships) run
 * per node like a DaemonSet: it creates directories and PersistentVolumes only for claims the
 * scheduler placed on its node (`volume.kubernetes.io/selected-node`), and removes the directory
 * and the PV of its node's Released volumes under the Delete policy. Run one on every node.
 */
export function createLocalPathProvisioner(client: RestClient, opts: LocalPathOptions): Component {
  const scope: ProvisionerScope = { provisioner: opts.provisioner ?? LOCAL_PATH_PROVISIONER, nodeName: opts.nodeName, baseDir: opts.baseDir };
  const log = opts.log ?? (() => undefined);
  const factory = new SharedInformerFactory(client);
  const pvcs: Informer = factory.for(PVC_RESOURCE);
  const pvs: Informer = factory.for(PV_RESOURCE);
  const classes: Informer = factory.for(SC_RESOURCE);
  const queue = new WorkQueue<string>({ baseMs: 100, maxMs: 30_000 });
  const recorder = new EventRecorder(client, { component: `${scope.provisioner}_${opts.nodeName}_${randomUUID()}`, host: opts.nodeName });
  const claimEvent = (c: any, type: 'Normal' | 'Warning', reason: string, message: string) => recorder.event(refOf(c, 'PersistentVolumeClaim', 'v1'), type, reason, message);

  pvcs.addHandlers({ add: (c: any) => queue.add(`claim:${c.metadata.namespace}/${c.metadata.name}`), update: (_o, c: any) => queue.add(`claim:${c.metadata.namespace}/${c.metadata.name}`) });
  pvs.addHandlers({ add: (v: any) => queue.add(`volume:${v.metadata.name}`), update: (_o, v: any) => queue.add(`volume:${v.metadata.name}`) });
  // A class that appears after its claims (or changes) lets them move on.
  const allClaims = () => {
    for (const c of pvcs.list()) if (!c.spec?.volumeName) queue.add(`claim:${c.metadata.namespace}/${c.metadata.name}`);
  };
  classes.addHandlers({ add: allClaims, update: allClaims });

  const provision = async (key: string) => {
    const c = pvcs.get(key);
    if (!c) return;
    const sc = classes.get(claimClass(c));
    const d = decideClaim(c, sc, scope);
    if (d.action === 'ignore') return;
    if (d.action === 'fail') {
      claimEvent(c, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": ${d.message}`);
      return;
    }
    const pv = volumeFor(c, sc, scope);
    if (pvs.get(pv.metadata.name)) return; // made already; the PV controller binds it
    claimEvent(c, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${c.metadata.namespace}/${c.metadata.name}"`);
    const dir = volumeDir(c, scope.baseDir);
    try {
      await mkdir(dir, { recursive: true, mode: 0o777 });
      // Containers of any user may write, as rancher's `mkdir -m 0777`.
      await chmod(dir, 0o777);
    } catch (e) {
      claimEvent(c, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": failed to create volume ${pv.metadata.name}: ${(e as Error).message}`);
      throw e;
    }
    try {
      await client.create('/api/v1/persistentvolumes', pv);
    } catch (e) {
      if ((e as any)?.status === 409) return;
      claimEvent(c, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": ${(e as Error).message}`);
      throw e;
    }
    log(`local-path: provisioned ${pv.metadata.name} for ${key} at ${dir}`);
    claimEvent(c, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pv.metadata.name}`);
  };

  const reclaim = async (name: string) => {
    const v = pvs.get(name);
    if (!v) return;
    const d = shouldDelete(v, scope);
    if (!d.delete) return;
    if (d.removeDir) await rm(d.removeDir, { recursive: true, force: true });
    try {
      await client.delete(`/api/v1/persistentvolumes/${name}`, { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: v.metadata.uid } });
    } catch (e) {
      if ((e as any)?.status !== 404 && (e as any)?.status !== 409) throw e;
    }
    log(`local-path: deleted ${name}${d.removeDir ? ` and ${d.removeDir}` : ''}`);
  };

  let running: Promise<void> | undefined;
  return {
    name: `local-path-provisioner (${opts.nodeName})`,
    async start() {
      await mkdir(scope.baseDir, { recursive: true, mode: 0o755 });
      await factory.start();
      running = runWorkers(queue, 2, (k) => (k.startsWith('claim:') ? provision(k.slice(6)) : reclaim(k.slice(7))), (k, e) => log(`local-path: ${k}: ${(e as Error)?.message ?? e}`));
    },
    async stop() {
      queue.shutDown();
      factory.stop();
      await running;
    },
  };
}
