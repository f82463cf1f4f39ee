/**
 * Strategic merge patch, applied the way kube-apiserver applies it: upstream's
 * StrategicMergeMapPatch (k8s.io/apimachinery/pkg/util/strategicpatch, mergeMap with
 * MergeParallelList and IgnoreUnmatchedNulls), written against our PatchMeta.
 *
 * Upstream works on Go maps and slices and mutates them as it goes, and a few results
 * (notably the order of list items when kubectl deletes one item and adds another) depend
 * on two Go details: slices that share a backing array, and sort.SliceStable called with
 * a comparator that is not a strict order. Both are reproduced here on a private deep copy
 * of the inputs, so the callers' values are never touched.
 */
import type { PatchMeta } from './meta.js';

/**
 * A patch that cannot be applied. `status` is the HTTP code kube-apiserver answers with:
 * 400 for malformed directives (BadRequest), 422 for lists of lists, 413 for oversized
 * JSON patches, and 500 for the rest, which upstream returns as a Status with code 500,
 * an empty reason and this message (kubectl prints "Error from server: <message>").
 */
export class PatchError extends Error {
  override readonly name = 'PatchError';
  readonly status: number;
  constructor(message: string, status = 500) {
    super(message);
    this.status = status;
  }
}

type JsonMap = Record<string, unknown>;

const DIRECTIVE = '$patch';
const DELETE_DIRECTIVE = 'delete';
const REPLACE_DIRECTIVE = 'replace';
const MERGE_DIRECTIVE = 'merge';
const RETAIN_KEYS_STRATEGY = 'retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder';

const GO_MAP = 'map[string]interface {}';
const GO_SLICE = '[]interface {}';

export function isJsonMap(v: unknown): v is JsonMap {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function has(m: JsonMap, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, key);
}

/** Assigns without tripping the __proto__ setter, so such a key stays plain data. */
function setKey(m: JsonMap, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(m, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    m[key] = value;
  }
}

/** Deep copy of a JSON value; `undefined` members are dropped as JSON.stringify would. */
export function cloneJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : cloneJson(x)));
  if (isJsonMap(v)) {
    const out: JsonMap = {};
    for (const k of Object.keys(v)) {
      const x = v[k];
      if (x !== undefined) setKey(out, k, cloneJson(x));
    }
    return out;
  }
  return v;
}

// ---------------------------------------------------------------------------
// Go value model: dynamic types, equality, hashing and fmt output, so decisions
// and error messages match what the Go code sees for the same JSON.
// ---------------------------------------------------------------------------

type GoKind = 'nil' | 'map' | 'slice' | 'string' | 'int64' | 'float64' | 'bool';

/** The apiserver decodes whole numbers as int64 and others as float64. */
function goKind(v: unknown): GoKind {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'slice';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? 'int64' : 'float64';
    default:
      return 'map';
  }
}

function goTypeName(v: unknown): string {
  const k = goKind(v);
  if (k === 'nil') return '<nil>';
  if (k === 'map') return GO_MAP;
  if (k === 'slice') return GO_SLICE;
  return k;
}

/** Go's == on interface values: different dynamic types are unequal, maps and slices panic. */
function goEq(a: unknown, b: unknown): boolean {
  const ka = goKind(a);
  if (ka !== goKind(b)) return false;
  if (ka === 'map' || ka === 'slice') {
    throw new PatchError(`runtime error: comparing uncomparable type ${goTypeName(a)}`);
  }
  return ka === 'nil' || a === b;
}

/** Key for Go's map[interface{}] lookups, which panic on maps and slices. */
function hashKey(v: unknown): string {
  const k = goKind(v);
  if (k === 'map' || k === 'slice') {
    throw new PatchError(`runtime error: hash of unhashable type ${goTypeName(v)}`);
  }
  return k === 'nil' ? 'nil' : `${k}:${String(v)}`;
}

function goFloat(n: number): string {
  const [mant, exp] = n.toExponential().split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 21) {
    const digits = String(Math.abs(e)).padStart(2, '0');
    return `${mant}e${e < 0 ? '-' : '+'}${digits}`;
  }
  return String(n);
}

/** fmt's %v (map keys sorted, as fmt prints them). */
export function goFmt(v: unknown): string {
  const k = goKind(v);
  switch (k) {
    case 'nil':
      return '<nil>';
    case 'slice':
      return `[${(v as unknown[]).map(goFmt).join(' ')}]`;
    case 'map': {
      const m = v as JsonMap;
      return `map[${Object.keys(m)
        .sort()
        .map((key) => `${key}:${goFmt(m[key])}`)
        .join(' ')}]`;
    }
    case 'float64':
      return goFloat(v as number);
    default:
      return String(v);
  }
}

/** fmt's %s, which flags non-strings as %!s(type=value). */
function goFmtS(v: unknown): string {
  const k = goKind(v);
  switch (k) {
    case 'string':
      return v as string;
    case 'nil':
      return '%!s(<nil>)';
    case 'slice':
      return `[${(v as unknown[]).map(goFmtS).join(' ')}]`;
    case 'map': {
      const m = v as JsonMap;
      return `map[${Object.keys(m)
        .sort()
        .map((key) => `${key}:${goFmtS(m[key])}`)
        .join(' ')}]`;
    }
    default:
      return `%!s(${k}=${goFmt(v)})`;
  }
}

// Upstream's error values (k8s.io/apimachinery/pkg/util/mergepatch); the first four are
// answered with 400 by the apiserver, lists of lists with 422, anything else with 500.
const errBadPrimitiveList = (): PatchError => new PatchError('invalid patch format of primitive list', 400);
const errBadRetainKeys = (): PatchError => new PatchError('invalid patch format of retainKeys', 400);
const errBadSetElementOrder = (): PatchError =>
  new PatchError('invalid patch format of setElementOrder list', 400);
const errNoListOfLists = (): PatchError => new PatchError('lists of lists are not supported', 422);
const errNoMergeKey = (m: JsonMap, key: string): PatchError =>
  new PatchError(`map: ${goFmt(m)} does not contain declared merge key: ${key}`);
const errBadArgType = (expected: string, actual: unknown): PatchError =>
  new PatchError(`expected a ${expected}, but received a ${goTypeName(actual)}`);
const errBadPatchType = (t: unknown, m: JsonMap): PatchError =>
  new PatchError(`unknown patch type: ${goFmtS(t)} in map: ${goFmt(m)}`);

// ---------------------------------------------------------------------------
// Schema lookups
// ---------------------------------------------------------------------------

/** The meta of a field; undefined when there is none (then it merges like a JSON merge patch). */
function fieldMeta(schema: PatchMeta | undefined, key: string): PatchMeta | undefined {
  if (!schema || (schema.kind !== 'struct' && schema.kind !== 'map')) return undefined;
  // An 'unknown' field may still declare a strategy (e.g. replace on a RawExtension).
  return schema.field(key);
}

function usable(meta: PatchMeta | undefined): PatchMeta | undefined {
  return meta && meta.kind !== 'unknown' ? meta : undefined;
}

/** Splits off retainKeys (honoured through the $retainKeys directive) and returns the other strategy. */
function patchStrategy(strategies: readonly string[] | undefined): string {
  const s = strategies ?? [];
  if (s.length === 0) return '';
  if (s.length === 1) return s[0] === RETAIN_KEYS_STRATEGY ? '' : (s[0] as string);
  if (s.length === 2) {
    if (s[0] === RETAIN_KEYS_STRATEGY) return s[1] as string;
    if (s[1] === RETAIN_KEYS_STRATEGY) return s[0] as string;
  }
  throw new PatchError(`unexpected patch strategy: [${s.join(' ')}]`);
}

interface ListInfo {
  strategy: string;
  mergeKey: string;
  items: PatchMeta | undefined;
}

function listInfo(f: PatchMeta | undefined): ListInfo {
  return {
    strategy: patchStrategy(f?.strategies),
    mergeKey: f?.mergeKey ?? '',
    items: f?.kind === 'list' ? usable(f.items()) : undefined,
  };
}

function schemaName(items: PatchMeta | undefined): string {
  return items?.kind === 'map' ? 'map' : items?.kind === 'struct' ? 'struct' : 'interface';
}

// ---------------------------------------------------------------------------
// Go slices and sorting
// ---------------------------------------------------------------------------

/**
 * A Go slice header over a JS array. Upstream deletes list items by shifting them inside
 * the original backing array and then appends patch items into the freed slots, and the
 * caller later orders server-only items by that same (now rewritten) array. Keeping the
 * header semantics reproduces the resulting order exactly. Capacity starts at the length
 * (the apiserver's lists carry no spare room that would change what the caller can see).
 */
class GoSlice {
  constructor(
    readonly arr: unknown[],
    readonly len: number,
    readonly cap: number,
  ) {}

  static of(arr: unknown[]): GoSlice {
    return new GoSlice(arr, arr.length, arr.length);
  }

  append(v: unknown): GoSlice {
    if (this.len < this.cap) {
      this.arr[this.len] = v;
      return new GoSlice(this.arr, this.len + 1, this.cap);
    }
    const grown = this.arr.slice(0, this.len);
    grown.push(v);
    return GoSlice.of(grown);
  }

  /** append(s[:i], s[i+1:]...), which shifts the tail left in place. */
  deleteAt(i: number): GoSlice {
    for (let j = i; j < this.len - 1; j++) this.arr[j] = this.arr[j + 1];
    return new GoSlice(this.arr, this.len - 1, this.cap);
  }

  toArray(): unknown[] {
    return this.arr.slice(0, this.len);
  }
}

/**
 * Go's sort.SliceStable (insertion sort on blocks of 20, then SymMerge). Upstream's
 * comparator answers "less" whenever an item is missing from the order list, so the
 * outcome depends on the exact comparisons made; this follows the same algorithm.
 */
function goSliceStable<T>(data: T[], less: (a: T, b: T) => boolean): void {
  const n = data.length;
  const lessAt = (i: number, j: number): boolean => less(data[i] as T, data[j] as T);
  const swap = (i: number, j: number): void => {
    const t = data[i] as T;
    data[i] = data[j] as T;
    data[j] = t;
  };
  const insertionSort = (a: number, b: number): void => {
    for (let i = a + 1; i < b; i++) {
      for (let j = i; j > a && lessAt(j, j - 1); j--) swap(j, j - 1);
    }
  };
  const rotate = (a: number, m: number, b: number): void => {
    const moved = [...data.slice(m, b), ...data.slice(a, m)];
    for (let i = 0; i < moved.length; i++) data[a + i] = moved[i] as T;
  };
  const symMerge = (a: number, m: number, b: number): void => {
    if (m - a === 1) {
      let i = m;
      let j = b;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (lessAt(h, a)) i = h + 1;
        else j = h;
      }
      for (let k = a; k < i - 1; k++) swap(k, k + 1);
      return;
    }
    if (b - m === 1) {
      let i = a;
      let j = m;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (!lessAt(m, h)) i = h + 1;
        else j = h;
      }
      for (let k = m; k > i; k--) swap(k, k - 1);
      return;
    }
    const mid = (a + b) >>> 1;
    const nn = mid + m;
    let start: number;
    let r: number;
    if (m > mid) {
      start = nn - b;
      r = mid;
    } else {
      start = a;
      r = m;
    }
    const p = nn - 1;
    while (start < r) {
      const c = (start + r) >>> 1;
      if (!lessAt(p - c, c)) start = c + 1;
      else r = c;
    }
    const end = nn - start;
    if (start < m && m < end) rotate(start, m, end);
    if (a < start && start < mid) symMerge(a, start, mid);
    if (mid < end && end < b) symMerge(mid, end, b);
  };

  let blockSize = 20;
  let a = 0;
  let b = blockSize;
  while (b <= n) {
    insertionSort(a, b);
    a = b;
    b += blockSize;
  }
  insertionSort(a, n);
  while (blockSize < n) {
    a = 0;
    b = 2 * blockSize;
    while (b <= n) {
      symMerge(a, a + blockSize, b);
      a = b;
      b += 2 * blockSize;
    }
    const m = a + blockSize;
    if (m < n) symMerge(a, m, n);
    blockSize *= 2;
  }
}

/** All items of the lists must share one dynamic type; returns it. */
function sliceElementKind(lists: unknown[][]): GoKind {
  let prev: GoKind | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = goKind(v);
      if (prev === undefined) {
        // Upstream dereferences the nil type of a leading null item and panics.
        if (k === 'nil') throw new PatchError('runtime error: invalid memory address or nil pointer dereference');
        if (k === 'slice') throw errNoListOfLists();
        prev = k;
      } else if (prev !== k) {
        throw new PatchError(`list element types are not identical: ${goFmt(lists)}`);
      }
    }
  }
  if (prev === undefined) throw new PatchError('no elements in any of the given slices');
  return prev;
}

function mergeKeyValue(item: unknown, mergeKey: string): unknown {
  return isJsonMap(item) && has(item, mergeKey) ? item[mergeKey] : null;
}

/** Position of an item in a list: by merge key value for maps, by value otherwise. */
function indexOfItem(list: unknown[], item: unknown, mergeKey: string, isMapKind: boolean): number {
  const get = isMapKind ? (x: unknown) => mergeKeyValue(x, mergeKey) : (x: unknown) => x;
  const want = get(item);
  for (let i = 0; i < list.length; i++) {
    if (goEq(want, get(list[i]))) return i;
  }
  return -1;
}

function findMapByKeyValue(list: unknown[], key: string, value: unknown): number {
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (!isJsonMap(v)) throw new PatchError(`value for key ${i} is not a map`);
    if (has(v, key) && goEq(v[key], value)) return i;
  }
  return -1;
}

function validateMergeKeyInLists(mergeKey: string, lists: unknown[][]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isJsonMap(item)) throw errBadArgType(GO_MAP, item);
      if (!has(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    }
  }
}

/** Splits `$patch: delete` items (kept last) from the rest. */
function extractToDeleteItems(list: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const del: unknown[] = [];
  for (const v of list) {
    if (!isJsonMap(v)) throw errBadArgType(GO_MAP, v);
    if (has(v, DIRECTIVE) && v[DIRECTIVE] === DELETE_DIRECTIVE) del.push(v);
    else keep.push(v);
  }
  return [keep, del];
}

/** Sorts `toSort` by position in `order`; deletion items go last. */
function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, isMapKind: boolean): unknown[] {
  let items = toSort;
  let toDelete: unknown[] = [];
  if (isMapKind) {
    validateMergeKeyInLists(mergeKey, [items, order]);
    [items, toDelete] = extractToDeleteItems(items);
  }
  goSliceStable(items, (x, y) => {
    const ix = indexOfItem(order, x, mergeKey, isMapKind);
    if (ix >= 0) {
      const iy = indexOfItem(order, y, mergeKey, isMapKind);
      if (iy >= 0) return ix < iy;
    }
    return true;
  });
  return [...items, ...toDelete];
}

/**
 * Interleaves server-only items (`left`) into patch items (`right`), keeping each side's
 * order; a server-only item goes first only when both are in `serverOrder` and it precedes.
 */
function mergeSortedSlice(
  left: unknown[],
  right: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  isMapKind: boolean,
): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const li = indexOfItem(serverOrder, left[i], mergeKey, isMapKind);
    const ri = indexOfItem(serverOrder, right[j], mergeKey, isMapKind);
    if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
    else out.push(right[j++]);
  }
  return [...out, ...left.slice(i), ...right.slice(j)];
}

function normalizeElementOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  isMapKind: boolean,
): unknown[] {
  const p = normalizeSliceOrder(patchItems, patchOrder, mergeKey, isMapKind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, isMapKind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, isMapKind);
}

function partitionPrimitives(list: unknown[], by: unknown[]): [unknown[], unknown[]] {
  const inPatch = new Set(by.map(hashKey));
  const patch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) (inPatch.has(hashKey(v)) ? patch : serverOnly).push(v);
  return [patch, serverOnly];
}

function partitionMaps(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const patch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) {
    if (!isJsonMap(v)) throw errBadArgType(GO_MAP, v);
    if (!has(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
    (findMapByKeyValue(by, mergeKey, v[mergeKey]) >= 0 ? patch : serverOnly).push(v);
  }
  return [patch, serverOnly];
}

function partition(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  return mergeKey === '' ? partitionPrimitives(list, by) : partitionMaps(list, by, mergeKey);
}

/** Go's deduplicateScalars: moves the last item into each duplicate's slot, in place. */
function dedupeScalars(s: GoSlice): GoSlice {
  const a = s.arr;
  let last = s.len - 1;
  for (let i = 0; i < last; i++) {
    for (let j = i + 1; j <= last; j++) {
      if (goEq(a[i], a[j])) {
        a[j] = a[last];
        last--;
        j--;
      }
    }
  }
  return new GoSlice(a, last + 1, s.cap);
}

function deleteFromSlice(current: unknown[], toDelete: unknown[]): unknown[] {
  const drop = new Set(toDelete.map(hashKey));
  return current.filter((v) => !drop.has(hashKey(v)));
}

// ---------------------------------------------------------------------------
// Directive helpers
// ---------------------------------------------------------------------------

/** Drops null members from a value being added wholesale (a null there deletes nothing). */
function discardNullValues(v: unknown): void {
  if (Array.isArray(v)) {
    for (const x of v) discardNullValues(x);
  } else if (isJsonMap(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else discardNullValues(v[k]);
    }
  }
}

/** Strips maps carrying $patch from a value being added wholesale; false drops the value itself. */
function removeDirectives(v: unknown): [unknown, boolean] {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      const [nx, keep] = removeDirectives(x);
      if (keep) out.push(nx);
    }
    return [out, true];
  }
  if (isJsonMap(v)) {
    if (has(v, DIRECTIVE)) return [null, false];
    for (const k of Object.keys(v)) {
      const [nx, keep] = removeDirectives(v[k]);
      if (keep) setKey(v, k, nx);
      else delete v[k];
    }
  }
  return [v, true];
}

function takePatchValue(original: JsonMap, key: string, patchV: unknown, discardNulls: boolean): void {
  if (discardNulls) discardNullValues(patchV);
  const [v, keep] = removeDirectives(patchV);
  if (keep) setKey(original, key, v);
  else delete original[key];
}

/** "$setElementOrder/containers" -> "containers". */
function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    throw prefix === DELETE_FROM_PRIMITIVE_LIST ? errBadPrimitiveList() : errBadSetElementOrder();
  }
  return s.slice(slash + 1);
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (mergeKey === '') return goEq(left, right);
  if (!isJsonMap(left)) throw errBadArgType(GO_MAP, left);
  if (!isJsonMap(right)) throw errBadArgType(GO_MAP, right);
  if (!has(left, mergeKey)) throw errNoMergeKey(left, mergeKey);
  if (!has(right, mergeKey)) throw errNoMergeKey(right, mergeKey);
  return goEq(left[mergeKey], right[mergeKey]);
}

/** Patch items (deletions aside) must appear in $setElementOrder, in the same relative order. */
function validatePatchWithSetOrderList(patchList: unknown[], setOrder: unknown[], mergeKey: string): void {
  if (setOrder.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey !== '' ? extractToDeleteItems(patchList)[0] : patchList;
  let p = 0;
  let s = 0;
  while (p < nonDelete.length && s < setOrder.length) {
    const item = nonDelete[p];
    if (isJsonMap(item) && has(item, DIRECTIVE)) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(item, setOrder[s], mergeKey)) p++;
    s++;
  }
  if (p < nonDelete.length && s >= setOrder.length) {
    throw new PatchError(
      `the order in patch list:\n${goFmt(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFmt(setOrder)}`,
    );
  }
}

/** $retainKeys: keys of the original not listed are cleared; patch keys must be listed. */
function applyRetainKeysDirective(original: JsonMap, patch: JsonMap): void {
  if (!has(patch, RETAIN_KEYS)) return;
  const retain = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(retain)) throw errBadRetainKeys();
  const keep = new Set(retain.map(hashKey));
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(hashKey(k))) throw errBadRetainKeys();
  }
  for (const k of Object.keys(original)) {
    if (!keep.has(hashKey(k))) delete original[k];
  }
}

// ---------------------------------------------------------------------------
// The merge
// ---------------------------------------------------------------------------

function handleDirectiveInMergeMap(directive: unknown, patch: JsonMap): JsonMap {
  if (directive === REPLACE_DIRECTIVE) {
    delete patch[DIRECTIVE];
    return patch;
  }
  if (directive === DELETE_DIRECTIVE) return {};
  throw errBadPatchType(directive, patch);
}

/** Merges `patch` into `original` (mutating it) and returns the merged map. */
function mergeMap(original: JsonMap, patch: JsonMap, schema: PatchMeta | undefined): JsonMap {
  if (has(patch, DIRECTIVE)) return handleDirectiveInMergeMap(patch[DIRECTIVE], patch);

  applyRetainKeysDirective(original, patch);
  // Lists named by $setElementOrder are merged and ordered first and leave the patch.
  mergePatchIntoOriginal(original, patch, schema);

  for (const patchKey of Object.keys(patch)) {
    const patchV = patch[patchKey];
    let key = patchKey;
    let isDeleteList = false;
    if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      key = extractKey(patchKey, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
    }

    if (patchV === null) {
      delete original[key];
      continue;
    }
    if (!has(original, key)) {
      if (!isDeleteList) takePatchValue(original, key, patchV, true);
      continue;
    }
    const originalV = original[key];
    if (goKind(originalV) !== goKind(patchV)) {
      if (!isDeleteList) takePatchValue(original, key, patchV, true);
      continue;
    }

    if (isJsonMap(originalV)) {
      const f = fieldMeta(schema, key);
      const strategy = patchStrategy(f?.strategies);
      const sub = f && (f.kind === 'struct' || f.kind === 'map') ? f : undefined;
      setKey(original, key, strategy === REPLACE_DIRECTIVE ? patchV : mergeMap(originalV, patchV as JsonMap, sub));
    } else if (Array.isArray(originalV)) {
      const info = listInfo(fieldMeta(schema, key));
      setKey(original, key, mergeSliceHandler(originalV, patchV as unknown[], info, isDeleteList));
    } else {
      takePatchValue(original, key, patchV, false);
    }
  }
  return original;
}

function mergeSliceHandler(original: unknown[], patch: unknown[], info: ListInfo, isDeleteList: boolean): unknown[] {
  // A deletion list deletes whatever the field's strategy is.
  if (info.strategy === MERGE_DIRECTIVE || isDeleteList) {
    return mergeSlice(original, patch, info.items, info.mergeKey, isDeleteList);
  }
  return patch;
}

/**
 * Merges two lists. `original` may be rewritten in place the way upstream rewrites its
 * backing array; mergePatchIntoOriginal relies on seeing that.
 */
function mergeSlice(
  original: unknown[],
  patch: unknown[],
  items: PatchMeta | undefined,
  mergeKey: string,
  isDeleteList: boolean,
): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind([original, patch]);

  let merged: unknown[];
  let serverOrder: unknown[];
  let patchOrder: unknown[];
  if (kind !== 'map') {
    if (isDeleteList) return deleteFromSlice(original, patch);
    // append(original, patch...) reuses the original array only when nothing is appended.
    const both = patch.length === 0 ? GoSlice.of(original) : GoSlice.of([...original, ...patch]);
    merged = dedupeScalars(both).toArray();
    serverOrder = original;
    patchOrder = patch;
  } else {
    if (mergeKey === '') throw new PatchError(`cannot merge lists without merge key for ${schemaName(items)}`);

    let orig = GoSlice.of(original);
    let replace = false;
    let rest: unknown[] = [];
    for (const v of patch) {
      const m = v as JsonMap;
      if (!has(m, DIRECTIVE)) {
        rest.push(v);
        continue;
      }
      const d = m[DIRECTIVE];
      if (d === DELETE_DIRECTIVE) {
        if (!has(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
        for (;;) {
          const at = findMapByKeyValue(orig.toArray(), mergeKey, m[mergeKey]);
          if (at < 0) break;
          orig = orig.deleteAt(at);
        }
      } else if (d === REPLACE_DIRECTIVE) {
        replace = true; // keep scanning so other directive items are still pruned
      } else if (d === MERGE_DIRECTIVE) {
        throw new PatchError('merging lists cannot yet be specified in the patch');
      } else {
        throw errBadPatchType(d, m);
      }
    }
    if (replace) {
      orig = GoSlice.of(rest);
      rest = [];
    }

    // Patch items merge into the item with the same key, or are appended.
    let cur = orig;
    for (const v of rest) {
      const pm = v as JsonMap;
      if (!has(pm, mergeKey)) throw errNoMergeKey(pm, mergeKey);
      const at = findMapByKeyValue(cur.toArray(), mergeKey, pm[mergeKey]);
      if (at >= 0) cur.arr[at] = mergeMap(cur.arr[at] as JsonMap, pm, items);
      else cur = cur.append(v);
    }
    merged = cur.toArray();
    serverOrder = orig.toArray();
    patchOrder = rest;
  }

  const [patchItems, serverOnly] = partition(merged, patchOrder, mergeKey);
  return normalizeElementOrder(patchItems, serverOnly, patchOrder, serverOrder, mergeKey, kind === 'map');
}

/** Handles each $setElementOrder/<list>: merges that list and orders it as listed. */
function mergePatchIntoOriginal(original: JsonMap, patch: JsonMap, schema: PatchMeta | undefined): void {
  for (const key of Object.keys(patch)) {
    if (!has(patch, key) || !key.startsWith(SET_ELEMENT_ORDER)) continue;
    const setOrder = patch[key];
    delete patch[key];
    if (!Array.isArray(setOrder)) throw errBadArgType(GO_SLICE, setOrder);
    const listKey = extractKey(key, SET_ELEMENT_ORDER);

    const foundOriginal = has(original, listKey);
    const foundPatch = has(patch, listKey);
    let originalList: unknown[] = [];
    let patchList: unknown[] = [];
    if (foundOriginal) {
      const v = original[listKey];
      if (!Array.isArray(v)) throw errBadArgType(GO_SLICE, v);
      originalList = v;
    }
    if (foundPatch) {
      const v = patch[listKey];
      if (!Array.isArray(v)) throw errBadArgType(GO_SLICE, v);
      patchList = v;
    }
    const info = listInfo(fieldMeta(schema, listKey));
    validatePatchWithSetOrderList(patchList, setOrder, info.mergeKey);

    let merged: unknown[];
    if (foundOriginal && !foundPatch) merged = originalList;
    else if (!foundOriginal && foundPatch) merged = removeDirectives(patchList)[0] as unknown[];
    else if (foundOriginal && foundPatch) merged = mergeSliceHandler(originalList, patchList, info, false);
    else continue;

    const [patchItems, serverOnly] = partition(merged, setOrder, info.mergeKey);
    // originalList may have been rewritten in place by the merge above (see GoSlice).
    const kind = sliceElementKind([originalList, patchList]);
    setKey(
      original,
      listKey,
      normalizeElementOrder(patchItems, serverOnly, setOrder, originalList, info.mergeKey, kind === 'map'),
    );
    delete patch[listKey];
  }
}

/**
 * Applies a strategic merge patch to an object and returns the result; the inputs are
 * not modified. `meta` describes the object (kind 'struct'); fields without meta are
 * merged like a JSON merge patch (maps recursively, lists replaced) while directives
 * still apply. Throws PatchError for patches upstream rejects. With `owned`, the caller hands over
 * `original` (a copy of its own): it is merged into rather than copied first.
 */
export function applyStrategicMergePatch(original: unknown, patch: unknown, meta: PatchMeta | undefined, owned = false): unknown {
  const orig = original === undefined || original === null ? {} : original;
  if (!isJsonMap(orig)) throw new PatchError('invalid JSON document', 400);
  if (patch === undefined || patch === null) return cloneJson(orig);
  if (!isJsonMap(patch)) {
    const word = Array.isArray(patch) ? 'array' : typeof patch === 'boolean' ? 'bool' : typeof patch;
    throw new PatchError(`json: cannot unmarshal ${word} into Go value of type map[string]interface {}`, 400);
  }
  return mergeMap((owned ? orig : cloneJson(orig)) as JsonMap, cloneJson(patch) as JsonMap, usable(meta));
}
