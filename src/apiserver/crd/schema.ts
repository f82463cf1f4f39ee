/**
 * Structural schemas of custom resources (apiextensions.k8s.io/v1 openAPIV3Schema): pruning of
 * unknown fields, defaulting, and validation with upstream's field paths and messages. Pure.
 * CEL rules (x-kubernetes-validations) are evaluated by cel.ts.
 */
import type { FieldError } from '../validation/types.js';
import { duplicate, forbidden, GoLiteral, index, invalid, notSupported, required, tooLongMaxLength, tooMany } from '../validation/errors.js';

export type JSONSchemaProps = Record<string, any>;

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Path join as field.Path.Child (no leading dot at the top). */
const childPath = (p: string, k: string): string => (p ? `${p}.${k}` : k);

/**
 * Removes fields the schema does not specify (upstream pruning). apiVersion, kind and metadata stay
 * at the root; embedded resources keep theirs too. Returns the dotted paths that were pruned.
 */
export function prune(obj: any, schema: JSONSchemaProps | undefined, isRoot = true): string[] {
  const out: string[] = [];
  if (!schema) return out;
  pruneNode(obj, schema, isRoot ? 'root' : 'none', '', out);
  return out;
}

type Meta = 'root' | 'embedded' | 'none';

function pruneNode(v: any, s: JSONSchemaProps | undefined, meta: Meta, path: string, out: string[]): void {
  if (!s) return;
  if (Array.isArray(v)) {
    if (s.items && isObj(s.items)) v.forEach((x, i) => pruneNode(x, s.items, s.items['x-kubernetes-embedded-resource'] ? 'embedded' : 'none', index(path, i), out));
    return;
  }
  if (!isObj(v)) return;
  const props: Record<string, JSONSchemaProps> | undefined = s.properties;
  const addl = s.additionalProperties;
  for (const k of Object.keys(v)) {
    const p = childPath(path, k);
    if (meta !== 'none' && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) {
      // metadata of the root is ObjectMeta (handled by the generic store); of embedded ones, kept.
      continue;
    }
    let sub: JSONSchemaProps | undefined;
    if (props && Object.prototype.hasOwnProperty.call(props, k)) sub = props[k];
    else if (isObj(addl)) sub = addl;
    else if (addl === true || s['x-kubernetes-preserve-unknown-fields']) continue;
    else {
      delete v[k];
      out.push(p);
      continue;
    }
    pruneNode(v[k], sub, sub?.['x-kubernetes-embedded-resource'] ? 'embedded' : 'none', p, out);
  }
}

/** Applies `default` values where fields are absent (or null where not nullable), depth first. */
export function applySchemaDefaults(v: any, s: JSONSchemaProps | undefined): void {
  if (!s) return;
  if (Array.isArray(v)) {
    if (isObj(s.items)) for (const x of v) applySchemaDefaults(x, s.items);
    return;
  }
  if (!isObj(v)) return;
  if (isObj(s.properties)) {
    for (const [k, sub] of Object.entries(s.properties as Record<string, JSONSchemaProps>)) {
      if (sub && sub.default !== undefined && (v[k] === undefined || (v[k] === null && !sub.nullable))) v[k] = structuredClone(sub.default);
    }
    for (const [k, sub] of Object.entries(s.properties as Record<string, JSONSchemaProps>)) if (k in v) applySchemaDefaults(v[k], sub);
  }
  if (isObj(s.additionalProperties)) {
    for (const k of Object.keys(v)) if (!(s.properties && k in s.properties)) applySchemaDefaults(v[k], s.additionalProperties);
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'string') return 'string';
  return 'object';
}

function typeMatches(type: string, v: unknown): boolean {
  switch (type) {
    case 'object':
      return isObj(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    default:
      return true;
  }
}

const INT32 = [-2147483648, 2147483647];
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function formatOK(format: string, v: unknown): boolean {
  switch (format) {
    case 'int32':
      return typeof v !== 'number' || (Number.isInteger(v) && v >= INT32[0] && v <= INT32[1]);
    case 'int64':
      return typeof v !== 'number' || Number.isInteger(v);
    case 'date-time':
    case 'datetime':
      return typeof v !== 'string' || (DATE_TIME.test(v) && !Number.isNaN(Date.parse(v.replace(' ', 'T'))));
    case 'date':
      return typeof v !== 'string' || DATE.test(v);
    case 'byte':
      return typeof v !== 'string' || /^[A-Za-z0-9+/]*={0,2}$/.test(v);
    case 'uuid':
      return typeof v !== 'string' || /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(v);
    default:
      return true;
  }
}

function goValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Validates `v` against the schema. `path` is the field path of `v` ('' for the root; errors
 * then name `spec.replicas` and messages read "spec.replicas in body …", as upstream).
 */
export function validateSchema(v: any, s: JSONSchemaProps | undefined, path = ''): FieldError[] {
  const errs: FieldError[] = [];
  if (s) validateNode(v, s, path, errs, true);
  return errs;
}

function validateNode(v: any, s: JSONSchemaProps, path: string, errs: FieldError[], isRoot = false): void {
  const name = path || '<nil>';
  if (v === null) {
    if (s.nullable || s['x-kubernetes-preserve-unknown-fields'] && !s.type) return;
    if (s.type) errs.push(invalid(path, 'null', `${name} in body must be of type ${s.type}: "null"`));
    return;
  }
  if (s['x-kubernetes-int-or-string']) {
    if (!(typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)))) {
      errs.push(invalid(path, typeName(v), `${name} in body must be of type integer,string: "${typeName(v)}"`));
      return;
    }
  } else if (s.type && !typeMatches(s.type, v)) {
    errs.push(invalid(path, typeName(v), `${name} in body must be of type ${s.type}: "${typeName(v)}"`));
    return;
  }
  if (s.format && !formatOK(s.format, v)) {
    errs.push(invalid(path, v, `${name} in body must be of type ${s.format}: ${JSON.stringify(goValue(v))}`));
  }
  if (Array.isArray(s.enum) && !s.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(v))) {
    errs.push(notSupportedAny(path, v, s.enum));
  }
  if (typeof v === 'number') {
    if (typeof s.minimum === 'number') {
      if (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum) errs.push(invalid(path, v, `${name} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`));
    }
    if (typeof s.maximum === 'number') {
      if (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum) errs.push(invalid(path, v, `${name} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`));
    }
    if (typeof s.multipleOf === 'number' && s.multipleOf > 0 && Math.abs(v / s.multipleOf - Math.round(v / s.multipleOf)) > 1e-9) {
      errs.push(invalid(path, v, `${name} in body should be a multiple of ${s.multipleOf}`));
    }
  }
  if (typeof v === 'string') {
    const len = [...v].length;
    if (typeof s.maxLength === 'number' && len > s.maxLength) errs.push(tooLongMaxLength(path, s.maxLength));
    if (typeof s.minLength === 'number' && len < s.minLength) errs.push(invalid(path, v, `${name} in body should be at least ${s.minLength} chars long`));
    if (typeof s.pattern === 'string') {
      let re: RegExp | undefined;
      try {
        re = new RegExp(s.pattern, 'u');
      } catch {
        re = undefined;
      }
      if (re && !re.test(v)) errs.push(invalid(path, v, `${name} in body should match '${s.pattern}'`));
    }
  }
  if (Array.isArray(v)) {
    if (typeof s.maxItems === 'number' && v.length > s.maxItems) errs.push(tooMany(path, v.length, s.maxItems));
    if (typeof s.minItems === 'number' && v.length < s.minItems) errs.push(invalid(path, v.length, `${name} in body should have at least ${s.minItems} items`));
    if (s.uniqueItems) {
      const seen = new Set<string>();
      for (const x of v) {
        const k = JSON.stringify(x);
        if (seen.has(k)) {
          errs.push(duplicate(path, x));
          break;
        }
        seen.add(k);
      }
    }
    if (isObj(s.items)) v.forEach((x, i) => validateNode(x, s.items, index(path, i), errs));
    listTypeErrors(v, s, path, errs);
  }
  composition(v, s, path, name, errs);
  if (isObj(v)) {
    const props: Record<string, JSONSchemaProps> = isObj(s.properties) ? s.properties : {};
    if (Array.isArray(s.required)) {
      for (const r of s.required) if (v[r] === undefined) errs.push(required(childPath(path, r), ''));
    }
    const n = Object.keys(v).length;
    if (typeof s.maxProperties === 'number' && n > s.maxProperties) errs.push(tooMany(path, n, s.maxProperties));
    if (typeof s.minProperties === 'number' && n < s.minProperties) errs.push(invalid(path, n, `${name} in body should have at least ${s.minProperties} properties`));
    for (const k of Object.keys(v)) {
      if (isRoot && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
      const sub = Object.prototype.hasOwnProperty.call(props, k) ? props[k] : isObj(s.additionalProperties) ? s.additionalProperties : undefined;
      if (sub) validateNode(v[k], sub, childPath(path, k), errs);
    }
    if (s['x-kubernetes-embedded-resource']) {
      if (typeof v.apiVersion !== 'string' || !v.apiVersion) errs.push(required(childPath(path, 'apiVersion'), 'must not be empty'));
      if (typeof v.kind !== 'string' || !v.kind) errs.push(required(childPath(path, 'kind'), 'must not be empty'));
    }
  }
}

/** x-kubernetes-list-type set (unique items) and map (unique keys). */
function listTypeErrors(v: any[], s: JSONSchemaProps, path: string, errs: FieldError[]): void {
  const t = s['x-kubernetes-list-type'];
  if (t === 'set') {
    const seen = new Set<string>();
    v.forEach((x, i) => {
      const k = JSON.stringify(x);
      if (seen.has(k)) errs.push(duplicate(index(path, i), x));
      seen.add(k);
    });
  } else if (t === 'map' && Array.isArray(s['x-kubernetes-list-map-keys'])) {
    const keys: string[] = s['x-kubernetes-list-map-keys'];
    const seen = new Set<string>();
    v.forEach((x, i) => {
      if (!isObj(x)) return;
      const k = JSON.stringify(keys.map((key) => x[key] ?? s.items?.properties?.[key]?.default ?? null));
      if (seen.has(k)) {
        const shown = keys.map((key) => `${JSON.stringify(key)}:${JSON.stringify(x[key])}`).join(', ');
        errs.push({ type: 'FieldValueDuplicate', field: index(path, i), message: `Duplicate value: map[string]interface {}{${shown}}` });
      }
      seen.add(k);
    });
  }
}

/** allOf / anyOf / oneOf / not, with go-openapi's messages. */
function composition(v: any, s: JSONSchemaProps, path: string, name: string, errs: FieldError[]): void {
  const passes = (sub: JSONSchemaProps) => {
    const e: FieldError[] = [];
    validateNode(v, sub, path, e);
    return e;
  };
  if (Array.isArray(s.allOf)) {
    for (const sub of s.allOf) if (isObj(sub)) errs.push(...passes(sub));
  }
  if (Array.isArray(s.anyOf) && s.anyOf.length) {
    const results = s.anyOf.filter(isObj).map(passes);
    if (!results.some((r) => r.length === 0)) {
      errs.push(invalid(path, v === null || typeof v !== 'object' ? v : typeName(v), `${name} in body must validate at least one schema (anyOf)`));
      errs.push(...results[0]!);
    }
  }
  if (Array.isArray(s.oneOf) && s.oneOf.length) {
    const ok = s.oneOf.filter(isObj).map(passes).filter((r) => r.length === 0).length;
    if (ok !== 1) errs.push(invalid(path, v === null || typeof v !== 'object' ? v : typeName(v), `${name} in body must validate one and only one schema (oneOf)`));
  }
  if (isObj(s.not) && passes(s.not).length === 0) {
    errs.push(invalid(path, v === null || typeof v !== 'object' ? v : typeName(v), `${name} in body must not validate the schema (not)`));
  }
}

function notSupportedAny(path: string, v: unknown, allowed: unknown[]): FieldError {
  const e = notSupported(path, v, allowed.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))));
  return e;
}

// ---------------------------------------------------------------------------------------------
// Structural schema checks for CRD validation

/**
 * Where a CRD version's schema is not structural: every node needs a type, unless it is
 * x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields (upstream's message set,
 * reduced to the type rule and the forbidden-keyword rules).
 */
export function structuralErrors(s: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  walkStructural(s, path, errs, true);
  return errs;
}

function walkStructural(s: any, path: string, errs: FieldError[], root: boolean): void {
  if (!isObj(s)) return;
  if (!s.type && !s['x-kubernetes-int-or-string'] && !s['x-kubernetes-preserve-unknown-fields']) {
    errs.push(required(childPath(path, 'type'), 'must not be empty for specified object fields'));
  }
  if (root && s.type && s.type !== 'object') errs.push(invalid(childPath(path, 'type'), s.type, 'must be object at the root'));
  if (s.type === 'array' && !isObj(s.items)) errs.push(required(childPath(path, 'items'), 'must be specified'));
  if (isObj(s.properties) && isObj(s.additionalProperties)) {
    errs.push(forbiddenBoth(childPath(path, 'additionalProperties')));
  }
  if (s.default !== undefined) {
    // A default must be valid against its own schema and survive pruning, or every write would fail.
    const dp = childPath(path, 'default');
    if (root) errs.push(forbidden(dp, 'must not be set at the root'));
    else if (s.default === null && !s.nullable) errs.push(invalid(dp, 'null', 'default: in body must be of type ' + (s.type ?? 'object') + ': "null"'));
    else {
      const copy = structuredClone(s.default);
      const pruned = prune(copy, s, false);
      if (pruned.length) errs.push(invalid(dp, new GoLiteral(JSON.stringify(s.default)), `must not have unknown fields: ${pruned.join(', ')}`));
      for (const e of validateSchema(s.default, s, 'default')) errs.push({ ...e, field: e.field.replace(/^default/, dp) });
    }
  }
  if (isObj(s.properties)) for (const [k, sub] of Object.entries(s.properties)) walkStructural(sub, `${childPath(path, 'properties')}[${k}]`, errs, false);
  if (isObj(s.items)) walkStructural(s.items, childPath(path, 'items'), errs, false);
  if (isObj(s.additionalProperties)) walkStructural(s.additionalProperties, childPath(path, 'additionalProperties'), errs, false);
}

function forbiddenBoth(path: string): FieldError {
  return { type: 'FieldValueForbidden', field: path, message: 'Forbidden: additionalProperties and properties are mutual exclusive' };
}
