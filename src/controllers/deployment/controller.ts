import { R } from '../../client/factory.js';
import { keyOf, splitKey, type Informer } from '../../client/informer.js';
import { resourcePath } from '../../client/rest.js';
import { refOf, type EventRecorder } from '../../client/events.js';
import { QueueController, claimObjects, controllerRefOf, isNotFound, newControllerRef, nowTime, ownerStillCurrent, selectorMatches, type ControllerContext } from '../controller.js';
import * as u from './util.js';

const GVK = { apiVersion: 'apps/v1', kind: 'Deployment' };
const RS_GVK = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };

/** Thrown to requeue after a write whose effect we must see through the informer first. */
class Requeue extends Error {}

/**
 * The Deployment controller, as upstream's: owns ReplicaSets by selector, one per template revision
 * (named <deployment>-<pod-template-hash>); rolls between them with RollingUpdate (maxSurge /
 * maxUnavailable) or Recreate; scales proportionally; keeps revisionHistoryLimit old ones; and
 * reports replicas and the Available / Progressing conditions that `kubectl rollout status` reads.
 */
export class DeploymentController extends QueueController {
  private readonly deployments: Informer;
  private readonly rss: Informer;
  private readonly pods: Informer;
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext) {
    super(ctx, 'deployment-controller', 5);
    this.deployments = ctx.informers.for(R.deployments);
    this.rss = ctx.informers.for(R.replicasets);
    this.pods = ctx.informers.for(R.pods);
    this.recorder = ctx.recorder('deployment-controller');
    this.deployments.addHandlers({ add: (d) => this.enqueue(d), update: (_o, d) => this.enqueue(d), delete: (d) => this.enqueue(d) });
    this.rss.addHandlers({
      add: (rs) => this.rsChanged(rs),
      update: (old, rs) => {
        if (old.metadata.resourceVersion === rs.metadata.resourceVersion) return;
        const oldRef = controllerRefOf(old);
        if (oldRef && oldRef.uid !== controllerRefOf(rs)?.uid) this.rsChanged(old);
        this.rsChanged(rs);
      },
      delete: (rs) => this.rsChanged(rs),
    });
    // Recreate waits for old pods to be gone; their deletion is what lets it go on.
    this.pods.addHandlers({
      delete: (p) => {
        const ref = controllerRefOf(p);
        if (ref?.kind !== 'ReplicaSet') return;
        const rs = this.rss.get(`${p.metadata.namespace}/${ref.name}`);
        const d = rs && this.ownerOf(rs);
        if (d && !u.isRollingUpdate(d)) this.enqueue(d);
      },
    });
  }

  private ownerOf(rs: any): any | undefined {
    const ref = controllerRefOf(rs);
    if (ref?.kind !== 'Deployment') return undefined;
    const d = this.deployments.get(`${rs.metadata.namespace}/${ref.name}`);
    return d?.metadata.uid === ref.uid ? d : undefined;
  }

  private rsChanged(rs: any): void {
    const d = this.ownerOf(rs);
    if (d) return this.enqueue(d);
    if (controllerRefOf(rs)) return;
    for (const d of this.deployments.list()) {
      if (d.metadata.namespace === rs.metadata.namespace && selectorMatches(d.spec?.selector, rs.metadata.labels)) this.enqueue(d);
    }
  }

  private now(): string {
    return nowTime(this.ctx.clock);
  }

  protected async reconcile(key: string): Promise<void> {
    const cached = this.deployments.get(key);
    if (!cached) return;
    const d = structuredClone(cached);
    const { namespace, name } = splitKey(key);
    const inNs = this.rss.list().filter((rs) => rs.metadata.namespace === namespace);
    const rsList = await claimObjects({
      client: this.ctx.client,
      owner: d,
      ownerGVK: GVK,
      selector: d.spec?.selector,
      candidates: inNs,
      pathOf: (rs) => resourcePath('apps', 'v1', 'replicasets', namespace, rs.metadata.name),
      canAdopt: ownerStillCurrent(this.ctx.client, resourcePath('apps', 'v1', 'deployments', namespace, name), d.metadata.uid),
    });
    try {
      if (d.metadata.deletionTimestamp) return await this.syncStatusOnly(d, rsList);
      await this.checkPausedConditions(d);
      if (d.spec?.paused) return await this.sync(d, rsList);
      if (await this.isScalingEvent(d, rsList)) return await this.sync(d, rsList);
      if (u.isRollingUpdate(d)) await this.rolloutRolling(d, rsList);
      else await this.rolloutRecreate(d, rsList);
    } catch (e) {
      if (e instanceof Requeue) return this.enqueueAfter(key, 50);
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------------
  // ReplicaSets and revisions

  /**
   * Splits the ReplicaSets into the new one (the Deployment's template) and the old ones, bumps
   * the new one's revision past every old one, and creates it if asked and missing.
   */
  private async getAllReplicaSets(d: any, rsList: any[], create: boolean): Promise<{ newRS: any | undefined; oldRSs: any[] }> {
    const existing = u.findNewRS(d, rsList);
    const oldRSs = rsList.filter((rs) => rs !== existing);
    const newRevision = u.maxRevision(oldRSs) + 1;
    if (existing) {
      let rs = existing;
      const copy = structuredClone(existing);
      const annotationsChanged = u.setNewRSAnnotations(d, copy, newRevision, true);
      const mrsChanged = (copy.spec.minReadySeconds ?? 0) !== (d.spec.minReadySeconds ?? 0);
      if (annotationsChanged || mrsChanged) {
        copy.spec.minReadySeconds = d.spec.minReadySeconds ?? 0;
        rs = await this.ctx.client.update(resourcePath('apps', 'v1', 'replicasets', copy.metadata.namespace, copy.metadata.name), copy);
      }
      await this.setDeploymentRevision(d, rs.metadata.annotations?.[u.REVISION]);
      if (!u.condition(d.status, 'Progressing')) {
        const status = structuredClone(d.status ?? {});
        u.setCondition(status, u.newCondition('Progressing', 'True', u.Reasons.FoundNewRS, `Found new replica set "${rs.metadata.name}"`, this.now()));
        await this.writeStatus(d, status);
      }
      return { newRS: rs, oldRSs };
    }
    if (!create) return { newRS: undefined, oldRSs };
    return { newRS: await this.createNewRS(d, rsList, oldRSs, newRevision), oldRSs };
  }

  private async createNewRS(d: any, all: any[], oldRSs: any[], newRevision: number): Promise<any> {
    const hash = u.templateHash(d);
    const template = structuredClone(d.spec.template);
    template.metadata ??= {};
    template.metadata.labels = { ...(template.metadata.labels ?? {}), [u.POD_TEMPLATE_HASH]: hash };
    const selector = structuredClone(d.spec.selector);
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [u.POD_TEMPLATE_HASH]: hash };
    const replicas = u.newRSNewReplicas(d, all, undefined);
    const rs: any = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: `${d.metadata.name}-${hash}`, namespace: d.metadata.namespace, ownerReferences: [newControllerRef(d, GVK)], labels: template.metadata.labels, annotations: {} },
      spec: { replicas, minReadySeconds: d.spec.minReadySeconds ?? 0, selector, template },
    };
    u.setNewRSAnnotations(d, rs, newRevision, false);
    const path = resourcePath('apps', 'v1', 'replicasets', d.metadata.namespace);
    let created: any;
    try {
      created = await this.ctx.client.create(path, rs);
    } catch (e) {
      const status = (e as any).status;
      if (status === 409) {
        // Ours already (a stale cache), or a hash collision: then bump collisionCount for a new name.
        const other = await this.ctx.client.get(resourcePath('apps', 'v1', 'replicasets', d.metadata.namespace, rs.metadata.name));
        if (controllerRefOf(other)?.uid === d.metadata.uid && u.equalIgnoreHash(other.spec.template, d.spec.template)) throw new Requeue();
        const st = structuredClone(d.status ?? {});
        st.collisionCount = (st.collisionCount ?? 0) + 1;
        await this.writeStatus(d, st);
        throw new Requeue();
      }
      if (status === 422 || status === 403) {
        const msg = `Failed to create new replica set "${rs.metadata.name}": ${(e as Error).message}`;
        this.recorder.event(refOf(d, 'Deployment', 'apps/v1'), 'Warning', 'FailedCreate', msg);
        if (u.hasProgressDeadline(d)) {
          const st = structuredClone(d.status ?? {});
          u.setCondition(st, u.newCondition('Progressing', 'False', u.Reasons.FailedRSCreate, msg, this.now()));
          await this.writeStatus(d, st);
        }
      }
      throw e;
    }
    if (replicas > 0) this.recorder.event(refOf(d, 'Deployment', 'apps/v1'), 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} to ${replicas}`);
    await this.setDeploymentRevision(d, String(newRevision));
    if (u.hasProgressDeadline(d)) {
      const st = structuredClone(d.status ?? {});
      u.setCondition(st, u.newCondition('Progressing', 'True', u.Reasons.NewRSCreated, `Created new replica set "${created.metadata.name}"`, this.now()));
      await this.writeStatus(d, st);
    }
    void oldRSs;
    return created;
  }

  /** Keeps the Deployment's revision annotation equal to its new ReplicaSet's (what `rollout history` shows). */
  private async setDeploymentRevision(d: any, revision: string | undefined): Promise<void> {
    if (!revision || d.metadata.annotations?.[u.REVISION] === revision) return;
    const copy = structuredClone(d);
    copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), [u.REVISION]: revision };
    const updated = await this.ctx.client.update(resourcePath('apps', 'v1', 'deployments', d.metadata.namespace, d.metadata.name), copy);
    d.metadata = updated.metadata;
  }

  private async writeStatus(d: any, status: any): Promise<void> {
    if (u.sameStatus(status, d.status)) return;
    const updated = await this.ctx.client.update(resourcePath('apps', 'v1', 'deployments', d.metadata.namespace, d.metadata.name, 'status'), { ...d, status });
    d.metadata = updated.metadata;
    d.status = updated.status;
  }

  private async scaleRS(d: any, rs: any, newScale: number): Promise<{ scaled: boolean; rs: any }> {
    const oldScale = u.specReplicas(rs);
    const desired = u.replicasOf(d);
    const max = desired + u.maxSurge(d);
    const sizeChanged = oldScale !== newScale;
    if (!sizeChanged && !u.replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
    const copy = structuredClone(rs);
    copy.spec.replicas = newScale;
    copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), [u.DESIRED_REPLICAS]: String(desired), [u.MAX_REPLICAS]: String(max) };
    const updated = await this.ctx.client.update(resourcePath('apps', 'v1', 'replicasets', rs.metadata.namespace, rs.metadata.name), copy);
    if (sizeChanged) {
      const op = oldScale < newScale ? 'up' : 'down';
      this.recorder.event(refOf(d, 'Deployment', 'apps/v1'), 'Normal', 'ScalingReplicaSet', `Scaled ${op} replica set ${rs.metadata.name} to ${newScale} from ${oldScale}`);
    }
    return { scaled: sizeChanged, rs: updated };
  }

  // -------------------------------------------------------------------------------------------
  // Scaling (no template change) and pause

  private async isScalingEvent(d: any, rsList: any[]): Promise<boolean> {
    const { newRS, oldRSs } = await this.getAllReplicaSets(d, rsList, false);
    for (const rs of [...oldRSs, newRS]) {
      if (!rs || u.specReplicas(rs) === 0) continue;
      const desired = u.desiredReplicasAnnotation(rs);
      if (desired !== undefined && desired !== u.replicasOf(d)) return true;
    }
    return false;
  }

  private async checkPausedConditions(d: any): Promise<void> {
    if (!u.hasProgressDeadline(d)) return;
    const c = u.condition(d.status, 'Progressing');
    if (c?.reason === u.Reasons.TimedOut) return;
    const paused = !!d.spec?.paused;
    const st = structuredClone(d.status ?? {});
    if (paused && c?.reason !== u.Reasons.Paused) u.setCondition(st, u.newCondition('Progressing', 'Unknown', u.Reasons.Paused, 'Deployment is paused', this.now()));
    else if (!paused && c?.reason === u.Reasons.Paused) u.setCondition(st, u.newCondition('Progressing', 'Unknown', u.Reasons.Resumed, 'Deployment is resumed', this.now()));
    else return;
    await this.writeStatus(d, st);
  }

  /** Scale and status only: paused Deployments and pure scaling events. */
  private async sync(d: any, rsList: any[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSets(d, rsList, false);
    await this.scale(d, newRS, oldRSs);
    if (d.spec?.paused) await this.cleanup(d, oldRSs);
    await this.syncStatusOnly(d, [...oldRSs, ...(newRS ? [newRS] : [])], newRS);
  }

  private async syncStatusOnly(d: any, all: any[], newRS?: any): Promise<void> {
    const nrs = newRS ?? u.findNewRS(d, all);
    const fresh = all.map((rs) => this.rss.get(keyOf(rs)) ?? rs);
    await this.writeStatus(d, u.calculateStatus(fresh, nrs && (this.rss.get(keyOf(nrs)) ?? nrs), d, this.now()));
  }

  /** Upstream's scale(): one active ReplicaSet takes the whole size; otherwise proportional to size. */
  private async scale(d: any, newRS: any | undefined, oldRSs: any[]): Promise<void> {
    const want = u.replicasOf(d);
    const all = [...(newRS ? [newRS] : []), ...oldRSs];
    const active = all.filter((rs) => u.specReplicas(rs) > 0);
    let target: any | undefined;
    if (active.length === 1) target = active[0];
    else if (active.length === 0) target = newRS ?? [...oldRSs].sort(u.byCreation).at(-1);
    if (target) {
      if (u.specReplicas(target) !== want || u.replicasAnnotationsNeedUpdate(target, want, want + u.maxSurge(d))) await this.scaleRS(d, target, want);
      return;
    }
    if (newRS && u.specReplicas(newRS) === want && u.desiredReplicasAnnotation(newRS) === want && (newRS.status?.availableReplicas ?? 0) === want) {
      for (const rs of oldRSs) if (u.specReplicas(rs) > 0) await this.scaleRS(d, rs, 0);
      return;
    }
    if (!u.isRollingUpdate(d)) return;
    const allowed = want > 0 ? want + u.maxSurge(d) : 0;
    const toAdd = allowed - u.totalSpec(active);
    const sorted = [...active].sort((a, b) => {
      const bySize = u.specReplicas(b) - u.specReplicas(a);
      if (bySize) return bySize;
      // Larger first; on a tie newer first when scaling up, older first when scaling down.
      return toAdd > 0 ? -u.byCreation(a, b) : u.byCreation(a, b);
    });
    const sizes = new Map<any, number>();
    let added = 0;
    for (const rs of sorted) {
      if (toAdd === 0) {
        sizes.set(rs, u.specReplicas(rs));
        continue;
      }
      const p = this.proportion(rs, d, toAdd, added);
      sizes.set(rs, u.specReplicas(rs) + p);
      added += p;
    }
    if (toAdd !== 0 && sorted.length) sizes.set(sorted[0], Math.max(0, sizes.get(sorted[0])! + toAdd - added));
    for (const rs of sorted) await this.scaleRS(d, rs, sizes.get(rs)!);
  }

  private proportion(rs: any, d: any, toAdd: number, added: number): number {
    if (u.specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
    const want = u.replicasOf(d);
    let fraction: number;
    if (want === 0) fraction = -u.specReplicas(rs);
    else {
      const dReplicas = want + u.maxSurge(d);
      const annotated = u.maxReplicasAnnotation(rs) ?? d.status?.replicas ?? 0;
      fraction = annotated ? Math.round((u.specReplicas(rs) * dReplicas) / annotated) - u.specReplicas(rs) : 0;
    }
    const allowed = toAdd - added;
    return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
  }

  /** Deletes old ReplicaSets beyond revisionHistoryLimit, oldest revision first, if they are scaled to zero. */
  private async cleanup(d: any, oldRSs: any[]): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit;
    if (limit === undefined || limit === null) return;
    const alive = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
    const diff = alive.length - limit;
    if (diff <= 0) return;
    const sorted = [...alive].sort((a, b) => u.revisionOf(a) - u.revisionOf(b) || u.byCreation(a, b));
    for (let i = 0; i < diff; i++) {
      const rs = sorted[i];
      if ((rs.status?.replicas ?? 0) !== 0 || u.specReplicas(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await this.ctx.client.delete(resourcePath('apps', 'v1', 'replicasets', rs.metadata.namespace, rs.metadata.name), { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: rs.metadata.uid } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // RollingUpdate

  private async rolloutRolling(d: any, rsList: any[]): Promise<void> {
    const { newRS: nrs, oldRSs } = await this.getAllReplicaSets(d, rsList, true);
    let newRS = nrs;
    // Scale up the new ReplicaSet first, within maxSurge.
    if (newRS && u.specReplicas(newRS) !== u.replicasOf(d)) {
      const target = u.specReplicas(newRS) > u.replicasOf(d) ? u.replicasOf(d) : u.newRSNewReplicas(d, [...oldRSs, newRS], newRS);
      const r = await this.scaleRS(d, newRS, target);
      newRS = r.rs;
      if (r.scaled) return this.syncRolloutStatus(d, [...oldRSs, newRS], newRS);
    }
    // Then scale old ones down, keeping maxUnavailable.
    const r = await this.reconcileOldReplicaSets(d, oldRSs, newRS);
    if (r.scaled) return this.syncRolloutStatus(d, [...r.oldRSs, newRS], newRS);
    const status = u.calculateStatus([...oldRSs, newRS], newRS, d, this.now());
    if (u.deploymentComplete(d, status)) await this.cleanup(d, oldRSs);
    await this.syncRolloutStatus(d, [...oldRSs, newRS], newRS);
  }

  private async reconcileOldReplicaSets(d: any, oldRSs: any[], newRS: any): Promise<{ scaled: boolean; oldRSs: any[] }> {
    const oldCount = u.totalSpec(oldRSs);
    if (oldCount === 0) return { scaled: false, oldRSs };
    const all = [...oldRSs, newRS];
    const minAvailable = u.replicasOf(d) - u.maxUnavailable(d);
    const newUnavailable = u.specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = u.totalSpec(all) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return { scaled: false, oldRSs };
    // First drop old replicas that are not available anyway: that costs no availability.
    let cleaned = 0;
    const olds = [...oldRSs].sort(u.byCreation);
    for (let i = 0; i < olds.length && cleaned < maxScaledDown; i++) {
      const rs = olds[i];
      const unhealthy = u.specReplicas(rs) - (rs.status?.availableReplicas ?? 0);
      if (u.specReplicas(rs) === 0 || unhealthy <= 0) continue;
      const n = Math.min(maxScaledDown - cleaned, unhealthy);
      olds[i] = (await this.scaleRS(d, rs, u.specReplicas(rs) - n)).rs;
      cleaned += n;
    }
    // Then scale down available old replicas while availability stays above minAvailable.
    const available = u.totalAvailable([...olds, newRS]);
    let scaled = 0;
    const budget = available - minAvailable;
    for (let i = 0; i < olds.length && scaled < budget; i++) {
      const rs = olds[i];
      if (u.specReplicas(rs) === 0) continue;
      const n = Math.min(u.specReplicas(rs), budget - scaled);
      olds[i] = (await this.scaleRS(d, rs, u.specReplicas(rs) - n)).rs;
      scaled += n;
    }
    return { scaled: cleaned + scaled > 0, oldRSs: olds };
  }

  // -------------------------------------------------------------------------------------------
  // Recreate

  private async rolloutRecreate(d: any, rsList: any[]): Promise<void> {
    let { newRS, oldRSs } = await this.getAllReplicaSets(d, rsList, false);
    let scaledDown = false;
    for (let i = 0; i < oldRSs.length; i++) {
      if (u.specReplicas(oldRSs[i]) === 0) continue;
      const r = await this.scaleRS(d, oldRSs[i], 0);
      oldRSs[i] = r.rs;
      scaledDown ||= r.scaled;
    }
    const all = () => [...oldRSs, ...(newRS ? [newRS] : [])];
    if (scaledDown) return this.syncRolloutStatus(d, all(), newRS);
    if (this.oldPodsRunning(d, newRS, oldRSs)) return this.syncRolloutStatus(d, all(), newRS);
    if (!newRS) ({ newRS, oldRSs } = await this.getAllReplicaSets(d, rsList, true));
    if (u.specReplicas(newRS) !== u.replicasOf(d)) newRS = (await this.scaleRS(d, newRS, u.replicasOf(d))).rs;
    const status = u.calculateStatus(all(), newRS, d, this.now());
    if (u.deploymentComplete(d, status)) await this.cleanup(d, oldRSs);
    await this.syncRolloutStatus(d, all(), newRS);
  }

  private oldPodsRunning(d: any, newRS: any | undefined, oldRSs: any[]): boolean {
    if (u.totalActual(oldRSs) > 0) return true;
    const oldUIDs = new Set(oldRSs.map((rs) => rs.metadata.uid));
    for (const p of this.pods.list()) {
      if (p.metadata.namespace !== d.metadata.namespace) continue;
      const ref = controllerRefOf(p);
      if (!ref || !oldUIDs.has(ref.uid) || ref.uid === newRS?.metadata.uid) continue;
      const phase = p.status?.phase;
      if (phase !== 'Failed' && phase !== 'Succeeded') return true;
    }
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // Progress

  private async syncRolloutStatus(d: any, all: any[], newRS: any | undefined): Promise<void> {
    const nowMs = this.ctx.clock.now();
    const now = this.now();
    const status = u.calculateStatus(all, newRS, d, now);
    if (!u.hasProgressDeadline(d)) u.removeCondition(status, 'Progressing');
    const cur = u.condition(status, 'Progressing');
    const complete = status.replicas === status.updatedReplicas && cur?.reason === u.Reasons.NewRSAvailable;
    if (u.hasProgressDeadline(d) && !complete) {
      if (u.deploymentComplete(d, status)) {
        const msg = newRS ? `ReplicaSet "${newRS.metadata.name}" has successfully progressed.` : 'Deployment has successfully progressed.';
        u.setCondition(status, u.newCondition('Progressing', 'True', u.Reasons.NewRSAvailable, msg, now));
      } else if (u.deploymentProgressing(d, status)) {
        const msg = newRS ? `ReplicaSet "${newRS.metadata.name}" is progressing.` : `Deployment "${d.metadata.name}" is progressing.`;
        const c = u.newCondition('Progressing', 'True', u.Reasons.RSUpdated, msg, now);
        // Progress moves lastUpdateTime (the deadline's start) but is no transition.
        if (cur?.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
        u.removeCondition(status, 'Progressing');
        u.setCondition(status, c);
      } else if (u.deploymentTimedOut(d, status, nowMs)) {
        const msg = newRS ? `ReplicaSet "${newRS.metadata.name}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.`;
        u.setCondition(status, u.newCondition('Progressing', 'False', u.Reasons.TimedOut, msg, now));
      }
    }
    const failure = all.map((rs) => (rs?.status?.conditions ?? []).find((c: any) => c.type === 'ReplicaFailure')).find(Boolean);
    if (failure) u.setCondition(status, u.newCondition('ReplicaFailure', failure.status, failure.reason, failure.message, now));
    else u.removeCondition(status, 'ReplicaFailure');
    if (u.sameStatus(status, d.status)) return this.requeueStuck(d, status, nowMs);
    await this.writeStatus(d, status);
    this.requeueStuck(d, status, nowMs);
  }

  /** Come back when the progress deadline would pass, to report ProgressDeadlineExceeded. */
  private requeueStuck(d: any, status: any, nowMs: number): void {
    const c = u.condition(status, 'Progressing');
    if (!u.hasProgressDeadline(d) || !c || c.reason === u.Reasons.NewRSAvailable || c.reason === u.Reasons.TimedOut) return;
    if (u.deploymentComplete(d, status)) return;
    const after = Date.parse(c.lastUpdateTime) + d.spec.progressDeadlineSeconds * 1000 - nowMs;
    this.enqueueAfter(d, Math.max(after + 1000, 0));
  }
}
