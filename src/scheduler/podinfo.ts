import { compileLabelSelector, type Labels, type Matcher } from './labels.js';
import { podRequests, type Resource } from './resources.js';
import type { Pod, PodAffinityTerm } from './types.js';

/** A pod affinity term with its selectors compiled once, as upstream's framework.AffinityTerm. */
export interface AffinityTerm {
  namespaces: Set<string>;
  /** Present when the term has a namespaceSelector (an empty one matches every namespace). */
  nsSelector?: Matcher;
  selector: Matcher;
  topologyKey: string;
  weight: number;
  /** Identifies which pods the term matches (namespaces and selector), for shared count indexes; absent with a namespaceSelector, whose answer changes with namespace labels. */
  matchKey?: string;
}

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

/** Everything the plugins need from a pod, computed once per pod version. */
export interface PodInfo {
  pod: Pod;
  uid: string;
  /** "namespace/name". */
  key: string;
  priority: number;
  requests: Resource;
  nonZeroRequests: Resource;
  requiredAffinity: AffinityTerm[];
  requiredAntiAffinity: AffinityTerm[];
  preferredAffinity: AffinityTerm[];
  preferredAntiAffinity: AffinityTerm[];
  hostPorts: HostPort[];
  /** When the pod started (else was created), in ms; filled in by the first caller that needs it (preemption's ordering). */
  startMs?: number;
  /** podClass's serialization of what filters see of the pod, filled in on first use. */
  classJson?: string;
}

function term(pod: Pod, t: PodAffinityTerm, weight: number): AffinityTerm {
  const namespaces = new Set<string>();
  if (!(t.namespaces ?? []).length && !t.namespaceSelector) namespaces.add(pod.metadata?.namespace ?? 'default');
  else for (const n of t.namespaces ?? []) namespaces.add(n);
  return {
    namespaces,
    nsSelector: t.namespaceSelector ? compileLabelSelector(t.namespaceSelector) : undefined,
    selector: compileLabelSelector(t.labelSelector),
    topologyKey: t.topologyKey,
    weight,
    matchKey: t.namespaceSelector ? undefined : JSON.stringify([[...namespaces].sort(), t.labelSelector ?? null]),
  };
}

export function termMatches(t: AffinityTerm, pod: Pod, nsLabels: (ns: string) => Labels): boolean {
  const ns = pod.metadata?.namespace ?? 'default';
  if (t.namespaces.has(ns) || (t.nsSelector && t.nsSelector(nsLabels(ns)))) return t.selector(pod.metadata?.labels);
  return false;
}

export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

export function newPodInfo(pod: Pod): PodInfo {
  const aff = pod.spec?.affinity;
  const hostPorts: HostPort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.hostPort) hostPorts.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
  }
  for (const c of pod.spec?.initContainers ?? []) {
    if (c.restartPolicy !== 'Always') continue;
    for (const p of c.ports ?? []) if (p.hostPort) hostPorts.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
  }
  return {
    pod,
    uid: pod.metadata?.uid ?? `${pod.metadata?.namespace}/${pod.metadata?.name}`,
    key: `${pod.metadata?.namespace}/${pod.metadata?.name}`,
    priority: podPriority(pod),
    requests: podRequests(pod),
    nonZeroRequests: podRequests(pod, true),
    requiredAffinity: (aff?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => term(pod, t, 1)),
    requiredAntiAffinity: (aff?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => term(pod, t, 1)),
    preferredAffinity: (aff?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => term(pod, t.podAffinityTerm, t.weight)),
    preferredAntiAffinity: (aff?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => term(pod, t.podAffinityTerm, t.weight)),
    hostPorts,
  };
}

/** The pod with a node assigned, as the cache assumes it before the binding lands. */
export function withNodeName(pi: PodInfo, nodeName: string): PodInfo {
  const pod = { ...pi.pod, spec: { ...pi.pod.spec!, nodeName } } as Pod;
  return { ...pi, pod };
}
