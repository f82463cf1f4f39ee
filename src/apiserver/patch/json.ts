/**
 * JSON patch (RFC 6902) as kube-apiserver applies it (evanphx/json-patch v4). Paths are
 * resolved here first, with upstream's rules and error messages; fast-json-patch then
 * performs the edits on the resolved pointers. Upstream's rules differ from a strict
 * RFC reading in a few places, kept on purpose:
 *  - negative array indices count from the end (-1 is the last item; for add, the end);
 *  - replace of a missing object member adds it;
 *  - a missing "value" means null, and `test` of null passes on a missing member;
 *  - replacing the root with a non-container value is silently ignored.
 * Errors: a patch that is not a list of objects is 400, more than 10000 operations is 413,
 * an operation that does not apply is 422 (as upstream).
 */
import jsonpatch from 'fast-json-patch';
import { PatchError, cloneJson, isJsonMap } from './strategic.js';

type JsonMap = Record<string, unknown>;
type Container = JsonMap | unknown[];

const MAX_OPERATIONS = 10000;
const MISSING = 'missing value';
const INVALID_INDEX = 'invalid index referenced';

const has = (m: JsonMap, k: string): boolean => Object.prototype.hasOwnProperty.call(m, k);

/** An error inside an operation, with upstream's wording; turned into a 422. */
class OpError extends Error {}

function decodeKey(k: string): string {
  return k.replace(/~[01]/g, (m) => (m === '~1' ? '/' : '~'));
}

function encodeKey(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** strconv.Atoi. */
function atoi(key: string): number {
  if (!/^[+-]?\d+$/.test(key)) throw new OpError(`strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`);
  return Number(key);
}

function invalidIndex(idx: number): OpError {
  return new OpError(`Unable to access invalid index: ${idx}: ${INVALID_INDEX}`);
}

/** Index of an existing item; negative counts from the end. */
function existingIndex(arr: unknown[], key: string): number {
  let idx = atoi(key);
  if (idx < 0) {
    if (idx < -arr.length) throw invalidIndex(idx);
    idx += arr.length;
  }
  if (idx >= arr.length) throw invalidIndex(idx);
  return idx;
}

interface Target {
  con: Container;
  /** Decoded last path segment. */
  key: string;
  /** JSON pointer of `con` with array indices resolved. */
  pointer: string;
}

/** Upstream's findObject: the container holding the last segment, or undefined. */
function findObject(doc: unknown, path: string): Target | undefined {
  const split = path.split('/');
  if (split.length < 2) return undefined;
  let con: unknown = doc;
  let pointer = '';
  for (const raw of split.slice(1, -1)) {
    const part = decodeKey(raw);
    let next: unknown;
    let seg: string;
    if (Array.isArray(con)) {
      let idx: number;
      try {
        idx = existingIndex(con, part);
      } catch {
        return undefined;
      }
      next = con[idx];
      seg = String(idx);
    } else if (isJsonMap(con)) {
      next = has(con, part) ? con[part] : undefined;
      seg = part;
    } else {
      return undefined;
    }
    if (next === null || typeof next !== 'object') return undefined;
    con = next;
    pointer += `/${encodeKey(seg)}`;
  }
  if (!Array.isArray(con) && !isJsonMap(con)) return undefined;
  return { con, key: decodeKey(split[split.length - 1] as string), pointer };
}

/** con.get: a member (undefined when absent) or an existing array item. */
function get(t: Target): unknown {
  if (Array.isArray(t.con)) return t.con[existingIndex(t.con, t.key)];
  return has(t.con, t.key) ? t.con[t.key] : undefined;
}

function edit(doc: unknown, op: 'add' | 'remove' | 'replace', pointer: string, value?: unknown): void {
  try {
    const operation =
      op === 'remove' ? { op, path: pointer } : { op, path: pointer, value: value === undefined ? null : value };
    jsonpatch.applyOperation(doc, operation, false, true, true);
  } catch (e) {
    throw new OpError((e as Error).message);
  }
}

function add(t: Target, value: unknown, doc: unknown): void {
  if (Array.isArray(t.con)) {
    let idx: number;
    if (t.key === '-') {
      idx = t.con.length;
    } else {
      try {
        idx = atoi(t.key);
      } catch (e) {
        throw new OpError(`value was not a proper array index: '${t.key}': ${(e as Error).message}`);
      }
      const size = t.con.length + 1;
      if (idx >= size) throw invalidIndex(idx);
      if (idx < 0) {
        if (idx < -size) throw invalidIndex(idx);
        idx += size;
      }
    }
    edit(doc, 'add', `${t.pointer}/${idx}`, value);
  } else {
    edit(doc, 'add', `${t.pointer}/${encodeKey(t.key)}`, value);
  }
}

function remove(t: Target, doc: unknown): void {
  if (Array.isArray(t.con)) {
    edit(doc, 'remove', `${t.pointer}/${existingIndex(t.con, t.key)}`);
  } else {
    if (!has(t.con, t.key)) throw new OpError(`Unable to remove nonexistent key: ${t.key}: ${MISSING}`);
    edit(doc, 'remove', `${t.pointer}/${encodeKey(t.key)}`);
  }
}

function itemPointer(t: Target): string {
  return Array.isArray(t.con) ? `${t.pointer}/${existingIndex(t.con, t.key)}` : `${t.pointer}/${encodeKey(t.key)}`;
}

function wrap(prefix: string, e: unknown): OpError {
  return new OpError(`${prefix}: ${(e as Error).message}`);
}

type Op = JsonMap;

/** op.Path() / op.From(): a string member; `missing` words the absent case. */
function stringField(op: Op, field: string, missing: string): string {
  const v = op[field];
  if (v === undefined || v === null) throw new OpError(`${missing}: ${MISSING}`);
  if (typeof v !== 'string') {
    const word = Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v;
    throw new OpError(`json: cannot unmarshal ${word} into Go value of type string`);
  }
  return v;
}

function pathOf(op: Op, kind: string, wrapsCause: boolean): string {
  try {
    return stringField(op, 'path', 'operation missing path field');
  } catch (e) {
    throw wrapsCause ? wrap(`${kind} operation failed to decode path`, e) : new OpError(`${kind} operation failed to decode path: ${MISSING}`);
  }
}

function fromOf(op: Op, kind: string): string {
  try {
    return stringField(op, 'from', 'operation, missing from field');
  } catch (e) {
    throw wrap(`${kind} operation failed to decode from`, e);
  }
}

/** Applies one operation to `doc` (mutated) and returns the document, which replace may swap. */
function applyOne(doc: unknown, op: Op): unknown {
  const kind = typeof op.op === 'string' ? op.op : 'unknown';
  const value = has(op, 'value') ? cloneJson(op.value) : null;
  switch (kind) {
    case 'add': {
      const path = pathOf(op, kind, false);
      const t = findObject(doc, path);
      if (!t) throw new OpError(`add operation does not apply: doc is missing path: "${path}": ${MISSING}`);
      try {
        add(t, value, doc);
      } catch (e) {
        throw wrap(`error in add for path: '${path}'`, e);
      }
      return doc;
    }
    case 'remove': {
      const path = pathOf(op, kind, false);
      const t = findObject(doc, path);
      if (!t) throw new OpError(`remove operation does not apply: doc is missing path: "${path}": ${MISSING}`);
      try {
        remove(t, doc);
      } catch (e) {
        throw wrap(`error in remove for path: '${path}'`, e);
      }
      return doc;
    }
    case 'replace': {
      const path = pathOf(op, kind, true);
      if (path === '') return Array.isArray(value) || isJsonMap(value) ? value : doc;
      const t = findObject(doc, path);
      if (!t) throw new OpError(`replace operation does not apply: doc is missing path: ${path}: ${MISSING}`);
      let pointer: string;
      try {
        pointer = itemPointer(t);
      } catch {
        throw new OpError(`replace operation does not apply: doc is missing key: ${path}: ${MISSING}`);
      }
      edit(doc, Array.isArray(t.con) || has(t.con, t.key) ? 'replace' : 'add', pointer, value);
      return doc;
    }
    case 'move': {
      const from = fromOf(op, kind);
      const src = findObject(doc, from);
      if (!src) throw new OpError(`move operation does not apply: doc is missing from path: ${from}: ${MISSING}`);
      let moved: unknown;
      try {
        moved = get(src);
        remove(src, doc);
      } catch (e) {
        throw wrap(`error in move for path: '${src.key}'`, e);
      }
      const path = pathOf(op, kind, true);
      const dst = findObject(doc, path);
      if (!dst) throw new OpError(`move operation does not apply: doc is missing destination path: ${path}: ${MISSING}`);
      try {
        add(dst, moved, doc);
      } catch (e) {
        throw wrap(`error in move for path: '${path}'`, e);
      }
      return doc;
    }
    case 'copy': {
      const from = fromOf(op, kind);
      const src = findObject(doc, from);
      if (!src) throw new OpError(`copy operation does not apply: doc is missing from path: ${from}: ${MISSING}`);
      let copied: unknown;
      try {
        copied = cloneJson(get(src) ?? null);
      } catch (e) {
        throw wrap(`error in copy for from: '${from}'`, e);
      }
      const path = pathOf(op, kind, false);
      const dst = findObject(doc, path);
      if (!dst) throw new OpError(`copy operation does not apply: doc is missing destination path: ${path}: ${MISSING}`);
      try {
        add(dst, copied, doc);
      } catch (e) {
        throw wrap('error while adding value during copy', e);
      }
      return doc;
    }
    case 'test': {
      const path = pathOf(op, kind, true);
      const failed = new OpError(`testing value ${path} failed: test failed`);
      if (path === '') {
        if (!jsonpatch._areEquals(doc, value)) throw failed;
        return doc;
      }
      const t = findObject(doc, path);
      if (!t) throw new OpError(`test operation does not apply: is missing path: ${path}: ${MISSING}`);
      let actual: unknown;
      try {
        actual = get(t);
      } catch (e) {
        throw wrap(`error in test for path: '${path}'`, e);
      }
      // Upstream sees an absent member and a null one alike, and a missing value as null.
      if (actual === undefined || actual === null) {
        if (value !== null) throw failed;
      } else if (!jsonpatch._areEquals(actual, value)) {
        throw failed;
      }
      return doc;
    }
    default:
      throw new OpError(`Unexpected kind: ${kind}`);
  }
}

function jsonWord(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'boolean' ? 'bool' : typeof v === 'object' ? 'object' : typeof v;
}

/**
 * Applies a JSON patch (the decoded request body) and returns the result; inputs are not
 * modified. Throws PatchError: 400 for a malformed patch, 413 for too many operations,
 * 422 when an operation does not apply (including a failed `test`).
 */
export function applyJsonPatch(original: unknown, ops: unknown, owned = false): unknown {
  if (ops === null || ops === undefined) return cloneJson(original);
  if (!Array.isArray(ops)) {
    throw new PatchError(`json: cannot unmarshal ${jsonWord(ops)} into Go value of type jsonpatch.Patch`, 400);
  }
  for (const op of ops) {
    if (op !== null && !isJsonMap(op)) {
      throw new PatchError(`json: cannot unmarshal ${jsonWord(op)} into Go value of type jsonpatch.Operation`, 400);
    }
  }
  if (ops.length > MAX_OPERATIONS) {
    throw new PatchError(`The allowed maximum operations in a JSON patch is ${MAX_OPERATIONS}, got ${ops.length}`, 413);
  }
  // An owned original (the caller's own copy) is patched in place rather than copied first.
  let doc = owned ? original : cloneJson(original);
  for (const op of ops as (Op | null)[]) {
    try {
      doc = applyOne(doc, op ?? {});
    } catch (e) {
      if (e instanceof OpError) throw new PatchError(e.message, 422);
      throw e;
    }
  }
  return doc;
}
