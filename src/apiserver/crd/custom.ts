/**
 * Custom resources as the generic store serves them: the ResourceInfo of each served version of a
 * CRD, and the per-write/per-read work on their objects (pruning, defaulting, schema validation,
 * printer columns). Only reached for infos with `custom` set: built-in paths do none of it.
 */
import type { ResourceInfo, CustomInfo } from '../resources.js';
import type { Strategy } from '../strategy.js';
import type { FieldError } from '../validation/types.js';
import type { Printer, TableColumn } from '../printers/types.js';
import { applySchemaDefaults, prune, validateSchema } from './schema.js';
import { badRequest } from '../status.js';
import { celErrors } from './cel.js';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The ResourceInfo of every served version of an (accepted) CRD. */
export function customInfos(crd: any): ResourceInfo[] {
  const spec = crd.spec;
  const names = spec.names;
  const group: string = spec.group;
  const key = `${group}/${names.plural}`;
  const storage = (spec.versions as any[]).find((v) => v.storage)?.name ?? spec.versions[0].name;
  return (spec.versions as any[])
    .filter((v) => v.served)
    .sort((a, b) => compareKubeVersions(a.name, b.name))
    .map((v) => {
      const subs: string[] = [];
      if (v.subresources?.status) subs.push('status');
      if (v.subresources?.scale) subs.push('scale');
      const custom: CustomInfo = {
        crdName: crd.metadata.name,
        storageVersion: storage,
        schema: v.schema?.openAPIV3Schema,
        printerColumns: v.additionalPrinterColumns ?? [],
        scale: v.subresources?.scale,
        selectableFields: (v.selectableFields ?? []).map((f: any) => f.jsonPath),
      };
      return {
        group,
        version: v.name,
        resource: names.plural,
        kind: names.kind,
        singular: names.singular ?? names.kind.toLowerCase(),
        namespaced: spec.scope === 'Namespaced',
        shortNames: names.shortNames ?? [],
        categories: names.categories ?? [],
        verbs: ALL_VERBS,
        subresources: subs,
        generation: true,
        key,
        apiVersion: `${group}/${v.name}`,
        storageKey: key,
        virtual: false,
        custom,
      };
    });
}

/**
 * Kube-aware version order (upstream's version priority): GA before beta before alpha, higher
 * numbers first, then other names alphabetically. Discovery lists versions in this order, and the
 * first is the group's preferred version.
 */
export function compareKubeVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] | undefined => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return undefined;
    return [m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1, Number(m[1]), Number(m[3] ?? 0)];
  };
  const ra = rank(a);
  const rb = rank(b);
  if (!ra || !rb) return ra ? -1 : rb ? 1 : a < b ? -1 : a > b ? 1 : 0;
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return rb[i]! - ra[i]!;
  return 0;
}

/** Prunes unknown fields and applies defaults of the version's schema (in place). */
export function normalizeCustom(info: ResourceInfo, obj: any): void {
  const schema = info.custom!.schema;
  if (!schema) return;
  prune(obj, schema);
  applySchemaDefaults(obj, schema);
}

/**
 * Validates against the version's schema, then its CEL rules (x-kubernetes-validations); `old` is
 * the stored object on updates, for transition rules and ratcheting.
 */
export function validateCustom(info: ResourceInfo, obj: any, old?: any): FieldError[] {
  const schema = info.custom!.schema;
  if (!schema) return [];
  const errs = validateSchema(obj, schema);
  // As upstream (hasBlockingErr): a value of the wrong type would make rules misbehave, so they are not run.
  if (errs.some((e) => e.message.includes(' in body must be of type '))) {
    errs.push({ type: 'FieldValueInvalid', field: '<nil>', message: 'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation' });
    return errs;
  }
  return errs.concat(celErrors(schema, obj, old));
}

/** normalizeCustom, then validateCustom. */
export function admitCustom(info: ResourceInfo, obj: any): FieldError[] {
  normalizeCustom(info, obj);
  return validateCustom(info, obj);
}

/**
 * Field validation (Strict/Warn/Ignore) of a custom resource: unknown fields are the ones pruning
 * would drop; they are never stored.
 */
export function checkCustomFields(info: ResourceInfo, obj: any, mode: 'Strict' | 'Warn' | 'Ignore', warnings: string[], duplicates: () => string[]): any {
  const copy = structuredClone(obj);
  const unknown = info.custom!.schema ? prune(copy, info.custom!.schema) : [];
  if (mode === 'Ignore') return copy;
  const dups = duplicates();
  if (!unknown.length && !dups.length) return obj;
  const problems = [...dups.map((f) => `duplicate field "${f}"`), ...unknown.map((f) => `unknown field "${f}"`)];
  if (mode === 'Strict') throw badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: strict decoding error: ${problems.join(', ')}`);
  warnings.push(...problems);
  return copy;
}

/** Conversion between versions is "None": only apiVersion changes. Defaults apply on read too. */
export function customStrategy(info: ResourceInfo): Strategy {
  const c = info.custom!;
  return {
    fromStorage(obj: any) {
      if (c.schema) applySchemaDefaults(obj, c.schema);
      obj.apiVersion = info.apiVersion;
      return obj;
    },
    toStorage(obj: any) {
      if (obj && typeof obj === 'object') obj.apiVersion = `${info.group}/${c.storageVersion}`;
      return obj;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Printer columns

/** Evaluates a simple JSONPath (`.spec.replicas`, `.status.conditions[0].type`, `.a['b.c']`). */
export function jsonPathValue(obj: any, path: string): unknown {
  let p = path.trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1);
  if (p.startsWith('$')) p = p.slice(1);
  const tokens: (string | number)[] = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/g;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(p))) {
    if (m.index !== last) return undefined;
    last = re.lastIndex;
    if (m[1] !== undefined) tokens.push(m[1]);
    else if (m[2] !== undefined) tokens.push(Number(m[2]));
    else tokens.push(m[3] ?? m[4]!);
  }
  if (last !== p.length) return undefined;
  let cur = obj;
  for (const t of tokens) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as any)[t];
  }
  return cur;
}

function age(ts: string | undefined, now: Date): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return `${d}d${h % 24 ? `${h % 24}h` : ''}`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

/** Upstream's table for a custom resource: NAME, the printer columns, and AGE unless a column is creationTimestamp. */
export function customPrinter(info: ResourceInfo): Printer {
  const cols = info.custom!.printerColumns;
  const columns: TableColumn[] = [{ name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names', priority: 0 }];
  for (const c of cols) columns.push({ name: c.name, type: c.type === 'date' ? 'date' : c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 } as TableColumn);
  const hasAge = cols.some((c) => c.jsonPath === '.metadata.creationTimestamp');
  if (!hasAge) columns.push({ name: 'Age', type: 'date', format: '', description: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata', priority: 0 } as TableColumn);
  return {
    columns,
    cells(obj: any, now: Date) {
      const out: unknown[] = [obj.metadata?.name ?? ''];
      for (const c of cols) {
        const v = jsonPathValue(obj, c.jsonPath);
        if (v === undefined || v === null) out.push(null);
        else if (c.type === 'date' && typeof v === 'string') out.push(age(v, now));
        else if (c.type === 'integer' && typeof v === 'number') out.push(Math.trunc(v));
        else if (typeof v === 'object') out.push(JSON.stringify(v));
        else out.push(v);
      }
      if (!hasAge) out.push(age(obj.metadata?.creationTimestamp, now));
      return out;
    },
  } as Printer;
}
