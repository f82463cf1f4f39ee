/** batch/v1 Job and CronJob validation (pkg/apis/batch/validation and the job strategy's selector generation). */
import type { FieldError } from './types.js';
import { child, GoLiteral, invalid, notSupported, required, tooLong } from './errors.js';
import { isDNS1123Label, isDomainPrefixedPath, maxLenError, nameIsDNSSubdomain } from './names.js';
import {
  labelSelectorAsSelector, validateHasLabel, validateImmutableField, validateLabelSelector, validateNonnegative, validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';
import { validatePodTemplateSpec } from './pod.js';
import { goLabelSelector, goStringMap } from './gosyntax.js';
import { cronScheduleError } from './cron.js';
import { semanticEqual } from './equal.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const has = (o: any, k: string): boolean => isObj(o) && o[k] !== undefined && o[k] !== null;

export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
const LEGACY_JOB_NAME_LABEL = 'job-name';
const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
const MAX_PARALLELISM_INDEXED = 100000;

/**
 * The job strategy's generateSelector: unless spec.manualSelector, select pods by the job's uid
 * and label the template with its name and uid.
 */
export function generateJobSelector(job: any): void {
  if (!isObj(job)) return;
  const spec = (job.spec ??= {});
  if (spec.manualSelector === true) return;
  const tpl = (spec.template ??= {});
  const meta = (tpl.metadata ??= {});
  const labels = (meta.labels ??= {});
  const name = str(job.metadata?.name);
  const uid = str(job.metadata?.uid);
  for (const k of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!(k in labels)) labels[k] = name;
  for (const k of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) if (!(k in labels)) labels[k] = uid;
  const sel = (spec.selector ??= {});
  const ml = (sel.matchLabels ??= {});
  if (!(CONTROLLER_UID_LABEL in ml)) ml[CONTROLLER_UID_LABEL] = uid;
}

function validateGeneratedSelector(job: any): FieldError[] {
  if (job?.spec?.manualSelector === true || !isObj(job?.spec?.selector)) return [];
  const errs: FieldError[] = [];
  const uid = str(job.metadata?.uid);
  const name = str(job.metadata?.name);
  if (!uid) errs.push(required('metadata.uid'));
  const tm = job.spec.template?.metadata;
  errs.push(...validateHasLabel(tm, 'spec.template.metadata', LEGACY_CONTROLLER_UID_LABEL, uid));
  errs.push(...validateHasLabel(tm, 'spec.template.metadata', LEGACY_JOB_NAME_LABEL, name));
  errs.push(...validateHasLabel(tm, 'spec.template.metadata', CONTROLLER_UID_LABEL, uid));
  errs.push(...validateHasLabel(tm, 'spec.template.metadata', JOB_NAME_LABEL, name));
  const expected = { [CONTROLLER_UID_LABEL]: uid, [JOB_NAME_LABEL]: name, [LEGACY_CONTROLLER_UID_LABEL]: uid, [LEGACY_JOB_NAME_LABEL]: name };
  const sel = labelSelectorAsSelector(job.spec.selector);
  if (sel && !sel.matches(expected)) errs.push(invalid('spec.selector', goLabelSelector(job.spec.selector), '`selector` not auto-generated'));
  return errs;
}

/** validateJobSpec (shared by Jobs and CronJob job templates). */
function validateJobSpecBody(spec: any, field: string): FieldError[] {
  const s = isObj(spec) ? spec : {};
  const errs: FieldError[] = [];
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex']) {
    errs.push(...validateNonnegative(s[f], child(field, f)));
  }
  if (has(s, 'maxFailedIndexes')) {
    errs.push(...validateNonnegative(s.maxFailedIndexes, child(field, 'maxFailedIndexes')));
    if (!has(s, 'backoffLimitPerIndex')) errs.push(required(child(field, 'backoffLimitPerIndex'), 'when maxFailedIndexes is specified'));
  }
  if (has(s, 'managedBy')) {
    errs.push(...isDomainPrefixedPath(child(field, 'managedBy'), str(s.managedBy)));
    if (str(s.managedBy).length > 63) errs.push(tooLong(child(field, 'managedBy'), 63));
  }
  const mode = s.completionMode;
  if (has(s, 'completionMode')) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupported(child(field, 'completionMode'), str(mode), ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed') {
      if (!has(s, 'completions')) errs.push(required(child(field, 'completions'), 'when completion mode is Indexed'));
      if (typeof s.parallelism === 'number' && s.parallelism > MAX_PARALLELISM_INDEXED) {
        errs.push(invalid(child(field, 'parallelism'), s.parallelism, `must be less than or equal to ${MAX_PARALLELISM_INDEXED} when completion mode is Indexed`));
      }
      if (typeof s.completions === 'number' && typeof s.maxFailedIndexes === 'number' && s.maxFailedIndexes > s.completions) {
        errs.push(invalid(child(field, 'maxFailedIndexes'), s.maxFailedIndexes, 'must be less than or equal to completions'));
      }
    }
  }
  if (!has(s, 'completionMode') || mode === 'NonIndexed') {
    if (has(s, 'backoffLimitPerIndex')) errs.push(invalid(child(field, 'backoffLimitPerIndex'), s.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (has(s, 'maxFailedIndexes')) errs.push(invalid(child(field, 'maxFailedIndexes'), s.maxFailedIndexes, 'requires indexed completion mode'));
  }
  if (has(s, 'successPolicy') && mode !== 'Indexed') {
    errs.push(invalid(child(field, 'successPolicy'), new GoLiteral('batch.SuccessPolicy{…}'), 'requires indexed completion mode'));
  }
  if (has(s, 'podReplacementPolicy')) {
    const prp = str(s.podReplacementPolicy);
    if (has(s, 'podFailurePolicy') && prp !== 'Failed') {
      errs.push(notSupported(child(field, 'podReplacementPolicy'), prp, ['Failed']));
    } else if (prp !== 'Failed' && prp !== 'TerminatingOrFailed') {
      errs.push(notSupported(child(field, 'podReplacementPolicy'), prp, ['Failed', 'TerminatingOrFailed']));
    }
  }
  errs.push(...validatePodTemplateSpec(s.template, child(field, 'template')));
  const rp = str(s.template?.spec?.restartPolicy);
  const rpPath = child(field, 'template', 'spec', 'restartPolicy');
  // An unset restartPolicy was defaulted to Always, which Jobs do not allow.
  if (rp === 'Always' || rp === '') errs.push(required(rpPath, 'valid values: "OnFailure", "Never"'));
  else if (rp !== 'OnFailure' && rp !== 'Never') errs.push(notSupported(rpPath, rp, ['OnFailure', 'Never']));
  else if (has(s, 'podFailurePolicy') && rp !== 'Never') errs.push(invalid(rpPath, rp, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}

function validateJobSpec(spec: any): FieldError[] {
  const errs = validateJobSpecBody(spec, 'spec');
  if (!has(spec, 'selector')) errs.push(required('spec.selector'));
  else errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  const sel = labelSelectorAsSelector(spec?.selector);
  if (sel && !sel.matches(spec?.template?.metadata?.labels)) {
    errs.push(invalid('spec.template.metadata.labels', goStringMap(spec?.template?.metadata?.labels), '`selector` does not match template `labels`'));
  }
  return errs;
}

const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

export function validateJob(job: any): FieldError[] {
  let j = job;
  if (!has(job?.spec, 'selector') && job?.spec?.manualSelector !== true) {
    // The registry generates the selector before validating; do the same on a copy.
    j = clone(job);
    generateJobSelector(j);
  }
  const errs = validateObjectMeta(j?.metadata, true, nameIsDNSSubdomain);
  if (str(j?.metadata?.uid)) errs.push(...validateGeneratedSelector(j));
  errs.push(...validateJobSpec(j?.spec));
  const s = j?.spec ?? {};
  if (s.completionMode === 'Indexed' && typeof s.completions === 'number' && s.completions > 0) {
    const host = `${str(j?.metadata?.name)}-${s.completions - 1}`;
    if (isDNS1123Label(host).length) errs.push(invalid('metadata.name', str(j?.metadata?.name), `will not able to create pod with invalid DNS label: ${host}`));
  }
  return errs;
}

export function validateJobUpdate(job: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(job?.metadata, old?.metadata);
  const s = job?.spec ?? {};
  const o = old?.spec ?? {};
  errs.push(...validateJobSpec(s));
  if (s.completionMode !== 'Indexed') {
    errs.push(...validateImmutableField(s.completions ?? null, o.completions ?? null, 'spec.completions', (v) => v));
  } else if (!semanticEqual(s.completions, o.completions) && typeof s.completions === 'number' && s.completions !== s.parallelism) {
    errs.push(invalid('spec.completions', s.completions, 'can only be modified in tandem with spec.parallelism'));
  }
  if (!semanticEqual(s.selector, o.selector)) errs.push(invalid('spec.selector', goLabelSelector(s.selector), 'field is immutable'));
  // Scheduling directives of a suspended job's template may change; everything else is fixed.
  const tpl = clone(o.template ?? {});
  if (s.suspend === true && o.suspend === true) {
    const nt = s.template ?? {};
    tpl.spec = tpl.spec ?? {};
    tpl.spec.nodeSelector = nt.spec?.nodeSelector;
    tpl.spec.tolerations = nt.spec?.tolerations;
    tpl.spec.schedulingGates = nt.spec?.schedulingGates;
    if (nt.spec?.affinity || tpl.spec.affinity) tpl.spec.affinity = { ...(tpl.spec.affinity ?? {}), nodeAffinity: nt.spec?.affinity?.nodeAffinity };
    tpl.metadata = { ...(tpl.metadata ?? {}), labels: nt.metadata?.labels, annotations: nt.metadata?.annotations };
  }
  if (!semanticEqual(s.template, tpl)) errs.push(invalid('spec.template', new GoLiteral('core.PodTemplateSpec{…}'), 'field is immutable'));
  for (const f of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy']) {
    if (!semanticEqual(s[f], o[f])) {
      const v = s[f];
      errs.push(invalid(`spec.${f}`, typeof v === 'string' || typeof v === 'number' ? v : v == null ? null : new GoLiteral('{…}'), 'field is immutable'));
    }
  }
  return errs;
}

const TZ_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return tz === 'UTC';
  }
}

function validateTimeZone(tz: unknown, field: string): FieldError[] {
  if (tz === undefined || tz === null) return [];
  const t = str(tz);
  if (t.length === 0) return [invalid(field, t, 'timeZone must be nil or non-empty string')];
  for (const part of t.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !TZ_PART.test(part)) return [invalid(field, t, `unknown time zone ${t}`)];
  }
  if (t.toLowerCase() === 'local') return [invalid(field, t, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones')];
  if (!isValidTimeZone(t)) return [invalid(field, t, `unknown time zone ${t}`)];
  return [];
}

function validateCronJobSpec(spec: any, oldSpec: any | undefined): FieldError[] {
  const s = isObj(spec) ? spec : {};
  const errs: FieldError[] = [];
  const schedule = str(s.schedule);
  if (!schedule) errs.push(required('spec.schedule'));
  else {
    const allowTZ = oldSpec ? str(oldSpec.schedule).includes('TZ') : false;
    const e = cronScheduleError(schedule, isValidTimeZone);
    if (e) errs.push(invalid('spec.schedule', schedule, e));
    if (allowTZ && schedule.includes('TZ') && has(s, 'timeZone')) errs.push(invalid('spec.schedule', schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    else if (!allowTZ && schedule.includes('TZ')) errs.push(invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  errs.push(...validateNonnegative(s.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (!oldSpec || (oldSpec.timeZone ?? null) !== (s.timeZone ?? null)) errs.push(...validateTimeZone(s.timeZone, 'spec.timeZone'));
  const cp = str(s.concurrencyPolicy);
  if (!cp) errs.push(required('spec.concurrencyPolicy'));
  else if (!['Allow', 'Forbid', 'Replace'].includes(cp)) errs.push(notSupported('spec.concurrencyPolicy', cp, ['Allow', 'Forbid', 'Replace']));
  const jt = s.jobTemplate?.spec;
  errs.push(...validateJobSpecBody(jt, 'spec.jobTemplate.spec'));
  if (has(jt, 'selector')) errs.push(invalid('spec.jobTemplate.spec.selector', goLabelSelector(jt.selector), '`selector` will be auto-generated'));
  if (jt?.manualSelector === true) errs.push(notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  errs.push(...validateNonnegative(s.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...validateNonnegative(s.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  return errs;
}

export function validateCronJob(cj: any): FieldError[] {
  const errs = validateObjectMeta(cj?.metadata, true, nameIsDNSSubdomain).concat(validateCronJobSpec(cj?.spec, undefined));
  // The controller appends an 11-character suffix to job names, which are DNS labels.
  const name = str(cj?.metadata?.name);
  if (name.length > 52) errs.push(invalid('metadata.name', name, maxLenError(52)));
  return errs;
}

export function validateCronJobUpdate(cj: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(cj?.metadata, old?.metadata).concat(validateCronJobSpec(cj?.spec, old?.spec ?? {}));
}

export { arr as _arr };
