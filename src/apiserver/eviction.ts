import type { Registry, DeleteOptions } from './registry.js';
import type { ResourceInfo } from './resources.js';
import { findResource } from './resources.js';
import { StatusError, conflict } from './status.js';
import { REGISTRY_PREFIX } from './watchcache.js';
import { selectorFromLabelSelector } from './selectors/labels.js';

/**
 * The pods/eviction subresource (policy/v1 Eviction), as upstream: a running pod covered by a
 * PodDisruptionBudget is deleted only if the budget allows one more disruption, which is recorded in
 * the budget's status first so concurrent evictions cannot overspend it.
 */
export async function evictPod(reg: Registry, pods: ResourceInfo, namespace: string, name: string, deleteOptions: DeleteOptions, dryRun: boolean): Promise<void> {
  const pod = (await reg.get(pods, namespace, name)).obj;
  const opts: DeleteOptions = { ...deleteOptions, dryRun: dryRun || undefined };
  if (pod.metadata.deletionTimestamp) {
    await reg.delete(pods, namespace, name, opts);
    return;
  }
  // Pods that are not running cannot be disrupted further: no budget applies (upstream's check).
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending') {
    await reg.delete(pods, namespace, name, opts);
    return;
  }
  // A budget's status is also written by the disruption controller: a conflict re-reads the budget
  // and tries again, as upstream's eviction does (EvictionsRetry), rather than failing the eviction.
  for (let attempt = 1; ; attempt++) {
    try {
      await spendBudget(reg, pod, namespace, name, dryRun);
      break;
    } catch (e) {
      if (!(e instanceof StatusError && e.code === 409) || attempt >= EVICTION_CONFLICT_RETRIES) throw e;
      await new Promise((r) => setTimeout(r, EVICTION_RETRY_DELAY_MS));
    }
  }
  await reg.delete(pods, namespace, name, opts);
}

const EVICTION_CONFLICT_RETRIES = 20;
const EVICTION_RETRY_DELAY_MS = 50;

/** Checks the pod's PodDisruptionBudget (if any) and records one more disruption in its status. */
async function spendBudget(reg: Registry, pod: any, namespace: string, name: string, dryRun: boolean): Promise<void> {
  const pdbs = findResource('policy', 'v1', 'poddisruptionbudgets')!;
  const matching = reg.cache
    .list(pdbs.storageKey, `${REGISTRY_PREFIX}${pdbs.storageKey}/${namespace}/`)
    .map((c) => c.obj)
    .filter((b) => {
      try {
        const sel = selectorFromLabelSelector(b.spec?.selector);
        return !sel.empty && sel.matches(pod.metadata.labels ?? {});
      } catch {
        return false;
      }
    });
  if (matching.length > 1) {
    throw new StatusError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  }
  if (matching.length === 1) {
    const pdb = matching[0];
    const allowed = pdb.status?.disruptionsAllowed ?? 0;
    if ((pdb.status?.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0) || allowed <= 0) {
      throw new StatusError(429, 'TooManyRequests', `Cannot evict pod as it would violate the pod's disruption budget.`, {
        causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} needs ${pdb.status?.desiredHealthy ?? 0} healthy pods and has ${pdb.status?.currentHealthy ?? 0} currently` }],
      });
    }
    if (!dryRun) {
      try {
        await reg.update(pdbs, namespace, pdb.metadata.name, {
          ...pdb,
          status: {
            ...pdb.status,
            disruptionsAllowed: allowed - 1,
            disruptedPods: { ...pdb.status?.disruptedPods, [name]: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') },
          },
        }, { subresource: 'status' });
      } catch (e) {
        if (e instanceof StatusError && e.code === 409) throw conflict('policy', 'poddisruptionbudgets', pdb.metadata.name, 'the object has been modified; please apply your changes to the latest version and try again');
        throw e;
      }
    }
  }
}
