/**
 * apps/v1 workloads (Deployment, ReplicaSet, DaemonSet, StatefulSet, ControllerRevision) and the
 * core ReplicationController (pkg/apis/apps/validation, and the apps strategies' selector immutability).
 */
import type { FieldError } from './types.js';
import { child, forbidden, GoLiteral, invalid, notSupported, required } from './errors.js';
import { isValidPercent, nameIsDNSLabel, nameIsDNSSubdomain } from './names.js';
import {
  labelSelectorAsSelector, validateImmutableField, validateLabelSelector, validateLabels, validateAnnotations,
  validateNonnegative, validateObjectMeta, validateObjectMetaUpdate, type Selector,
} from './meta.js';
import { validatePodSpecificAnnotations, validatePodTemplateSpec } from './pod.js';
import { goIntOrString, goIntOrStringText, goLabelSelector, goStringMap } from './gosyntax.js';
import { semanticEqual } from './equal.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

const SELECTOR_MISMATCH = '`selector` does not match template `labels`';

function isEmptySelector(sel: any): boolean {
  return Object.keys(isObj(sel?.matchLabels) ? sel.matchLabels : {}).length + (Array.isArray(sel?.matchExpressions) ? sel.matchExpressions.length : 0) === 0;
}

/** IntOrString percent handling of the rolling update checks. */
function percentValue(v: unknown): number | undefined {
  if (typeof v !== 'string' || isValidPercent(v).length) return undefined;
  return Number(v.slice(0, -1));
}

/** intstr.IntValue(): a string that is not a number counts as 0. */
function intOrPercentValue(v: unknown): number {
  const p = percentValue(v);
  if (p !== undefined) return p;
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'string' && /^[+-]?[0-9]+$/.test(v)) return Number(v);
  return 0;
}

export function validatePositiveIntOrPercent(v: unknown, field: string): FieldError[] {
  if (typeof v === 'string') return isValidPercent(v).map((m) => invalid(field, goIntOrString(v), m));
  if (typeof v === 'number') return validateNonnegative(Math.trunc(v), field);
  return [];
}

function isNotMoreThan100Percent(v: unknown, field: string): FieldError[] {
  const p = percentValue(v);
  return p !== undefined && p > 100 ? [invalid(field, goIntOrString(v), 'must not be greater than 100%')] : [];
}

/** ValidatePodTemplateSpecForReplicaSet (also used by Deployment and ReplicationController). */
function validateTemplateForReplicaSet(tpl: any, selector: Selector, field: string, kind: string): FieldError[] {
  if (!isObj(tpl)) return [required(field)];
  const errs: FieldError[] = [];
  if (!selector.empty && !selector.matches(tpl.metadata?.labels)) {
    errs.push(invalid(child(field, 'metadata', 'labels'), goStringMap(tpl.metadata?.labels), SELECTOR_MISMATCH));
  }
  errs.push(...validatePodTemplateSpec(tpl, field));
  errs.push(...templateRestartAndDeadline(tpl, field, kind));
  return errs;
}

function templateRestartAndDeadline(tpl: any, field: string, kind: string): FieldError[] {
  const errs: FieldError[] = [];
  const rp = str(tpl?.spec?.restartPolicy);
  if (rp !== 'Always') errs.push(notSupported(child(field, 'spec', 'restartPolicy'), rp, ['Always']));
  if (tpl?.spec?.activeDeadlineSeconds !== undefined && tpl?.spec?.activeDeadlineSeconds !== null) {
    errs.push(forbidden(child(field, 'spec', 'activeDeadlineSeconds'), `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return errs;
}

/** Selector checks shared by Deployment and ReplicaSet. */
function validateSelectorAndTemplate(spec: any, kind: string): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.selector === undefined || spec.selector === null) errs.push(required('spec.selector'));
  else {
    errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
    if (isEmptySelector(spec.selector)) errs.push(invalid('spec.selector', goLabelSelector(spec.selector), 'empty selector is invalid for deployment'));
  }
  const sel = labelSelectorAsSelector(spec.selector);
  if (!sel) errs.push(invalid('spec.selector', goLabelSelector(spec.selector), 'invalid label selector'));
  else errs.push(...validateTemplateForReplicaSet(spec.template, sel, 'spec.template', kind));
  return errs;
}

function validateDeploymentStrategy(strategy: any): FieldError[] {
  const s = isObj(strategy) ? strategy : {};
  const field = 'spec.strategy';
  switch (s.type) {
    case 'Recreate':
      return s.rollingUpdate !== undefined && s.rollingUpdate !== null
        ? [forbidden(child(field, 'rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'")]
        : [];
    case 'RollingUpdate': {
      const ru = s.rollingUpdate;
      const p = child(field, 'rollingUpdate');
      if (!isObj(ru)) return [required(p, 'this should be defaulted and never be nil')];
      const errs = validatePositiveIntOrPercent(ru.maxUnavailable, child(p, 'maxUnavailable'));
      errs.push(...validatePositiveIntOrPercent(ru.maxSurge, child(p, 'maxSurge')));
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        errs.push(invalid(child(p, 'maxUnavailable'), goIntOrString(ru.maxUnavailable ?? 0), 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, child(p, 'maxUnavailable')));
      return errs;
    }
    default: {
      const ru = isObj(s.rollingUpdate) ? '(*apps.RollingUpdateDeployment)(0xc000000000)' : '(*apps.RollingUpdateDeployment)(nil)';
      return [notSupported(field, new GoLiteral(`apps.DeploymentStrategy{Type:${JSON.stringify(str(s.type))}, RollingUpdate:${ru}}`), ['Recreate', 'RollingUpdate'])];
    }
  }
}

function validateDeploymentSpec(spec: any): FieldError[] {
  const s = isObj(spec) ? spec : {};
  const errs = validateNonnegative(s.replicas, 'spec.replicas');
  errs.push(...validateSelectorAndTemplate(s, 'Deployment'));
  errs.push(...validateDeploymentStrategy(s.strategy));
  errs.push(...validateNonnegative(s.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateNonnegative(s.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (isObj(s.rollbackTo)) errs.push(...validateNonnegative(s.rollbackTo.revision, 'spec.rollback.version'));
  if (typeof s.progressDeadlineSeconds === 'number') {
    errs.push(...validateNonnegative(s.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (s.progressDeadlineSeconds <= num(s.minReadySeconds)) errs.push(invalid('spec.progressDeadlineSeconds', s.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
  return errs;
}

function selectorImmutable(obj: any, old: any): FieldError[] {
  return semanticEqual(obj?.spec?.selector, old?.spec?.selector)
    ? []
    : [invalid('spec.selector', goLabelSelector(obj?.spec?.selector), 'field is immutable')];
}

export function validateDeployment(d: any): FieldError[] {
  return validateObjectMeta(d?.metadata, true, nameIsDNSSubdomain).concat(validateDeploymentSpec(d?.spec));
}

export function validateDeploymentUpdate(d: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(d?.metadata, old?.metadata).concat(validateDeploymentSpec(d?.spec), selectorImmutable(d, old));
}

function validateReplicaSetSpec(spec: any): FieldError[] {
  const s = isObj(spec) ? spec : {};
  const errs = validateNonnegative(s.replicas, 'spec.replicas');
  errs.push(...validateNonnegative(s.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateSelectorAndTemplate(s, 'ReplicaSet'));
  return errs;
}

export function validateReplicaSet(rs: any): FieldError[] {
  return validateObjectMeta(rs?.metadata, true, nameIsDNSSubdomain).concat(validateReplicaSetSpec(rs?.spec));
}

export function validateReplicaSetUpdate(rs: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(rs?.metadata, old?.metadata).concat(validateReplicaSetSpec(rs?.spec), selectorImmutable(rs, old));
}

function validateDaemonSetSpec(spec: any): FieldError[] {
  const s = isObj(spec) ? spec : {};
  const errs = validateLabelSelector(s.selector, 'spec.selector');
  const sel = labelSelectorAsSelector(s.selector);
  if (sel && !sel.matches(s.template?.metadata?.labels)) {
    errs.push(invalid('spec.template.metadata.labels', goStringMap(s.template?.metadata?.labels), SELECTOR_MISMATCH));
  }
  if (isObj(s.selector) && isEmptySelector(s.selector)) errs.push(invalid('spec.selector', goLabelSelector(s.selector), 'empty selector is invalid for daemonset'));
  errs.push(...validatePodTemplateSpec(s.template, 'spec.template'));
  errs.push(...templateRestartAndDeadline(s.template, 'spec.template', 'DaemonSet'));
  errs.push(...validateNonnegative(s.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateNonnegative(s.templateGeneration, 'spec.templateGeneration'));
  const us = isObj(s.updateStrategy) ? s.updateStrategy : {};
  const usPath = 'spec.updateStrategy';
  if (us.type === 'RollingUpdate') {
    const ru = us.rollingUpdate;
    const p = child(usPath, 'rollingUpdate');
    if (!isObj(ru)) errs.push(required(p));
    else {
      errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, child(p, 'maxUnavailable')));
      errs.push(...validatePositiveIntOrPercent(ru.maxSurge, child(p, 'maxSurge')));
      errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, child(p, 'maxUnavailable')));
      errs.push(...isNotMoreThan100Percent(ru.maxSurge, child(p, 'maxSurge')));
      const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) errs.push(invalid(child(p, 'maxSurge'), goIntOrString(ru.maxSurge), 'may not be set when maxUnavailable is non-zero'));
      else if (!hasUnavailable && !hasSurge) errs.push(required(child(p, 'maxUnavailable'), 'cannot be 0 when maxSurge is 0'));
    }
  } else if (us.type !== 'OnDelete') {
    const ru = isObj(us.rollingUpdate) ? '(*apps.RollingUpdateDaemonSet)(0xc000000000)' : '(*apps.RollingUpdateDaemonSet)(nil)';
    errs.push(notSupported(usPath, new GoLiteral(`apps.DaemonSetUpdateStrategy{Type:${JSON.stringify(str(us.type))}, RollingUpdate:${ru}}`), ['RollingUpdate', 'OnDelete']));
  }
  errs.push(...validateNonnegative(s.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  return errs;
}

export function validateDaemonSet(ds: any): FieldError[] {
  return validateObjectMeta(ds?.metadata, true, nameIsDNSSubdomain).concat(validateDaemonSetSpec(ds?.spec));
}

export function validateDaemonSetUpdate(ds: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(ds?.metadata, old?.metadata).concat(validateDaemonSetSpec(ds?.spec), selectorImmutable(ds, old));
}

function validateStatefulSetSpec(spec: any): FieldError[] {
  const s = isObj(spec) ? spec : {};
  const errs: FieldError[] = [];
  const pmp = str(s.podManagementPolicy);
  if (!pmp) errs.push(required('spec.podManagementPolicy'));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') errs.push(invalid('spec.podManagementPolicy', pmp, "must be 'OrderedReady' or 'Parallel'"));
  const us = isObj(s.updateStrategy) ? s.updateStrategy : {};
  const usType = str(us.type);
  if (!usType) errs.push(required('spec.updateStrategy'));
  else if (usType === 'OnDelete') {
    if (us.rollingUpdate !== undefined && us.rollingUpdate !== null) {
      errs.push(invalid('spec.updateStrategy.rollingUpdate', new GoLiteral('apps.RollingUpdateStatefulSetStrategy{…}'), "only allowed for updateStrategy 'RollingUpdate'"));
    }
  } else if (usType === 'RollingUpdate') {
    const ru = us.rollingUpdate;
    if (isObj(ru)) {
      const p = 'spec.updateStrategy.rollingUpdate';
      errs.push(...validateNonnegative(ru.partition, child(p, 'partition')));
      if (ru.maxUnavailable !== undefined && ru.maxUnavailable !== null) {
        errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, child(p, 'maxUnavailable')));
        if (intOrPercentValue(ru.maxUnavailable) === 0) errs.push(invalid(child(p, 'maxUnavailable'), goIntOrString(ru.maxUnavailable), 'cannot be 0'));
        errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, child(p, 'maxUnavailable')));
      }
    }
  } else {
    errs.push(invalid('spec.updateStrategy', new GoLiteral(`apps.StatefulSetUpdateStrategy{Type:${JSON.stringify(usType)}, RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}`), "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const pvc = s.persistentVolumeClaimRetentionPolicy;
  if (isObj(pvc)) {
    for (const f of ['whenDeleted', 'whenScaled']) {
      const v = str(pvc[f]);
      if (v !== 'Retain' && v !== 'Delete') errs.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${f}`, v, ['Retain', 'Delete']));
    }
  }
  errs.push(...validateNonnegative(s.replicas, 'spec.replicas'));
  errs.push(...validateNonnegative(s.minReadySeconds, 'spec.minReadySeconds'));
  if (isObj(s.ordinals)) errs.push(...validateNonnegative(s.ordinals.start, 'spec.ordinals.start'));
  if (s.selector === undefined || s.selector === null) errs.push(required('spec.selector'));
  else {
    errs.push(...validateLabelSelector(s.selector, 'spec.selector'));
    if (isEmptySelector(s.selector)) errs.push(invalid('spec.selector', goLabelSelector(s.selector), 'empty selector is invalid for statefulset'));
  }
  const sel = labelSelectorAsSelector(s.selector);
  if (!sel) errs.push(invalid('spec.selector', goLabelSelector(s.selector), ''));
  else {
    // Upstream does not validate the StatefulSet pod spec (volumeMounts may name claim templates).
    const tpl = s.template;
    if (!isObj(tpl)) errs.push(required('spec.template'));
    else {
      if (!sel.empty && !sel.matches(tpl.metadata?.labels)) errs.push(invalid('spec.template.metadata.labels', goStringMap(tpl.metadata?.labels), SELECTOR_MISMATCH));
      errs.push(...validateLabels(tpl.metadata?.labels, 'spec.template.labels'));
      errs.push(...validateAnnotations(tpl.metadata?.annotations, 'spec.template.annotations'));
      errs.push(...validatePodSpecificAnnotations(tpl.metadata?.annotations, tpl.spec, 'spec.template.annotations'));
    }
  }
  const rp = str(s.template?.spec?.restartPolicy);
  if (rp !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', rp, ['Always']));
  if (s.template?.spec?.activeDeadlineSeconds !== undefined && s.template?.spec?.activeDeadlineSeconds !== null) {
    errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in StatefulSet is not Supported'));
  }
  return errs;
}

export function validateStatefulSet(sts: any): FieldError[] {
  return validateObjectMeta(sts?.metadata, true, nameIsDNSLabel).concat(validateStatefulSetSpec(sts?.spec));
}

const STS_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

export function validateStatefulSetUpdate(sts: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(sts?.metadata, old?.metadata).concat(validateStatefulSetSpec(sts?.spec));
  const strip = (spec: any) => Object.fromEntries(Object.entries(isObj(spec) ? spec : {}).filter(([k]) => !STS_MUTABLE.includes(k)));
  if (!semanticEqual(strip(sts?.spec), strip(old?.spec))) {
    errs.push(forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
  }
  return errs;
}

export function validateControllerRevision(cr: any): FieldError[] {
  const errs = validateObjectMeta(cr?.metadata, true, nameIsDNSSubdomain);
  if (cr?.data === undefined || cr?.data === null) errs.push(required('data', 'data is mandatory'));
  return errs.concat(validateNonnegative(cr?.revision, 'revision'));
}

export function validateControllerRevisionUpdate(cr: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(cr?.metadata, old?.metadata).concat(validateControllerRevision(cr));
  if (!semanticEqual(cr?.data, old?.data)) errs.push(invalid('data', new GoLiteral('runtime.RawExtension{…}'), 'field is immutable'));
  return errs;
}

function validateReplicationControllerSpec(spec: any): FieldError[] {
  const s = isObj(spec) ? spec : {};
  const errs = validateNonnegative(s.minReadySeconds, 'spec.minReadySeconds');
  const selector = isObj(s.selector) ? s.selector : {};
  if (Object.keys(selector).length === 0) errs.push(required('spec.selector'));
  errs.push(...validateNonnegative(s.replicas, 'spec.replicas'));
  const tpl = s.template;
  if (!isObj(tpl)) errs.push(required('spec.template'));
  else {
    const labels = isObj(tpl.metadata?.labels) ? tpl.metadata.labels : {};
    if (Object.keys(selector).length && Object.entries(selector).some(([k, v]) => labels[k] !== v)) {
      errs.push(invalid('spec.template.metadata.labels', goStringMap(tpl.metadata?.labels), SELECTOR_MISMATCH));
    }
    errs.push(...validatePodTemplateSpec(tpl, 'spec.template'));
    errs.push(...templateRestartAndDeadline(tpl, 'spec.template', 'ReplicationController'));
  }
  return errs;
}

export function validateReplicationController(rc: any): FieldError[] {
  return validateObjectMeta(rc?.metadata, true, nameIsDNSSubdomain).concat(validateReplicationControllerSpec(rc?.spec));
}

export function validateReplicationControllerUpdate(rc: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(rc?.metadata, old?.metadata).concat(validateReplicationControllerSpec(rc?.spec));
}

export { validateImmutableField, goIntOrStringText };
