import { R } from '../../client/factory.js';
import type { Informer } from '../../client/informer.js';
import { QueueController, isNotFound, type ControllerContext } from '../controller.js';
import { PV_RESOURCE, PVC_RESOURCE } from './controller.js';

export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

/** A scheduled pod that has not finished uses the claims its volumes name (upstream's podUsesPVC). */
export function podUsesClaim(pod: any, claim: string): boolean {
  if (!pod.spec?.nodeName || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
  return (pod.spec.volumes ?? []).some((v: any) => v.persistentVolumeClaim?.claimName === claim || (v.ephemeral && `${pod.metadata.name}-${v.name}` === claim));
}

/** What the protection controllers do with an object's finalizer: add it, remove it, or nothing. */
export function protectionAction(obj: any, finalizer: string, inUse: () => boolean): 'add' | 'remove' | undefined {
  const has = (obj.metadata?.finalizers ?? []).includes(finalizer);
  if (obj.metadata?.deletionTimestamp) return has && !inUse() ? 'remove' : undefined;
  return has ? undefined : 'add';
}

function withFinalizer(obj: any, finalizer: string, action: 'add' | 'remove'): any {
  const next = structuredClone(obj);
  const fs: string[] = next.metadata.finalizers ?? [];
  next.metadata.finalizers = action === 'add' ? [...fs, finalizer] : fs.filter((f) => f !== finalizer);
  return next;
}

/**
 * Upstream's pvc-protection controller: claims carry `kubernetes.io/pvc-protection` (added here when
 * admission did not), and a deleted claim keeps it while a pod that is not finished uses it, so the
 * volume is not released (and, under Delete, removed) beneath a running pod.
 */
export class PVCProtectionController extends QueueController {
  private readonly pvcs: Informer;
  private readonly pods: Informer;

  constructor(ctx: ControllerContext) {
    super(ctx, 'pvc-protection', 2);
    this.pvcs = ctx.informers.for(PVC_RESOURCE);
    this.pods = ctx.informers.for(R.pods);
    this.pvcs.addHandlers({ add: (c) => this.enqueue(c), update: (_o, c) => this.enqueue(c) });
    const onPod = (p: any) => {
      for (const v of p?.spec?.volumes ?? []) {
        const claim = v.persistentVolumeClaim?.claimName ?? (v.ephemeral ? `${p.metadata.name}-${v.name}` : undefined);
        if (claim) this.enqueue(`${p.metadata.namespace}/${claim}`);
      }
    };
    this.pods.addHandlers({ add: onPod, update: (_o, p) => onPod(p), delete: onPod });
  }

  protected async reconcile(key: string): Promise<void> {
    const c = this.pvcs.get(key);
    if (!c) return;
    const ns = c.metadata.namespace;
    const action = protectionAction(c, PVC_PROTECTION_FINALIZER, () => this.pods.list().some((p) => p.metadata.namespace === ns && podUsesClaim(p, c.metadata.name)));
    if (!action) return;
    try {
      await this.ctx.client.update(`/api/v1/namespaces/${ns}/persistentvolumeclaims/${c.metadata.name}`, withFinalizer(c, PVC_PROTECTION_FINALIZER, action));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** Upstream's pv-protection controller: a deleted volume stays while it is Bound to a claim. */
export class PVProtectionController extends QueueController {
  private readonly pvs: Informer;

  constructor(ctx: ControllerContext) {
    super(ctx, 'pv-protection', 1);
    this.pvs = ctx.informers.for(PV_RESOURCE);
    this.pvs.addHandlers({ add: (v) => this.enqueue(v), update: (_o, v) => this.enqueue(v) });
  }

  protected async reconcile(key: string): Promise<void> {
    const v = this.pvs.get(key);
    if (!v) return;
    const action = protectionAction(v, PV_PROTECTION_FINALIZER, () => v.status?.phase === 'Bound');
    if (!action) return;
    try {
      await this.ctx.client.update(`/api/v1/persistentvolumes/${v.metadata.name}`, withFinalizer(v, PV_PROTECTION_FINALIZER, action));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
