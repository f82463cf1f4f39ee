import { refOf } from '../../client/events.js';
import { R } from '../../client/factory.js';
import type { Informer } from '../../client/informer.js';
import { resourcePath } from '../../client/rest.js';
import type { Clock } from '../../client/workqueue.js';
import { QueueController, controllerRefOf, isNotFound, newControllerRef, type ControllerContext } from '../controller.js';
import { formatInZone, isValidTimeZone, mostRecentScheduleTime, parseSchedule, ScheduleError, type Schedule } from './schedule.js';

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const CRONJOB_GVK = { apiVersion: 'batch/v1', kind: 'CronJob' };
/** Requeue a little after the activation, as upstream's nextScheduleDelta. */
const NEXT_SCHEDULE_DELTA_MS = 100;

const rfc3339 = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
const parseTime = (s: string | undefined | null) => (s ? Date.parse(s) : undefined);

/** A finished Job's terminal condition type (Complete or Failed), if any. */
export function jobFinishedType(job: any): 'Complete' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  return undefined;
}

/** The Job name for an activation: `<cronjob>-<minutes since epoch>`, as upstream (stable, so retries are idempotent). */
export function jobNameFor(cronJobName: string, scheduled: number): string {
  return `${cronJobName}-${Math.floor(scheduled / 60_000)}`;
}

/**
 * The CronJob controller (upstream's cronjob_controllerv2): creates a Job per activation of the
 * schedule in spec.timeZone, honouring concurrencyPolicy, startingDeadlineSeconds and suspend;
 * tracks status.active/lastScheduleTime/lastSuccessfulTime and prunes finished Jobs beyond the
 * history limits. The clock is injectable so tests need not wait for the minute.
 */
export class CronJobController extends QueueController {
  private readonly cronjobs: Informer;
  private readonly jobs: Informer;
  private readonly recorder;
  private readonly clock: Clock;

  constructor(ctx: ControllerContext, opts: { clock?: Clock } = {}) {
    super(ctx, 'cronjob-controller', 3);
    this.clock = opts.clock ?? ctx.clock;
    this.recorder = ctx.recorder('cronjob-controller');
    this.cronjobs = ctx.informers.for(R.cronjobs);
    this.jobs = ctx.informers.for(R.jobs);
    this.cronjobs.addHandlers({ add: (cj) => this.enqueue(cj), update: (_o, cj) => this.enqueue(cj) });
    const onJob = (j: any) => {
      const ref = controllerRefOf(j);
      if (ref?.kind === 'CronJob') this.enqueue(`${j.metadata.namespace}/${ref.name}`);
    };
    this.jobs.addHandlers({ add: onJob, update: (_o, j) => onJob(j), delete: onJob });
  }

  private event(cj: any, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.recorder.event(refOf(cj, 'CronJob', 'batch/v1'), type, reason, message);
  }

  protected async reconcile(key: string): Promise<void> {
    const cached = this.cronjobs.get(key);
    if (!cached) return;
    const cj = structuredClone(cached);
    const ns = cj.metadata.namespace;
    const status = (cj.status ??= {});
    const before = JSON.stringify(status);
    const now = this.clock.now();
    const owned = this.jobs.list().filter((j) => j.metadata.namespace === ns && controllerRefOf(j)?.uid === cj.metadata.uid);

    // Events about what status.active records go out once that status is written: a sync from a
    // stale cache (the Job's event can outrun our own status write) sees our new Job as unlisted, or
    // a finished one as still listed, and its write is then refused with a conflict.
    const statusEvents: [type: 'Normal' | 'Warning', reason: string, message: string][] = [];
    // Reconcile status.active with the Jobs that exist.
    let active: any[] = [...(status.active ?? [])];
    for (const j of owned) {
      const finished = jobFinishedType(j);
      const listed = active.some((a) => a.uid === j.metadata.uid);
      if (!listed && !finished) {
        statusEvents.push(['Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata.name}`]);
        active.push(jobRef(j));
      } else if (listed && finished) {
        active = active.filter((a) => a.uid !== j.metadata.uid);
        statusEvents.push(['Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${finished}`]);
      }
      if (finished === 'Complete') {
        const done = parseTime(j.status?.completionTime);
        if (done !== undefined && (parseTime(status.lastSuccessfulTime) ?? 0) < done) status.lastSuccessfulTime = j.status.completionTime;
      }
    }
    for (const a of [...active]) {
      if (owned.some((j) => j.metadata.uid === a.uid)) continue;
      // The cache may lag behind a Job we just created: ask the API server before dropping it.
      try {
        const j = await this.ctx.client.get(resourcePath('batch', 'v1', 'jobs', ns, a.name));
        if (j.metadata.uid === a.uid) continue;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      active = active.filter((x) => x.uid !== a.uid);
      statusEvents.push(['Normal', 'MissingJob', `Active job went missing: ${a.name}`]);
    }
    status.active = active.length ? active : undefined;

    let requeueMs: number | undefined;
    try {
      requeueMs = await this.schedule(cj, owned, now);
    } finally {
      await this.cleanupFinishedJobs(cj, owned);
      if (status.active === undefined) delete status.active;
      if (JSON.stringify(status) !== before) {
        await this.ctx.client.update(resourcePath('batch', 'v1', 'cronjobs', ns, cj.metadata.name, 'status'), cj);
      }
      for (const [type, reason, message] of statusEvents) this.event(cj, type, reason, message);
    }
    if (requeueMs !== undefined) this.enqueueAfter(key, requeueMs);
  }

  /** Starts the Job that is due, if any; returns when to look again (ms), undefined for never. */
  private async schedule(cj: any, owned: any[], now: number): Promise<number | undefined> {
    const status = cj.status;
    if (cj.metadata.deletionTimestamp) return undefined;
    const zone: string = cj.spec.timeZone ?? 'UTC';
    if (cj.spec.timeZone && !isValidTimeZone(cj.spec.timeZone)) {
      this.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${cj.spec.timeZone}": unknown time zone ${cj.spec.timeZone}`);
      return undefined;
    }
    if (cj.spec.suspend) return undefined;
    let sched: Schedule;
    try {
      sched = parseSchedule(cj.spec.schedule ?? '');
    } catch (e) {
      if (!(e instanceof ScheduleError)) throw e;
      this.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${cj.spec.schedule}" : ${e.message}`);
      return undefined;
    }
    const tz = sched.zone ?? zone;
    const zoned = tz === 'UTC' ? sched : withZone(cj.spec.schedule, tz);
    let earliest = parseTime(status.lastScheduleTime) ?? parseTime(cj.metadata.creationTimestamp) ?? now;
    if (cj.spec.startingDeadlineSeconds != null) earliest = Math.max(earliest, now - cj.spec.startingDeadlineSeconds * 1000);
    const { time: scheduled, missed } = mostRecentScheduleTime(zoned, earliest, now);
    const nextIn = (): number | undefined => {
      const nx = zoned.next(Math.max(now, scheduled ?? 0));
      return nx === undefined ? undefined : nx - now + NEXT_SCHEDULE_DELTA_MS;
    };
    if (missed > 100) {
      this.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    }
    if (scheduled === undefined) return nextIn();
    if (cj.spec.startingDeadlineSeconds != null && scheduled + cj.spec.startingDeadlineSeconds * 1000 < now) {
      this.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${new Date(scheduled).toUTCString().replace('GMT', '+0000')}`);
      return nextIn();
    }
    const name = jobNameFor(cj.metadata.name, scheduled);
    if ((status.active ?? []).some((a: any) => a.name === name) || parseTime(status.lastScheduleTime) === scheduled) return nextIn();
    const policy = cj.spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && (status.active ?? []).length) {
      this.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return nextIn();
    }
    if (policy === 'Replace') {
      for (const a of [...(status.active ?? [])]) {
        await this.deleteJob(cj, a.name);
        status.active = (status.active ?? []).filter((x: any) => x.uid !== a.uid);
      }
      if (!status.active?.length) status.active = undefined;
    }
    const tpl = cj.spec.jobTemplate ?? {};
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: cj.metadata.namespace,
        labels: { ...(tpl.metadata?.labels ?? {}) },
        annotations: { ...(tpl.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: formatInZone(scheduled, tz) },
        ownerReferences: [newControllerRef(cj, CRONJOB_GVK)],
      },
      spec: structuredClone(tpl.spec ?? {}),
    };
    let created: any;
    try {
      created = await this.ctx.client.create(resourcePath('batch', 'v1', 'jobs', cj.metadata.namespace), job);
    } catch (e) {
      const s = (e as any)?.status;
      // Already there: an earlier attempt made it, and its status update follows from the Job event.
      if (s === 409) return nextIn();
      if (s === 403 && /terminat/i.test((e as Error).message)) return undefined;
      this.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(e as Error).message}`);
      throw e;
    }
    this.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
    status.active = [...(status.active ?? []), jobRef(created)];
    status.lastScheduleTime = rfc3339(scheduled);
    return nextIn();
  }

  private async deleteJob(cj: any, name: string): Promise<void> {
    try {
      await this.ctx.client.delete(resourcePath('batch', 'v1', 'jobs', cj.metadata.namespace, name), { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' });
    } catch (e) {
      if (!isNotFound(e)) {
        this.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${(e as Error).message}`);
        throw e;
      }
    }
    this.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${name}`);
  }

  /** Keeps the newest successfulJobsHistoryLimit Complete and failedJobsHistoryLimit Failed Jobs. */
  private async cleanupFinishedJobs(cj: any, owned: any[]): Promise<void> {
    if (cj.metadata.deletionTimestamp) return;
    const limits: [string, number | undefined][] = [
      ['Complete', cj.spec.successfulJobsHistoryLimit],
      ['Failed', cj.spec.failedJobsHistoryLimit],
    ];
    for (const [type, limit] of limits) {
      if (limit == null) continue;
      const finished = owned
        .filter((j) => jobFinishedType(j) === type && !j.metadata.deletionTimestamp)
        .sort((a, b) => (parseTime(a.status?.startTime) ?? 0) - (parseTime(b.status?.startTime) ?? 0) || a.metadata.name.localeCompare(b.metadata.name));
      for (const j of finished.slice(0, Math.max(0, finished.length - limit))) {
        await this.deleteJob(cj, j.metadata.name);
        if (cj.status.active) cj.status.active = cj.status.active.filter((a: any) => a.uid !== j.metadata.uid);
      }
    }
  }
}

function withZone(spec: string, zone: string): Schedule {
  const bare = spec.replace(/^(?:CRON_TZ|TZ)=\S+\s+/, '');
  return parseSchedule(`CRON_TZ=${zone} ${bare}`);
}

function jobRef(j: any) {
  return { kind: 'Job', namespace: j.metadata.namespace, name: j.metadata.name, uid: j.metadata.uid, apiVersion: 'batch/v1', resourceVersion: j.metadata.resourceVersion };
}
