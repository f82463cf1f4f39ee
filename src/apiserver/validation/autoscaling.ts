/**
 * HorizontalPodAutoscaler validation (upstream pkg/apis/autoscaling/validation), on the stored
 * autoscaling/v2 shape. HPAScaleToZero is off: minReplicas must be at least 1, unless the object
 * already had 0 (then updates may keep it, as upstream).
 */
import type { FieldError } from './types.js';
import { child, forbidden, GoLiteral, index, invalid, notSupported, required } from './errors.js';
import { validateNonnegative, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isDNS1123Label, isQualifiedName, isValidPathSegmentName, nameIsDNSSubdomain } from './names.js';
import { parseQuantity } from './quantity.js';

const MAX_PERIOD_SECONDS = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;
const METRIC_SOURCE_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const SELECT_POLICIES = ['Disabled', 'Max', 'Min'];
const POLICY_TYPES = ['Percent', 'Pods'];
const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);

const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const has = (v: unknown): boolean => v !== undefined && v !== null;

/** Quantities print through their String() in messages (no quotes). */
const qty = (v: unknown) => new GoLiteral(String(v));
const positive = (v: unknown): boolean => {
  const n = parseQuantity(v);
  return n === undefined || n > 0;
};

export function validateCrossVersionObjectReference(ref: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const kind = str(ref?.kind);
  if (!kind) errs.push(required(child(field, 'kind')));
  else for (const m of isValidPathSegmentName(kind)) errs.push(invalid(child(field, 'kind'), kind, m));
  const name = str(ref?.name);
  if (!name) errs.push(required(child(field, 'name')));
  else for (const m of isValidPathSegmentName(name)) errs.push(invalid(child(field, 'name'), name, m));
  return errs;
}

function validateMetricTarget(t: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = str(t?.type);
  if (!type) errs.push(required(child(field, 'type'), 'must specify a metric target type'));
  if (type !== 'Utilization' && type !== 'Value' && type !== 'AverageValue') errs.push(invalid(child(field, 'type'), type, 'must be either Utilization, Value, or AverageValue'));
  if (has(t?.value) && !positive(t.value)) errs.push(invalid(child(field, 'value'), qty(t.value), 'must be positive'));
  if (has(t?.averageValue) && !positive(t.averageValue)) errs.push(invalid(child(field, 'averageValue'), qty(t.averageValue), 'must be positive'));
  if (has(t?.averageUtilization) && num(t.averageUtilization) < 1) errs.push(invalid(child(field, 'averageUtilization'), t.averageUtilization, 'must be greater than 0'));
  return errs;
}

function validateMetricIdentifier(id: any, field: string): FieldError[] {
  const name = str(id?.name);
  if (!name) return [required(child(field, 'name'), 'must specify a metric name')];
  return isValidPathSegmentName(name).map((m) => invalid(child(field, 'name'), name, m));
}

function validateObjectSource(src: any, field: string): FieldError[] {
  const errs = [...validateCrossVersionObjectReference(src?.describedObject, child(field, 'describedObject')), ...validateMetricIdentifier(src?.metric, child(field, 'metric')), ...validateMetricTarget(src?.target, child(field, 'target'))];
  if (!has(src?.target?.value) && !has(src?.target?.averageValue)) errs.push(required(child(field, 'target', 'averageValue'), 'must set either a target value or averageValue'));
  return errs;
}

function validateExternalSource(src: any, field: string): FieldError[] {
  const errs = [...validateMetricIdentifier(src?.metric, child(field, 'metric')), ...validateMetricTarget(src?.target, child(field, 'target'))];
  const v = has(src?.target?.value);
  const av = has(src?.target?.averageValue);
  if (!v && !av) errs.push(required(child(field, 'target', 'averageValue'), 'must set either a target value for metric or a per-pod target'));
  if (v && av) errs.push(forbidden(child(field, 'target', 'value'), 'may not set both a target value for metric and a per-pod target'));
  return errs;
}

function validatePodsSource(src: any, field: string): FieldError[] {
  const errs = [...validateMetricIdentifier(src?.metric, child(field, 'metric')), ...validateMetricTarget(src?.target, child(field, 'target'))];
  if (!has(src?.target?.averageValue)) errs.push(required(child(field, 'target', 'averageValue'), 'must specify a positive target averageValue'));
  return errs;
}

function utilizationOrValue(src: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const u = has(src?.target?.averageUtilization);
  const av = has(src?.target?.averageValue);
  if (!u && !av) errs.push(required(child(field, 'target', 'averageUtilization'), 'must set either a target raw value or a target utilization'));
  if (u && av) errs.push(forbidden(child(field, 'target', 'averageValue'), 'may not set both a target raw value and a target utilization'));
  return errs;
}

function validateResourceSource(src: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!str(src?.name)) errs.push(required(child(field, 'name'), 'must specify a resource name'));
  errs.push(...validateMetricTarget(src?.target, child(field, 'target')));
  return errs.concat(utilizationOrValue(src, field));
}

/** core/v1 ValidateContainerResourceName: a standard container resource, or a qualified extended one. */
function validateContainerResourceName(name: string, field: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => invalid(field, name, m));
  if (errs.length) return errs;
  if (!name.includes('/') && !STANDARD_CONTAINER_RESOURCES.has(name) && !name.startsWith('hugepages-')) {
    return [invalid(field, name, 'must be a standard resource for containers')];
  }
  return [];
}

function validateContainerResourceSource(src: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(src?.name);
  if (!name) errs.push(required(child(field, 'name'), 'must specify a resource name'));
  else errs.push(...validateContainerResourceName(name, child(field, 'name')));
  const container = str(src?.container);
  if (!container) errs.push(required(child(field, 'container'), 'must specify a container'));
  else errs.push(...isDNS1123Label(container).map((m) => invalid(child(field, 'container'), container, m)));
  errs.push(...validateMetricTarget(src?.target, child(field, 'target')));
  return errs.concat(utilizationOrValue(src, field));
}

const SOURCES: [string, (src: any, field: string) => FieldError[]][] = [
  ['object', validateObjectSource],
  ['external', validateExternalSource],
  ['pods', validatePodsSource],
  ['resource', validateResourceSource],
  ['containerResource', validateContainerResourceSource],
];

const EXPECTED: Record<string, string> = { Object: 'object', Pods: 'pods', Resource: 'resource', External: 'external', ContainerResource: 'containerResource' };

function validateMetricSpec(spec: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = str(spec?.type);
  if (!type) errs.push(required(child(field, 'type'), 'must specify a metric source type'));
  if (!METRIC_SOURCE_TYPES.includes(type)) errs.push(notSupported(child(field, 'type'), type, METRIC_SOURCE_TYPES));
  const present: string[] = [];
  for (const [name, check] of SOURCES) {
    if (!has(spec?.[name])) continue;
    present.push(name);
    // Only the first source present is checked in depth; the others are refused below.
    if (present.length === 1) errs.push(...check(spec[name], child(field, name)));
  }
  const expected = EXPECTED[type];
  if (expected) {
    if (!has(spec?.[expected])) errs.push(required(child(field, expected), 'must populate information for the given metric source'));
  } else errs.push(notSupported(child(field, 'type'), type, METRIC_SOURCE_TYPES));
  if (present.length !== 1) {
    // Upstream walks a set: its (sorted) order is what the messages follow.
    for (const name of present.filter((p) => p !== expected).sort()) errs.push(forbidden(child(field, name), 'must populate the given metric source only'));
  }
  return errs;
}

function validateMetrics(metrics: unknown, field: string, minReplicas: unknown): FieldError[] {
  const errs: FieldError[] = [];
  const list = Array.isArray(metrics) ? metrics : [];
  let objectOrExternal = false;
  list.forEach((m, i) => {
    errs.push(...validateMetricSpec(m, index(field, i)));
    if (m?.type === 'Object' || m?.type === 'External') objectOrExternal = true;
  });
  if (minReplicas === 0 && !objectOrExternal) errs.push(forbidden(field, 'must specify at least one Object or External metric to support scaling to zero replicas'));
  return errs;
}

function validateScalingRules(rules: any, field: string): FieldError[] {
  if (!isObj(rules)) return [];
  const errs: FieldError[] = [];
  const w = rules.stabilizationWindowSeconds;
  if (has(w) && num(w) < 0) errs.push(invalid(child(field, 'stabilizationWindowSeconds'), w, 'must be greater than or equal to zero'));
  if (has(w) && num(w) > MAX_STABILIZATION_WINDOW_SECONDS) errs.push(invalid(child(field, 'stabilizationWindowSeconds'), w, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
  if (has(rules.selectPolicy) && !SELECT_POLICIES.includes(str(rules.selectPolicy))) errs.push(notSupported(child(field, 'selectPolicy'), str(rules.selectPolicy), SELECT_POLICIES));
  const policies = Array.isArray(rules.policies) ? rules.policies : [];
  const pp = child(field, 'policies');
  if (!policies.length) errs.push(required(pp, 'must specify at least one Policy'));
  policies.forEach((p: any, i: number) => {
    const f = index(pp, i);
    if (p?.type !== 'Pods' && p?.type !== 'Percent') errs.push(notSupported(child(f, 'type'), str(p?.type), POLICY_TYPES));
    if (num(p?.value) <= 0) errs.push(invalid(child(f, 'value'), num(p?.value), 'must be greater than zero'));
    if (num(p?.periodSeconds) <= 0) errs.push(invalid(child(f, 'periodSeconds'), num(p?.periodSeconds), 'must be greater than zero'));
    if (num(p?.periodSeconds) > MAX_PERIOD_SECONDS) errs.push(invalid(child(f, 'periodSeconds'), num(p?.periodSeconds), `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return errs;
}

function validateSpec(spec: any, minReplicasLowerBound: number): FieldError[] {
  const errs: FieldError[] = [];
  const f = 'spec';
  const min = spec?.minReplicas;
  const max = num(spec?.maxReplicas);
  if (has(min) && num(min) < minReplicasLowerBound) errs.push(invalid(child(f, 'minReplicas'), num(min), `must be greater than or equal to ${minReplicasLowerBound}`));
  if (max < 1) errs.push(invalid(child(f, 'maxReplicas'), max, 'must be greater than 0'));
  if (has(min) && max < num(min)) errs.push(invalid(child(f, 'maxReplicas'), max, 'must be greater than or equal to `minReplicas`'));
  errs.push(...validateCrossVersionObjectReference(spec?.scaleTargetRef, child(f, 'scaleTargetRef')));
  errs.push(...validateMetrics(spec?.metrics, child(f, 'metrics'), min));
  if (isObj(spec?.behavior)) {
    errs.push(...validateScalingRules(spec.behavior.scaleUp, child(f, 'behavior', 'scaleUp')));
    errs.push(...validateScalingRules(spec.behavior.scaleDown, child(f, 'behavior', 'scaleDown')));
  }
  return errs;
}

export function validateHorizontalPodAutoscaler(hpa: any): FieldError[] {
  return validateObjectMeta(hpa?.metadata, true, nameIsDNSSubdomain).concat(validateSpec(hpa?.spec, 1));
}

export function validateHorizontalPodAutoscalerUpdate(hpa: any, old: any): FieldError[] {
  const lower = old?.spec?.minReplicas === 0 ? 0 : 1;
  return validateObjectMetaUpdate(hpa?.metadata, old?.metadata).concat(validateSpec(hpa?.spec, lower));
}

export function validateHorizontalPodAutoscalerStatusUpdate(hpa: any, old: any): FieldError[] {
  return [
    ...validateObjectMetaUpdate(hpa?.metadata, old?.metadata),
    ...validateNonnegative(hpa?.status?.currentReplicas, 'status.currentReplicas'),
    ...validateNonnegative(hpa?.status?.desiredReplicas, 'status.desiredReplicas'),
  ];
}
