import { R } from '../../client/factory.js';
import type { Informer } from '../../client/informer.js';
import { resourcePath } from '../../client/rest.js';
import { QueueController, isNotFound, type ControllerContext } from '../controller.js';
import { finishedCondition } from './job.js';

/** When a finished Job with ttlSecondsAfterFinished expires (epoch ms), or undefined if it never does. */
export function ttlExpiry(job: any): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  const c = finishedCondition(job);
  if (ttl == null || !c || job.metadata?.deletionTimestamp) return undefined;
  const finished = Date.parse(job.status?.completionTime ?? c.lastTransitionTime ?? '');
  return Number.isNaN(finished) ? undefined : finished + ttl * 1000;
}

/**
 * The TTL-after-finished controller: deletes a finished Job (and, foreground, its pods)
 * ttlSecondsAfterFinished after it finished, as upstream's ttlafterfinished controller.
 */
export class TTLAfterFinishedController extends QueueController {
  private readonly jobs: Informer;

  constructor(ctx: ControllerContext) {
    super(ctx, 'ttl-after-finished-controller', 2);
    this.jobs = ctx.informers.for(R.jobs);
    const on = (j: any) => ttlExpiry(j) !== undefined && this.enqueue(j);
    this.jobs.addHandlers({ add: on, update: (_o, j) => on(j) });
  }

  protected async reconcile(key: string): Promise<void> {
    const job = this.jobs.get(key);
    if (!job) return;
    const at = ttlExpiry(job);
    if (at === undefined) return;
    const left = at - this.ctx.clock.now();
    if (left > 0) return this.enqueueAfter(key, left);
    // Check the live object: the TTL or the Job may have changed since the cache saw it.
    let fresh: any;
    try {
      fresh = await this.ctx.client.get(resourcePath('batch', 'v1', 'jobs', job.metadata.namespace, job.metadata.name));
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    const at2 = ttlExpiry(fresh);
    if (at2 === undefined) return;
    if (at2 > this.ctx.clock.now()) return this.enqueueAfter(key, at2 - this.ctx.clock.now());
    try {
      await this.ctx.client.delete(resourcePath('batch', 'v1', 'jobs', job.metadata.namespace, job.metadata.name), {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: 'Foreground',
        preconditions: { resourceVersion: fresh.metadata.resourceVersion },
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
