import { milli, value } from './quantity.js';
import { DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, type Pod } from './types.js';

/** A bundle of compute resources: cpu in millicores, everything else in base units. */
export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  allowedPodNumber: number;
  /** Extended resources, hugepages, …; absent when none. */
  scalar?: Map<string, number>;
}

export function emptyResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, allowedPodNumber: 0 };
}

export function cloneResource(r: Resource): Resource {
  return { milliCPU: r.milliCPU, memory: r.memory, ephemeralStorage: r.ephemeralStorage, allowedPodNumber: r.allowedPodNumber, scalar: r.scalar && new Map(r.scalar) };
}

/** Adds a ResourceList (or subtracts it, with sign -1). */
export function addList(r: Resource, list: Record<string, string | number> | undefined, sign = 1): void {
  if (!list) return;
  for (const name in list) {
    const q = list[name];
    switch (name) {
      case 'cpu':
        r.milliCPU += sign * milli(q);
        break;
      case 'memory':
        r.memory += sign * value(q);
        break;
      case 'ephemeral-storage':
        r.ephemeralStorage += sign * value(q);
        break;
      case 'pods':
        r.allowedPodNumber += sign * value(q);
        break;
      default:
        (r.scalar ??= new Map()).set(name, (r.scalar.get(name) ?? 0) + sign * value(q));
    }
  }
}

export function addResource(r: Resource, o: Resource, sign = 1): void {
  r.milliCPU += sign * o.milliCPU;
  r.memory += sign * o.memory;
  r.ephemeralStorage += sign * o.ephemeralStorage;
  r.allowedPodNumber += sign * o.allowedPodNumber;
  if (o.scalar) for (const [k, v] of o.scalar) (r.scalar ??= new Map()).set(k, (r.scalar.get(k) ?? 0) + sign * v);
}

function maxInto(r: Resource, o: Resource): void {
  r.milliCPU = Math.max(r.milliCPU, o.milliCPU);
  r.memory = Math.max(r.memory, o.memory);
  r.ephemeralStorage = Math.max(r.ephemeralStorage, o.ephemeralStorage);
  if (o.scalar) for (const [k, v] of o.scalar) (r.scalar ??= new Map()).set(k, Math.max(r.scalar.get(k) ?? 0, v));
}

export function resourceFromList(list: Record<string, string | number> | undefined): Resource {
  const r = emptyResource();
  addList(r, list);
  return r;
}

function containerRequests(c: any, nonZero: boolean): Resource {
  const r = resourceFromList(c?.resources?.requests);
  if (nonZero) {
    if (!(c?.resources?.requests && 'cpu' in c.resources.requests)) r.milliCPU = DEFAULT_MILLI_CPU_REQUEST;
    if (!(c?.resources?.requests && 'memory' in c.resources.requests)) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * What a pod asks of a node, as upstream's resourcehelper.PodRequests: the sum of its containers
 * and sidecars (restartable init containers), or the largest init container plus the sidecars
 * started before it when that is more, plus the pod overhead. With `nonZero`, a container without
 * a cpu/memory request counts as 100m/200Mi, which scoring uses so empty pods still spread.
 */
export function podRequests(pod: Pod, nonZero = false): Resource {
  const spec: any = pod.spec ?? {};
  const reqs = emptyResource();
  for (const c of spec.containers ?? []) addResource(reqs, containerRequests(c, nonZero));
  const sidecars = emptyResource();
  const initMax = emptyResource();
  for (const c of spec.initContainers ?? []) {
    const cr = containerRequests(c, nonZero);
    if (c.restartPolicy === 'Always') {
      addResource(reqs, cr);
      addResource(sidecars, cr);
      maxInto(initMax, sidecars);
    } else {
      const t = cloneResource(cr);
      addResource(t, sidecars);
      maxInto(initMax, t);
    }
  }
  maxInto(reqs, initMax);
  // Pod-level resources, when set, stand for the containers' cpu and memory.
  const podLevel = spec.resources?.requests;
  if (podLevel) {
    if ('cpu' in podLevel) reqs.milliCPU = milli(podLevel.cpu);
    if ('memory' in podLevel) reqs.memory = value(podLevel.memory);
  }
  if (spec.overhead) addList(reqs, spec.overhead);
  return reqs;
}

/** Whether b asks less than a of some resource (a pod's in-place scale down frees room). */
export function anyLess(a: Resource, b: Resource): boolean {
  if (b.milliCPU < a.milliCPU || b.memory < a.memory || b.ephemeralStorage < a.ephemeralStorage) return true;
  for (const [k, v] of a.scalar ?? []) if ((b.scalar?.get(k) ?? 0) < v) return true;
  return false;
}
