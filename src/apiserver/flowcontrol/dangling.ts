/**
 * The part of kube-apiserver's API Priority and Fairness config controller Skiff has: each
 * FlowSchema's `Dangling` condition says whether the PriorityLevelConfiguration it names exists
 * (`kubectl get flowschemas` prints it as MISSINGPL). Requests are not queued by these objects.
 */
import type { Registry } from '../registry.js';
import { findResource, type ResourceInfo } from '../resources.js';
import { REGISTRY_PREFIX } from '../watchcache.js';
import { StatusError } from '../status.js';
import { nowRFC3339 } from '../registry.js';
import { SerialQueue } from '../serialqueue.js';

const FLOWSCHEMAS = 'flowcontrol.apiserver.k8s.io/flowschemas';
const LEVELS = 'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations';

export interface DanglingCondition {
  type: 'Dangling';
  status: 'True' | 'False';
  reason: 'NotFound' | 'Found';
  message: string;
  lastTransitionTime?: string;
}

/** The condition a FlowSchema should carry, given whether its priority level exists (upstream's text). */
export function danglingCondition(levelName: string, levelExists: boolean): DanglingCondition {
  return levelExists
    ? { type: 'Dangling', status: 'False', reason: 'Found', message: `This FlowSchema references the PriorityLevelConfiguration object named ${JSON.stringify(levelName)} and it exists` }
    : { type: 'Dangling', status: 'True', reason: 'NotFound', message: `This FlowSchema references the PriorityLevelConfiguration object named ${JSON.stringify(levelName)} but there is no such object` };
}

export class FlowSchemaStatusController {
  private unsubscribe: (() => void)[] = [];
  private readonly queue = new SerialQueue(
    (name) => this.reconcile(name),
    // A failed write is retried on the next change of the schema or of any priority level.
    (name, e) => {
      if (!(e instanceof StatusError)) console.error(`skiff apiserver: flowschema ${name}: ${(e as Error).message}`);
    },
  );

  constructor(private readonly reg: Registry) {}

  start(): void {
    const cache = this.reg.cache;
    this.unsubscribe.push(
      cache.subscribe(FLOWSCHEMAS, { event: (ev) => this.enqueue(ev.object.obj?.metadata?.name), reset: () => this.enqueueAll() }),
      // A priority level coming or going changes the condition of the schemas naming it.
      cache.subscribe(LEVELS, { event: () => this.enqueueAll(), reset: () => this.enqueueAll() }),
    );
    this.enqueueAll();
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    this.queue.stop();
  }

  /** Resolves once queued work is done (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private info(): ResourceInfo {
    return findResource('flowcontrol.apiserver.k8s.io', 'v1', 'flowschemas')!;
  }

  private enqueueAll(): void {
    for (const c of this.reg.cache.list(FLOWSCHEMAS, `${REGISTRY_PREFIX}${FLOWSCHEMAS}/`)) this.enqueue(c.obj?.metadata?.name);
  }

  private enqueue(name: string | undefined): void {
    this.queue.add(name);
  }

  /** Reads the schema and the level as they are now; writes only when the condition changes. */
  private async reconcile(name: string): Promise<void> {
    const fs = this.reg.cache.get(`${REGISTRY_PREFIX}${FLOWSCHEMAS}/${name}`)?.obj;
    if (!fs) return;
    const level = String(fs.spec?.priorityLevelConfiguration?.name ?? '');
    const want = danglingCondition(level, !!this.reg.cache.get(`${REGISTRY_PREFIX}${LEVELS}/${level}`));
    const cur = (fs.status?.conditions ?? []).find((c: any) => c?.type === 'Dangling');
    if (cur && cur.status === want.status && cur.reason === want.reason && cur.message === want.message) return;
    try {
      await this.reg.mutate(this.info(), undefined, name, (o) => {
        const conditions = (o.status?.conditions ?? []).filter((c: any) => c?.type !== 'Dangling');
        const prev = (o.status?.conditions ?? []).find((c: any) => c?.type === 'Dangling');
        const lastTransitionTime = prev && prev.status === want.status ? prev.lastTransitionTime : nowRFC3339();
        o.status = { ...o.status, conditions: [...conditions, { ...want, lastTransitionTime }] };
        return o;
      });
    } catch (e) {
      if (e instanceof StatusError && e.code === 404) return;
      throw e;
    }
  }
}
