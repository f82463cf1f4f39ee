/**
 * Pod → Service fan-out shared by the EndpointSlice and Endpoints controllers: which Services a
 * pod event concerns (by the pod's old and new labels), and the pods a Service selects.
 */
import { keyOf, type Informer } from '../../client/informer.js';
import { selectorMatches } from '../controller.js';

export function selectsPod(svc: any, pod: any): boolean {
  const sel = svc.spec?.selector;
  if (!sel || !Object.keys(sel).length) return false;
  return svc.metadata.namespace === pod.metadata.namespace && selectorMatches({ matchLabels: sel }, pod.metadata.labels);
}

export function servicesForPod(services: Informer, ...pods: any[]): string[] {
  const keys = new Set<string>();
  for (const svc of services.list()) for (const p of pods) if (p && selectsPod(svc, p)) keys.add(keyOf(svc));
  return [...keys];
}

export function podsForService(pods: Informer, svc: any): any[] {
  return pods.list().filter((p) => selectsPod(svc, p));
}

/**
 * Whether a pod change can matter to endpoints: labels, IPs, readiness, phase, deletion, node,
 * hostname or ports. Status-only noise (e.g. container restarts counts) is ignored, as upstream.
 */
export function podChangeMatters(old: any, cur: any): boolean {
  const pick = (p: any) =>
    JSON.stringify([
      p.metadata.labels,
      p.metadata.deletionTimestamp,
      p.status?.podIP,
      p.status?.podIPs,
      p.status?.phase,
      (p.status?.conditions ?? []).find((c: any) => c.type === 'Ready')?.status,
      p.spec?.nodeName,
      p.spec?.hostname,
      p.spec?.subdomain,
    ]);
  return pick(old) !== pick(cur);
}

/**
 * Remembers, per Service key, the time of the first change not yet published: the
 * `endpoints.kubernetes.io/last-change-trigger-time` annotation.
 */
export class TriggerTimes {
  private readonly m = new Map<string, string>();
  note(key: string, at = new Date()): void {
    if (!this.m.has(key)) this.m.set(key, at.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  }
  peek(key: string): string | undefined {
    return this.m.get(key);
  }
  clear(key: string): void {
    this.m.delete(key);
  }
}
