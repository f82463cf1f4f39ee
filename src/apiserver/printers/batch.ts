/** batch/v1: Jobs and CronJobs. */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, containerCells, findCondition, int, len, str, wide } from './common.js';
import { BATCH, CONTAINERS_DESC, IMAGES_DESC } from './descriptions.js';
import { formatAge, humanDuration, parseTime } from './duration.js';
import { formatLabelSelector } from './labels.js';

/** hasJobCondition: the first condition of that type decides. */
function hasJobCondition(job: any, type: string): boolean {
  return findCondition(job?.status?.conditions, type)?.status === 'True';
}

function jobStatus(job: any): string {
  if (hasJobCondition(job, 'Complete')) return 'Complete';
  if (hasJobCondition(job, 'Failed')) return 'Failed';
  if (parseTime(job?.metadata?.deletionTimestamp) !== undefined) return 'Terminating';
  if (hasJobCondition(job, 'Suspended')) return 'Suspended';
  if (hasJobCondition(job, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function jobCompletions(job: any): string {
  const succeeded = int(job?.status?.succeeded);
  const completions = job?.spec?.completions;
  if (typeof completions === 'number') return `${succeeded}/${Math.trunc(completions)}`;
  // A work-queue job: done after one success, possibly with several pods in parallel.
  const parallelism = int(job?.spec?.parallelism);
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** Time from start to completion, or to now while running; "" before it starts. */
function jobDuration(job: any, now: Date): string {
  const start = parseTime(job?.status?.startTime);
  if (start === undefined) return '';
  const completion = parseTime(job?.status?.completionTime);
  return humanDuration((completion ?? now.getTime()) - start);
}

export const jobPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Status', 'string', 'Status of the job.'),
    col('Completions', 'string', BATCH.jobSucceeded),
    col('Duration', 'string', 'Time required to complete the job.'),
    AGE_COLUMN,
    wide('Containers', 'string', CONTAINERS_DESC),
    wide('Images', 'string', IMAGES_DESC),
    wide('Selector', 'string', BATCH.jobSelector),
  ],
  cells(job: any, now: Date): unknown[] {
    const [names, images] = containerCells(job?.spec?.template?.spec?.containers);
    return [
      str(job?.metadata?.name),
      jobStatus(job),
      jobCompletions(job),
      jobDuration(job, now),
      formatAge(job?.metadata?.creationTimestamp, now),
      names,
      images,
      formatLabelSelector(job?.spec?.selector),
    ];
  },
};

/** printBoolPtr: "True"/"False", "<unset>" when absent. */
function boolPtr(v: unknown): string {
  if (typeof v !== 'boolean') return '<unset>';
  return v ? 'True' : 'False';
}

export const cronJobPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Schedule', 'string', BATCH.cronSchedule),
    col('Timezone', 'string', BATCH.cronTimeZone),
    col('Suspend', 'boolean', BATCH.cronSuspend),
    col('Active', 'integer', BATCH.cronActive),
    col('Last Schedule', 'string', BATCH.cronLastScheduleTime),
    AGE_COLUMN,
    wide('Containers', 'string', CONTAINERS_DESC),
    wide('Images', 'string', IMAGES_DESC),
    wide('Selector', 'string', BATCH.jobSelector),
  ],
  cells(cj: any, now: Date): unknown[] {
    const spec = cj?.spec ?? {};
    const last = cj?.status?.lastScheduleTime;
    const jobSpec = spec.jobTemplate?.spec;
    const [names, images] = containerCells(jobSpec?.template?.spec?.containers);
    return [
      str(cj?.metadata?.name),
      str(spec.schedule),
      typeof spec.timeZone === 'string' ? spec.timeZone : '<none>',
      boolPtr(spec.suspend),
      len(cj?.status?.active),
      last === undefined || last === null ? '<none>' : formatAge(last, now),
      formatAge(cj?.metadata?.creationTimestamp, now),
      names,
      images,
      formatLabelSelector(jobSpec?.selector),
    ];
  },
};
