import { refOf } from '../../client/events.js';
import { R } from '../../client/factory.js';
import { splitKey, type Informer } from '../../client/informer.js';
import { resourcePath } from '../../client/rest.js';
import { QueueController, controllerRefOf, inParallel, isNotFound, isPodAvailable, isPodReady, newControllerRef, nowTime, type ControllerContext } from '../controller.js';
import { CONTROLLER_REVISION_HASH_LABEL, ensureRevision, ownedRevisions, templateOf, truncateHistory } from '../controllerrevision.js';
import { ordinalOf, planStatefulSet, revisionForOrdinal, type PodState } from './ordering.js';

const STS_GVK = { apiVersion: 'apps/v1', kind: 'StatefulSet' };
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
/** Older Skiff versions set this condition (claims were emptyDirs); it is removed from status. */
const LEGACY_VOLUME_CLAIMS_CONDITION = 'VolumeClaimTemplatesProvisioned';
const PVCS = { group: '', version: 'v1', resource: 'persistentvolumeclaims' } as const;

/**
 * The StatefulSet controller (upstream's pkg/controller/statefulset): pods `<set>-<ordinal>` with a
 * stable hostname and subdomain (spec.serviceName, the headless Service), OrderedReady or Parallel
 * management, RollingUpdate (reverse ordinal order, partition) or OnDelete over ControllerRevisions
 * (status.currentRevision/updateRevision). Each volumeClaimTemplate gives every pod its own
 * PersistentVolumeClaim `<template>-<set>-<ordinal>`, created before the pod and kept across pod
 * restarts; persistentVolumeClaimRetentionPolicy Delete hands claims to the garbage collector (owned
 * by the set when it is deleted, by the condemned pod when scaled down).
 */
export class StatefulSetController extends QueueController {
  private readonly sets: Informer;
  private readonly pods: Informer;
  private readonly revisions: Informer;
  private readonly claims: Informer;
  private readonly recorder;

  constructor(ctx: ControllerContext) {
    super(ctx, 'statefulset-controller', 3);
    this.recorder = ctx.recorder('statefulset-controller');
    this.sets = ctx.informers.for(R.statefulsets);
    this.pods = ctx.informers.for(R.pods);
    this.revisions = ctx.informers.for(R.controllerrevisions);
    this.claims = ctx.informers.for(PVCS);
    this.sets.addHandlers({ add: (s) => this.enqueue(s), update: (_o, s) => this.enqueue(s) });
    const onPod = (p: any) => {
      const ref = controllerRefOf(p);
      if (ref?.kind === 'StatefulSet') this.enqueue(`${p.metadata.namespace}/${ref.name}`);
    };
    this.pods.addHandlers({ add: onPod, update: (_o, p) => onPod(p), delete: onPod });
  }

  private event(set: any, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.recorder.event(refOf(set, 'StatefulSet', 'apps/v1'), type, reason, message);
  }

  protected async reconcile(key: string): Promise<void> {
    const cached = this.sets.get(key);
    if (!cached || cached.metadata.deletionTimestamp) return;
    const set = structuredClone(cached);
    const ns = splitKey(key).namespace!;
    const { revision: updateRev, collisionCount } = await ensureRevision(this.ctx.client, this.revisions, set, STS_GVK, { collisionCount: set.status?.collisionCount });
    if (collisionCount !== undefined) {
      await this.ctx.client.update(resourcePath('apps', 'v1', 'statefulsets', ns, set.metadata.name, 'status'), { ...set, status: { ...(set.status ?? {}), collisionCount } });
      return;
    }
    const revs = ownedRevisions(this.revisions, set);
    const updateRevision: string = updateRev.metadata.name;
    let currentRevision: string = set.status?.currentRevision ?? updateRevision;
    const currentRev = currentRevision === updateRevision ? updateRev : revs.find((r) => r.metadata.name === currentRevision);
    if (!currentRev) currentRevision = updateRevision;

    const now = this.ctx.clock.now();
    const minReady = set.spec.minReadySeconds ?? 0;
    const owned = this.pods.list().filter((p) => p.metadata.namespace === ns && controllerRefOf(p)?.uid === set.metadata.uid);
    const byOrdinal = new Map<number, any>();
    const strays: any[] = [];
    for (const p of owned) {
      const o = ordinalOf(set.metadata.name, p.metadata.name);
      if (o === undefined) strays.push(p);
      else byOrdinal.set(o, p);
    }
    const revisionOf = (p: any) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '';
    const healthy = (p: any) => p.status?.phase === 'Running' && isPodAvailable(p, minReady, now);
    const states = new Map<number, PodState>();
    for (const [o, p] of byOrdinal) {
      states.set(o, { terminating: !!p.metadata.deletionTimestamp, failed: p.status?.phase === 'Failed', healthy: healthy(p), revision: revisionOf(p) });
    }
    const replicas: number = set.spec.replicas ?? 1;
    const strategy = set.spec.updateStrategy?.type === 'OnDelete' ? 'OnDelete' : 'RollingUpdate';
    const partition: number = set.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    const plan = planStatefulSet({ replicas, ordered: set.spec.podManagementPolicy !== 'Parallel', pods: states, updateStrategy: strategy, partition, updateRevision });

    await inParallel([...plan.delete.map((o) => byOrdinal.get(o)), ...strays.filter((p) => !p.metadata.deletionTimestamp)], 8, async (p) => {
      const o = p ? ordinalOf(set.metadata.name, p.metadata.name) : undefined;
      // A pod condemned by a scale down hands its claims to the garbage collector first (whenScaled: Delete).
      if (p && o !== undefined && o >= replicas && retentionPolicy(set).whenScaled === 'Delete') await this.ownClaimsByPod(set, p);
      await this.deletePod(set, p);
    });
    await inParallel(plan.create, 8, async (o) => {
      const rev = revisionForOrdinal(o, strategy, partition, currentRevision, updateRevision) === currentRevision ? (currentRev ?? updateRev) : updateRev;
      await this.createClaims(set, `${set.metadata.name}-${o}`);
      await this.createPod(set, o, rev);
    });
    // A claim deleted under a pod that has not started yet is created again, as upstream.
    for (const p of byOrdinal.values()) if (!p.metadata.deletionTimestamp && p.status?.phase === 'Pending') await this.createClaims(set, p.metadata.name);

    // Status, from what the cache shows (the next event refreshes it).
    let count = 0;
    let ready = 0;
    let available = 0;
    let current = 0;
    let updated = 0;
    for (const p of byOrdinal.values()) {
      if (p.metadata.deletionTimestamp) continue;
      count++;
      if (p.status?.phase === 'Running' && isPodReady(p)) {
        ready++;
        if (isPodAvailable(p, minReady, now)) available++;
      }
      if (revisionOf(p) === currentRevision) current++;
      if (revisionOf(p) === updateRevision) updated++;
    }
    const status: any = {
      ...(set.status ?? {}),
      observedGeneration: set.metadata.generation,
      replicas: count,
      readyReplicas: ready,
      currentReplicas: current,
      updatedReplicas: updated,
      availableReplicas: available,
      currentRevision,
      updateRevision,
      collisionCount: set.status?.collisionCount ?? 0,
    };
    // The rollout is complete once every pod runs the update revision and is ready.
    if (strategy === 'RollingUpdate' && updated === count && ready === count && count === replicas) {
      status.currentRevision = updateRevision;
      status.currentReplicas = updated;
    }
    this.noteVolumeClaims(set, status);
    for (const k of ['readyReplicas', 'currentReplicas', 'updatedReplicas']) if (!status[k]) delete status[k];
    if (JSON.stringify(sortKeys(status)) !== JSON.stringify(sortKeys(set.status ?? {}))) {
      try {
        await this.ctx.client.update(resourcePath('apps', 'v1', 'statefulsets', ns, set.metadata.name, 'status'), { ...set, status });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    const live = new Set<string>([currentRevision, updateRevision, ...owned.map(revisionOf).filter(Boolean)]);
    await truncateHistory(this.ctx.client, revs, live, set.spec.revisionHistoryLimit ?? 10);
    if (minReady > 0 && ready > available) this.enqueueAfter(key, minReady * 1000);
  }

  private noteVolumeClaims(_set: any, status: any): void {
    const conds: any[] = (status.conditions ?? []).filter((c: any) => c.type !== LEGACY_VOLUME_CLAIMS_CONDITION);
    if (conds.length) status.conditions = conds;
    else delete status.conditions;
  }

  /** Upstream's createPersistentVolumeClaims: the pod's claims that do not exist yet. */
  private async createClaims(set: any, podName: string): Promise<void> {
    for (const claim of claimsFor(set, podName)) {
      const cur = this.claims.get(`${claim.metadata.namespace}/${claim.metadata.name}`);
      if (cur) {
        if (cur.metadata.deletionTimestamp) throw new Error(`pvc ${claim.metadata.name} is being deleted`);
        continue;
      }
      try {
        await this.ctx.client.create(resourcePath('', 'v1', 'persistentvolumeclaims', claim.metadata.namespace), claim);
        this.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${podName} in StatefulSet ${set.metadata.name} success`);
      } catch (e) {
        if ((e as any)?.status === 409) continue; // our cache lags; it exists
        this.event(set, 'Warning', 'FailedCreate', `create Claim ${claim.metadata.name} for Pod ${podName} in StatefulSet ${set.metadata.name} failed error: ${(e as Error).message}`);
        throw e;
      }
    }
  }

  /**
   * whenScaled: Delete — the condemned pod becomes the claims' only owner (the set's reference goes,
   * as upstream's updateClaimOwnerRefForSetAndPod), so the garbage collector deletes them with it.
   */
  private async ownClaimsByPod(set: any, pod: any): Promise<void> {
    for (const t of claimsFor(set, pod.metadata.name)) {
      const cur = this.claims.get(`${t.metadata.namespace}/${t.metadata.name}`);
      if (!cur) continue;
      const refs: any[] = cur.metadata.ownerReferences ?? [];
      if (refs.some((r) => r.uid === pod.metadata.uid) && !refs.some((r) => r.uid === set.metadata.uid)) continue;
      const next = structuredClone(cur);
      next.metadata.ownerReferences = [...refs.filter((r) => r.uid !== set.metadata.uid && r.uid !== pod.metadata.uid), { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid }];
      try {
        await this.ctx.client.update(resourcePath('', 'v1', 'persistentvolumeclaims', cur.metadata.namespace, cur.metadata.name), next);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  private podFor(set: any, ordinal: number, rev: any): any {
    const tpl = templateOf(rev);
    const name = `${set.metadata.name}-${ordinal}`;
    const tm = tpl.metadata ?? {};
    const spec = structuredClone(tpl.spec ?? {});
    spec.hostname = name;
    if (set.spec.serviceName) spec.subdomain = set.spec.serviceName;
    // Upstream's updateStorage: each template's claim replaces a pod volume of the same name.
    const templates: string[] = (set.spec.volumeClaimTemplates ?? []).map((t: any) => t.metadata?.name).filter(Boolean);
    const vols: any[] = [
      ...templates.map((t) => ({ name: t, persistentVolumeClaim: { claimName: claimName(t, set.metadata.name, ordinal) } })),
      ...(spec.volumes ?? []).filter((v: any) => !templates.includes(v.name)),
    ];
    if (vols.length) spec.volumes = vols;
    else delete spec.volumes;
    const metadata: any = {
      name,
      namespace: set.metadata.namespace,
      labels: { ...(tm.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: rev.metadata.name, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal) },
      ownerReferences: [newControllerRef(set, STS_GVK)],
    };
    if (tm.annotations && Object.keys(tm.annotations).length) metadata.annotations = { ...tm.annotations };
    if (tm.finalizers?.length) metadata.finalizers = [...tm.finalizers];
    return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
  }

  private async createPod(set: any, ordinal: number, rev: any): Promise<void> {
    const pod = this.podFor(set, ordinal, rev);
    try {
      await this.ctx.client.create(resourcePath('', 'v1', 'pods', set.metadata.namespace), pod);
      this.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (e) {
      if ((e as any)?.status === 409) return; // our cache lags; it exists
      if (!((e as any)?.status === 403 && /terminat/i.test((e as Error).message))) {
        this.event(set, 'Warning', 'FailedCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${(e as Error).message}`);
      }
      throw e;
    }
  }

  private async deletePod(set: any, p: any): Promise<void> {
    if (!p) return;
    try {
      await this.ctx.client.delete(resourcePath('', 'v1', 'pods', p.metadata.namespace, p.metadata.name), { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: p.metadata.uid } });
      this.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${p.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (e) {
      if (isNotFound(e) || (e as any)?.status === 409) return;
      this.event(set, 'Warning', 'FailedDelete', `delete Pod ${p.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${(e as Error).message}`);
      throw e;
    }
  }
}

/** `<template>-<set>-<ordinal>`, as upstream's getPersistentVolumeClaimName. */
export function claimName(template: string, setName: string, ordinal: number): string {
  return `${template}-${setName}-${ordinal}`;
}

export function retentionPolicy(set: any): { whenDeleted: string; whenScaled: string } {
  const p = set.spec?.persistentVolumeClaimRetentionPolicy ?? {};
  return { whenDeleted: p.whenDeleted ?? 'Retain', whenScaled: p.whenScaled ?? 'Retain' };
}

/**
 * Upstream's getPersistentVolumeClaims: each template as a claim of the pod, named after it, with the
 * template's labels plus the set's selector labels; owned by the set when whenDeleted is Delete.
 */
export function claimsFor(set: any, podName: string): any[] {
  const out: any[] = [];
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    if (!t.metadata?.name) continue;
    const tm = t.metadata;
    const metadata: any = {
      name: `${tm.name}-${podName}`,
      namespace: set.metadata.namespace,
      labels: { ...(tm.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) },
    };
    if (tm.annotations && Object.keys(tm.annotations).length) metadata.annotations = { ...tm.annotations };
    if (retentionPolicy(set).whenDeleted === 'Delete') metadata.ownerReferences = [newControllerRef(set, STS_GVK)];
    out.push({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata, spec: structuredClone(t.spec ?? {}) });
  }
  return out;
}

function sortKeys(o: any): any {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}
