import { StatusError } from '../status.js';
import type { AdmissionPlugin } from './types.js';
import { REGISTRY_PREFIX } from '../watchcache.js';

/** Upstream's built-in classes, created at bootstrap. */
export const SYSTEM_PRIORITY_CLASSES = [
  { name: 'system-node-critical', value: 2000001000, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: 2000000000, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
];

/**
 * The Priority admission plugin: resolves spec.priorityClassName to spec.priority (and the class's
 * preemptionPolicy), falling back to the global default class, as upstream.
 */
export const priorityPlugin: AdmissionPlugin = {
  name: 'Priority',
  handles: (req) => req.info.key === 'pods' && req.operation === 'CREATE' && !req.subresource,
  admit(req) {
    const spec = (req.object.spec ??= {});
    const classes = req.registry.cache.list('scheduling.k8s.io/priorityclasses', `${REGISTRY_PREFIX}scheduling.k8s.io/priorityclasses/`).map((c) => c.obj);
    let pc: any;
    if (spec.priorityClassName) {
      pc = classes.find((c) => c.metadata.name === spec.priorityClassName);
      if (!pc) throw new StatusError(403, 'Forbidden', `pods "${req.object.metadata?.name ?? ''}" is forbidden: no PriorityClass with name ${spec.priorityClassName} was found`, { name: req.object.metadata?.name, kind: 'pods' });
    } else {
      pc = classes.filter((c) => c.globalDefault).sort((a, b) => a.value - b.value)[0];
      if (pc) spec.priorityClassName = pc.metadata.name;
    }
    const value = pc ? pc.value : 0;
    if (spec.priority !== undefined && spec.priority !== value) {
      throw new StatusError(403, 'Forbidden', `pods "${req.object.metadata?.name ?? ''}" is forbidden: the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`, { name: req.object.metadata?.name, kind: 'pods' });
    }
    spec.priority = value;
    if (pc?.preemptionPolicy) spec.preemptionPolicy = pc.preemptionPolicy;
  },
};
