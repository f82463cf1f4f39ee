import { splitKey, type Informer } from '../../client/informer.js';
import { resourcePath } from '../../client/rest.js';
import { quotaKeys, quotaUsed, sameAmounts } from '../../apiserver/admission/resourcequota.js';
import { QueueController, isNotFound, type ControllerContext } from '../controller.js';

const QUOTAS = { group: '', version: 'v1', resource: 'resourcequotas' };
const PODS = { group: '', version: 'v1', resource: 'pods' };
const SERVICES = { group: '', version: 'v1', resource: 'services' };

/** Upstream's --resource-quota-sync-period: every quota is recounted this often. */
const FULL_RESYNC_MS = 5 * 60_000;
/**
 * Quotas counting resources other than pods and services are recounted this often: their objects are
 * listed at each recount rather than watched (upstream watches every quotable resource to replenish at once).
 */
const LISTED_RESYNC_MS = 10_000;

const isTerminal = (p: any) => p?.status?.phase === 'Succeeded' || p?.status?.phase === 'Failed';

/**
 * The resource quota controller (upstream's pkg/controller/resourcequota): keeps every quota's
 * status — hard as in spec, used recounted from the namespace's objects. Admission charges a quota as
 * it admits; this recount is what gives room back when objects are deleted or pods finish, and what
 * takes a changed spec.hard into status.
 */
export class ResourceQuotaController extends QueueController {
  private readonly quotas: Informer;
  private readonly pods: Informer;
  private readonly services: Informer;
  /** Preferred version of an API group, for listing count/<resource>.<group> objects. */
  private readonly groupVersions = new Map<string, string>();

  constructor(ctx: ControllerContext) {
    super(ctx, 'resourcequota-controller', 2);
    this.quotas = ctx.informers.for(QUOTAS);
    this.pods = ctx.informers.for(PODS);
    this.services = ctx.informers.for(SERVICES);
    this.quotas.addHandlers({
      add: (q) => this.enqueue(q),
      update: (o, q) => {
        if (JSON.stringify(o.spec) !== JSON.stringify(q.spec) || JSON.stringify(o.status?.hard) !== JSON.stringify(q.spec?.hard)) this.enqueue(q);
      },
    });
    // Replenishment: what frees quota is a deletion, a pod finishing, or a change of what an object charges.
    this.pods.addHandlers({
      update: (o, p) => {
        if (isTerminal(p) !== isTerminal(o) || JSON.stringify(o.spec?.containers?.map((c: any) => c.resources)) !== JSON.stringify(p.spec?.containers?.map((c: any) => c.resources))) this.namespaceChanged(p, 'pods');
      },
      delete: (p) => this.namespaceChanged(p, 'pods'),
    });
    this.services.addHandlers({
      update: (o, s) => {
        if (o.spec?.type !== s.spec?.type || (o.spec?.ports ?? []).length !== (s.spec?.ports ?? []).length) this.namespaceChanged(s, 'services');
      },
      delete: (s) => this.namespaceChanged(s, 'services'),
    });
  }

  /** Enqueues the namespace's quotas that count `key` objects. */
  private namespaceChanged(obj: any, key: string): void {
    const ns = obj?.metadata?.namespace;
    for (const q of this.quotas.list()) if (q.metadata.namespace === ns && quotaKeys(q).has(key)) this.enqueue(q);
  }

  protected async reconcile(key: string): Promise<void> {
    const quota = this.quotas.get(key);
    if (!quota) return;
    const ns = splitKey(key).namespace!;
    const keys = quotaKeys(quota);
    const objects = new Map<string, any[]>();
    let listed = false;
    for (const k of keys) {
      if (k === 'pods') objects.set(k, this.pods.list().filter((p) => p.metadata.namespace === ns));
      else if (k === 'services') objects.set(k, this.services.list().filter((s) => s.metadata.namespace === ns));
      else {
        listed = true;
        objects.set(k, await this.listObjects(k, ns));
      }
    }
    const hard = quota.spec?.hard ?? {};
    const used = quotaUsed(quota, (k) => objects.get(k) ?? []);
    if (!sameAmounts(quota.status?.hard, hard) || !sameAmounts(quota.status?.used, used)) {
      const next = { ...quota, status: { hard: { ...hard }, used } };
      try {
        await this.ctx.client.update(resourcePath('', 'v1', 'resourcequotas', ns, quota.metadata.name, 'status'), next);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    this.enqueueAfter(key, listed ? LISTED_RESYNC_MS : FULL_RESYNC_MS);
  }

  /** The namespace's objects of a resource given by storage key ("configmaps", "apps/deployments"). */
  private async listObjects(key: string, ns: string): Promise<any[]> {
    const i = key.indexOf('/');
    const group = i < 0 ? '' : key.slice(0, i);
    const resource = i < 0 ? key : key.slice(i + 1);
    let version = group ? this.groupVersions.get(group) : 'v1';
    try {
      if (!version) {
        const g = await this.ctx.client.get(`/apis/${group}`);
        version = String(g?.preferredVersion?.version ?? g?.versions?.[0]?.version ?? '');
        if (!version) return [];
        this.groupVersions.set(group, version);
      }
      const list = await this.ctx.client.get(resourcePath(group, version, resource, ns));
      return list?.items ?? [];
    } catch (e) {
      // A resource the server does not serve has no objects to count.
      if (isNotFound(e)) return [];
      throw e;
    }
  }
}
