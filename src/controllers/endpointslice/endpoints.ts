/**
 * Per-pod rules shared by the EndpointSlice and Endpoints controllers (upstream's
 * pkg/controller/util/endpoint): which pods back a Service, their conditions, and how a Service
 * port's targetPort resolves against a pod's container ports.
 */
import { isPodReady } from '../controller.js';

/** Whether a pod belongs behind a Service at all (upstream ShouldPodBeInEndpoints). */
export function shouldPodBeInEndpoints(pod: any, includeTerminating: boolean): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (!pod.status?.podIP) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

export interface EndpointConditions {
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/**
 * EndpointSlice conditions: `ready` is serving and not terminating (or forced by
 * publishNotReadyAddresses); `serving` is the pod's Ready condition alone (as upstream's
 * podToEndpoint: publishNotReadyAddresses forces `ready` only, so consumers can still tell a pod
 * that really serves); `terminating` is deletionTimestamp.
 */
export function endpointConditions(pod: any, publishNotReady: boolean): EndpointConditions {
  const terminating = !!pod.metadata?.deletionTimestamp;
  const serving = isPodReady(pod);
  return { ready: publishNotReady || (serving && !terminating), serving, terminating };
}

/**
 * The pod port a Service port reaches: a number as is, a name through the pod's container ports
 * with that name and protocol (upstream podutil.FindPort). Undefined when a name is not found,
 * in which case the pod is left out for that port.
 */
export function findPort(pod: any, svcPort: any): number | undefined {
  const tp = svcPort.targetPort ?? svcPort.port;
  const protocol = svcPort.protocol ?? 'TCP';
  if (typeof tp === 'number') return tp;
  if (/^\d+$/.test(String(tp))) return Number(tp);
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === tp && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

/** A pod is addressable as `hostname.subdomain` only when its subdomain names this Service. */
export function podHostname(pod: any, svc: any): string | undefined {
  const h = pod.spec?.hostname;
  return h && pod.spec?.subdomain === svc.metadata.name && svc.metadata.namespace === pod.metadata.namespace ? h : undefined;
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const MIRROR_CONTROLLER_NAME = 'endpointslicemirroring-controller.k8s.io';
export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const MAX_ENDPOINTS_PER_SLICE = 100;
/** Upstream truncates Endpoints at 1000 addresses and says so in this annotation. */
export const MAX_ENDPOINTS_ADDRESSES = 1000;
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';

/** Labels a Service's slices and Endpoints carry: the Service's own, plus the headless marker. */
export function serviceLabels(svc: any): Record<string, string> {
  const out: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  if (svc.spec?.clusterIP === 'None') out[HEADLESS_LABEL] = '';
  return out;
}
