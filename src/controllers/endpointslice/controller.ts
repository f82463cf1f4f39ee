import { R } from '../../client/factory.js';
import { keyOf, splitKey, type Informer } from '../../client/informer.js';
import { QueueController, type ControllerContext } from '../controller.js';
import { SliceWriter } from './writer.js';
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
  private readonly writer: SliceWriter;

  constructor(ctx: ControllerContext) {
    super(ctx, 'endpointslice-controller', 5);
    this.writer = new SliceWriter(ctx.client);
    this.services = ctx.informers.for(R.services);
    this.pods = ctx.informers.for(R.pods);
    this.nodes = ctx.informers.for(R.nodes);
    this.slices = ctx.informers.for({ ...R.endpointslices, labelSelector: `${MANAGED_BY_LABEL}=${CONTROLLER_NAME}` });
    this.services.addHandlers({
      add: (s) => this.touch(keyOf(s)),
      update: (_o, s) => this.touch(keyOf(s)),
      delete: (s) => {
        this.writer.forget(keyOf(s));
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

  protected async reconcile(key: string): Promise<void> {
    const svc = this.services.get(key);
    if (!svc) return;
    const { namespace, name } = splitKey(key);
    const owned = this.slices.list().filter((s) => s.metadata.namespace === namespace && s.metadata.labels?.[SERVICE_NAME_LABEL] === name);
    if (this.writer.stale(key, owned)) {
      // Our own writes are still on their way to the cache: look again shortly.
      this.enqueueAfter(key, 50);
      return;
    }
    const base = `${SLICES}/${namespace}/endpointslices`;
    // Services without a selector are someone else's (manual slices or the mirroring controller);
    // ExternalName Services have no endpoints at all.
    if (!svc.spec?.selector || svc.spec?.type === 'ExternalName') {
      if (svc.spec?.type === 'ExternalName') for (const s of owned) await this.writer.remove(key, base, s);
      return;
    }
    const desired = desiredEndpoints(svc, podsForService(this.pods, svc), (n) => this.nodes.get(n));
    const plan = planSlices(svc, desired, owned, this.triggers.peek(key));
    await this.writer.apply(key, base, plan);
    this.triggers.clear(key);
  }

}
