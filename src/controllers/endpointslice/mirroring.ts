/**
 * The EndpointSliceMirroring controller (kube-controller-manager's `endpointslicemirroring`):
 * a Service without a selector whose Endpoints someone wrote by hand gets EndpointSlices mirroring
 * them, managed by endpointslicemirroring-controller.k8s.io and owned by the Endpoints. Everything
 * that routes (service proxy, cluster DNS, ingress) reads only EndpointSlices, so without this a
 * selector-less Service with manual Endpoints reaches nothing.
 *
 * Not mirrored, as upstream: Endpoints labelled endpointslice.kubernetes.io/skip-mirror=true (the
 * Endpoints controller's own, the `kubernetes` Service's), leader-election Endpoints, and
 * Endpoints whose Service is missing or has a selector (their slices are removed).
 */
import { R } from '../../client/factory.js';
import { keyOf, splitKey, type Informer } from '../../client/informer.js';
import { QueueController, newControllerRef, type ControllerContext } from '../controller.js';
import { SliceWriter } from './writer.js';
import { MANAGED_BY_LABEL, MIRROR_CONTROLLER_NAME, SERVICE_NAME_LABEL, SKIP_MIRROR_LABEL } from './endpoints.js';
import { planSlices, type DesiredEndpoint } from './slices.js';

const SLICES = '/apis/discovery.k8s.io/v1/namespaces';
const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

/** Whether `ep` (with its Service `svc`) is to be mirrored at all. */
export function shouldMirror(ep: any, svc: any): boolean {
  if (!ep || !svc) return false;
  // Upstream mirrors only for a nil selector; ExternalName Services have no endpoints.
  if (svc.spec?.selector || svc.spec?.type === 'ExternalName') return false;
  if (ep.metadata?.labels?.[SKIP_MIRROR_LABEL] === 'true') return false;
  if (ep.metadata?.annotations?.[LEADER_ANNOTATION] !== undefined) return false;
  return true;
}

/** The slices' metadata: the Endpoints' labels plus service-name and managed-by; owned by the Endpoints. */
export function mirrorMeta(ep: any): any {
  const labels: Record<string, string> = { ...(ep.metadata?.labels ?? {}) };
  delete labels[MANAGED_BY_LABEL];
  labels[SERVICE_NAME_LABEL] = ep.metadata.name;
  labels[MANAGED_BY_LABEL] = MIRROR_CONTROLLER_NAME;
  const prefix = ep.metadata.name.length > 57 ? ep.metadata.name.slice(0, 57) : ep.metadata.name;
  return { generateName: `${prefix}-`, namespace: ep.metadata.namespace, labels, ownerReferences: [newControllerRef(ep, { apiVersion: 'v1', kind: 'Endpoints' })] };
}

/**
 * One endpoint per address and subset: `addresses` ready, `notReadyAddresses` not (only the ready
 * condition, as upstream's addressToEndpoint), with hostname, nodeName and targetRef carried over.
 * IPv6 addresses are left out (slices here are IPv4).
 */
export function mirroredEndpoints(ep: any): DesiredEndpoint[] {
  const out: DesiredEndpoint[] = [];
  for (const subset of ep.subsets ?? []) {
    const ports = (subset.ports ?? []).map((p: any) => {
      const q: any = { name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' };
      if (p.appProtocol) q.appProtocol = p.appProtocol;
      return q;
    });
    const seen = new Set<string>();
    for (const [list, ready] of [
      [subset.addresses ?? [], true],
      [subset.notReadyAddresses ?? [], false],
    ] as const) {
      for (const a of list) {
        if (!a?.ip || a.ip.includes(':') || seen.has(a.ip)) continue;
        seen.add(a.ip);
        const e: any = { addresses: [a.ip], conditions: { ready } };
        if (a.hostname) e.hostname = a.hostname;
        if (a.nodeName) e.nodeName = a.nodeName;
        if (a.targetRef) e.targetRef = a.targetRef;
        out.push({ key: a.ip, endpoint: e, ports });
      }
    }
  }
  return out;
}

export class EndpointSliceMirroringController extends QueueController {
  private readonly services: Informer;
  private readonly endpoints: Informer;
  private readonly slices: Informer;
  private readonly writer: SliceWriter;

  constructor(ctx: ControllerContext) {
    super(ctx, 'endpointslicemirroring-controller', 5);
    this.writer = new SliceWriter(ctx.client);
    this.services = ctx.informers.for(R.services);
    this.endpoints = ctx.informers.for(R.endpoints);
    this.slices = ctx.informers.for({ ...R.endpointslices, labelSelector: `${MANAGED_BY_LABEL}=${MIRROR_CONTROLLER_NAME}` });
    for (const inf of [this.services, this.endpoints]) {
      inf.addHandlers({ add: (o) => this.enqueue(keyOf(o)), update: (_o, n) => this.enqueue(keyOf(n)), delete: (o) => this.enqueue(keyOf(o)) });
    }
    const sliceEvent = (s: any) => {
      const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (svc) this.enqueue(`${s.metadata.namespace}/${svc}`);
    };
    this.slices.addHandlers({ add: sliceEvent, update: (_o, s) => sliceEvent(s), delete: sliceEvent });
  }

  protected async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const owned = this.slices.list().filter((s) => s.metadata.namespace === namespace && s.metadata.labels?.[SERVICE_NAME_LABEL] === name);
    if (this.writer.stale(key, owned)) {
      this.enqueueAfter(key, 50);
      return;
    }
    const base = `${SLICES}/${namespace}/endpointslices`;
    const ep = this.endpoints.get(key);
    const svc = this.services.get(key);
    if (!shouldMirror(ep, svc)) {
      for (const s of owned) await this.writer.remove(key, base, s);
      if (!svc && !ep) this.writer.forget(key);
      return;
    }
    const plan = planSlices(svc, mirroredEndpoints(ep), owned, undefined, { meta: mirrorMeta(ep), placeholder: false });
    await this.writer.apply(key, base, plan);
  }

}
