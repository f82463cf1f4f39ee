/**
 * ObjectMeta, labels, annotations and label selectors, as
 * apimachinery/pkg/api/validation/objectmeta.go and apis/meta/v1/validation.
 */
import type { FieldError } from './types.js';
import { child, forbidden, index, invalid, required, tooLong, GoLiteral } from './errors.js';
import { byteLength, isDNS1123Label, isQualifiedName, isValidLabelValue, nameIsDNSLabel, type NameFn } from './names.js';
import { goLabelSelector, goStringMap, goStringSliceText } from './gosyntax.js';
import { semanticEqual } from './equal.js';

export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
export const FIELD_IMMUTABLE = 'field is immutable';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const entries = (m: unknown): [string, unknown][] => (isObj(m) ? Object.entries(m) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

export function validateLabelName(name: string, field: string): FieldError[] {
  return isQualifiedName(name).map((m) => invalid(field, name, m));
}

export function validateLabels(labels: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of entries(labels)) {
    errs.push(...validateLabelName(k, field));
    for (const m of isValidLabelValue(str(v))) errs.push(invalid(field, str(v), m));
  }
  return errs;
}

export function validateAnnotations(annotations: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of entries(annotations)) {
    // Annotation keys are qualified names, but case does not matter.
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(invalid(field, k, m));
    total += byteLength(k) + byteLength(str(v));
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(tooLong(field, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

const LABEL_SELECTOR_OPS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** ValidateLabelSelector with AllowInvalidLabelValueInSelector=false. */
export function validateLabelSelector(sel: unknown, field: string): FieldError[] {
  if (!isObj(sel)) return [];
  const errs = validateLabels(sel.matchLabels, child(field, 'matchLabels'));
  const exprs = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
  exprs.forEach((expr: any, i: number) => errs.push(...validateLabelSelectorRequirement(expr, index(child(field, 'matchExpressions'), i))));
  return errs;
}

export function validateLabelSelectorRequirement(expr: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const values: unknown[] = Array.isArray(expr?.values) ? expr.values : [];
  switch (expr?.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(required(child(field, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errs.push(forbidden(child(field, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    default:
      errs.push(invalid(child(field, 'operator'), str(expr?.operator), 'not a valid selector operator'));
  }
  errs.push(...validateLabelName(str(expr?.key), child(field, 'key')));
  values.forEach((v, i) => {
    for (const m of isValidLabelValue(str(v))) errs.push(invalid(index(child(field, 'values'), i), str(v), m));
  });
  return errs;
}

/** A label selector converted for matching (metav1.LabelSelectorAsSelector). */
export interface Selector {
  /** labels.Everything(): the selector has no requirements. */
  empty: boolean;
  /** labels.Nothing(): a nil selector matches nothing. */
  nothing: boolean;
  matches(labels: unknown): boolean;
}

/** Returns undefined when the selector cannot be converted (an invalid requirement). */
export function labelSelectorAsSelector(sel: unknown): Selector | undefined {
  if (sel === undefined || sel === null) return { empty: false, nothing: true, matches: () => false };
  if (!isObj(sel)) return undefined;
  if (validateLabelSelector(sel, '').length > 0) return undefined;
  const ml = entries(sel.matchLabels);
  const exprs: any[] = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
  const empty = ml.length === 0 && exprs.length === 0;
  return {
    empty,
    nothing: false,
    matches(labels: unknown): boolean {
      const l = isObj(labels) ? labels : {};
      for (const [k, v] of ml) if (!(k in l) || str(l[k]) !== str(v)) return false;
      for (const e of exprs) {
        const has = e.key in l;
        const vals: string[] = (e.values ?? []).map(str);
        switch (e.operator) {
          case 'In': if (!has || !vals.includes(str(l[e.key]))) return false; break;
          case 'NotIn': if (has && vals.includes(str(l[e.key]))) return false; break;
          case 'Exists': if (!has) return false; break;
          case 'DoesNotExist': if (has) return false; break;
        }
      }
      return true;
    },
  };
}

/** Standard finalizer names that need no domain prefix. */
// customresourcecleanup is set by the CRD store itself (apiextensions validates CRD metadata with the generic rules).
const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion', 'customresourcecleanup.apiextensions.k8s.io']);

export function validateKubeFinalizerName(name: string, field: string): FieldError[] {
  if (name.split('/').length === 1 && !STANDARD_FINALIZERS.has(name)) {
    return [invalid(field, name, 'name is neither a standard finalizer name nor is it fully qualified')];
  }
  return [];
}

export function validateFinalizers(finalizers: unknown, field: string): FieldError[] {
  const list: string[] = Array.isArray(finalizers) ? finalizers.map(str) : [];
  const errs: FieldError[] = [];
  for (const f of list) for (const m of isQualifiedName(f)) errs.push(invalid(field, f, m));
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    errs.push(invalid(field, new GoLiteral(goStringSliceText(list)), 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errs;
}

function validateOwnerReferences(refs: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(refs)) return errs;
  let firstController = '';
  for (const ref of refs) {
    const apiVersion = str(ref?.apiVersion);
    const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    // Owner reference errors carry no index upstream.
    if (!version) errs.push(invalid(child(field, 'apiVersion'), apiVersion, 'version must not be empty'));
    if (!str(ref?.kind)) errs.push(invalid(child(field, 'kind'), str(ref?.kind), 'must not be empty'));
    if (!str(ref?.name)) errs.push(invalid(child(field, 'name'), str(ref?.name), 'must not be empty'));
    if (!str(ref?.uid)) errs.push(invalid(child(field, 'uid'), str(ref?.uid), 'must not be empty'));
    if (group === '' && version === 'v1' && ref?.kind === 'Event') {
      errs.push(invalid(field, new GoLiteral(goOwnerRef(ref)), '/v1, Kind=Event is disallowed from being an owner'));
    }
    if (ref?.controller === true) {
      const cur = `${str(ref.kind)}/${str(ref.name)}`;
      if (firstController) {
        errs.push(invalid(field, new GoLiteral('[]v1.OwnerReference{' + refs.map(goOwnerRef).join(', ') + '}'), `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${cur}`));
      } else firstController = cur;
    }
  }
  return errs;
}

function goOwnerRef(ref: any): string {
  // Go prints a non-nil pointer as its address, which we cannot know.
  const b = (v: unknown) => (typeof v === 'boolean' ? '(*bool)(0xc000000000)' : '(*bool)(nil)');
  return `v1.OwnerReference{APIVersion:${JSON.stringify(str(ref.apiVersion))}, Kind:${JSON.stringify(str(ref.kind))}, Name:${JSON.stringify(str(ref.name))}, UID:${JSON.stringify(str(ref.uid))}, Controller:${b(ref.controller)}, BlockOwnerDeletion:${b(ref.blockOwnerDeletion)}}`;
}

function validateManagedFields(list: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(list)) return errs;
  list.forEach((mf: any, i: number) => {
    const p = index(field, i);
    if (mf?.operation !== 'Apply' && mf?.operation !== 'Update') errs.push(invalid(child(p, 'operation'), str(mf?.operation), 'must be `Apply` or `Update`'));
    if (mf?.fieldsType && mf.fieldsType !== 'FieldsV1') errs.push(invalid(child(p, 'fieldsType'), str(mf.fieldsType), 'must be `FieldsV1`'));
    if (byteLength(str(mf?.manager)) > 128) errs.push({ type: 'FieldValueTooLong', field: child(p, 'manager'), message: 'Too long: may not be longer than 128' });
  });
  return errs;
}

/** The parts of ObjectMeta validation shared by create and update. */
function validateMetaCommon(meta: any, namespaced: boolean, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const ns = str(meta?.namespace);
  if (namespaced) {
    if (!ns) errs.push(required(child(field, 'namespace')));
    else for (const m of nameIsDNSLabel(ns, false)) errs.push(invalid(child(field, 'namespace'), ns, m));
  } else if (ns) {
    errs.push(forbidden(child(field, 'namespace'), 'not allowed on this type'));
  }
  if (typeof meta?.generation === 'number' && meta.generation < 0) errs.push(invalid(child(field, 'generation'), meta.generation, 'must be greater than or equal to 0'));
  errs.push(...validateLabels(meta?.labels, child(field, 'labels')));
  errs.push(...validateAnnotations(meta?.annotations, child(field, 'annotations')));
  errs.push(...validateOwnerReferences(meta?.ownerReferences, child(field, 'ownerReferences')));
  errs.push(...validateFinalizers(meta?.finalizers, child(field, 'finalizers')));
  errs.push(...validateManagedFields(meta?.managedFields, child(field, 'managedFields')));
  return errs;
}

function kubeFinalizers(meta: any, field: string): FieldError[] {
  const list: unknown[] = Array.isArray(meta?.finalizers) ? meta.finalizers : [];
  return list.flatMap((f, i) => validateKubeFinalizerName(str(f), index(child(field, 'finalizers'), i)));
}

/** ValidateObjectMeta on create (core's wrapper, which adds the finalizer-name check). */
export function validateObjectMeta(meta: any, namespaced: boolean, nameFn: NameFn, field = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  const generateName = str(meta?.generateName);
  if (generateName) for (const m of nameFn(generateName, true)) errs.push(invalid(child(field, 'generateName'), generateName, m));
  const name = str(meta?.name);
  if (!name) errs.push(required(child(field, 'name'), 'name or generateName is required'));
  else for (const m of nameFn(name, false)) errs.push(invalid(child(field, 'name'), name, m));
  errs.push(...validateMetaCommon(meta, namespaced, field));
  errs.push(...kubeFinalizers(meta, field));
  return errs;
}

/** Renders an immutable-field value the way ErrorBody prints it. */
function immutableValue(v: unknown): unknown {
  if (v === undefined || v === null) return '';
  return v;
}

export function validateImmutableField(newVal: unknown, oldVal: unknown, field: string, render: (v: unknown) => unknown = immutableValue): FieldError[] {
  return semanticEqual(newVal, oldVal) ? [] : [invalid(field, render(newVal), FIELD_IMMUTABLE)];
}

/** Go prints metav1.Time via its String(): "2024-01-02 03:04:05 +0000 UTC". */
function goTime(v: unknown): unknown {
  if (v === undefined || v === null || v === '') return new GoLiteral('0001-01-01 00:00:00 +0000 UTC');
  const d = new Date(str(v));
  if (Number.isNaN(d.getTime())) return str(v);
  const iso = d.toISOString();
  return new GoLiteral(`${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`);
}

export interface MetaUpdateOptions {
  /** Reject an update whose metadata.resourceVersion is empty (the store usually fills it first). */
  requireResourceVersion?: boolean;
}

/** ValidateObjectMetaUpdate (core's wrapper, with the finalizer-name check). */
export function validateObjectMetaUpdate(newMeta: any, oldMeta: any, field = 'metadata', opts: MetaUpdateOptions = {}): FieldError[] {
  const errs: FieldError[] = [];
  if (oldMeta?.deletionTimestamp) {
    const oldF = new Set<string>((oldMeta.finalizers ?? []).map(str));
    const extra = [...new Set<string>((newMeta?.finalizers ?? []).map(str))].filter((f) => !oldF.has(f)).sort();
    if (extra.length) {
      errs.push(forbidden(child(field, 'finalizers'), `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSliceText(extra)}`));
    }
  }
  if (opts.requireResourceVersion && !str(newMeta?.resourceVersion)) {
    errs.push(invalid(child(field, 'resourceVersion'), '', 'must be specified for an update'));
  }
  const gen = (m: any) => (typeof m?.generation === 'number' ? m.generation : 0);
  if (gen(newMeta) < gen(oldMeta)) errs.push(invalid(child(field, 'generation'), gen(newMeta), 'must not be decremented'));
  errs.push(...validateImmutableField(str(newMeta?.name), str(oldMeta?.name), child(field, 'name')));
  errs.push(...validateImmutableField(str(newMeta?.namespace), str(oldMeta?.namespace), child(field, 'namespace')));
  errs.push(...validateImmutableField(str(newMeta?.uid), str(oldMeta?.uid), child(field, 'uid')));
  errs.push(...validateImmutableField(timeKey(newMeta?.creationTimestamp), timeKey(oldMeta?.creationTimestamp), child(field, 'creationTimestamp'), () => goTime(newMeta?.creationTimestamp)));
  if (timeKey(newMeta?.deletionTimestamp) !== timeKey(oldMeta?.deletionTimestamp)) {
    errs.push(invalid(child(field, 'deletionTimestamp'), newMeta?.deletionTimestamp ? goTime(newMeta.deletionTimestamp) : null, FIELD_IMMUTABLE));
  }
  if ((newMeta?.deletionGracePeriodSeconds ?? null) !== (oldMeta?.deletionGracePeriodSeconds ?? null)) {
    errs.push(invalid(child(field, 'deletionGracePeriodSeconds'), newMeta?.deletionGracePeriodSeconds ?? null, FIELD_IMMUTABLE));
  }
  errs.push(...validateLabels(newMeta?.labels, child(field, 'labels')));
  errs.push(...validateAnnotations(newMeta?.annotations, child(field, 'annotations')));
  errs.push(...validateOwnerReferences(newMeta?.ownerReferences, child(field, 'ownerReferences')));
  errs.push(...validateManagedFields(newMeta?.managedFields, child(field, 'managedFields')));
  errs.push(...kubeFinalizers(newMeta, field));
  return errs;
}

/** Timestamps compare at second precision, as metav1.Time does after a round trip. */
function timeKey(v: unknown): string {
  if (v === undefined || v === null || v === '') return '';
  const t = new Date(str(v)).getTime();
  return Number.isNaN(t) ? str(v) : String(Math.floor(t / 1000));
}

/** ValidateNonnegativeField / validate.GEZ. */
export function validateNonnegative(value: unknown, field: string): FieldError[] {
  return typeof value === 'number' && value < 0 ? [invalid(field, value, 'must be greater than or equal to 0')] : [];
}

/** ValidateHasLabel (Job's generated labels). */
export function validateHasLabel(meta: any, field: string, key: string, expected: string): FieldError[] {
  const labels = isObj(meta?.labels) ? meta.labels : undefined;
  const path = `${child(field, 'labels')}[${key}]`;
  if (!labels || !(key in labels)) return [required(path, `must be '${expected}'`)];
  if (str(labels[key]) !== expected) return [invalid(path, goStringMap(labels), `must be '${expected}'`)];
  return [];
}

export { goLabelSelector, isDNS1123Label };
