/**
 * The decisions of Skiff's local-path provisioner (rancher/local-path-provisioner semantics, name
 * `rancher.io/local-path`), as pure functions: which claims this node provisions, the
 * PersistentVolume it creates for one, and which Released volumes it deletes.
 */
import path from 'node:path';
import { ANN_DYNAMICALLY_PROVISIONED, claimClass, claimProvisioner, selectedNode } from '../persistentvolume/binding.js';

export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';
/** The node a volume's directory lives on (rancher's annotation). */
export const ANN_PROVISIONER_NODE = 'local.path.provisioner/selected-node';
const HOSTNAME_LABEL = 'kubernetes.io/hostname';

export interface ProvisionerScope {
  provisioner: string;
  nodeName: string;
  /** Where this node's volumes live: `<baseDir>/pvc-<uid>_<namespace>_<name>`. */
  baseDir: string;
}

export type ClaimDecision = { action: 'ignore' } | { action: 'fail'; message: string } | { action: 'provision' };

/**
 * A claim is this node's to provision when it is unbound, was handed to this provisioner (the PV
 * controller's storage-provisioner annotation), its class is ours, and the scheduler selected this
 * node. Like rancher's, volumes need a node: an Immediate class is a configuration error.
 */
export function decideClaim(pvc: any, sc: any | undefined, scope: ProvisionerScope): ClaimDecision {
  if (pvc.spec?.volumeName || pvc.metadata?.deletionTimestamp) return { action: 'ignore' };
  if (claimProvisioner(pvc) !== scope.provisioner) return { action: 'ignore' };
  if (!sc || sc.provisioner !== scope.provisioner || claimClass(pvc) !== sc.metadata?.name) return { action: 'ignore' };
  const node = selectedNode(pvc);
  if (!node) return sc.volumeBindingMode === 'WaitForFirstConsumer' ? { action: 'ignore' } : { action: 'fail', message: 'configuration error, no node was specified' };
  if (node !== scope.nodeName) return { action: 'ignore' };
  return { action: 'provision' };
}

export const volumeName = (pvc: any) => `pvc-${pvc.metadata.uid}`;

export function volumeDir(pvc: any, baseDir: string): string {
  return path.join(baseDir, `${volumeName(pvc)}_${pvc.metadata.namespace}_${pvc.metadata.name}`);
}

/**
 * The PersistentVolume for a claim: pre-bound to it (claimRef with UID), the class's reclaim policy
 * and mount options, the requested size, and a hostPath (or, with the class parameter or claim
 * annotation `volumeType: local`, a `local` volume) pinned to this node by node affinity.
 */
export function volumeFor(pvc: any, sc: any, scope: ProvisionerScope): any {
  const dir = volumeDir(pvc, scope.baseDir);
  const type = pvc.metadata?.annotations?.volumeType ?? sc.parameters?.volumeType ?? 'hostPath';
  const spec: any = {
    capacity: { storage: pvc.spec?.resources?.requests?.storage ?? '0' },
    accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
    persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
    storageClassName: sc.metadata.name,
    volumeMode: pvc.spec?.volumeMode ?? 'Filesystem',
    claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid, resourceVersion: pvc.metadata.resourceVersion },
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [scope.nodeName] }] }] } },
  };
  if (String(type).toLowerCase() === 'local') spec.local = { path: dir };
  else spec.hostPath = { path: dir, type: 'DirectoryOrCreate' };
  if (sc.mountOptions?.length) spec.mountOptions = [...sc.mountOptions];
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: volumeName(pvc), annotations: { [ANN_DYNAMICALLY_PROVISIONED]: scope.provisioner, [ANN_PROVISIONER_NODE]: scope.nodeName } },
    spec,
  };
}

/** The directory behind a volume this provisioner made (hostPath or local). */
export function pathOf(pv: any): string | undefined {
  return pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
}

/** The node whose provisioner made the volume (its annotation, else its node affinity). */
export function nodeOf(pv: any): string | undefined {
  const ann = pv.metadata?.annotations?.[ANN_PROVISIONER_NODE];
  if (ann) return ann;
  for (const t of pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    for (const e of t.matchExpressions ?? []) if (e.key === HOSTNAME_LABEL && e.operator === 'In' && e.values?.length === 1) return e.values[0];
  }
  return undefined;
}

/**
 * This node deletes a volume it made once it is Released under the Delete policy; the directory
 * must lie inside its base directory (a volume pointing elsewhere is never removed from disk).
 */
export function shouldDelete(pv: any, scope: ProvisionerScope): { delete: boolean; removeDir?: string } {
  if (pv.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] !== scope.provisioner) return { delete: false };
  if (pv.spec?.persistentVolumeReclaimPolicy !== 'Delete' || pv.status?.phase !== 'Released') return { delete: false };
  if (nodeOf(pv) !== scope.nodeName) return { delete: false };
  const p = pathOf(pv);
  const inside = !!p && path.resolve(p).startsWith(path.resolve(scope.baseDir) + path.sep);
  return { delete: true, removeDir: inside ? path.resolve(p) : undefined };
}
