import { R } from '../../client/factory.js';
import type { Informer } from '../../client/informer.js';
import { resourcePath } from '../../client/rest.js';
import { QueueController, nowTime, type ControllerContext } from '../controller.js';
import { discoverResources, type ServedResource } from '../gc/discovery.js';

const FINALIZER = 'kubernetes';

/** Upstream's namespace deletion condition types with their ok reason/message. */
const CONDITIONS: [type: string, okReason: string, okMessage: string][] = [
  ['NamespaceDeletionDiscoveryFailure', 'ResourcesDiscovered', 'All resources successfully discovered'],
  ['NamespaceDeletionGroupVersionParsingFailure', 'ParsedGroupVersions', 'All legacy kube types successfully parsed'],
  ['NamespaceDeletionContentFailure', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization'],
  ['NamespaceContentRemaining', 'ContentRemoved', 'All content successfully removed'],
  ['NamespaceFinalizersRemaining', 'ContentHasNoFinalizers', 'All content-preserving finalizers finished'],
];

/**
 * The namespace controller: when a namespace is Terminating it deletes every namespaced object in
 * it (collection deletes, Background propagation), reports progress in the upstream conditions,
 * and once nothing is left removes the `kubernetes` finalizer through /finalize, after which the
 * API server removes the namespace.
 */
export class NamespaceController extends QueueController {
  private readonly namespaces: Informer;
  private discovered?: { at: number; list: ServedResource[] };

  constructor(ctx: ControllerContext) {
    super(ctx, 'namespace-controller', 3);
    this.namespaces = ctx.informers.for(R.namespaces);
    this.namespaces.addHandlers({ add: (ns) => this.maybe(ns), update: (_o, ns) => this.maybe(ns) });
  }

  private maybe(ns: any): void {
    if (ns.metadata.deletionTimestamp) this.enqueue(ns.metadata.name);
  }

  private async resources(): Promise<ServedResource[]> {
    const now = this.ctx.clock.now();
    if (!this.discovered || now - this.discovered.at > 10_000) this.discovered = { at: now, list: await discoverResources(this.ctx.client) };
    return this.discovered.list;
  }

  protected async reconcile(name: string): Promise<void> {
    const ns = this.namespaces.get(name);
    if (!ns || !ns.metadata.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER)) return;
    const failures = new Map<string, { reason: string; message: string }>();
    let resources: ServedResource[] = [];
    try {
      resources = (await this.resources()).filter((r) => r.namespaced && r.verbs.includes('list') && (r.verbs.includes('deletecollection') || r.verbs.includes('delete')));
    } catch (e) {
      failures.set('NamespaceDeletionDiscoveryFailure', { reason: 'DiscoveryFailed', message: `Discovery failed for some groups: ${(e as Error).message}` });
    }
    const remaining: string[] = [];
    const finalizers = new Map<string, number>();
    const errors: string[] = [];
    await Promise.all(
      resources.map(async (r) => {
        const path = resourcePath(r.group, r.version, r.resource, name);
        const gr = `${r.resource}.${r.group}`;
        try {
          let items: any[] = (await this.ctx.client.get(path)).items ?? [];
          const live = items.filter((o) => !o.metadata.deletionTimestamp);
          if (live.length) {
            const opts = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' };
            if (r.verbs.includes('deletecollection')) await this.ctx.client.delete(path, opts);
            else await Promise.all(live.map((o) => this.ctx.client.delete(`${path}/${o.metadata.name}`, opts).catch((e) => ((e as any).status === 404 ? undefined : Promise.reject(e)))));
            items = (await this.ctx.client.get(path)).items ?? [];
          }
          if (items.length) remaining.push(`${gr} has ${items.length} resource instances`);
          for (const o of items) for (const f of o.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
        } catch (e) {
          errors.push(`${gr}: ${(e as Error).message}`);
        }
      }),
    );
    if (errors.length) failures.set('NamespaceDeletionContentFailure', { reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${errors.length} remaining: ${errors.sort().join(', ')}` });
    if (remaining.length) failures.set('NamespaceContentRemaining', { reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${remaining.sort().join(', ')}` });
    if (finalizers.size) {
      const parts = [...finalizers].map(([f, n]) => `${f} in ${n} resource instances`).sort();
      failures.set('NamespaceFinalizersRemaining', { reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${parts.join(', ')}` });
    }
    await this.updateConditions(ns, failures);
    if (failures.size) {
      // Content takes time to go (graceful pod deletion, finalizers): look again shortly.
      this.enqueueAfter(name, errors.length ? 2000 : 500);
      return;
    }
    const spec = { ...ns.spec, finalizers: (ns.spec?.finalizers ?? []).filter((f: string) => f !== FINALIZER) };
    try {
      await this.ctx.client.update(`/api/v1/namespaces/${name}/finalize`, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, resourceVersion: ns.metadata.resourceVersion }, spec });
    } catch (e) {
      if ((e as any).status === 404) return;
      throw e;
    }
  }

  private async updateConditions(ns: any, failures: Map<string, { reason: string; message: string }>): Promise<void> {
    const old: any[] = ns.status?.conditions ?? [];
    const now = nowTime(this.ctx.clock);
    const conditions = CONDITIONS.map(([type, okReason, okMessage]) => {
      const f = failures.get(type);
      const c = { type, status: f ? 'True' : 'False', reason: f?.reason ?? okReason, message: f?.message ?? okMessage };
      const prev = old.find((x) => x.type === type);
      const same = prev && prev.status === c.status && prev.reason === c.reason && prev.message === c.message;
      return { ...c, lastTransitionTime: same || (prev && prev.status === c.status) ? prev.lastTransitionTime : now };
    });
    const unchanged = old.length === conditions.length && conditions.every((c) => old.some((x) => x.type === c.type && x.status === c.status && x.reason === c.reason && x.message === c.message));
    if (unchanged) return;
    try {
      await this.ctx.client.update(`/api/v1/namespaces/${ns.metadata.name}/status`, { ...ns, status: { ...ns.status, phase: 'Terminating', conditions } });
    } catch (e) {
      const s = (e as any).status;
      if (s === 404 || s === 409) return;
      throw e;
    }
  }
}
