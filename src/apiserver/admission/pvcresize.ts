import type { AdmissionPlugin } from './types.js';
import { REGISTRY_PREFIX } from '../watchcache.js';
import { forbidden } from './util.js';
import { compareQuantity, parseQuantityExact } from '../validation/quantity.js';

const BETA_CLASS = 'volume.beta.kubernetes.io/storage-class';

/** The claim's class, the beta annotation first (apihelper.GetPersistentVolumeClaimClass). */
function claimClass(pvc: any): string {
  return pvc?.metadata?.annotations?.[BETA_CLASS] ?? pvc?.spec?.storageClassName ?? '';
}

function storageRequest(pvc: any) {
  const q = parseQuantityExact(pvc?.spec?.resources?.requests?.storage ?? '0');
  return typeof q === 'string' ? undefined : q;
}

/**
 * Upstream's PersistentVolumeClaimResize admission plugin: a claim's storage request may grow only
 * when it is bound and its StorageClass (the same before and after) sets allowVolumeExpansion.
 * Shrinking and other changes are validation's business.
 */
export const pvcResizePlugin: AdmissionPlugin = {
  name: 'PersistentVolumeClaimResize',
  handles: (req) => req.info.key === 'persistentvolumeclaims' && req.operation === 'UPDATE' && !req.subresource,
  validate(req) {
    const next = storageRequest(req.object);
    const prev = storageRequest(req.oldObject);
    if (!next || !prev || compareQuantity(next, prev) <= 0) return;
    if (req.oldObject?.status?.phase !== 'Bound') throw forbidden(req, 'Only bound persistent volume claims can be expanded');
    const cls = claimClass(req.object);
    const sc = cls && cls === claimClass(req.oldObject) ? req.registry.cache.get(`${REGISTRY_PREFIX}storage.k8s.io/storageclasses/${cls}`)?.obj : undefined;
    if (sc?.allowVolumeExpansion !== true) {
      throw forbidden(req, 'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize');
    }
  },
};
