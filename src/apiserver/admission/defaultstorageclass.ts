import type { AdmissionPlugin } from './types.js';
import { REGISTRY_PREFIX } from '../watchcache.js';

const DEFAULT = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT = 'storageclass.beta.kubernetes.io/is-default-class';
const BETA_CLASS = 'volume.beta.kubernetes.io/storage-class';

/**
 * Upstream's DefaultStorageClass admission plugin: a PersistentVolumeClaim created without
 * spec.storageClassName (nil, not "") and without the beta class annotation gets the default
 * StorageClass (annotation is-default-class "true"; several: the newest, then the name first).
 */
export const defaultStorageClassPlugin: AdmissionPlugin = {
  name: 'DefaultStorageClass',
  handles: (req) => req.info.key === 'persistentvolumeclaims' && req.operation === 'CREATE' && !req.subresource,
  admit(req) {
    const pvc = req.object;
    if (pvc.spec?.storageClassName !== undefined && pvc.spec?.storageClassName !== null) return;
    if (pvc.metadata?.annotations?.[BETA_CLASS] !== undefined) return;
    const classes = req.registry.cache.list('storage.k8s.io/storageclasses', `${REGISTRY_PREFIX}storage.k8s.io/storageclasses/`).map((c) => c.obj);
    const defaults = classes.filter((sc) => sc.metadata?.annotations?.[DEFAULT] === 'true' || sc.metadata?.annotations?.[BETA_DEFAULT] === 'true');
    if (!defaults.length) return;
    defaults.sort((a, b) => (Date.parse(b.metadata.creationTimestamp) || 0) - (Date.parse(a.metadata.creationTimestamp) || 0) || (a.metadata.name < b.metadata.name ? -1 : 1));
    (pvc.spec ??= {}).storageClassName = defaults[0].metadata.name;
  },
};
