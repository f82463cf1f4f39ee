/**
 * Field ownership (metadata.managedFields) as upstream's field manager keeps it: every write records
 * which manager set which fields (operation Update), and server-side apply (operation Apply) merges
 * a manager's configuration, refuses to change fields other managers own unless forced, and removes
 * fields the manager stopped applying that nobody else owns.
 */
import type { PatchMeta } from '../patch/meta.js';
import { StatusError } from '../status.js';
import { FieldSet, formatPath } from './fieldset.js';
import { changedFields, createdFieldsV1, fieldsOf, mergeApplied, removeFields } from './typed.js';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface WriteContext {
  manager: string;
  apiVersion: string;
  /** '' for the main resource. */
  subresource: string;
  /** Whether the resource has a status subresource (then status belongs to it, and spec to the main resource). */
  hasStatus: boolean;
  meta: PatchMeta;
  now: string;
}

interface Entry {
  e: Omit<ManagedFieldsEntry, 'fieldsV1'>;
  set: FieldSet;
}

/** Fields no manager owns: identity and bookkeeping set by the server. */
const IGNORED_METADATA = ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink', 'managedFields'];

function stripIgnored(set: FieldSet, ctx: WriteContext): FieldSet {
  set.self = false;
  set.deleteChild('f:apiVersion');
  set.deleteChild('f:kind');
  const md = set.children.get('f:metadata');
  if (md) {
    md.self = false;
    for (const f of IGNORED_METADATA) md.deleteChild(`f:${f}`);
    if (md.empty) set.deleteChild('f:metadata');
  }
  if (ctx.hasStatus) {
    if (ctx.subresource === 'status') {
      for (const k of [...set.children.keys()]) if (k !== 'f:status' && k !== 'f:metadata') set.deleteChild(k);
    } else set.deleteChild('f:status');
  }
  return set;
}

/** A manager as conflict messages name it: `"kubectl"`, or `"kubectl-edit" using v1` for updaters. */
function describe(e: Entry['e']): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion}`;
  return s;
}

function decode(list: unknown): Entry[] {
  if (!Array.isArray(list)) return [];
  const out: Entry[] = [];
  for (const m of list) {
    if (!m || typeof m !== 'object' || !m.manager && !m.fieldsV1) continue;
    const { fieldsV1, ...e } = m as ManagedFieldsEntry;
    out.push({ e: { ...e, fieldsType: 'FieldsV1' }, set: FieldSet.fromFieldsV1(fieldsV1) });
  }
  return out;
}

function encode(entries: Entry[]): ManagedFieldsEntry[] {
  return entries.filter((x) => !x.set.empty).map((x) => ({ ...x.e, fieldsType: 'FieldsV1' as const, fieldsV1: x.set.toFieldsV1() }));
}

const sameWriter = (e: Entry['e'], ctx: WriteContext, op: 'Apply' | 'Update') =>
  e.manager === ctx.manager && e.operation === op && (e.subresource ?? '') === ctx.subresource && (op === 'Apply' || e.apiVersion === ctx.apiVersion);

/** Drops members whose field no longer exists in `obj`. */
function pruneMissing(set: FieldSet, obj: unknown): FieldSet {
  const keep = new FieldSet();
  for (const p of set.members()) if (exists(obj, p)) keep.insert(p);
  return keep;
}

function exists(v: unknown, path: string[]): boolean {
  for (const pe of path) {
    if (pe.startsWith('f:')) {
      if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v as object, pe.slice(2))) return false;
      v = (v as Record<string, unknown>)[pe.slice(2)];
    } else if (Array.isArray(v)) {
      v = findItem(v, pe);
      if (v === undefined) return false;
    } else return false;
  }
  return true;
}

function findItem(list: unknown[], pe: string): unknown {
  if (pe.startsWith('v:')) return list.find((x) => `v:${JSON.stringify(x)}` === pe);
  if (pe.startsWith('i:')) return list[Number(pe.slice(2))];
  const keys = JSON.parse(pe.slice(2)) as Record<string, unknown>;
  return list.find((x) => x && typeof x === 'object' && Object.entries(keys).every(([k, val]) => ((x as any)[k] ?? (k === 'protocol' ? 'TCP' : undefined)) === val));
}

/**
 * managedFields after a create, update or non-apply patch: the writer owns what it changed (taken
 * from anyone who owned it: updates always win), and fields that disappeared are owned by no one.
 * `prev` is undefined for a create.
 */
export function managedFieldsAfterUpdate(prev: any, next: any, ctx: WriteContext): ManagedFieldsEntry[] {
  const incoming = next?.metadata?.managedFields;
  // `managedFields: [{}]` resets ownership, as upstream.
  if (Array.isArray(incoming) && incoming.length === 1 && incoming[0] && !Object.keys(incoming[0]).length) return [];
  if (!prev && !ctx.subresource && (incoming === undefined || (Array.isArray(incoming) && !incoming.length))) {
    const created = createdEntries(next, ctx);
    if (created) return created;
  }
  return generalAfterUpdate(prev, next, ctx);
}

/** managedFieldsAfterUpdate by diffing through FieldSets: any write. */
function generalAfterUpdate(prev: any, next: any, ctx: WriteContext): ManagedFieldsEntry[] {
  const incoming = next?.metadata?.managedFields;
  const entries = decodeLazy(prev ? prev.metadata?.managedFields : incoming);
  const base = prev ?? { metadata: {}, ...(next && Object.hasOwn(next, 'spec') ? { spec: {} } : {}) };
  const changed = stripIgnored(changedFields(relevant(withoutManaged(base), ctx), relevant(withoutManaged(next), ctx), ctx.meta), ctx);
  // Entries this write leaves as they were are passed on without decoding and re-encoding them
  // (most writes touch one manager's fields): the fast paths below give what the general one would.
  if (changed.empty && prev) return entries.flatMap((x) => (x.canonical ? [emitLazy(x.e, x.json)] : encode([{ e: x.e, set: x.set() }])));
  const out: ManagedFieldsEntry[] = [];
  let mine: LazyEntry | undefined;
  for (const x of entries) {
    if (sameWriter(x.e, ctx, 'Update')) {
      mine = x;
      continue;
    }
    if (x.canonical && !sharesMember(changed, x.json as Json) && (!prev || allExist(x.json as Json, next))) {
      out.push(emitLazy(x.e, x.json));
      continue;
    }
    out.push(...encode([{ e: x.e, set: prev ? pruneMissing(x.set().difference(changed), next) : x.set().difference(changed) }]));
  }
  const e: Entry['e'] = { manager: ctx.manager, operation: 'Update', apiVersion: ctx.apiVersion, time: ctx.now, fieldsType: 'FieldsV1' };
  if (ctx.subresource) e.subresource = ctx.subresource;
  if (mine?.canonical && allExist(mine.json as Json, next) && containsAll(mine.json as Json, changed)) {
    // The writer's field set is unchanged: same fields, same time.
    if (mine.e.time) e.time = mine.e.time;
    out.push(emitLazy(e, mine.json));
    return out;
  }
  const mineSet = mine ? mine.set() : undefined;
  const set = mineSet ? pruneMissing(mineSet, next).union(changed) : changed;
  e.time = keepTime(mine && mineSet ? { e: mine.e, set: mineSet } : undefined, set, ctx.now);
  out.push(...encode([{ e, set }]));
  return out;
}

type Json = Record<string, unknown>;

const IGNORED_METADATA_SET: ReadonlySet<string> = new Set(IGNORED_METADATA);
const TYPE_META: ReadonlySet<string> = new Set(['apiVersion', 'kind']);
const TYPE_META_AND_STATUS: ReadonlySet<string> = new Set(['apiVersion', 'kind', 'status']);

/**
 * A create's managedFields when the request brings none (nearly every create): the writer's entry
 * built straight from the object, as the general path would give it (tested against it), without
 * diffing against nothing through FieldSets — that path was a fifth of the API server's garbage.
 */
function createdEntries(next: any, ctx: WriteContext): ManagedFieldsEntry[] | undefined {
  if (!isPlain(next)) return undefined;
  const fieldsV1 = createdFieldsV1(next, ctx.meta, ctx.hasStatus ? TYPE_META_AND_STATUS : TYPE_META, IGNORED_METADATA_SET);
  if (!fieldsV1) return undefined;
  if (!Object.keys(fieldsV1).length) return [];
  const e: Entry['e'] = { manager: ctx.manager, operation: 'Update', apiVersion: ctx.apiVersion, time: ctx.now, fieldsType: 'FieldsV1' };
  if (ctx.subresource) e.subresource = ctx.subresource;
  return [emitLazy(e, fieldsV1)];
}

/** An entry as stored, decoded into a FieldSet only when a write changes it. */
interface LazyEntry {
  e: Entry['e'];
  json: unknown;
  /** json is exactly what encoding its FieldSet gives back. */
  canonical: boolean;
  set(): FieldSet;
}

function decodeLazy(list: unknown): LazyEntry[] {
  if (!Array.isArray(list)) return [];
  const out: LazyEntry[] = [];
  for (const m of list) {
    if (!m || typeof m !== 'object' || !m.manager && !m.fieldsV1) continue;
    const { fieldsV1, ...e } = m as ManagedFieldsEntry;
    let set: FieldSet | undefined;
    out.push({ e: { ...e, fieldsType: 'FieldsV1' }, json: fieldsV1, canonical: isPlain(fieldsV1) && Object.keys(fieldsV1).length > 0 && isCanonical(fieldsV1), set: () => (set ??= FieldSet.fromFieldsV1(fieldsV1)) });
  }
  return out;
}

function emitLazy(e: Entry['e'], json: unknown): ManagedFieldsEntry {
  return { ...e, fieldsType: 'FieldsV1', fieldsV1: json as Record<string, unknown> };
}

const isPlain = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** FieldsV1 as FieldSet.toFieldsV1 writes it: sorted keys, `{}` leaves, `.` (empty) only beside children. */
function isCanonical(json: Json): boolean {
  let last: string | undefined;
  let n = 0;
  for (const k in json) {
    if (!Object.prototype.hasOwnProperty.call(json, k)) continue;
    if (last !== undefined && !(last < k)) return false;
    last = k;
    n++;
    const v = json[k];
    if (!isPlain(v)) return false;
    if (k === '.') {
      if (Object.keys(v).length) return false;
    } else if (!isCanonical(v)) return false;
  }
  return !(n === 1 && last === '.');
}

/** Whether a member of `set` is a member of the canonical FieldsV1 node `json`. */
function sharesMember(set: FieldSet, json: Json): boolean {
  if (set.self && ('.' in json || Object.keys(json).length === 0)) return true;
  for (const [k, c] of set.children) {
    if (!Object.prototype.hasOwnProperty.call(json, k)) continue;
    if (sharesMember(c, json[k] as Json)) return true;
  }
  return false;
}

/** Whether every member of `set` is a member of the canonical FieldsV1 node `json`. */
function containsAll(json: Json, set: FieldSet): boolean {
  if (set.self && !('.' in json || Object.keys(json).length === 0)) return false;
  for (const [k, c] of set.children) {
    if (!Object.prototype.hasOwnProperty.call(json, k)) return false;
    if (!containsAll(json[k] as Json, c)) return false;
  }
  return true;
}

/** Whether every member of the canonical FieldsV1 node `json` exists in `v` (pruneMissing would keep them all). */
function allExist(json: Json, v: unknown): boolean {
  for (const k of Object.keys(json)) {
    if (k === '.') continue;
    let child: unknown;
    if (k.startsWith('f:')) {
      if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v as object, k.slice(2))) return false;
      child = (v as Json)[k.slice(2)];
    } else if (Array.isArray(v)) {
      child = findItem(v, k);
      if (child === undefined) return false;
    } else return false;
    if (!allExist(json[k] as Json, child)) return false;
  }
  return true;
}

/** Only the part of an object a write may own (status for the status subresource), to keep diffs small. */
function relevant(o: any, ctx: WriteContext): any {
  if (!ctx.hasStatus || !o) return o;
  if (ctx.subresource === 'status') return { metadata: o.metadata, status: o.status };
  if (!('status' in o)) return o;
  const { status: _s, ...rest } = o;
  return rest;
}

/** An entry whose fields did not change keeps its time, so a no-op apply writes nothing (as upstream). */
function keepTime(prev: Entry | undefined, set: FieldSet, now: string): string {
  return prev?.e.time && JSON.stringify(prev.set.toFieldsV1()) === JSON.stringify(set.toFieldsV1()) ? prev.e.time : now;
}

function withoutManaged(o: any): any {
  if (!o?.metadata?.managedFields) return o;
  const { managedFields: _m, ...metadata } = o.metadata;
  return { ...o, metadata };
}

export interface ApplyResult {
  object: any;
  managedFields: ManagedFieldsEntry[];
}

/**
 * Server-side apply of `config` by `ctx.manager` onto `live` (undefined: the object is created).
 * Throws a 409 Conflict naming each field another manager owns with a different value, unless `force`.
 */
export function applyConfiguration(live: any, config: any, ctx: WriteContext, force: boolean): ApplyResult {
  const entries = decode(live?.metadata?.managedFields);
  const cfg = withoutManaged(config);
  const configSet = stripIgnored(fieldsOf(cfg, ctx.meta), ctx);
  const current = withoutManaged(live ?? {});
  const merged: any = mergeApplied(current, cfg, ctx.meta);
  const changed = stripIgnored(changedFields(current, merged, ctx.meta), ctx);

  let previous: Entry | undefined;
  const others: Entry[] = [];
  for (const x of entries) (sameWriter(x.e, ctx, 'Apply') ? (previous = x) : others.push(x));

  const conflicts: { entry: Entry; paths: string[][] }[] = [];
  for (const o of others) {
    const c = o.set.intersection(changed);
    if (!c.empty) conflicts.push({ entry: o, paths: c.members() });
  }
  if (conflicts.length && !force) throw conflictError(conflicts);
  for (const o of others) o.set = o.set.difference(changed);

  // Fields this manager applied before and dropped now go away, unless someone else owns them.
  if (previous) {
    const othersOwn = new FieldSet();
    for (const o of others) othersOwn.addAll(o.set);
    const dropped = previous.set.difference(configSet).difference(othersOwn);
    const removable = dropped.topMembers().filter((p) => !othersOwn.at(p) || othersOwn.at(p)!.empty);
    removeFields(merged, removable, ctx.meta);
  }
  const e: Entry['e'] = { manager: ctx.manager, operation: 'Apply', apiVersion: ctx.apiVersion, time: keepTime(previous, configSet, ctx.now), fieldsType: 'FieldsV1' };
  if (ctx.subresource) e.subresource = ctx.subresource;
  const mine: Entry = { e, set: configSet };
  const out = others.map((o) => ({ e: o.e, set: pruneMissing(o.set, merged) }));
  const at = previous ? entries.indexOf(previous) : -1;
  if (at >= 0) out.splice(Math.min(at, out.length), 0, mine);
  else out.push(mine);
  return { object: merged, managedFields: encode(out) };
}

function conflictError(conflicts: { entry: Entry; paths: string[][] }[]): StatusError {
  const flat = conflicts.flatMap((c) => c.paths.map((p) => ({ who: describe(c.entry.e), path: formatPath(p) })));
  let message: string;
  if (flat.length === 1) message = `Apply failed with 1 conflict: conflict with ${flat[0].who}: ${flat[0].path}`;
  else {
    const lines: string[] = [];
    for (const who of [...new Set(flat.map((f) => f.who))].sort()) {
      lines.push(`conflicts with ${who}:`);
      for (const f of flat.filter((x) => x.who === who)) lines.push(`- ${f.path}`);
    }
    message = `Apply failed with ${flat.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, { causes: flat.map((f) => ({ reason: 'FieldManagerConflict', message: `conflict with ${f.who}`, field: f.path })) });
}

/** For tests: the general path, to check the fast ones against. */
export const internals = { generalAfterUpdate };
