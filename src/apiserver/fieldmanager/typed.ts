/**
 * Schema-directed operations on objects for server-side apply: the set of fields a value sets,
 * the fields an update changed, merging an applied configuration into the live object, and removing
 * fields. Lists follow the schema as structured-merge-diff reads it: a patch-merge-key makes a keyed
 * list (`k:`), a merge strategy over scalars a set (`v:`), anything else is atomic (owned whole).
 */
import { isDeepStrictEqual } from 'node:util';
import type { PatchMeta } from '../patch/meta.js';
import { FieldSet } from './fieldset.js';

type Obj = Record<string, unknown>;
type ListKind = { kind: 'atomic' } | { kind: 'set' } | { kind: 'map'; keys: string[] };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const ATOMIC: ListKind = { kind: 'atomic' };
const SET: ListKind = { kind: 'set' };
/** Per schema node: every write walks the same few, and a fresh ListKind per visit was a visible share of a write's garbage. */
const listKinds = new WeakMap<PatchMeta, ListKind>();

function listKindOf(meta: PatchMeta | undefined): ListKind {
  if (!meta || meta.kind !== 'list' || !meta.strategies.includes('merge')) return ATOMIC;
  if (!meta.mergeKey) return SET;
  let lk = listKinds.get(meta);
  if (!lk) {
    // Ports are keyed by number and protocol upstream (x-kubernetes-list-map-keys).
    const items = meta.items();
    lk = (meta.mergeKey === 'containerPort' || meta.mergeKey === 'port') && items?.field('protocol') ? { kind: 'map', keys: [meta.mergeKey, 'protocol'] } : { kind: 'map', keys: [meta.mergeKey] };
    listKinds.set(meta, lk);
  }
  return lk;
}

/** The `k:` element of a keyed-list item (keys sorted; protocol defaults to TCP as the schema does). */
function keyOf(item: unknown, keys: string[]): string | undefined {
  if (!isObj(item)) return undefined;
  if (keys.length === 1) {
    // The common case (name, type…): the same text as the general path below, built directly.
    const k = keys[0];
    let v = item[k];
    if (v === undefined && k === 'protocol') v = 'TCP';
    if (v === undefined) return undefined;
    return `k:{${JSON.stringify(k)}:${JSON.stringify(v)}}`;
  }
  const out: Obj = {};
  for (const k of [...keys].sort()) {
    let v = item[k];
    if (v === undefined && k === 'protocol') v = 'TCP';
    if (v === undefined) return undefined;
    out[k] = v;
  }
  return `k:${JSON.stringify(out)}`;
}

const valueKey = (v: unknown): string => `v:${JSON.stringify(v)}`;

function childMeta(meta: PatchMeta | undefined, name: string): PatchMeta | undefined {
  if (!meta) return undefined;
  if (meta.kind === 'struct' || meta.kind === 'map') return meta.field(name);
  return undefined;
}

/** True when a value is owned whole (scalars, atomic lists, nulls). */
function isLeaf(v: unknown, meta: PatchMeta | undefined): boolean {
  if (Array.isArray(v)) return listKindOf(meta).kind === 'atomic';
  return !isObj(v);
}

/** The fields `value` sets: every leaf, every keyed/set list item (structured-merge-diff's ToFieldSet). */
export function fieldsOf(value: unknown, meta: PatchMeta | undefined, out = new FieldSet(), path: string[] = []): FieldSet {
  if (isLeaf(value, meta)) {
    out.insert(path);
    return out;
  }
  if (Array.isArray(value)) {
    const lk = listKindOf(meta);
    const items = meta?.items();
    if (!value.length) out.insert(path);
    value.forEach((item, i) => {
      if (lk.kind === 'set') out.insert([...path, valueKey(item)]);
      else if (lk.kind === 'map') {
        const k = keyOf(item, lk.keys) ?? `i:${i}`;
        out.insert([...path, k]);
        fieldsOf(item, items, out, [...path, k]);
      }
    });
    return out;
  }
  const obj = value as Obj;
  const keys = Object.keys(obj);
  if (!keys.length && path.length) out.insert(path);
  for (const k of keys) fieldsOf(obj[k], childMeta(meta, k), out, [...path, `f:${k}`]);
  return out;
}

/**
 * Fields `next` sets that `prev` did not set to the same value: changed leaves, plus containers and
 * list items that did not exist before (owned themselves, the `.` in FieldsV1).
 */
export function changedFields(prev: unknown, next: unknown, meta: PatchMeta | undefined, out = new FieldSet(), path: string[] = []): FieldSet {
  // A part the write shares with the stored object (not copied) has not changed.
  if (prev === next) return out;
  if (isLeaf(next, meta) || isLeaf(prev, meta) || Array.isArray(prev) !== Array.isArray(next)) {
    if (!isDeepStrictEqual(prev, next)) {
      if (isLeaf(next, meta)) out.insert(path);
      else added(next, meta, out, path);
    }
    return out;
  }
  if (Array.isArray(next)) {
    const lk = listKindOf(meta);
    const old = prev as unknown[];
    if (lk.kind === 'set') {
      for (const item of next) if (!old.some((o) => isDeepStrictEqual(o, item))) out.insert([...path, valueKey(item)]);
    } else if (lk.kind === 'map') {
      const items = meta?.items();
      const byKey = new Map<string, unknown>();
      old.forEach((o, i) => byKey.set(keyOf(o, lk.keys) ?? `i:${i}`, o));
      next.forEach((item, i) => {
        const k = keyOf(item, lk.keys) ?? `i:${i}`;
        if (!byKey.has(k)) added(item, items, out, [...path, k]);
        else changedFields(byKey.get(k), item, items, out, [...path, k]);
      });
    }
    return out;
  }
  const a = prev as Obj;
  const b = next as Obj;
  for (const k of Object.keys(b)) {
    const m = childMeta(meta, k);
    // Own keys only: a field named like an Object.prototype member ("__proto__") is a field too.
    if (!Object.hasOwn(a, k)) added(b[k], m, out, [...path, `f:${k}`]);
    else changedFields(a[k], b[k], m, out, [...path, `f:${k}`]);
  }
  return out;
}

/** A value that did not exist before: it and every container in it are owned (the `.` entries). */
function added(value: unknown, meta: PatchMeta | undefined, out: FieldSet, path: string[]): void {
  let node = out;
  for (const pe of path) node = node.child(pe);
  addedAt(value, meta, node);
}

/** `added`, building the set node by node rather than inserting each member's path from the root. */
function addedAt(value: unknown, meta: PatchMeta | undefined, node: FieldSet): void {
  node.self = true;
  if (isLeaf(value, meta)) return;
  if (Array.isArray(value)) {
    const lk = listKindOf(meta);
    if (lk.kind === 'set') for (const item of value) node.child(valueKey(item)).self = true;
    else if (lk.kind === 'map') {
      const items = meta?.items();
      value.forEach((item, i) => addedAt(item, items, node.child(keyOf(item, lk.keys) ?? `i:${i}`)));
    }
    return;
  }
  for (const k of Object.keys(value as Obj)) addedAt((value as Obj)[k], childMeta(meta, k), node.child(`f:${k}`));
}

/** `f:<name>` path elements, interned: a create names the same few hundred fields again and again. */
const fieldElements = new Map<string, string>();
function fieldElement(name: string): string {
  let pe = fieldElements.get(name);
  if (pe === undefined) {
    // Names come from user data too (labels, ConfigMap keys): keep the table bounded.
    if (fieldElements.size >= 4096) fieldElements.clear();
    fieldElements.set(name, (pe = `f:${name}`));
  }
  return pe;
}

/**
 * The FieldsV1 of a value that did not exist before, built directly (what `added` then
 * FieldSet.toFieldsV1 give, without the FieldSet): every container is owned (`.`), keys sorted.
 * Undefined when two items of a list share a key (the general path merges them; leave it that case).
 */
export function addedFieldsV1(value: unknown, meta: PatchMeta | undefined): Obj | undefined {
  if (isLeaf(value, meta)) return {};
  const kids: [string, Obj][] = [];
  if (Array.isArray(value)) {
    const lk = listKindOf(meta);
    if (lk.kind === 'set') {
      for (const item of value) kids.push([valueKey(item), {}]);
    } else if (lk.kind === 'map') {
      const items = meta?.items();
      for (let i = 0; i < value.length; i++) {
        const sub = addedFieldsV1(value[i], items);
        if (!sub) return undefined;
        kids.push([keyOf(value[i], lk.keys) ?? `i:${i}`, sub]);
      }
    }
  } else {
    // Objects (most nodes): sorting the names sorts their `f:` elements; no pairs to allocate.
    const names = Object.keys(value as Obj);
    if (!names.length) return {};
    names.sort();
    const out: Obj = { '.': {} };
    for (const k of names) {
      const sub = addedFieldsV1((value as Obj)[k], childMeta(meta, k));
      if (!sub) return undefined;
      out[fieldElement(k)] = sub;
    }
    return out;
  }
  return sortedNode(kids, true);
}

/**
 * The fields a create sets, as FieldsV1, built straight from the object: what diffing it against an
 * empty object (`changedFields`) then dropping what no manager owns gives. metadata and spec are
 * not owned themselves, only what they hold; `skipTop` and `skipMetadata` name what no one owns.
 * Undefined for shapes the general path handles differently (metadata or spec not an object, a
 * repeated list key).
 */
export function createdFieldsV1(obj: Obj, meta: PatchMeta | undefined, skipTop: ReadonlySet<string>, skipMetadata: ReadonlySet<string>): Obj | undefined {
  const kids: [string, Obj][] = [];
  for (const k of Object.keys(obj)) {
    if (skipTop.has(k)) continue;
    const v = obj[k];
    const m = childMeta(meta, k);
    if (k === 'metadata' || k === 'spec') {
      if (!isObj(v)) return undefined;
      const inner: [string, Obj][] = [];
      for (const ik of Object.keys(v)) {
        if (k === 'metadata' && skipMetadata.has(ik)) continue;
        const sub = addedFieldsV1(v[ik], childMeta(m, ik));
        if (!sub) return undefined;
        inner.push([fieldElement(ik), sub]);
      }
      if (!inner.length) continue;
      const node = sortedNode(inner, false);
      if (!node) return undefined;
      kids.push([fieldElement(k), node]);
      continue;
    }
    const sub = addedFieldsV1(v, m);
    if (!sub) return undefined;
    kids.push([fieldElement(k), sub]);
  }
  return sortedNode(kids, false);
}

/** A FieldsV1 node from its children: `.` first when the node itself is owned, then the rest sorted. */
export function sortedNode(kids: [string, Obj][], self: boolean): Obj | undefined {
  const out: Obj = {};
  if (!kids.length) return out;
  if (self) out['.'] = {};
  kids.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (let i = 0; i < kids.length; i++) {
    // A repeated key (a set's duplicate value, two items with one key): the general path merges.
    if (i > 0 && kids[i][0] === kids[i - 1][0]) return undefined;
    out[kids[i][0]] = kids[i][1];
  }
  return out;
}

/** Merges an applied configuration into the live object (keyed lists by key, sets by value). */
export function mergeApplied(live: unknown, cfg: unknown, meta: PatchMeta | undefined): unknown {
  if (cfg === null || cfg === undefined) return live;
  // An atomic value (scalar, atomic list such as `command`) replaces the live one whole.
  if (isLeaf(cfg, meta)) return cfg;
  if (isLeaf(live, meta) || live === undefined || Array.isArray(live) !== Array.isArray(cfg)) {
    return isObj(cfg) || Array.isArray(cfg) ? mergeApplied(Array.isArray(cfg) ? [] : {}, cfg, meta) : cfg;
  }
  if (Array.isArray(cfg)) {
    const lk = listKindOf(meta);
    const out = [...(live as unknown[])];
    if (lk.kind === 'set') {
      for (const item of cfg) if (!out.some((o) => isDeepStrictEqual(o, item))) out.push(item);
      return out;
    }
    if (lk.kind === 'map') {
      const items = meta?.items();
      for (const [i, item] of cfg.entries()) {
        const k = keyOf(item, lk.keys) ?? `i:${i}`;
        const at = out.findIndex((o, j) => (keyOf(o, lk.keys) ?? `i:${j}`) === k);
        if (at >= 0) out[at] = mergeApplied(out[at], item, items);
        else out.push(mergeApplied({}, item, items));
      }
      return out;
    }
    return cfg;
  }
  const out: Obj = { ...(live as Obj) };
  for (const [k, v] of Object.entries(cfg as Obj)) {
    if (v === null) continue;
    out[k] = mergeApplied(out[k], v, childMeta(meta, k));
  }
  return out;
}

/** Removes the values at `paths` (members of a field set) from `obj`, in place. */
export function removeFields(obj: Obj, paths: string[][], meta: PatchMeta | undefined): void {
  for (const p of paths) if (p.length) removeAt(obj, p, meta);
}

function removeAt(container: unknown, path: string[], meta: PatchMeta | undefined): void {
  const [pe, ...rest] = path;
  if (pe.startsWith('f:') && isObj(container)) {
    const name = pe.slice(2);
    if (!rest.length) delete container[name];
    else removeAt(container[name], rest, childMeta(meta, name));
    return;
  }
  if (!Array.isArray(container)) return;
  const lk = listKindOf(meta);
  const idx = container.findIndex((item, i) => (pe.startsWith('v:') ? valueKey(item) === pe : (keyOf(item, lk.kind === 'map' ? lk.keys : []) ?? `i:${i}`) === pe));
  if (idx < 0) return;
  if (!rest.length) container.splice(idx, 1);
  else removeAt(container[idx], rest, meta?.items());
}
