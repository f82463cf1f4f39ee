import { R } from '../../client/factory.js';
import { keyOf, splitKey, type Informer } from '../../client/informer.js';
import { QueueController, isNotFound, type ControllerContext } from '../controller.js';
import { same } from './slices.js';
import { desiredEndpointsObject } from './subsets.js';
import { TriggerTimes, podChangeMatters, podsForService, servicesForPod } from './servicepods.js';

/**
 * The Endpoints controller (core/v1 Endpoints, what `kubectl describe svc` shows as Endpoints):
 * one Endpoints object per Service with a selector, named as the Service, deleted with it.
 */
export class EndpointsController extends QueueController {
  private readonly services: Informer;
  private readonly pods: Informer;
  private readonly endpoints: Informer;
  private readonly triggers = new TriggerTimes();

  constructor(ctx: ControllerContext) {
    super(ctx, 'endpoints-controller', 5);
    this.services = ctx.informers.for(R.services);
    this.pods = ctx.informers.for(R.pods);
    this.endpoints = ctx.informers.for(R.endpoints);
    const touch = (k: string) => {
      this.triggers.note(k);
      this.enqueue(k);
    };
    this.services.addHandlers({ add: (s) => touch(keyOf(s)), update: (_o, s) => touch(keyOf(s)), delete: (s) => this.enqueue(s) });
    this.pods.addHandlers({
      add: (p) => servicesForPod(this.services, p).forEach(touch),
      update: (o, p) => {
        if (podChangeMatters(o, p)) servicesForPod(this.services, o, p).forEach(touch);
      },
      delete: (p) => servicesForPod(this.services, p).forEach(touch),
    });
    this.endpoints.addHandlers({ delete: (e) => this.enqueue(e) });
  }

  protected async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const path = `/api/v1/namespaces/${namespace}/endpoints`;
    const svc = this.services.get(key);
    const cur = this.endpoints.get(key);
    if (!svc) {
      // The Service is gone: its Endpoints go too (only ones we manage: skip-mirror marks them).
      if (cur && cur.metadata?.labels?.['endpointslice.kubernetes.io/skip-mirror'] === 'true') {
        await this.ctx.client.delete(`${path}/${name}`).catch((e) => {
          if (!isNotFound(e)) throw e;
        });
      }
      this.triggers.clear(key);
      return;
    }
    if (!svc.spec?.selector) return; // user-managed Endpoints
    const want = desiredEndpointsObject(svc, podsForService(this.pods, svc), cur, this.triggers.peek(key));
    if (cur) {
      const a = { labels: cur.metadata.labels ?? {}, subsets: cur.subsets ?? [] };
      const b = { labels: want.metadata.labels, subsets: want.subsets ?? [] };
      if (same(a, b) && !!cur.metadata.annotations?.['endpoints.kubernetes.io/over-capacity'] === !!want.metadata.annotations?.['endpoints.kubernetes.io/over-capacity']) {
        this.triggers.clear(key);
        return;
      }
      want.metadata.resourceVersion = cur.metadata.resourceVersion;
      if (!want.subsets) want.subsets = null;
      await this.ctx.client.update(`${path}/${name}`, want);
    } else {
      try {
        await this.ctx.client.create(path, want);
      } catch (e) {
        // Already there (a lagging cache): the update comes with the informer event.
        if ((e as any)?.status !== 409) throw e;
        this.enqueueAfter(key, 100);
      }
    }
    this.triggers.clear(key);
  }
}
