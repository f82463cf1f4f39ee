import type { AnyPlugin, CycleState, Handle, StateData } from '../../interface.js';
import { compileLabelSelector, compileNodeSelector } from '../../labels.js';
import type { PodInfo } from '../../podinfo.js';
import { value } from '../../quantity.js';
import { Status } from '../../status.js';
import type { Node, Pod } from '../../types.js';

export const ERR_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';
export const ERR_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const ERR_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_PV_NOT_EXIST = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
const NO_PROVISIONER = 'kubernetes.io/no-provisioner';
const SELECTED_NODE = 'volume.kubernetes.io/selected-node';

/** PersistentVolumeClaims, PersistentVolumes and StorageClasses as the scheduler's informers see them. */
export interface VolumeLister {
  /** Whether the API server serves PVCs and PVs; when it does not, VolumeBinding has nothing to check. */
  readonly served: boolean;
  pvc(namespace: string, name: string): any | undefined;
  pv(name: string): any | undefined;
  pvs(): Iterable<any>;
  /** undefined also when storage.k8s.io is not served: the claim then counts as Immediate. */
  storageClass(name: string): any | undefined;
}

/** What PreBind writes: PVs to reserve for claims (claimRef) and claims to provision on the node (selected-node). */
export interface VolumeDecisions {
  bindings: { pvc: any; pv: any }[];
  provisions: any[];
}

/** The claim names a pod uses: persistentVolumeClaim volumes and generic ephemeral volumes (<pod>-<volume>). */
export function podClaimNames(pod: Pod): { name: string; ephemeral: boolean }[] {
  const out: { name: string; ephemeral: boolean }[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) out.push({ name: v.persistentVolumeClaim.claimName, ephemeral: false });
    else if (v.ephemeral) out.push({ name: `${pod.metadata?.name}-${v.name}`, ephemeral: true });
  }
  return out;
}

function className(o: any): string {
  return o?.spec?.storageClassName ?? o?.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
}

/** A PV's required node affinity admits the node (no affinity admits every node). */
export function pvFitsNode(pv: any, node: Node): boolean {
  const terms = pv?.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms) return true;
  return compileNodeSelector(terms)(node);
}

/** upstream's FindMatchingVolume for delayed binding: the smallest available PV that satisfies the claim on this node. */
export function findMatchingVolume(pvc: any, pvs: Iterable<any>, node: Node, excluded: Set<string>): any | undefined {
  const want = value(pvc.spec?.resources?.requests?.storage ?? 0);
  const cls = className(pvc);
  const modes: string[] = pvc.spec?.accessModes ?? [];
  const mode = pvc.spec?.volumeMode ?? 'Filesystem';
  const sel = pvc.spec?.selector ? compileLabelSelector(pvc.spec.selector) : undefined;
  let best: any;
  let bestSize = Infinity;
  for (const pv of pvs) {
    const name = pv.metadata?.name;
    if (excluded.has(name) || pv.metadata?.deletionTimestamp) continue;
    const ref = pv.spec?.claimRef;
    const prebound = ref && ref.name === pvc.metadata?.name && (ref.namespace ?? '') === (pvc.metadata?.namespace ?? '') && (!ref.uid || ref.uid === pvc.metadata?.uid);
    if (ref && !prebound) continue;
    if ((pv.spec?.volumeMode ?? 'Filesystem') !== mode) continue;
    if (!prebound && (className(pv) !== cls || (pv.status?.phase && pv.status.phase !== 'Available'))) continue;
    const size = value(pv.spec?.capacity?.storage ?? 0);
    if (size < want) continue;
    const pvModes: string[] = pv.spec?.accessModes ?? [];
    if (!modes.every((m) => pvModes.includes(m))) continue;
    if (!prebound && sel && !sel(pv.metadata?.labels)) continue;
    if (!pvFitsNode(pv, node)) continue;
    if (prebound) return pv;
    if (size < bestSize) {
      best = pv;
      bestSize = size;
    }
  }
  return best;
}

/** A StorageClass's allowedTopologies admit the node (none: every node). */
function classAllowsNode(sc: any, node: Node): boolean {
  const topo: any[] = sc?.allowedTopologies ?? [];
  if (!topo.length) return true;
  const labels = node.metadata?.labels ?? {};
  return topo.some((t) => (t.matchLabelExpressions ?? []).every((e: any) => (e.values ?? []).includes(labels[e.key])));
}

class PreFilterState implements StateData {
  constructor(
    readonly bound: { pvc: any; pv: any | undefined }[],
    readonly delayed: any[],
    /** Per node: what Filter decided for the delayed claims (used by Reserve/PreBind). */
    readonly decisions = new Map<string, VolumeDecisions>(),
  ) {}
  clone() {
    return this;
  }
}

const KEY = 'PreFilterVolumeBinding';

/**
 * Upstream's VolumeBinding, its "can wait" part: claims must exist and not be terminating; unbound
 * claims of Immediate classes keep the pod out until a PV controller binds them; a bound claim's
 * PV must admit the node (its node affinity); a WaitForFirstConsumer claim needs, on the node, an
 * available matching PV or a class that can provision there. Reserve keeps a chosen PV from going to
 * two pods; PreBind writes the decisions when the scheduler can (PV claimRef, PVC selected-node).
 */
export function newVolumeBinding(_args: unknown, h: Handle): AnyPlugin {
  const assumed = new Map<string, string>();
  return {
    name: 'VolumeBinding',
    preFilter(s: CycleState, pi: PodInfo) {
      const claims = podClaimNames(pi.pod);
      const vols = h.volumes;
      if (!claims.length || !vols?.served) return { status: Status.skip() };
      const ns = pi.pod.metadata?.namespace ?? 'default';
      const bound: PreFilterState['bound'] = [];
      const delayed: any[] = [];
      let immediate = false;
      for (const c of claims) {
        const pvc = vols.pvc(ns, c.name);
        if (!pvc) return { status: Status.unresolvable(`persistentvolumeclaim "${c.name}" not found`) };
        if (pvc.metadata?.deletionTimestamp) return { status: Status.unresolvable(`persistentvolumeclaim "${c.name}" is being deleted`) };
        if (c.ephemeral && !(pvc.metadata?.ownerReferences ?? []).some((o: any) => o.controller && o.uid === pi.uid)) {
          return { status: Status.unresolvable(`PVC ${ns}/${c.name} was not created for pod ${ns}/${pi.pod.metadata?.name} (pod is not owner)`) };
        }
        if (pvc.spec?.volumeName) bound.push({ pvc, pv: vols.pv(pvc.spec.volumeName) });
        else if (vols.storageClass(className(pvc))?.volumeBindingMode === 'WaitForFirstConsumer') delayed.push(pvc);
        else immediate = true;
      }
      if (immediate) return { status: Status.unresolvable(ERR_UNBOUND_IMMEDIATE) };
      s.write(KEY, new PreFilterState(bound, delayed));
      return { status: null };
    },
    filter(s, _pi, ni) {
      const st = s.read<PreFilterState>(KEY);
      const node = ni.node;
      if (!st || !node) return null;
      const reasons: string[] = [];
      let pvMissing = false;
      let conflict = false;
      for (const b of st.bound) {
        if (!b.pv) pvMissing = true;
        else if (!pvFitsNode(b.pv, node)) conflict = true;
      }
      if (conflict) reasons.push(ERR_NODE_CONFLICT);
      const d: VolumeDecisions = { bindings: [], provisions: [] };
      if (st.delayed.length) {
        const taken = new Set(assumed.keys());
        let ok = true;
        for (const pvc of st.delayed) {
          const pv = findMatchingVolume(pvc, h.volumes!.pvs(), node, taken);
          if (pv) {
            taken.add(pv.metadata.name);
            d.bindings.push({ pvc, pv });
            continue;
          }
          const sc = h.volumes!.storageClass(className(pvc));
          if (!sc || sc.provisioner === NO_PROVISIONER || !classAllowsNode(sc, node)) ok = false;
          else d.provisions.push(pvc);
        }
        if (!ok) reasons.push(ERR_BIND_CONFLICT);
      }
      if (pvMissing) reasons.push(ERR_PV_NOT_EXIST);
      if (reasons.length) return Status.unresolvable(...reasons);
      if (st.delayed.length) st.decisions.set(ni.name, d);
      return null;
    },
    reserve(s, pi, nodeName) {
      const d = s.read<PreFilterState>(KEY)?.decisions.get(nodeName);
      if (!d) return null;
      for (const b of d.bindings) {
        const holder = assumed.get(b.pv.metadata.name);
        // Another pod took the PV since Filter looked: try again.
        if (holder && holder !== pi.uid) return Status.unschedulable(ERR_BIND_CONFLICT);
      }
      for (const b of d.bindings) assumed.set(b.pv.metadata.name, pi.uid);
      return null;
    },
    unreserve(s, pi, nodeName) {
      const d = s.read<PreFilterState>(KEY)?.decisions.get(nodeName);
      for (const b of d?.bindings ?? []) if (assumed.get(b.pv.metadata.name) === pi.uid) assumed.delete(b.pv.metadata.name);
    },
    async preBind(s, pi, nodeName) {
      const d = s.read<PreFilterState>(KEY)?.decisions.get(nodeName);
      if (!d || (!d.bindings.length && !d.provisions.length)) return null;
      try {
        if (h.api?.bindPodVolumes) await h.api.bindPodVolumes(pi.pod, nodeName, d);
      } catch (e) {
        return Status.error(`binding volumes: ${(e as Error).message}`);
      } finally {
        for (const b of d.bindings) if (assumed.get(b.pv.metadata.name) === pi.uid) assumed.delete(b.pv.metadata.name);
      }
      return null;
    },
    events: () => [
      { resource: 'PersistentVolumeClaim', actions: ['Add', 'Update'] },
      { resource: 'PersistentVolume', actions: ['Add', 'Update'] },
      { resource: 'StorageClass', actions: ['Add', 'Update'] },
      { resource: 'Node', actions: ['Add', 'UpdateNodeLabel', 'UpdateNodeTaint'] },
    ],
  };
}

/** The PVC annotation that asks the provisioner for a volume on the chosen node. */
export const SELECTED_NODE_ANNOTATION = SELECTED_NODE;
