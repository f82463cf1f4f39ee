import { R } from '../../client/factory.js';
import { splitKey, type Informer } from '../../client/informer.js';
import { resourcePath } from '../../client/rest.js';
import { QueueController, type ControllerContext } from '../controller.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

/**
 * Publishes the cluster CA as ConfigMap kube-root-ca.crt (key ca.crt) in every namespace and puts it
 * back when changed or deleted, as upstream's root-ca-cert-publisher.
 */
export class RootCAPublisher extends QueueController {
  private readonly namespaces: Informer;
  private readonly configmaps: Informer;

  constructor(ctx: ControllerContext, private readonly caPem: string) {
    super(ctx, 'root-ca-cert-publisher', 2);
    this.namespaces = ctx.informers.for(R.namespaces);
    this.configmaps = ctx.informers.for({ ...R.configmaps, fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` });
    this.namespaces.addHandlers({ add: (ns) => this.enqueue(ns.metadata.name), update: (_o, ns) => this.enqueue(ns.metadata.name) });
    const cm = (c: any) => this.enqueue(c.metadata.namespace);
    this.configmaps.addHandlers({ update: (_o, c) => cm(c), delete: cm });
  }

  protected async reconcile(key: string): Promise<void> {
    const ns = this.namespaces.get(splitKey(key).name);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    const name = ns.metadata.name;
    const cur = this.configmaps.get(`${name}/${ROOT_CA_CONFIGMAP}`);
    const data = { 'ca.crt': this.caPem };
    const annotations = { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' };
    try {
      if (!cur) {
        await this.ctx.client.create(resourcePath('', 'v1', 'configmaps', name), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CA_CONFIGMAP, namespace: name, annotations }, data });
      } else if (cur.data?.['ca.crt'] !== this.caPem || Object.keys(cur.data ?? {}).length !== 1) {
        await this.ctx.client.update(resourcePath('', 'v1', 'configmaps', name, ROOT_CA_CONFIGMAP), { ...cur, metadata: { ...cur.metadata, annotations: { ...cur.metadata.annotations, ...annotations } }, data });
      }
    } catch (e) {
      const s = (e as any)?.status;
      if (s === 409 && !cur) return; // created meanwhile; its add event brings us back if it differs
      if (s === 403 || s === 404) return; // namespace terminating or gone
      throw e;
    }
  }
}
