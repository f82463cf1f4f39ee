/**
 * JSON merge patch (RFC 7386) as kube-apiserver applies it (evanphx/json-patch v4
 * MergePatch): objects merge recursively and null deletes a member. Like upstream, nulls
 * are also pruned from values that are added wholesale, including objects inside arrays.
 */
import { PatchError, cloneJson, isJsonMap } from './strategic.js';

type JsonMap = Record<string, unknown>;

function pruneNulls(v: unknown): void {
  if (Array.isArray(v)) {
    for (const x of v) if (x !== null) pruneNulls(x); // null array items stay
  } else if (isJsonMap(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else pruneNulls(v[k]);
    }
  }
}

function set(doc: JsonMap, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(doc, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    doc[key] = value;
  }
}

function mergeDocs(doc: JsonMap, patch: JsonMap): void {
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    if (v === null) {
      delete doc[k];
      continue;
    }
    const cur = Object.prototype.hasOwnProperty.call(doc, k) ? doc[k] : null;
    if (cur === null) {
      pruneNulls(v);
      set(doc, k, v);
    } else if (!isJsonMap(cur)) {
      pruneNulls(v);
      set(doc, k, v);
    } else if (!isJsonMap(v)) {
      set(doc, k, v); // upstream leaves nulls inside a non-object replacing an object
    } else {
      mergeDocs(cur, v);
    }
  }
}

/**
 * Applies a JSON merge patch and returns the result; inputs are not modified (an `owned`
 * original, the caller's own copy, is merged into).
 * An object patch merges into the original (a non-object original counts as {}); an
 * array patch replaces it. A null or scalar patch is rejected as upstream rejects it
 * (400 "Invalid JSON Patch").
 */
export function applyMergePatch(original: unknown, patch: unknown, owned = false): unknown {
  if (Array.isArray(patch)) {
    const out = cloneJson(patch);
    pruneNulls(out);
    return out;
  }
  if (!isJsonMap(patch)) throw new PatchError('Invalid JSON Patch', 400);
  // An owned original (the caller's own copy) is merged into rather than copied first.
  const doc = (isJsonMap(original) ? (owned ? original : cloneJson(original)) : {}) as JsonMap;
  mergeDocs(doc, cloneJson(patch) as JsonMap);
  return doc;
}
