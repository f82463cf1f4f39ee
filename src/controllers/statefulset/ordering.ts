/**
 * The StatefulSet controller's decisions (upstream's updateStatefulSet), pure: which ordinals to
 * create and which to delete this round. OrderedReady ("monotonic") creates ordinals one at a time
 * in increasing order, each waiting for its predecessor to be Running and Ready, and removes them
 * one at a time from the highest; Parallel does both all at once. A rolling update deletes (for
 * recreation at the update revision) the highest ordinal at or above the partition whose revision
 * is old, one pod at a time, only once every replica is healthy.
 */

export interface PodState {
  terminating: boolean;
  failed: boolean;
  /** Running, Ready and available (minReadySeconds). */
  healthy: boolean;
  revision: string;
}

export interface PlanInput {
  replicas: number;
  ordered: boolean;
  /** ordinal → its pod; ordinals ≥ replicas are condemned. */
  pods: Map<number, PodState>;
  updateStrategy: 'RollingUpdate' | 'OnDelete';
  partition: number;
  updateRevision: string;
}

export interface Plan {
  create: number[];
  delete: number[];
}

export function planStatefulSet(inp: PlanInput): Plan {
  const plan: Plan = { create: [], delete: [] };
  const { replicas, ordered, pods } = inp;
  // Replace failed pods; create missing ones in order.
  for (let i = 0; i < replicas; i++) {
    const p = pods.get(i);
    if (p?.failed && !p.terminating) {
      plan.delete.push(i);
      if (ordered) return plan;
      continue;
    }
    if (!p) {
      plan.create.push(i);
      if (ordered) return plan;
      continue;
    }
    if (ordered && (p.terminating || !p.healthy)) return plan;
  }
  // Scale down from the highest ordinal.
  const condemned = [...pods.keys()].filter((i) => i >= replicas).sort((a, b) => b - a);
  for (const i of condemned) {
    const p = pods.get(i)!;
    if (p.terminating) {
      if (ordered) return plan;
      continue;
    }
    if (ordered) {
      // Only the first unhealthy pod may go while others are unhealthy (upstream's monotonic rule).
      const unhealthy = [...pods.entries()].filter(([, s]) => !s.healthy || s.terminating).map(([o]) => o).sort((a, b) => b - a);
      if (unhealthy.length && unhealthy[0] !== i) return plan;
      plan.delete.push(i);
      return plan;
    }
    plan.delete.push(i);
  }
  if (plan.delete.length || plan.create.length) return plan;
  if (inp.updateStrategy !== 'RollingUpdate') return plan;
  for (let i = replicas - 1; i >= Math.max(0, inp.partition); i--) {
    const p = pods.get(i);
    if (!p) return plan;
    if (p.revision !== inp.updateRevision && !p.terminating) {
      plan.delete.push(i);
      return plan;
    }
    if (!p.healthy || p.terminating) return plan;
  }
  return plan;
}

/** The revision a newly created pod gets: below the partition, the current one (upstream's newVersionedStatefulSetPod). */
export function revisionForOrdinal(ordinal: number, updateStrategy: string, partition: number, currentRevision: string, updateRevision: string): string {
  return updateStrategy === 'RollingUpdate' && ordinal < partition ? currentRevision : updateRevision;
}

/** `<set>-<ordinal>` → ordinal, or undefined if the name is not one of the set's. */
export function ordinalOf(setName: string, podName: string): number | undefined {
  if (!podName.startsWith(`${setName}-`)) return undefined;
  const s = podName.slice(setName.length + 1);
  return /^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : undefined;
}
