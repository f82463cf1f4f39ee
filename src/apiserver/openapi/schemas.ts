/**
 * The built-in kinds' OpenAPI schemas (generated at build time from kubernetes-types by
 * scripts/gen-schemas.ts) and what the API server derives from them: strategic-merge-patch
 * metadata and strict field validation (unknown fields).
 */
import { readFileSync } from 'node:fs';
import type { PatchMeta } from '../patch/meta.js';

/** An OpenAPI v3 schema object as we generate it (upstream's subset plus x-kubernetes-* extensions). */
export interface Schema {
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  $ref?: string;
  allOf?: Schema[];
  oneOf?: Schema[];
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  [ext: string]: unknown;
}

export const REF_PREFIX = '#/components/schemas/';

let schemas: Record<string, Schema> | undefined;
let byGVK: Map<string, string> | undefined;

/** All component schemas by upstream name. Loaded once, on first use (read at API-server start). */
export function allSchemas(): Readonly<Record<string, Schema>> {
  if (!schemas) {
    // this file compiles to <outDir>/src/apiserver/openapi/schemas.js; the generator writes <outDir>/generated/
    const url = new URL('../../../generated/schemas.json', import.meta.url);
    let text: string;
    try {
      text = readFileSync(url, 'utf8');
    } catch (e) {
      throw new Error(`OpenAPI schemas missing (${url.pathname}); run the build's gen-schemas step: ${(e as Error).message}`);
    }
    schemas = JSON.parse(text) as Record<string, Schema>;
  }
  return schemas;
}

function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

function gvkIndex(): Map<string, string> {
  if (!byGVK) {
    byGVK = new Map();
    for (const [name, s] of Object.entries(allSchemas())) {
      for (const g of s['x-kubernetes-group-version-kind'] ?? []) {
        const k = gvkKey(g.group, g.version, g.kind);
        // first one wins; real kinds are unique, only DeleteOptions/WatchEvent repeat per GV
        if (!byGVK.has(k)) byGVK.set(k, name);
      }
    }
  }
  return byGVK;
}

/** The component name and schema of a built-in kind, or undefined (CRDs, unknown kinds). */
export function schemaForKind(group: string, version: string, kind: string): { name: string; schema: Schema } | undefined {
  const name = gvkIndex().get(gvkKey(group, version, kind));
  if (!name) return undefined;
  return { name, schema: allSchemas()[name]! };
}

/** A schema by component name. */
export function schemaByName(name: string): Schema | undefined {
  return allSchemas()[name];
}

/** Follows a property's `allOf: [{$ref}]` wrapper and `$ref`s to the schema that describes the value. */
export function resolveSchema(s: Schema | undefined): Schema | undefined {
  let cur = s;
  for (let i = 0; cur && i < 16; i++) {
    if (cur.allOf?.length === 1 && !cur.properties) cur = cur.allOf[0];
    else if (typeof cur.$ref === 'string') cur = allSchemas()[cur.$ref.slice(REF_PREFIX.length)];
    else return cur;
  }
  return cur;
}

/** Component names referenced from a schema, directly (not transitively). */
export function refsOf(s: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(s)) for (const v of s) refsOf(v, out);
  else if (s && typeof s === 'object') {
    for (const [k, v] of Object.entries(s)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(REF_PREFIX)) out.add(v.slice(REF_PREFIX.length));
      else if (k !== 'description' && typeof v === 'object') refsOf(v, out);
    }
  }
  return out;
}

/** The names reachable from `roots` (roots included) through $refs. */
export function closure(roots: Iterable<string>): Set<string> {
  const all = allSchemas();
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n) || !all[n]) continue;
    seen.add(n);
    for (const r of refsOf(all[n])) if (!seen.has(r)) stack.push(r);
  }
  return seen;
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch metadata

type Shape = PatchMeta['kind'];

function shapeOf(s: Schema | undefined): Shape {
  if (!s || s['x-kubernetes-preserve-unknown-fields']) return 'unknown';
  if (s.type === 'array' || s.items) return 'list';
  if (s.properties) return 'struct';
  if (s.additionalProperties && typeof s.additionalProperties === 'object') return 'map';
  if (s.type === 'object') return 'struct'; // a struct without fields (every key is unknown)
  if (s.type || s.oneOf || s['x-kubernetes-int-or-string']) return 'primitive';
  return 'unknown';
}

const NO_STRATEGIES: readonly string[] = Object.freeze([]);

class SchemaPatchMeta implements PatchMeta {
  readonly kind: Shape;
  private fields?: Map<string, PatchMeta | undefined>;
  private itemMeta?: PatchMeta;

  constructor(
    private readonly schema: Schema | undefined,
    readonly strategies: readonly string[],
    readonly mergeKey: string | undefined,
  ) {
    this.kind = shapeOf(schema);
  }

  field(name: string): PatchMeta | undefined {
    if (this.kind === 'map') {
      return (this.itemMeta ??= metaForProperty((this.schema!.additionalProperties as Schema) ?? undefined));
    }
    if (this.kind !== 'struct') return undefined;
    this.fields ??= new Map();
    if (this.fields.has(name)) return this.fields.get(name);
    const props = this.schema!.properties;
    const prop = props && Object.prototype.hasOwnProperty.call(props, name) ? props[name] : undefined;
    const m = prop ? metaForProperty(prop) : undefined;
    this.fields.set(name, m);
    return m;
  }

  items(): PatchMeta | undefined {
    if (this.kind !== 'list') return undefined;
    // strategies belong to the list field, not to its items
    return (this.itemMeta ??= metaForProperty(this.schema!.items ? stripPatchExt(this.schema!.items) : undefined));
  }
}

function stripPatchExt(s: Schema): Schema {
  if (!s['x-kubernetes-patch-strategy'] && !s['x-kubernetes-patch-merge-key']) return s;
  const { 'x-kubernetes-patch-strategy': _s, 'x-kubernetes-patch-merge-key': _k, ...rest } = s;
  return rest;
}

// One meta per (resolved schema, strategy, key): lazily built, shared across requests.
const metaCache = new WeakMap<Schema, Map<string, SchemaPatchMeta>>();
const UNKNOWN_META = new SchemaPatchMeta(undefined, NO_STRATEGIES, undefined);

function metaForProperty(prop: Schema | undefined): PatchMeta {
  if (!prop) return UNKNOWN_META;
  const strategyText = prop['x-kubernetes-patch-strategy'] ?? '';
  const mergeKey = prop['x-kubernetes-patch-merge-key'];
  const resolved = resolveSchema(prop);
  if (!resolved) return UNKNOWN_META;
  const key = `${strategyText}\u0000${mergeKey ?? ''}`;
  let byKey = metaCache.get(resolved);
  if (!byKey) metaCache.set(resolved, (byKey = new Map()));
  let m = byKey.get(key);
  if (!m) {
    const strategies = strategyText ? Object.freeze(strategyText.split(',').map((x) => x.trim())) : NO_STRATEGIES;
    m = new SchemaPatchMeta(resolved, strategies, mergeKey);
    byKey.set(key, m);
  }
  return m;
}

/**
 * Patch metadata for a kind (kind 'struct' at the top). Kinds without a built-in schema (CRDs) get
 * an 'unknown' meta, which strategic merge treats like JSON merge patch.
 */
export function patchMetaFor(group: string, version: string, kind: string): PatchMeta {
  const k = schemaForKind(group, version, kind);
  return k ? metaForProperty(k.schema) : UNKNOWN_META;
}

// ---------------------------------------------------------------------------------------------
// Strict field validation

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * Walks `value` along `schema`, calling `unknown(container, key, path)` for every key the schema
 * does not define. Type mismatches are not our business here (validation reports them).
 */
function walk(schema: Schema | undefined, value: unknown, path: string, unknown: (obj: Record<string, unknown>, key: string, path: string) => void): void {
  const s = resolveSchema(schema);
  if (!s || s['x-kubernetes-preserve-unknown-fields']) return; // free-form below here
  if (Array.isArray(value)) {
    if (s.items) for (let i = 0; i < value.length; i++) walk(s.items, value[i], `${path}[${i}]`, unknown);
    return;
  }
  if (!isPlainObject(value)) return;
  if (s.properties || (s.type === 'object' && !s.additionalProperties)) {
    const props = s.properties ?? {};
    for (const key of Object.keys(value)) {
      if (Object.prototype.hasOwnProperty.call(props, key)) walk(props[key], value[key], join(path, key), unknown);
      else unknown(value, key, join(path, key));
    }
  } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    const ap = s.additionalProperties;
    for (const key of Object.keys(value)) walk(ap, value[key], join(path, key), unknown);
  }
}

/**
 * Unknown fields of `obj` as upstream's strict decoder reports them (`spec.foo`,
 * `spec.containers[0].bar`), in document order. apiVersion/kind are always known; metadata is
 * checked against ObjectMeta. Kinds without a built-in schema report nothing.
 */
export function findUnknownFields(group: string, version: string, kind: string, obj: unknown): string[] {
  const k = schemaForKind(group, version, kind);
  if (!k) return [];
  const out: string[] = [];
  walk(k.schema, obj, '', (_o, _k, path) => out.push(path));
  return out;
}

/** A deep copy of `obj` without the fields findUnknownFields reports (fieldValidation Ignore/Warn). */
export function dropUnknownFields<T>(group: string, version: string, kind: string, obj: T): T {
  const copy = structuredClone(obj);
  const k = schemaForKind(group, version, kind);
  if (!k) return copy;
  const drop: [Record<string, unknown>, string][] = [];
  walk(k.schema, copy, '', (o, key) => drop.push([o, key]));
  for (const [o, key] of drop) delete o[key];
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Type mismatches (upstream decodes a body into the Go types, which refuses them)

/** The component a property refers to (`$ref` or the `allOf: [{$ref}]` wrapper). */
function refName(s: Schema | undefined): string | undefined {
  const ref = s?.allOf?.length === 1 && !s.properties ? s.allOf[0].$ref : s?.$ref;
  return typeof ref === 'string' && ref.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : undefined;
}

/** "io.k8s.api.core.v1.PodSpec" → "v1.PodSpec", as Go prints a type of package v1. */
function goRefName(name: string): string {
  const parts = name.split('.');
  return parts.slice(-2).join('.');
}

/**
 * Go's name of the type a property decodes into ("int32", "[]string", "v1.PodSpec"). Named string
 * and map types (v1.Protocol, v1.ResourceList) are not in the schema and print as what they are
 * underneath (string, map[string]resource.Quantity).
 */
function goTypeName(prop: Schema | undefined): string {
  const ref = refName(prop);
  if (ref) return goRefName(ref);
  const s = resolveSchema(prop);
  switch (s?.type) {
    case 'array':
      return `[]${goTypeName(s.items)}`;
    case 'object':
      return typeof s.additionalProperties === 'object' ? `map[string]${goTypeName(s.additionalProperties)}` : 'map[string]interface {}';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'integer':
      return s.format === 'int32' ? 'int32' : s.format === 'int64' ? 'int64' : 'int';
    case 'number':
      return 'float64';
    default:
      return 'interface {}';
  }
}

/** How encoding/json names a JSON value in UnmarshalTypeError. */
function jsonWord(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'object' : typeof v;
}

// int64 bounds as doubles: JSON numbers past 2^53 lose precision but are still in range for Go.
const INT_RANGE: Record<string, [number, number]> = { int32: [-(2 ** 31), 2 ** 31 - 1], int64: [-(2 ** 63), 2 ** 63 - 1] };

/**
 * The first value of `value` whose JSON type the property's Go type cannot take, in document order,
 * as encoding/json reports it ("json: cannot unmarshal string into Go struct field
 * Container.spec.containers.command of type []string": the innermost struct, then the path of JSON
 * names without list indexes or map keys). null is anything's zero value. Values with their own
 * unmarshalers (Quantity, IntOrString, Time, free-form JSON) are left to validation.
 */
function typeError(prop: Schema | undefined, value: unknown, struct: string, path: string[]): string | undefined {
  if (value === null || value === undefined) return undefined;
  const s = resolveSchema(prop);
  if (!s || s['x-kubernetes-preserve-unknown-fields'] || s['x-kubernetes-int-or-string'] || s.oneOf || s.format === 'int-or-string') return undefined;
  if (s.properties) {
    if (!isPlainObject(value)) return mismatch(prop, value, struct, path);
    const inner = structName(prop!) ?? struct;
    const props = s.properties;
    for (const key in value) {
      const p = props[key];
      if (p === undefined || !Object.prototype.hasOwnProperty.call(props, key)) continue;
      // The path is built only for a message: a stack of JSON names, joined on a mismatch.
      path.push(key);
      const e = typeError(p, value[key], inner, path);
      path.pop();
      if (e) return e;
    }
    return undefined;
  }
  switch (s.type) {
    case 'array':
      if (!Array.isArray(value)) return mismatch(prop, value, struct, path);
      if (s.items) {
        for (const v of value) {
          const e = typeError(s.items, v, struct, path);
          if (e) return e;
        }
      }
      return undefined;
    case 'object':
      if (!isPlainObject(value)) return mismatch(prop, value, struct, path);
      if (typeof s.additionalProperties === 'object') {
        for (const key in value) {
          const e = typeError(s.additionalProperties, value[key], struct, path);
          if (e) return e;
        }
      }
      return undefined;
    case 'string':
      // Time and []byte decode through their own unmarshalers, with their own messages.
      if (typeof value === 'string' || s.format === 'date-time' || s.format === 'byte') return undefined;
      return mismatch(prop, value, struct, path);
    case 'boolean':
      return typeof value === 'boolean' ? undefined : mismatch(prop, value, struct, path);
    case 'integer': {
      if (typeof value !== 'number') return mismatch(prop, value, struct, path);
      const [min, max] = INT_RANGE[s.format ?? ''] ?? INT_RANGE.int64;
      return Number.isInteger(value) && value >= min && value <= max ? undefined : mismatch(prop, value, struct, path, `number ${value}`);
    }
    case 'number':
      return typeof value === 'number' ? undefined : mismatch(prop, value, struct, path);
    default:
      return undefined;
  }
}

/** The Go struct name a property refers to ("Container"), memoized per schema object. */
const structNames = new WeakMap<Schema, string | null>();
function structName(prop: Schema): string | undefined {
  let n = structNames.get(prop);
  if (n === undefined) {
    const ref = refName(prop);
    structNames.set(prop, (n = ref ? ref.slice(ref.lastIndexOf('.') + 1) : null));
  }
  return n ?? undefined;
}

function mismatch(prop: Schema | undefined, value: unknown, struct: string, path: string[], what = jsonWord(value)): string {
  return `json: cannot unmarshal ${what} into Go struct field ${struct}.${path.join('.')} of type ${goTypeName(prop)}`;
}

/**
 * The first JSON type mismatch of a built-in kind's object as upstream's decoder reports it, or
 * undefined. Kinds without a built-in schema report nothing.
 */
export function findTypeError(group: string, version: string, kind: string, obj: unknown): string | undefined {
  const k = schemaForKind(group, version, kind);
  if (!k || !isPlainObject(obj)) return undefined;
  const root = goRefName(k.name).split('.')[1];
  for (const key of Object.keys(obj)) {
    const prop = k.schema.properties?.[key];
    if (!prop) continue;
    const e = typeError(prop, obj[key], root, [key]);
    if (e) return e;
  }
  return undefined;
}
