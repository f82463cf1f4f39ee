import { refOf } from '../../client/events.js';
import { R } from '../../client/factory.js';
import { splitKey, type Informer } from '../../client/informer.js';
import { resourcePath } from '../../client/rest.js';
import {
  Expectations, QueueController, controllerRefOf, inParallel, isNotFound, isPodReady, newControllerRef, nowTime, podFromTemplate, selectorMatches,
  type ControllerContext,
} from '../controller.js';
import { DEFAULT_BACKOFF_MS, MAX_BACKOFF_MS, nextBackoffRecord, podFinishTime, remainingBackoff, type BackoffRecord } from './backoff.js';
import { matchPodFailurePolicy } from './failurepolicy.js';
import { COMPLETION_INDEX_ANNOTATION, formatIndexes, parseIndexes, podIndex } from './indexes.js';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
const JOB_GVK = { apiVersion: 'batch/v1', kind: 'Job' };

export interface JobControllerOptions {
  /** Base of the exponential pod-failure backoff (upstream 10 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

/** The Job's terminal condition, if it finished. */
export function finishedCondition(job: any): any | undefined {
  return (job.status?.conditions ?? []).find((c: any) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

const hasCond = (job: any, type: string) => (job.status?.conditions ?? []).find((c: any) => c.type === type && c.status === 'True');
const isTerminal = (p: any) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const hasFinalizer = (p: any) => (p.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);

/**
 * The Job controller (upstream's pkg/controller/job): runs pods until `completions` succeed (or,
 * Indexed, until every index succeeded), at most `parallelism` at a time, with the exponential
 * pod-failure backoff, backoffLimit, activeDeadlineSeconds, podFailurePolicy and suspend. Pods carry
 * the batch.kubernetes.io/job-tracking finalizer: a finished pod is first recorded in
 * status.uncountedTerminatedPods, then its finalizer removed, then counted, so no pod is counted
 * twice or lost. Terminal conditions go through FailureTarget/SuccessCriteriaMet first and become
 * Failed/Complete once the Job's pods are gone, as upstream since 1.31.
 */
export class JobController extends QueueController {
  private readonly jobs: Informer;
  private readonly pods: Informer;
  private readonly recorder;
  private readonly expectations: Expectations;
  private readonly backoff = new Map<string, BackoffRecord>();
  /** Pod uids already counted whose finalizer removal the cache may not show yet. */
  private readonly counted = new Map<string, Set<string>>();
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;

  constructor(ctx: ControllerContext, opts: JobControllerOptions = {}) {
    super(ctx, 'job-controller', 5);
    this.backoffBaseMs = opts.backoffBaseMs ?? DEFAULT_BACKOFF_MS;
    this.backoffMaxMs = opts.backoffMaxMs ?? MAX_BACKOFF_MS;
    this.recorder = ctx.recorder('job-controller');
    this.expectations = new Expectations(ctx.clock);
    this.jobs = ctx.informers.for(R.jobs);
    this.pods = ctx.informers.for(R.pods);
    this.jobs.addHandlers({ add: (j) => this.enqueue(j), update: (_o, j) => this.enqueue(j), delete: (j) => this.enqueue(j) });
    this.pods.addHandlers({
      add: (p) => {
        const k = this.jobKeyOf(p);
        if (k) this.expectations.creationObserved(k);
        this.onPod(p);
      },
      update: (_o, p) => this.onPod(p),
      delete: (p) => {
        const k = this.jobKeyOf(p);
        if (k) this.expectations.deletionObserved(k, `${p.metadata.namespace}/${p.metadata.name}`);
        this.onPod(p);
      },
    });
  }

  private jobKeyOf(p: any): string | undefined {
    const ref = controllerRefOf(p);
    return ref?.kind === 'Job' ? `${p.metadata.namespace}/${ref.name}` : undefined;
  }

  private onPod(p: any): void {
    const k = this.jobKeyOf(p);
    if (k) return this.enqueue(k);
    // An orphan might be adopted by a Job selecting it.
    if (!controllerRefOf(p) && !p.metadata.deletionTimestamp) {
      for (const j of this.jobs.list()) if (j.metadata.namespace === p.metadata.namespace && selectorMatches(j.spec?.selector, p.metadata.labels)) this.enqueue(j);
    }
  }

  private event(job: any, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.recorder.event(refOf(job, 'Job', 'batch/v1'), type, reason, message);
  }

  protected async reconcile(key: string): Promise<void> {
    const cached = this.jobs.get(key);
    const { namespace: ns, name } = splitKey(key);
    if (!cached) {
      // The Job is gone: its pods must not stay blocked by our finalizer.
      const orphans = this.pods.list().filter((p) => p.metadata.namespace === ns && hasFinalizer(p) && controllerRefOf(p)?.kind === 'Job' && controllerRefOf(p)?.name === name);
      await this.removeFinalizers(orphans);
      this.expectations.delete(key);
      this.backoff.delete(key);
      this.counted.delete(key);
      return;
    }
    const job = structuredClone(cached);
    const pods = await this.claimPods(job);
    if (finishedCondition(job)) {
      await this.removeFinalizers(pods.filter(hasFinalizer));
      return;
    }
    await this.sync(key, job, pods);
  }

  /** Pods controlled by the Job, adopting orphans its selector matches (as ClaimPods). */
  private async claimPods(job: any): Promise<any[]> {
    const out: any[] = [];
    for (const p of this.pods.list()) {
      if (p.metadata.namespace !== job.metadata.namespace) continue;
      const ref = controllerRefOf(p);
      if (ref) {
        if (ref.uid === job.metadata.uid) out.push(p);
        continue;
      }
      if (job.metadata.deletionTimestamp || p.metadata.deletionTimestamp || !selectorMatches(job.spec?.selector, p.metadata.labels)) continue;
      try {
        const adopted = await this.ctx.client.patch(
          resourcePath('', 'v1', 'pods', p.metadata.namespace, p.metadata.name),
          { metadata: { ownerReferences: [newControllerRef(job, JOB_GVK)], uid: p.metadata.uid } },
          'strategic',
        );
        out.push(adopted);
      } catch (e) {
        if (!isNotFound(e) && (e as any)?.status !== 409 && (e as any)?.status !== 422) throw e;
      }
    }
    return out;
  }

  private async sync(key: string, job: any, pods: any[]): Promise<void> {
    const now = this.ctx.clock.now();
    const spec = job.spec ?? {};
    const indexed = spec.completionMode === 'Indexed';
    const status = (job.status ??= {});
    const before = JSON.stringify(status);
    const uncounted = { succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])], failed: [...(status.uncountedTerminatedPods?.failed ?? [])] };
    let counted = this.counted.get(key);
    if (!counted) this.counted.set(key, (counted = new Set()));
    // Forget uids whose finalizer is visibly gone (or whose pod is gone).
    const byUid = new Map(pods.map((p) => [p.metadata.uid, p]));
    for (const uid of counted) if (!byUid.has(uid) || !hasFinalizer(byUid.get(uid))) counted.delete(uid);

    const replaceOnlyFailed = spec.podReplacementPolicy === 'Failed';
    // A pod being deleted counts as failed once terminal, or at once unless a podFailurePolicy
    // needs its final state (upstream's isPodFailed).
    const isFailedPod = (p: any) => p.status?.phase === 'Failed' || (!!p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && !spec.podFailurePolicy);
    const newSucceeded: any[] = [];
    const newFailed: any[] = [];
    const ignored: any[] = [];
    let failureTarget: { reason: string; message: string } | undefined;
    for (const p of pods) {
      if (!hasFinalizer(p)) continue;
      const uid = p.metadata.uid;
      if (counted.has(uid) || uncounted.succeeded.includes(uid) || uncounted.failed.includes(uid)) continue;
      if (p.status?.phase === 'Succeeded') newSucceeded.push(p);
      else if (isFailedPod(p)) {
        const m = spec.podFailurePolicy && p.status?.phase === 'Failed' ? matchPodFailurePolicy(spec.podFailurePolicy, p) : undefined;
        if (m?.action === 'Ignore') {
          ignored.push(p);
          continue;
        }
        if (m?.action === 'FailJob' && !failureTarget) failureTarget = { reason: 'PodFailurePolicy', message: m.message! };
        newFailed.push(p);
      }
    }
    const rec = nextBackoffRecord(
      this.backoff.get(key) ?? { failuresAfterLastSuccess: 0 },
      newSucceeded.map((p) => podFinishTime(p, now)),
      newFailed.map((p) => podFinishTime(p, now)),
    );
    this.backoff.set(key, rec);
    uncounted.succeeded.push(...newSucceeded.map((p) => p.metadata.uid));
    uncounted.failed.push(...newFailed.map((p) => p.metadata.uid));

    // Record what finished before removing finalizers, so a crash in between loses nothing.
    if (newSucceeded.length || newFailed.length) {
      status.uncountedTerminatedPods = { ...(uncounted.succeeded.length ? { succeeded: uncounted.succeeded } : {}), ...(uncounted.failed.length ? { failed: uncounted.failed } : {}) };
      const updated = await this.ctx.client.update(resourcePath('batch', 'v1', 'jobs', job.metadata.namespace, job.metadata.name, 'status'), job);
      job.metadata.resourceVersion = updated.metadata.resourceVersion;
    }
    const toRelease = pods.filter((p) => hasFinalizer(p) && (uncounted.succeeded.includes(p.metadata.uid) || uncounted.failed.includes(p.metadata.uid)));
    await this.removeFinalizers([...toRelease, ...ignored]);
    // Now count them.
    const completions: number | undefined = spec.completions ?? undefined;
    const completed = parseIndexes(status.completedIndexes, completions ?? Infinity);
    for (const uid of uncounted.succeeded) {
      const p = byUid.get(uid);
      const i = p ? podIndex(p) : undefined;
      if (indexed && i !== undefined && (completions === undefined || i < completions)) completed.add(i);
      counted.add(uid);
    }
    for (const uid of uncounted.failed) counted.add(uid);
    status.succeeded = (status.succeeded ?? 0) + uncounted.succeeded.length;
    status.failed = (status.failed ?? 0) + uncounted.failed.length;
    if (indexed) status.completedIndexes = formatIndexes(completed);
    status.uncountedTerminatedPods = {};

    const active = pods.filter((p) => !isTerminal(p) && !p.metadata.deletionTimestamp);
    const terminating = pods.filter((p) => !isTerminal(p) && p.metadata.deletionTimestamp);
    const conds: any[] = (status.conditions ??= []);
    const setCond = (type: string, st: 'True' | 'False', reason: string, message: string) => {
      const t = nowTime(this.ctx.clock);
      const c = conds.find((x) => x.type === type);
      if (!c) conds.push({ type, status: st, lastProbeTime: t, lastTransitionTime: t, reason, message });
      else if (c.status !== st || c.reason !== reason) Object.assign(c, { status: st, lastProbeTime: t, lastTransitionTime: t, reason, message });
    };
    const suspended = spec.suspend === true;
    let requeueMs: number | undefined;
    // Condition events go out only once the status carrying the condition is written: a sync from a
    // stale cache sets the same condition again, and its update then fails with a conflict (upstream
    // records them after the status update too).
    const events: [type: 'Normal' | 'Warning', reason: string, message: string][] = [];

    // Has the Job met its end? (FailureTarget/SuccessCriteriaMet stick once set.)
    let target = hasCond(job, 'FailureTarget') ?? hasCond(job, 'SuccessCriteriaMet');
    if (!target && !suspended) {
      const startTime = status.startTime ? Date.parse(status.startTime) : undefined;
      if (!failureTarget && status.failed > (spec.backoffLimit ?? 6)) failureTarget = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      if (!failureTarget && spec.activeDeadlineSeconds != null && startTime !== undefined) {
        const left = startTime + spec.activeDeadlineSeconds * 1000 - now;
        if (left <= 0) failureTarget = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
        else requeueMs = left;
      }
      if (failureTarget) {
        setCond('FailureTarget', 'True', failureTarget.reason, failureTarget.message);
      } else {
        const done = indexed
          ? completed.size >= (completions ?? 0)
          : completions === undefined
            ? status.succeeded > 0 && active.length === 0
            : status.succeeded >= completions;
        if (done) setCond('SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods');
      }
      target = hasCond(job, 'FailureTarget') ?? hasCond(job, 'SuccessCriteriaMet');
    }

    if (target) {
      // Finishing: no pod may keep running; the terminal condition waits until they are all gone.
      await this.deletePods(key, job, active);
      if (!active.length && !terminating.length && !pods.some(hasFinalizer)) {
        const final = target.type === 'FailureTarget' ? 'Failed' : 'Complete';
        setCond(final, 'True', target.reason, target.message);
        if (final === 'Complete') {
          status.completionTime = nowTime(this.ctx.clock);
          events.push(['Normal', 'Completed', 'Job completed']);
        } else {
          events.push(['Warning', target.reason, target.message]);
        }
      }
    } else if (suspended) {
      await this.deletePods(key, job, active);
      if (!hasCond(job, 'Suspended')) {
        setCond('Suspended', 'True', 'JobSuspended', 'Job suspended');
        events.push(['Normal', 'Suspended', 'Job suspended']);
      }
    } else {
      if (hasCond(job, 'Suspended')) {
        setCond('Suspended', 'False', 'JobResumed', 'Job resumed');
        // The deadline counts from the resumption, as upstream.
        status.startTime = nowTime(this.ctx.clock);
        events.push(['Normal', 'Resumed', 'Job resumed']);
      }
      status.startTime ??= nowTime(this.ctx.clock);
      if (spec.activeDeadlineSeconds != null && requeueMs === undefined) requeueMs = spec.activeDeadlineSeconds * 1000;
      if (this.expectations.satisfied(key)) {
        const wait = remainingBackoff(rec, now, this.backoffBaseMs, this.backoffMaxMs);
        const busy = replaceOnlyFailed ? [...active, ...terminating] : active;
        if (indexed) await this.manageIndexed(key, job, active, busy, completed, wait);
        else await this.manageNonIndexed(key, job, active, busy, wait);
        if (wait > 0) requeueMs = Math.min(requeueMs ?? Infinity, wait + 10);
      }
    }

    status.active = active.length;
    status.ready = active.filter(isPodReady).length;
    status.terminating = terminating.length;
    if (!conds.length) delete status.conditions;
    if (JSON.stringify(status) !== before) {
      await this.ctx.client.update(resourcePath('batch', 'v1', 'jobs', job.metadata.namespace, job.metadata.name, 'status'), job);
    }
    for (const [type, reason, message] of events) this.event(job, type, reason, message);
    if (requeueMs !== undefined) this.enqueueAfter(key, requeueMs);
  }

  private async manageNonIndexed(key: string, job: any, active: any[], busy: any[], wait: number): Promise<void> {
    const spec = job.spec;
    const parallelism = spec.parallelism ?? 1;
    const succeeded = job.status.succeeded ?? 0;
    let want: number;
    if (spec.completions == null) want = succeeded > 0 ? active.length : parallelism;
    else want = Math.max(0, Math.min(parallelism, spec.completions - succeeded));
    if (active.length > want) {
      await this.deletePods(key, job, rankForDeletion(active).slice(0, active.length - want));
      return;
    }
    const n = want - busy.length;
    if (n > 0 && wait <= 0) await this.createPods(key, job, Array.from({ length: n }, () => undefined));
  }

  private async manageIndexed(key: string, job: any, active: any[], busy: any[], completed: Set<number>, wait: number): Promise<void> {
    const spec = job.spec;
    const completions: number = spec.completions ?? 0;
    const parallelism = spec.parallelism ?? 1;
    // Pods with a bad, duplicate or already completed index go.
    const excess: any[] = [];
    const keep = new Map<number, any>();
    for (const p of rankForDeletion(active).reverse()) {
      const i = podIndex(p);
      if (i === undefined || i >= completions || completed.has(i) || keep.has(i)) excess.push(p);
      else keep.set(i, p);
    }
    const want = Math.min(parallelism, completions - completed.size);
    const kept = [...keep.values()];
    if (kept.length > want) excess.push(...rankForDeletion(kept).slice(0, kept.length - want));
    if (excess.length) {
      await this.deletePods(key, job, excess);
      return;
    }
    if (wait > 0) return;
    const taken = new Set<number>(busy.map(podIndex).filter((i): i is number => i !== undefined));
    const missing: number[] = [];
    for (let i = 0; i < completions && missing.length < want - busy.length; i++) if (!completed.has(i) && !taken.has(i)) missing.push(i);
    if (missing.length) await this.createPods(key, job, missing);
  }

  private podFor(job: any, index: number | undefined): any {
    const pod = podFromTemplate(job.spec.template, job, newControllerRef(job, JOB_GVK));
    pod.metadata.finalizers = [...(pod.metadata.finalizers ?? []), JOB_TRACKING_FINALIZER];
    if (index !== undefined) {
      const v = String(index);
      pod.metadata.generateName = `${job.metadata.name}-${v}-`;
      pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [COMPLETION_INDEX_ANNOTATION]: v };
      pod.metadata.labels[COMPLETION_INDEX_ANNOTATION] = v;
      pod.spec.hostname ??= `${job.metadata.name}-${v}`;
      const env = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } };
      for (const c of [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])]) {
        if (!(c.env ?? []).some((e: any) => e.name === 'JOB_COMPLETION_INDEX')) c.env = [...(c.env ?? []), env];
      }
    }
    return pod;
  }

  private async createPods(key: string, job: any, indexes: (number | undefined)[]): Promise<void> {
    this.expectations.expectCreations(key, indexes.length);
    // Slow start, as upstream: batches of 1, 2, 4, … so a broken template fails fast.
    let batch = 1;
    for (let i = 0; i < indexes.length; ) {
      const chunk = indexes.slice(i, i + batch);
      i += chunk.length;
      let failed: unknown;
      await inParallel(chunk, chunk.length, async (idx) => {
        try {
          const p = await this.ctx.client.create(resourcePath('', 'v1', 'pods', job.metadata.namespace), this.podFor(job, idx));
          this.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${p.metadata.name}`);
        } catch (e) {
          this.expectations.creationFailed(key);
          failed ??= e;
          const s = (e as any)?.status;
          if (!(s === 403 && /terminat/i.test((e as Error).message))) this.event(job, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
        }
      }).catch(() => undefined);
      if (failed) {
        for (; i < indexes.length; i++) this.expectations.creationFailed(key);
        throw failed;
      }
      batch *= 2;
    }
  }

  private async deletePods(key: string, job: any, pods: any[]): Promise<void> {
    if (!pods.length) return;
    this.expectations.expectDeletions(key, pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`));
    await inParallel(pods, 16, async (p) => {
      try {
        await this.ctx.client.delete(resourcePath('', 'v1', 'pods', p.metadata.namespace, p.metadata.name), { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: p.metadata.uid } });
        this.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
      } catch (e) {
        this.expectations.deletionObserved(key, `${p.metadata.namespace}/${p.metadata.name}`);
        if (!isNotFound(e) && (e as any)?.status !== 409) {
          this.event(job, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
          throw e;
        }
      }
    });
  }

  private async removeFinalizers(pods: any[]): Promise<void> {
    await inParallel(
      pods.filter(hasFinalizer),
      16,
      async (p) => {
        try {
          await this.ctx.client.patch(resourcePath('', 'v1', 'pods', p.metadata.namespace, p.metadata.name), { metadata: { '$deleteFromPrimitiveList/finalizers': [JOB_TRACKING_FINALIZER] } }, 'strategic');
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      },
    );
  }
}

/** Deletion preference among active pods, as upstream's ActivePods ordering: unscheduled, pending, not ready, newest first. */
export function rankForDeletion(pods: any[]): any[] {
  const rank = (p: any) => [p.spec?.nodeName ? 1 : 0, p.status?.phase === 'Pending' ? 0 : p.status?.phase === 'Running' ? 1 : 0.5, isPodReady(p) ? 1 : 0];
  return [...pods].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
    return (Date.parse(b.metadata.creationTimestamp ?? '') || 0) - (Date.parse(a.metadata.creationTimestamp ?? '') || 0);
  });
}
