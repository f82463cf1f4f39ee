import { R } from '../../client/factory.js';
import { splitKey, type Informer } from '../../client/informer.js';
import { resourcePath } from '../../client/rest.js';
import { QueueController, type ControllerContext } from '../controller.js';

/** Every active namespace gets a `default` ServiceAccount, recreated if deleted, as upstream's serviceaccounts-controller. */
export class ServiceAccountsController extends QueueController {
  private readonly namespaces: Informer;
  private readonly sas: Informer;

  constructor(ctx: ControllerContext, private readonly names: string[] = ['default']) {
    super(ctx, 'serviceaccount-controller', 2);
    this.namespaces = ctx.informers.for(R.namespaces);
    this.sas = ctx.informers.for(R.serviceaccounts);
    this.namespaces.addHandlers({ add: (ns) => this.enqueue(ns.metadata.name), update: (_o, ns) => this.enqueue(ns.metadata.name) });
    this.sas.addHandlers({ delete: (sa) => this.names.includes(sa.metadata.name) && this.enqueue(sa.metadata.namespace) });
  }

  protected async reconcile(key: string): Promise<void> {
    const ns = this.namespaces.get(splitKey(key).name);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    for (const name of this.names) {
      if (this.sas.get(`${ns.metadata.name}/${name}`)) continue;
      try {
        await this.ctx.client.create(resourcePath('', 'v1', 'serviceaccounts', ns.metadata.name), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns.metadata.name } });
      } catch (e) {
        const s = (e as any)?.status;
        // Exists already (our cache lags), or the namespace started terminating: nothing to do.
        if (s === 409 || s === 403 || s === 404) continue;
        throw e;
      }
    }
  }
}
