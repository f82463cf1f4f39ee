/**
 * A deep copy of a JSON value (what the API server holds: objects decoded from JSON or YAML). Several
 * times faster than structuredClone, which serialises through the V8 value serializer; undefined
 * members are kept, as structuredClone keeps them.
 */
export function deepCopy<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const n = v.length;
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = deepCopy(v[i]);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = deepCopy((v as Record<string, unknown>)[k]);
    // A "__proto__" member (valid JSON) must stay a plain member, not become the prototype.
    if (k === '__proto__') Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
    else out[k] = x;
  }
  return out as T;
}
