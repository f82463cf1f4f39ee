/**
 * The binding decisions of upstream's PersistentVolume controller (pkg/controller/volume/
 * persistentvolume: pv_controller.go, index.go, util.go), as pure functions over plain objects:
 * which Available volume fits a claim, whether a named volume satisfies it, and the objects a bind
 * or an unbind writes. The controller (controller.ts) does the I/O.
 */
import { parseQuantity } from '../../scheduler/quantity.js';
import { selectorMatches } from '../controller.js';

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const ANN_DYNAMICALLY_PROVISIONED = 'pv.kubernetes.io/provisioned-by';
export const ANN_DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';
export const ANN_BETA_DEFAULT_CLASS = 'storageclass.beta.kubernetes.io/is-default-class';
export const ANN_BETA_CLASS = 'volume.beta.kubernetes.io/storage-class';
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

/** The claim's class: the beta annotation wins over spec.storageClassName, as upstream's GetPersistentVolumeClaimClass. */
export function claimClass(pvc: any): string {
  const ann = pvc?.metadata?.annotations?.[ANN_BETA_CLASS];
  if (ann !== undefined) return ann;
  return pvc?.spec?.storageClassName ?? '';
}

export function volumeClass(pv: any): string {
  const ann = pv?.metadata?.annotations?.[ANN_BETA_CLASS];
  if (ann !== undefined) return ann;
  return pv?.spec?.storageClassName ?? '';
}

const bytes = (q: unknown) => parseQuantity(q as string | undefined);

/** Upstream's IsVolumeBoundToClaim: claimRef names the claim (and its UID, when the ref has one). */
export function isVolumeBoundToClaim(pv: any, pvc: any): boolean {
  const ref = pv?.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== pvc.metadata?.name || (ref.namespace ?? '') !== (pvc.metadata?.namespace ?? '')) return false;
  return !ref.uid || ref.uid === pvc.metadata?.uid;
}

/** The volume's access modes include every mode the claim asks for. */
export function accessModesSatisfied(pvc: any, pv: any): boolean {
  const have: string[] = pv?.spec?.accessModes ?? [];
  return (pvc?.spec?.accessModes ?? []).every((m: string) => have.includes(m));
}

/**
 * Upstream's checkVolumeSatisfyClaim, for a claim naming a volume: an error message when the
 * volume cannot serve it (too small, another class, another volumeMode, missing access modes).
 */
export function volumeSatisfiesClaim(pv: any, pvc: any): string | undefined {
  const want = bytes(pvc.spec?.resources?.requests?.storage);
  const have = bytes(pv.spec?.capacity?.storage);
  if (have < want) return 'requested PV is too small';
  if (volumeClass(pv) !== claimClass(pvc)) return 'storageClassName does not match';
  if ((pv.spec?.volumeMode ?? 'Filesystem') !== (pvc.spec?.volumeMode ?? 'Filesystem')) return 'incompatible volumeMode';
  if (!accessModesSatisfied(pvc, pv)) return 'incompatible accessMode';
  return undefined;
}

/**
 * Upstream's findBestMatchForClaim without a node (the controller's path): a volume pre-bound to
 * the claim wins at once; otherwise the smallest Available, unclaimed volume of the claim's class
 * whose capacity, access modes, volumeMode and labels (the claim's selector) fit. With delayed
 * binding (WaitForFirstConsumer) only pre-bound volumes count: the scheduler picks the rest.
 */
export function findBestMatch(pvc: any, pvs: Iterable<any>, delayBinding: boolean): any | undefined {
  const want = bytes(pvc.spec?.resources?.requests?.storage);
  const mode = pvc.spec?.volumeMode ?? 'Filesystem';
  const cls = claimClass(pvc);
  const sel = pvc.spec?.selector;
  const hasSelector = !!sel && (Object.keys(sel.matchLabels ?? {}).length > 0 || (sel.matchExpressions ?? []).length > 0);
  let best: any;
  for (const pv of pvs) {
    if (pv.metadata?.deletionTimestamp) continue;
    if ((pv.spec?.volumeMode ?? 'Filesystem') !== mode) continue;
    if (!accessModesSatisfied(pvc, pv)) continue;
    const size = bytes(pv.spec?.capacity?.storage);
    if (size < want) continue;
    if (isVolumeBoundToClaim(pv, pvc)) return pv;
    if (delayBinding) continue;
    if (pv.status?.phase !== 'Available' || pv.spec?.claimRef) continue;
    if (hasSelector && !selectorMatches(sel, pv.metadata?.labels)) continue;
    if (volumeClass(pv) !== cls) continue;
    if (!best || size < bytes(best.spec?.capacity?.storage) || (size === bytes(best.spec?.capacity?.storage) && (pv.spec?.accessModes ?? []).length < (best.spec?.accessModes ?? []).length)) best = pv;
  }
  return best;
}

/** The class to use for claims without one: the newest class marked default, as upstream's GetDefaultClass. */
export function defaultClass(classes: Iterable<any>): any | undefined {
  let best: any;
  for (const sc of classes) {
    const a = sc.metadata?.annotations ?? {};
    if (a[ANN_DEFAULT_CLASS] !== 'true' && a[ANN_BETA_DEFAULT_CLASS] !== 'true') continue;
    const t = Date.parse(sc.metadata?.creationTimestamp ?? '') || 0;
    const bt = best ? Date.parse(best.metadata?.creationTimestamp ?? '') || 0 : -1;
    if (!best || t > bt || (t === bt && sc.metadata.name < best.metadata.name)) best = sc;
  }
  return best;
}

/** The claim asks for no class at all (not even ""): a default class may be assigned to it. */
export function claimHasNoClass(pvc: any): boolean {
  return (pvc.spec?.storageClassName === undefined || pvc.spec?.storageClassName === null) && pvc.metadata?.annotations?.[ANN_BETA_CLASS] === undefined;
}

/** The claim waits for a consumer: its class binds WaitForFirstConsumer and the scheduler has not chosen a node. */
export function delayBinding(pvc: any, sc: any | undefined): boolean {
  return sc?.volumeBindingMode === 'WaitForFirstConsumer';
}

export function selectedNode(pvc: any): string | undefined {
  return pvc.metadata?.annotations?.[ANN_SELECTED_NODE] || undefined;
}

/** The provisioner a claim was handed to (the GA annotation, or the beta one). */
export function claimProvisioner(pvc: any): string | undefined {
  const a = pvc.metadata?.annotations ?? {};
  return a[ANN_STORAGE_PROVISIONER] ?? a[ANN_BETA_STORAGE_PROVISIONER];
}

/**
 * Upstream's bindVolumeToClaim: the volume with claimRef naming the claim (UID and resourceVersion
 * included), marked bound-by-controller when the controller made the link. undefined: unchanged.
 */
export function volumeBoundTo(pv: any, pvc: any): any | undefined {
  const ref = pv.spec?.claimRef;
  const linked = ref && ref.uid === pvc.metadata.uid && ref.name === pvc.metadata.name && ref.namespace === pvc.metadata.namespace;
  if (linked) return undefined;
  const next = structuredClone(pv);
  next.spec.claimRef = { kind: 'PersistentVolumeClaim', namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid, apiVersion: 'v1', resourceVersion: pvc.metadata.resourceVersion };
  // A ref without a UID was set by a user (pre-binding); anything else is the controller's doing.
  if (!isVolumeBoundToClaim(pv, pvc)) (next.metadata.annotations ??= {})[ANN_BOUND_BY_CONTROLLER] = 'yes';
  return next;
}

/** Upstream's bindClaimToVolume: spec.volumeName plus the bind-completed (and bound-by-controller) annotations. */
export function claimBoundTo(pvc: any, pv: any): any | undefined {
  const a = pvc.metadata?.annotations ?? {};
  if (pvc.spec?.volumeName === pv.metadata.name && a[ANN_BIND_COMPLETED] === 'yes') return undefined;
  const next = structuredClone(pvc);
  const ann = (next.metadata.annotations ??= {});
  if (!pvc.spec?.volumeName) ann[ANN_BOUND_BY_CONTROLLER] = 'yes';
  next.spec.volumeName = pv.metadata.name;
  ann[ANN_BIND_COMPLETED] = 'yes';
  return next;
}

/** The claim status of a Bound claim: capacity and access modes are the volume's. undefined: unchanged. */
export function boundClaimStatus(pvc: any, pv: any): any | undefined {
  const status = { ...(pvc.status ?? {}), phase: 'Bound', accessModes: pv.spec?.accessModes ?? [], capacity: { ...(pv.spec?.capacity ?? {}) } };
  return sameJSON(status, pvc.status ?? {}) ? undefined : status;
}

/** Upstream's unbindVolume: a controller-made link goes entirely; a user's pre-binding keeps its name and loses the UID. */
export function volumeUnbound(pv: any): any {
  const next = structuredClone(pv);
  if (next.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER]) {
    delete next.spec.claimRef;
    delete next.metadata.annotations[ANN_BOUND_BY_CONTROLLER];
  } else if (next.spec.claimRef) {
    delete next.spec.claimRef.uid;
    delete next.spec.claimRef.resourceVersion;
  }
  return next;
}

/** What a Released volume's reclaim policy asks for. */
export type Reclaim = { action: 'retain' } | { action: 'external'; provisioner: string } | { action: 'fail'; reason: string; message: string };

export function reclaimOf(pv: any): Reclaim {
  const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
  if (policy === 'Retain') return { action: 'retain' };
  if (policy === 'Delete') {
    const by = pv.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED];
    // Volumes a provisioner made are deleted by that provisioner, which watches for Released ones.
    if (by) return { action: 'external', provisioner: by };
    return { action: 'fail', reason: 'VolumeFailedDelete', message: `error getting deleter volume plugin for volume "${pv.metadata.name}": no deletable volume plugin matched` };
  }
  return { action: 'fail', reason: 'VolumeFailedRecycle', message: `No recycler plugin found for the volume!` };
}

export function sameJSON(a: unknown, b: unknown): boolean {
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}

function canon(v: any): any {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]));
  return v;
}
