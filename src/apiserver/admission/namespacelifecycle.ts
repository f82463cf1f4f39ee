import { namespaceTerminating, notFound } from '../status.js';
import { REGISTRY_PREFIX } from '../watchcache.js';
import type { AdmissionPlugin } from './types.js';
import { forbidden } from './util.js';

/** Namespaces that can never be deleted, as upstream. */
export const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

/**
 * NamespaceLifecycle: nothing is created in a missing or terminating namespace (the registry checks
 * the same before admission; this keeps the plugin chain complete), and the immortal namespaces
 * cannot be deleted.
 */
export const namespaceLifecyclePlugin: AdmissionPlugin = {
  name: 'NamespaceLifecycle',
  handles: (req) => (req.operation === 'CREATE' && req.info.namespaced && !!req.namespace) || (req.operation === 'DELETE' && req.info.key === 'namespaces'),
  validate(req) {
    if (req.operation === 'DELETE') {
      const name = req.oldObject?.metadata?.name ?? req.object?.metadata?.name;
      if (IMMORTAL_NAMESPACES.has(name)) throw forbidden(req, 'this namespace may not be deleted');
      return;
    }
    const ns = req.registry.cache.get(`${REGISTRY_PREFIX}namespaces/${req.namespace}`)?.obj;
    if (!ns) throw notFound('', 'namespaces', req.namespace!);
    if (ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') {
      const m = req.object?.metadata;
      throw namespaceTerminating(req.namespace!, req.info.group, req.info.resource, m?.name || m?.generateName || '');
    }
  },
};
