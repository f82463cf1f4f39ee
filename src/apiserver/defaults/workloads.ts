/** apps/v1 and batch/v1 defaulting (pkg/apis/apps/v1/defaults.go, pkg/apis/batch/v1/defaults.go). */
import { defaultPodTemplateSpec, defaultPVCSpec } from './pod.js';
import { generateJobSelector } from '../validation/batch.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const unset = (v: unknown): boolean => v === undefined || v === null;

export function defaultDeployment(d: any): void {
  if (!isObj(d)) return;
  const spec = (d.spec ??= {});
  if (unset(spec.replicas)) spec.replicas = 1;
  const strategy = (spec.strategy = isObj(spec.strategy) ? spec.strategy : {});
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = (strategy.rollingUpdate = isObj(strategy.rollingUpdate) ? strategy.rollingUpdate : {});
    if (unset(ru.maxUnavailable)) ru.maxUnavailable = '25%';
    if (unset(ru.maxSurge)) ru.maxSurge = '25%';
  }
  if (unset(spec.revisionHistoryLimit)) spec.revisionHistoryLimit = 10;
  if (unset(spec.progressDeadlineSeconds)) spec.progressDeadlineSeconds = 600;
  defaultPodTemplateSpec(spec.template);
}

export function defaultReplicaSet(rs: any): void {
  if (!isObj(rs)) return;
  const spec = (rs.spec ??= {});
  if (unset(spec.replicas)) spec.replicas = 1;
  defaultPodTemplateSpec(spec.template);
}

export function defaultDaemonSet(ds: any): void {
  if (!isObj(ds)) return;
  const spec = (ds.spec ??= {});
  const us = (spec.updateStrategy = isObj(spec.updateStrategy) ? spec.updateStrategy : {});
  if (!us.type) us.type = 'RollingUpdate';
  if (us.type === 'RollingUpdate') {
    const ru = (us.rollingUpdate = isObj(us.rollingUpdate) ? us.rollingUpdate : {});
    if (unset(ru.maxUnavailable)) ru.maxUnavailable = 1;
    if (unset(ru.maxSurge)) ru.maxSurge = 0;
  }
  if (unset(spec.revisionHistoryLimit)) spec.revisionHistoryLimit = 10;
  defaultPodTemplateSpec(spec.template);
}

export function defaultStatefulSet(sts: any): void {
  if (!isObj(sts)) return;
  const spec = (sts.spec ??= {});
  if (!spec.podManagementPolicy) spec.podManagementPolicy = 'OrderedReady';
  const us = (spec.updateStrategy = isObj(spec.updateStrategy) ? spec.updateStrategy : {});
  if (!us.type) {
    us.type = 'RollingUpdate';
    if (unset(us.rollingUpdate)) us.rollingUpdate = {};
  }
  if (us.type === 'RollingUpdate' && isObj(us.rollingUpdate) && unset(us.rollingUpdate.partition)) us.rollingUpdate.partition = 0;
  const pvc = (spec.persistentVolumeClaimRetentionPolicy = isObj(spec.persistentVolumeClaimRetentionPolicy) ? spec.persistentVolumeClaimRetentionPolicy : {});
  if (!pvc.whenDeleted) pvc.whenDeleted = 'Retain';
  if (!pvc.whenScaled) pvc.whenScaled = 'Retain';
  if (unset(spec.replicas)) spec.replicas = 1;
  if (unset(spec.revisionHistoryLimit)) spec.revisionHistoryLimit = 10;
  defaultPodTemplateSpec(spec.template);
  for (const t of arr(spec.volumeClaimTemplates)) {
    if (!isObj(t)) continue;
    defaultPVCSpec((t.spec ??= {}));
    t.status = isObj(t.status) ? t.status : {};
    if (!t.status.phase) t.status.phase = 'Pending';
  }
}

export function defaultReplicationController(rc: any): void {
  if (!isObj(rc)) return;
  const spec = (rc.spec ??= {});
  const labels = spec.template?.metadata?.labels;
  if (isObj(labels)) {
    if (!isObj(spec.selector) || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
    const meta = (rc.metadata ??= {});
    if (!isObj(meta.labels) || Object.keys(meta.labels).length === 0) meta.labels = { ...labels };
  }
  if (unset(spec.replicas)) spec.replicas = 1;
  defaultPodTemplateSpec(spec.template);
}

/** JobSpec defaults of SetDefaults_Job, except the Job-level label copy. */
function defaultJobSpec(spec: any): void {
  if (unset(spec.completions) && unset(spec.parallelism)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  if (unset(spec.parallelism)) spec.parallelism = 1;
  if (unset(spec.backoffLimit)) spec.backoffLimit = unset(spec.backoffLimitPerIndex) ? 6 : 2147483647;
  if (unset(spec.completionMode)) spec.completionMode = 'NonIndexed';
  if (unset(spec.suspend)) spec.suspend = false;
  for (const rule of arr(spec.podFailurePolicy?.rules)) {
    for (const pattern of arr(rule?.onPodConditions)) if (isObj(pattern) && !pattern.status) pattern.status = 'True';
  }
  if (unset(spec.podReplacementPolicy)) spec.podReplacementPolicy = isObj(spec.podFailurePolicy) ? 'Failed' : 'TerminatingOrFailed';
}

export function defaultJob(job: any): void {
  if (!isObj(job)) return;
  const spec = (job.spec ??= {});
  defaultJobSpec(spec);
  const labels = spec.template?.metadata?.labels;
  const meta = (job.metadata ??= {});
  if (isObj(labels) && (!isObj(meta.labels) || Object.keys(meta.labels).length === 0)) meta.labels = { ...labels };
  // The job strategy generates the selector once the server has assigned the uid.
  if (meta.uid && unset(spec.selector) && spec.manualSelector !== true) generateJobSelector(job);
  defaultPodTemplateSpec(spec.template);
}

export function defaultCronJob(cj: any): void {
  if (!isObj(cj)) return;
  const spec = (cj.spec ??= {});
  if (!spec.concurrencyPolicy) spec.concurrencyPolicy = 'Allow';
  if (unset(spec.suspend)) spec.suspend = false;
  if (unset(spec.successfulJobsHistoryLimit)) spec.successfulJobsHistoryLimit = 3;
  if (unset(spec.failedJobsHistoryLimit)) spec.failedJobsHistoryLimit = 1;
  if (isObj(spec.jobTemplate?.spec)) defaultPodTemplateSpec(spec.jobTemplate.spec.template);
}
