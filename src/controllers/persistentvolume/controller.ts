import { refOf } from '../../client/events.js';
import type { Informer } from '../../client/informer.js';
import { QueueController, isNotFound, type ControllerContext } from '../controller.js';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_STORAGE_PROVISIONER,
  boundClaimStatus,
  claimBoundTo,
  claimClass,
  claimHasNoClass,
  defaultClass,
  delayBinding,
  findBestMatch,
  isVolumeBoundToClaim,
  reclaimOf,
  selectedNode,
  volumeBoundTo,
  volumeSatisfiesClaim,
  volumeUnbound,
} from './binding.js';

export const PV_RESOURCE = { group: '', version: 'v1', resource: 'persistentvolumes' } as const;
export const PVC_RESOURCE = { group: '', version: 'v1', resource: 'persistentvolumeclaims' } as const;
export const SC_RESOURCE = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' } as const;

/** How often unbound claims and unsettled volumes are looked at again (upstream's --pvclaimbinder-sync-period). */
const RESYNC_MS = 15_000;

const pvPath = (name: string, sub = '') => `/api/v1/persistentvolumes/${name}${sub}`;
const pvcPath = (ns: string, name: string, sub = '') => `/api/v1/namespaces/${ns}/persistentvolumeclaims/${name}${sub}`;

/**
 * Upstream's persistentvolume-binder (PersistentVolumeController): binds claims to volumes and keeps
 * both sides' status phases, hands claims of a class to its provisioner (the storage-provisioner
 * annotations; for WaitForFirstConsumer only once the scheduler chose a node), assigns the default
 * class to claims without one, and releases volumes whose claim is gone (Retain keeps them Released;
 * Delete is left to the provisioner that made them). Keys are `ns/name` for claims, `name` for volumes.
 */
export class PersistentVolumeController extends QueueController {
  private readonly pvs: Informer;
  private readonly pvcs: Informer;
  private readonly classes: Informer;
  private readonly recorder;

  constructor(ctx: ControllerContext) {
    super(ctx, 'persistentvolume-binder', 2);
    this.recorder = ctx.recorder('persistentvolume-controller');
    this.pvs = ctx.informers.for(PV_RESOURCE);
    this.pvcs = ctx.informers.for(PVC_RESOURCE);
    this.classes = ctx.informers.for(SC_RESOURCE);
    const onClaim = (c: any) => this.enqueue(c);
    this.pvcs.addHandlers({
      add: onClaim,
      update: (_o, c) => onClaim(c),
      // The claim's volume is released.
      delete: (c: any) => {
        if (c?.spec?.volumeName) this.enqueue(c.spec.volumeName);
      },
    });
    const onVolume = (v: any) => {
      this.enqueue(v.metadata.name);
      const ref = v.spec?.claimRef;
      if (ref?.namespace && ref.name) this.enqueue(`${ref.namespace}/${ref.name}`);
    };
    this.pvs.addHandlers({ add: onVolume, update: (_o, v) => onVolume(v), delete: onVolume });
    // A new (default) class may let claims move on.
    this.classes.addHandlers({ add: () => this.enqueueClaims(), update: () => this.enqueueClaims() });
  }

  private enqueueClaims(): void {
    for (const c of this.pvcs.list()) if (!c.spec?.volumeName) this.enqueue(c);
  }

  private claimEvent(c: any, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.recorder.event(refOf(c, 'PersistentVolumeClaim', 'v1'), type, reason, message);
  }

  private volumeEvent(v: any, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.recorder.event(refOf(v, 'PersistentVolume', 'v1'), type, reason, message);
  }

  protected async reconcile(key: string): Promise<void> {
    if (key.includes('/')) {
      const c = this.pvcs.get(key);
      if (c) await this.syncClaim(structuredClone(c));
    } else {
      const v = this.pvs.get(key);
      if (v) await this.syncVolume(structuredClone(v));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Claims

  private async syncClaim(c: any): Promise<void> {
    if (claimHasNoClass(c) && !c.spec.volumeName) {
      // Retroactive default class (upstream does this here as well as in DefaultStorageClass admission).
      const def = defaultClass(this.classes.list());
      if (def) {
        try {
          await this.ctx.client.update(pvcPath(c.metadata.namespace, c.metadata.name), { ...c, spec: { ...c.spec, storageClassName: def.metadata.name } });
          return;
        } catch (e) {
          // A server whose validation keeps spec.storageClassName immutable: the claim stays class-less.
          if ((e as any)?.status !== 422) throw e;
        }
      }
    }
    if (c.metadata.annotations?.[ANN_BIND_COMPLETED] !== 'yes') await this.syncUnboundClaim(c);
    else await this.syncBoundClaim(c);
  }

  private async syncUnboundClaim(c: any): Promise<void> {
    const ns = c.metadata.namespace;
    if (!c.spec.volumeName) {
      const cls = claimClass(c);
      const sc = cls ? this.classes.get(cls) : undefined;
      const delayed = delayBinding(c, sc);
      const pv = findBestMatch(c, this.pvs.list(), delayed);
      if (pv) return this.bind(structuredClone(pv), c);
      if (delayed && !selectedNode(c)) {
        this.claimEvent(c, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      } else if (cls) {
        c = await this.provisionClaim(c, cls, sc);
      } else {
        this.claimEvent(c, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      }
      await this.claimPhase(c, 'Pending');
      this.enqueueAfter(`${ns}/${c.metadata.name}`, RESYNC_MS);
      return;
    }
    // The claim names its volume (the user pre-bound it).
    const pv = await this.volume(c.spec.volumeName);
    if (!pv) {
      await this.claimPhase(c, 'Pending');
      this.enqueueAfter(`${ns}/${c.metadata.name}`, RESYNC_MS);
      return;
    }
    if (!pv.spec.claimRef) {
      const err = volumeSatisfiesClaim(pv, c);
      if (err) {
        this.claimEvent(c, 'Warning', 'VolumeMismatch', `Cannot bind to requested volume "${pv.metadata.name}": ${err}`);
        await this.claimPhase(c, 'Pending');
        this.enqueueAfter(`${ns}/${c.metadata.name}`, RESYNC_MS);
        return;
      }
      return this.bind(pv, c);
    }
    if (isVolumeBoundToClaim(pv, c)) return this.bind(pv, c);
    if (c.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER]) throw new Error('Invalid binding of claim to volume: claim is bound to a volume that is bound to another claim');
    this.claimEvent(c, 'Warning', 'FailedBinding', `volume "${pv.metadata.name}" already bound to a different claim.`);
    await this.claimPhase(c, 'Pending');
    this.enqueueAfter(`${ns}/${c.metadata.name}`, RESYNC_MS);
  }

  private async syncBoundClaim(c: any): Promise<void> {
    if (!c.spec.volumeName) {
      if (c.status?.phase !== 'Lost') this.claimEvent(c, 'Warning', 'ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
      return this.claimPhase(c, 'Lost');
    }
    const pv = await this.volume(c.spec.volumeName);
    if (!pv) {
      if (c.status?.phase !== 'Lost') this.claimEvent(c, 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      return this.claimPhase(c, 'Lost');
    }
    if (!pv.spec.claimRef || isVolumeBoundToClaim(pv, c)) return this.bind(pv, c);
    if (c.status?.phase !== 'Lost') this.claimEvent(c, 'Warning', 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
    return this.claimPhase(c, 'Lost');
  }

  /** Hands the claim to its class's provisioner (upstream's provisionClaimOperationExternal). */
  private async provisionClaim(c: any, cls: string, sc: any | undefined): Promise<any> {
    if (!sc) {
      this.claimEvent(c, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${cls}" not found`);
      return c;
    }
    const provisioner: string = sc.provisioner;
    const ann = c.metadata.annotations ?? {};
    if (ann[ANN_STORAGE_PROVISIONER] !== provisioner || ann[ANN_BETA_STORAGE_PROVISIONER] !== provisioner) {
      c.metadata.annotations = { ...ann, [ANN_STORAGE_PROVISIONER]: provisioner, [ANN_BETA_STORAGE_PROVISIONER]: provisioner };
      // The update syncs the claim again at once, and that sync reports it (one event, not two racing).
      return this.ctx.client.update(pvcPath(c.metadata.namespace, c.metadata.name), c);
    }
    this.claimEvent(
      c,
      'Normal',
      'ExternalProvisioning',
      `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
    return c;
  }

  /** Upstream's bind(): the volume's claimRef, its phase Bound, the claim's volumeName and annotations, its phase Bound. */
  private async bind(pv: any, c: any): Promise<void> {
    const nextPV = volumeBoundTo(pv, c);
    if (nextPV) pv = await this.ctx.client.update(pvPath(pv.metadata.name), nextPV);
    if (pv.status?.phase !== 'Bound') pv = await this.ctx.client.update(pvPath(pv.metadata.name, '/status'), { ...pv, status: { ...(pv.status ?? {}), phase: 'Bound' } });
    const nextClaim = claimBoundTo(c, pv);
    if (nextClaim) c = await this.ctx.client.update(pvcPath(c.metadata.namespace, c.metadata.name), nextClaim);
    const status = boundClaimStatus(c, pv);
    if (status) await this.ctx.client.update(pvcPath(c.metadata.namespace, c.metadata.name, '/status'), { ...c, status });
  }

  private async claimPhase(c: any, phase: string): Promise<void> {
    if (c.status?.phase === phase) return;
    const status = { ...(c.status ?? {}), phase };
    if (phase !== 'Bound') {
      delete status.capacity;
      delete status.accessModes;
    }
    await this.ctx.client.update(pvcPath(c.metadata.namespace, c.metadata.name, '/status'), { ...c, status });
  }

  // ---------------------------------------------------------------------------------------------
  // Volumes

  private async syncVolume(v: any): Promise<void> {
    const ref = v.spec?.claimRef;
    if (!ref) return this.volumePhase(v, 'Available');
    // Pre-bound by a user to a claim that does not know yet: the claim's sync binds it.
    if (!ref.uid) return this.volumePhase(v, 'Available');
    let claim = await this.claim(ref.namespace, ref.name);
    if (claim && claim.metadata.uid !== ref.uid) claim = undefined; // deleted and created again
    if (!claim) {
      if (v.status?.phase !== 'Released' && v.status?.phase !== 'Failed') v = await this.volumePhase(v, 'Released');
      return this.reclaim(v);
    }
    if (!claim.spec?.volumeName) {
      // Binding half done (or a dangling link): the claim's sync completes it.
      this.enqueue(claim);
      return;
    }
    if (claim.spec.volumeName === v.metadata.name) return this.volumePhase(v, 'Bound');
    // The claim went to another volume.
    if (v.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER] && v.spec.persistentVolumeReclaimPolicy === 'Delete' && v.metadata.annotations?.['pv.kubernetes.io/provisioned-by']) {
      if (v.status?.phase !== 'Released') v = await this.volumePhase(v, 'Released');
      return this.reclaim(v);
    }
    const next = await this.ctx.client.update(pvPath(v.metadata.name), volumeUnbound(v));
    await this.volumePhase(next, 'Available');
  }

  private async reclaim(v: any): Promise<void> {
    const r = reclaimOf(v);
    if (r.action !== 'fail' || v.status?.phase === 'Failed') return;
    this.volumeEvent(v, 'Warning', r.reason, r.message);
    await this.volumePhase(v, 'Failed', r.message);
  }

  private async volumePhase(v: any, phase: string, message?: string): Promise<any> {
    if (v.status?.phase === phase && (message === undefined || v.status?.message === message)) return v;
    const status: any = { ...(v.status ?? {}), phase, lastPhaseTransitionTime: new Date(this.ctx.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z') };
    if (message) status.message = message;
    else delete status.message;
    return this.ctx.client.update(pvPath(v.metadata.name, '/status'), { ...v, status });
  }

  // ---------------------------------------------------------------------------------------------
  // Lookups: the cache, then the API server (a new object may not have reached the cache yet, and
  // deciding "gone" on a lagging cache would release a bound volume).

  private async volume(name: string): Promise<any | undefined> {
    const v = this.pvs.get(name);
    if (v) return structuredClone(v);
    try {
      return await this.ctx.client.get(pvPath(name));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private async claim(ns: string, name: string): Promise<any | undefined> {
    const c = this.pvcs.get(`${ns}/${name}`);
    if (c) return c;
    try {
      return await this.ctx.client.get(pvcPath(ns, name));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
}
