/** LimitRange and ResourceQuota validation: resource names and quantities. */
import type { FieldError } from './types.js';
import { child, duplicate, forbidden, GoLiteral, index, invalid, key, notSupported, required } from './errors.js';
import { isQualifiedName, nameIsDNSSubdomain } from './names.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import {
  isStandardQuotaResourceName, quantityAt, validateContainerResourceName, validateResourceName, validateResourceQuantityValue,
} from './resources.js';
import { compareQuantity, formatQuantity, goQuantityText, type Quantity } from './quantity.js';
import { goStringSlice } from './gosyntax.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

const LIMIT_TYPES = new Set(['Pod', 'Container', 'PersistentVolumeClaim']);

function validateLimitRangeTypeName(t: string, field: string): FieldError[] {
  const errs = isQualifiedName(t).map((m) => invalid(field, t, m));
  if (errs.length) return errs;
  if (!t.includes('/') && !LIMIT_TYPES.has(t)) return [invalid(field, t, 'must be a standard limit type or fully qualified')];
  return [];
}

function validateLimitRangeResourceName(type: string, name: string, field: string): FieldError[] {
  return type === 'Pod' || type === 'Container' ? validateContainerResourceName(name, field) : validateResourceName(name, field);
}

const goQ = (q: Quantity): GoLiteral => new GoLiteral(goQuantityText(q));

export function validateLimitRange(lr: any): FieldError[] {
  const errs = validateObjectMeta(lr?.metadata, true, nameIsDNSSubdomain);
  const seenTypes = new Set<string>();
  arr(lr?.spec?.limits).forEach((limit: any, i: number) => {
    const p = index('spec.limits', i);
    const type = str(limit?.type);
    errs.push(...validateLimitRangeTypeName(type, child(p, 'type')));
    if (seenTypes.has(type)) errs.push(duplicate(child(p, 'type'), type));
    seenTypes.add(type);
    const maps: Record<string, Map<string, Quantity>> = {};
    const read = (f: string) => {
      const m = new Map<string, Quantity>();
      for (const [name, raw] of Object.entries(isObj(limit?.[f]) ? limit[f] : {})) {
        const fp = key(child(p, f), name);
        errs.push(...validateLimitRangeResourceName(type, name, fp));
        const q = quantityAt(raw, fp, errs);
        if (q) m.set(name, q);
      }
      maps[f] = m;
    };
    read('max');
    read('min');
    if (type === 'Pod') {
      if (isObj(limit?.default) && Object.keys(limit.default).length) errs.push(forbidden(child(p, 'default'), "may not be specified when `type` is 'Pod'"));
      if (isObj(limit?.defaultRequest) && Object.keys(limit.defaultRequest).length) errs.push(forbidden(child(p, 'defaultRequest'), "may not be specified when `type` is 'Pod'"));
      maps.default = new Map();
      maps.defaultRequest = new Map();
    } else {
      read('default');
      read('defaultRequest');
    }
    if (type === 'PersistentVolumeClaim' && !maps.min.has('storage') && !maps.max.has('storage')) {
      errs.push(required(child(p, 'limits'), 'either minimum or maximum storage value is required, but neither was provided'));
    }
    read('maxLimitRequestRatio');
    const keys = new Set([...maps.max.keys(), ...maps.min.keys(), ...maps.default.keys(), ...maps.defaultRequest.keys(), ...maps.maxLimitRequestRatio.keys()]);
    for (const k of keys) {
      const min = maps.min.get(k);
      const max = maps.max.get(k);
      const def = maps.default.get(k);
      const defReq = maps.defaultRequest.get(k);
      const ratio = maps.maxLimitRequestRatio.get(k);
      const F = (q: Quantity) => formatQuantity(q);
      if (min && max && compareQuantity(min, max) > 0) errs.push(invalid(key(child(p, 'min'), k), goQ(min), `min value ${F(min)} is greater than max value ${F(max)}`));
      if (defReq && min && compareQuantity(min, defReq) > 0) errs.push(invalid(key(child(p, 'defaultRequest'), k), goQ(defReq), `min value ${F(min)} is greater than default request value ${F(defReq)}`));
      if (defReq && max && compareQuantity(defReq, max) > 0) errs.push(invalid(key(child(p, 'defaultRequest'), k), goQ(defReq), `default request value ${F(defReq)} is greater than max value ${F(max)}`));
      if (defReq && def && compareQuantity(defReq, def) > 0) errs.push(invalid(key(child(p, 'defaultRequest'), k), goQ(defReq), `default request value ${F(defReq)} is greater than default limit value ${F(def)}`));
      if (def && min && compareQuantity(min, def) > 0) errs.push(invalid(key(child(p, 'default'), k), goQ(min), `min value ${F(min)} is greater than default value ${F(def)}`));
      if (def && max && compareQuantity(def, max) > 0) errs.push(invalid(key(child(p, 'default'), k), goQ(max), `default value ${F(def)} is greater than max value ${F(max)}`));
      if (ratio && compareQuantity(ratio, { value: 1n, scale: 0, format: 'DecimalSI' }) < 0) errs.push(invalid(key(child(p, 'maxLimitRequestRatio'), k), goQ(ratio), `ratio ${F(ratio)} is less than 1`));
    }
  });
  return errs;
}

export function validateLimitRangeUpdate(lr: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(lr?.metadata, old?.metadata).concat(validateLimitRange(lr));
}

function validateQuotaResourceName(name: string, field: string): FieldError[] {
  const errs = validateResourceName(name, field);
  if (!name.includes('/') && !isStandardQuotaResourceName(name)) errs.push(invalid(field, name, 'must be a standard resource for quota'));
  return errs;
}

function validateQuotaList(list: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [name, raw] of Object.entries(isObj(list) ? list : {})) {
    const p = key(field, name);
    errs.push(...validateQuotaResourceName(name, p));
    const q = quantityAt(raw, p, errs);
    if (q) errs.push(...validateResourceQuantityValue(name, q, p));
  }
  return errs;
}

const QUOTA_SCOPES = new Set(['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity', 'VolumeAttributesClass']);

function validateQuotaSpec(spec: any): FieldError[] {
  const errs = validateQuotaList(spec?.hard, 'spec.hard');
  const scopes: string[] = arr(spec?.scopes).map(str);
  for (const s of scopes) if (!QUOTA_SCOPES.has(s)) errs.push(invalid('spec.scopes', goStringSlice(scopes, '[]core.ResourceQuotaScope'), 'unsupported scope'));
  const conflict = (a: string, b: string) => scopes.includes(a) && scopes.includes(b);
  if (conflict('BestEffort', 'NotBestEffort') || conflict('Terminating', 'NotTerminating')) {
    errs.push(invalid('spec.scopes', goStringSlice(scopes, '[]core.ResourceQuotaScope'), 'conflicting scopes'));
  }
  arr(spec?.scopeSelector?.matchExpressions).forEach((req: any) => {
    const p = 'spec.scopeSelector.matchExpressions';
    if (!QUOTA_SCOPES.has(str(req?.scopeName))) errs.push(invalid(child(p, 'scopeName'), str(req?.scopeName), 'unsupported scope'));
    const op = str(req?.operator);
    if (['In', 'NotIn'].includes(op)) {
      if (arr(req.values).length === 0) errs.push(required(child(p, 'values'), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
    } else if (['Exists', 'DoesNotExist'].includes(op)) {
      if (arr(req.values).length) errs.push(invalid(child(p, 'values'), goStringSlice(req.values), "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
    } else errs.push(invalid(child(p, 'operator'), op, 'not a valid selector operator'));
  });
  return errs;
}

export function validateResourceQuota(rq: any): FieldError[] {
  const errs = validateObjectMeta(rq?.metadata, true, nameIsDNSSubdomain).concat(validateQuotaSpec(rq?.spec));
  errs.push(...validateQuotaList(rq?.status?.hard, 'status.hard'), ...validateQuotaList(rq?.status?.used, 'status.used'));
  return errs;
}

export function validateResourceQuotaUpdate(rq: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(rq?.metadata, old?.metadata).concat(validateQuotaSpec(rq?.spec));
  const a = new Set(arr(rq?.spec?.scopes).map(str));
  const b = new Set(arr(old?.spec?.scopes).map(str));
  if (a.size !== b.size || [...a].some((s) => !b.has(s))) {
    errs.push(invalid('spec.scopes', goStringSlice(arr(rq?.spec?.scopes).map(str), '[]core.ResourceQuotaScope'), 'field is immutable'));
  }
  void notSupported;
  return errs;
}
