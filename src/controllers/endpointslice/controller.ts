import { R } from '../../client/factory.js';
import { keyOf, splitKey, type Informer } from '../../client/informer.js';
import { QueueController, isNotFound, type ControllerContext } from '../controller.js';
import { CONTROLLER_NAME, MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from './endpoints.js';
import { desiredEndpoints, planSlices } from './slices.js';
import { TriggerTimes, podChangeMatters, podsForService, servicesForPod } from './servicepods.js';

const SLICES = '/apis/discovery.k8s.io/v1/namespaces';

/**
 * The EndpointSlice controller: for each Service with a selector, keeps the EndpointSlices it
 * owns (labels kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by) in step
 * with the pods it selects. Deleted Services' slices go with the garbage collector (ownerRefs).
 *
 * The slice informer may lag behind our own writes; like upstream's EndpointSliceTracker, a
 * Service whose slices we changed is not reconciled again until the cache shows those changes,
 * so a lagging cache never makes it create duplicates.
 */
export class EndpointSliceController extends QueueController {
  private readonly services: Informer;
  private readonly pods: Informer;
  private readonly nodes: Informer;
  private readonly slices: Informer;
  private readonly triggers = new TriggerTimes();
  /** svc key → slice name → resourceVersion we wrote ('' = deleted by us). */
  private readonly expected = new Map<string, Map<string, string>>();

  constructor(ctx: ControllerContext) {
    super(ctx, 'endpointslice-controller', 5);
    this.services = ctx.informers.for(R.services);
    this.pods = ctx.informers.for(R.pods);
    this.nodes = ctx.informers.for(R.nodes);
    this.slices = ctx.informers.for({ ...R.endpointslices, labelSelector: `${MANAGED_BY_LABEL}=${CONTROLLER_NAME}` });
    this.services.addHandlers({
      add: (s) => this.touch(keyOf(s)),
      update: (_o, s) => this.touch(keyOf(s)),
      delete: (s) => {
        this.expected.delete(keyOf(s));
        this.triggers.clear(keyOf(s));
      },
    });
    this.pods.addHandlers({
      add: (p) => this.touchAll(servicesForPod(this.services, p)),
      update: (o, p) => {
        if (podChangeMatters(o, p)) this.touchAll(servicesForPod(this.services, o, p));
      },
      delete: (p) => this.touchAll(servicesForPod(this.services, p)),
    });
    const sliceEvent = (s: any) => {
      const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (svc) this.enqueue(`${s.metadata.namespace}/${svc}`);
    };
    this.slices.addHandlers({ add: sliceEvent, update: (_o, s) => sliceEvent(s), delete: sliceEvent });
  }

  private touch(key: string): void {
    this.triggers.note(key);
    this.enqueue(key);
  }

  private touchAll(keys: string[]): void {
    for (const k of keys) this.touch(k);
  }

  /** True while the cache has not yet caught up with slices we wrote for this Service. */
  private stale(key: string, owned: any[]): boolean {
    const exp = this.expected.get(key);
    if (!exp?.size) return false;
    const have = new Map(owned.map((s) => [s.metadata.name, s.metadata.resourceVersion as string]));
    for (const [name, rv] of exp) {
      const cur = have.get(name);
      if (rv === '' ? cur === undefined : cur !== undefined && Number(cur) >= Number(rv)) exp.delete(name);
    }
    return exp.size > 0;
  }

  private expect(key: string, name: string, rv: string): void {
    let m = this.expected.get(key);
    if (!m) this.expected.set(key, (m = new Map()));
    m.set(name, rv);
  }

  protected async reconcile(key: string): Promise<void> {
    const svc = this.services.get(key);
    if (!svc) return;
    const { namespace, name } = splitKey(key);
    const owned = this.slices.list().filter((s) => s.metadata.namespace === namespace && s.metadata.labels?.[SERVICE_NAME_LABEL] === name);
    if (this.stale(key, owned)) {
      // Our own writes are still on their way to the cache: look again shortly.
      this.enqueueAfter(key, 50);
      return;
    }
    const base = `${SLICES}/${namespace}/endpointslices`;
    // Services without a selector are someone else's (manual slices or the mirroring controller);
    // ExternalName Services have no endpoints at all.
    if (!svc.spec?.selector || svc.spec?.type === 'ExternalName') {
      if (svc.spec?.type === 'ExternalName') for (const s of owned) await this.remove(key, base, s);
      return;
    }
    const desired = desiredEndpoints(svc, podsForService(this.pods, svc), (n) => this.nodes.get(n));
    const plan = planSlices(svc, desired, owned, this.triggers.peek(key));
    // Create and update before deleting, so endpoints moving between slices never vanish.
    for (const s of plan.create) {
      const made = await this.ctx.client.create(base, s);
      this.expect(key, made.metadata.name, made.metadata.resourceVersion);
    }
    for (const s of plan.update) {
      const upd = await this.ctx.client.update(`${base}/${s.metadata.name}`, s);
      this.expect(key, upd.metadata.name, upd.metadata.resourceVersion);
    }
    for (const s of plan.delete) await this.remove(key, base, s);
    this.triggers.clear(key);
  }

  private async remove(key: string, base: string, s: any): Promise<void> {
    try {
      await this.ctx.client.delete(`${base}/${s.metadata.name}`, { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: s.metadata.uid } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.expect(key, s.metadata.name, '');
  }
}
