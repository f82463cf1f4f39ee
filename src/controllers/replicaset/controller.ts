import { R } from '../../client/factory.js';
import { keyOf, splitKey, type Informer } from '../../client/informer.js';
import { resourcePath } from '../../client/rest.js';
import type { EventRecorder } from '../../client/events.js';
import { refOf } from '../../client/events.js';
import {
  QueueController,
  Expectations,
  claimObjects,
  controllerRefOf,
  isNotFound,
  isPodActive,
  isPodAvailable,
  isPodReady,
  newControllerRef,
  nowTime,
  ownerStillCurrent,
  podFromTemplate,
  selectorMatches,
  type ControllerContext,
} from '../controller.js';
import { podsToDelete } from './ranking.js';

/** At most this many creates or deletes per sync, as upstream's burstReplicas. */
const BURST_REPLICAS = 500;
const GVK = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };

/**
 * The ReplicaSet controller: keeps `spec.replicas` active pods matching the selector (adopting
 * orphans, releasing pods that stop matching), creates in slow-start batches, deletes the
 * cheapest pods first, and reports replicas/fullyLabeled/ready/available in status.
 */
export class ReplicaSetController extends QueueController {
  private readonly rss: Informer;
  private readonly pods: Informer;
  private readonly expectations: Expectations;
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext) {
    super(ctx, 'replicaset-controller', 5);
    this.rss = ctx.informers.for(R.replicasets);
    this.pods = ctx.informers.for(R.pods);
    this.expectations = new Expectations(ctx.clock);
    this.recorder = ctx.recorder('replicaset-controller');
    this.rss.addHandlers({
      add: (rs) => this.enqueue(rs),
      update: (_o, rs) => this.enqueue(rs),
      delete: (rs) => {
        this.expectations.delete(keyOf(rs));
        this.enqueue(rs);
      },
    });
    this.pods.addHandlers({ add: (p) => this.podAdded(p), update: (o, p) => this.podUpdated(o, p), delete: (p) => this.podDeleted(p) });
  }

  /** The ReplicaSet key of a controllerRef, if it names a ReplicaSet we know with that uid. */
  private ownerKey(p: any, ref = controllerRefOf(p)): string | undefined {
    if (!ref || ref.kind !== 'ReplicaSet') return undefined;
    const key = `${p.metadata.namespace}/${ref.name}`;
    const rs = this.rss.get(key);
    return rs && rs.metadata.uid === ref.uid ? key : undefined;
  }

  private enqueueMatching(p: any): void {
    for (const rs of this.rss.list()) {
      if (rs.metadata.namespace === p.metadata.namespace && selectorMatches(rs.spec?.selector, p.metadata.labels)) this.enqueue(rs);
    }
  }

  private podAdded(p: any): void {
    if (p.metadata.deletionTimestamp) return this.podDeleted(p);
    const ref = controllerRefOf(p);
    if (ref) {
      const k = this.ownerKey(p, ref);
      if (k) {
        this.expectations.creationObserved(k);
        this.enqueue(k);
      }
      return;
    }
    this.enqueueMatching(p);
  }

  private podUpdated(old: any, p: any): void {
    if (old.metadata.resourceVersion === p.metadata.resourceVersion) return;
    if (p.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) {
      // Graceful deletion started: count it as deleted now, as upstream, so replacements start at once.
      const k = this.ownerKey(p);
      if (k) this.expectations.deletionObserved(k, keyOf(p));
    }
    const oldRef = controllerRefOf(old);
    const ref = controllerRefOf(p);
    if (oldRef && oldRef.uid !== ref?.uid) {
      const k = this.ownerKey(old, oldRef);
      if (k) this.enqueue(k);
    }
    if (ref) {
      const k = this.ownerKey(p, ref);
      if (!k) return;
      this.enqueue(k);
      // Becoming ready starts the minReadySeconds clock: look again when it runs out.
      const rs = this.rss.get(k);
      const mrs = rs?.spec?.minReadySeconds ?? 0;
      if (mrs > 0 && !isPodReady(old) && isPodReady(p)) this.enqueueAfter(k, mrs * 1000 + 100);
      return;
    }
    const labelsChanged = JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(p.metadata.labels ?? {});
    if (labelsChanged || oldRef) this.enqueueMatching(p);
  }

  private podDeleted(p: any): void {
    const k = this.ownerKey(p);
    if (!k) return;
    this.expectations.deletionObserved(k, keyOf(p));
    this.enqueue(k);
  }

  protected async reconcile(key: string): Promise<void> {
    const rs = this.rss.get(key);
    if (!rs) {
      this.expectations.delete(key);
      return;
    }
    const { namespace, name } = splitKey(key);
    const needsSync = this.expectations.satisfied(key) && !rs.metadata.deletionTimestamp;
    const inNs = this.pods.list().filter((p) => p.metadata.namespace === namespace);
    const candidates = inNs.filter(isPodActive);
    const owned = await claimObjects({
      client: this.ctx.client,
      owner: rs,
      ownerGVK: GVK,
      selector: rs.spec?.selector,
      candidates,
      pathOf: (p) => resourcePath('', 'v1', 'pods', namespace, p.metadata.name),
      canAdopt: ownerStillCurrent(this.ctx.client, resourcePath('apps', 'v1', 'replicasets', namespace, name), rs.metadata.uid),
    });
    let active = owned;
    let manageErr: unknown;
    if (needsSync) {
      try {
        active = await this.manageReplicas(rs, owned, inNs);
      } catch (e) {
        manageErr = e;
      }
    }
    await this.updateStatus(rs, active, manageErr);
    if (manageErr) throw manageErr;
  }

  /** Creates or deletes pods toward spec.replicas; returns the pods that remain active. */
  private async manageReplicas(rs: any, pods: any[], inNs: any[]): Promise<any[]> {
    const key = keyOf(rs);
    const want = rs.spec?.replicas ?? 1;
    const diff = pods.length - want;
    if (diff < 0) {
      const n = Math.min(-diff, BURST_REPLICAS);
      this.expectations.expectCreations(key, n);
      const ref = newControllerRef(rs, GVK);
      const path = resourcePath('', 'v1', 'pods', rs.metadata.namespace);
      let created = 0;
      const err = await slowStartBatch(n, async () => {
        try {
          const pod = await this.ctx.client.create(path, podFromTemplate(rs.spec.template, rs, ref));
          created++;
          this.recorder.event(refOf(rs, 'ReplicaSet', 'apps/v1'), 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
        } catch (e) {
          this.expectations.creationFailed(key);
          const msg = (e as Error).message;
          // A terminating namespace refuses creates; that is expected, not a failure to report.
          if (!((e as any).status === 403 && /being terminated/.test(msg))) this.recorder.event(refOf(rs, 'ReplicaSet', 'apps/v1'), 'Warning', 'FailedCreate', `Error creating: ${msg}`);
          throw e;
        }
      }, (skipped) => {
        // Creates never issued will never be observed.
        for (let i = 0; i < skipped; i++) this.expectations.creationFailed(key);
      });
      void created;
      if (err) throw err;
      return pods;
    }
    if (diff > 0) {
      const n = Math.min(diff, BURST_REPLICAS);
      const related = this.relatedPods(rs, inNs);
      const victims = podsToDelete(pods, related, n);
      this.expectations.expectDeletions(key, victims.map(keyOf));
      let firstErr: unknown;
      await Promise.all(
        victims.map(async (p) => {
          try {
            await this.ctx.client.delete(resourcePath('', 'v1', 'pods', p.metadata.namespace, p.metadata.name), { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: p.metadata.uid } });
            this.recorder.event(refOf(rs, 'ReplicaSet', 'apps/v1'), 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
          } catch (e) {
            this.expectations.deletionObserved(key, keyOf(p));
            if (isNotFound(e)) return;
            this.recorder.event(refOf(rs, 'ReplicaSet', 'apps/v1'), 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
            firstErr ??= e;
          }
        }),
      );
      if (firstErr) throw firstErr;
      // Status must not count pods we just deleted, or a deployment would believe them available.
      const gone = new Set(victims);
      return pods.filter((p) => !gone.has(p));
    }
    return pods;
  }

  /** Pods of every ReplicaSet with the same controller (a Deployment's other revisions), for co-location ranking. */
  private relatedPods(rs: any, inNs: any[]): any[] {
    const owner = controllerRefOf(rs);
    if (!owner) return inNs.filter((p) => controllerRefOf(p)?.uid === rs.metadata.uid);
    const siblings = new Set(this.rss.list().filter((r) => r.metadata.namespace === rs.metadata.namespace && controllerRefOf(r)?.uid === owner.uid).map((r) => r.metadata.uid));
    return inNs.filter((p) => isPodActive(p) && siblings.has(controllerRefOf(p)?.uid));
  }

  private async updateStatus(rs: any, pods: any[], manageErr: unknown): Promise<void> {
    const now = this.ctx.clock.now();
    const mrs = rs.spec?.minReadySeconds ?? 0;
    const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
    let fully = 0;
    let ready = 0;
    let available = 0;
    for (const p of pods) {
      const l = p.metadata.labels ?? {};
      if (Object.entries(templateLabels).every(([k, v]) => l[k] === v)) fully++;
      if (isPodReady(p)) ready++;
      if (isPodAvailable(p, mrs, now)) available++;
    }
    const conditions = [...(rs.status?.conditions ?? [])].filter((c: any) => c.type !== 'ReplicaFailure' || manageErr);
    if (manageErr && !conditions.some((c: any) => c.type === 'ReplicaFailure')) {
      const create = (rs.spec?.replicas ?? 1) > pods.length;
      conditions.push({ type: 'ReplicaFailure', status: 'True', lastTransitionTime: nowTime(this.ctx.clock), reason: create ? 'FailedCreate' : 'FailedDelete', message: (manageErr as Error).message });
    }
    const status: any = {
      replicas: pods.length,
      fullyLabeledReplicas: fully,
      readyReplicas: ready,
      availableReplicas: available,
      observedGeneration: rs.metadata.generation,
    };
    if (conditions.length) status.conditions = conditions;
    const cur = rs.status ?? {};
    const same =
      (cur.replicas ?? 0) === status.replicas &&
      (cur.fullyLabeledReplicas ?? 0) === fully &&
      (cur.readyReplicas ?? 0) === ready &&
      (cur.availableReplicas ?? 0) === available &&
      cur.observedGeneration === status.observedGeneration &&
      JSON.stringify(cur.conditions ?? []) === JSON.stringify(conditions);
    if (!same) {
      try {
        await this.ctx.client.update(resourcePath('apps', 'v1', 'replicasets', rs.metadata.namespace, rs.metadata.name, 'status'), { ...rs, status });
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
    }
    // Pods ready but not yet available: look again when minReadySeconds has passed.
    if (mrs > 0 && ready > available) this.enqueueAfter(rs, mrs * 1000 + 100);
  }
}

/**
 * Runs `count` calls in batches of 1, 2, 4, … (upstream's slowStartBatch), so a template that
 * always fails costs one request, not hundreds. Returns the first error; `onSkipped` gets the
 * number of calls never made.
 */
export async function slowStartBatch(count: number, fn: () => Promise<void>, onSkipped: (n: number) => void): Promise<unknown> {
  let remaining = count;
  let batch = 1;
  while (remaining > 0) {
    const size = Math.min(batch, remaining);
    const results = await Promise.allSettled(Array.from({ length: size }, () => fn()));
    remaining -= size;
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) {
      onSkipped(remaining);
      return failed.reason;
    }
    batch *= 2;
  }
  return undefined;
}
