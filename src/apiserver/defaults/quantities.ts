/**
 * Quantities are stored in their canonical form (resource.Quantity marshals that way), and every
 * ResourceList value is first rounded up to milli precision (SetDefaults_ResourceList).
 */
import { formatQuantity, parseQuantityExact, roundUpQuantity } from '../validation/quantity.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The canonical text of a quantity; malformed values are left for validation to report. */
export function canonicalize(v: unknown, roundToMilli: boolean): unknown {
  if (typeof v !== 'string') return canonicalText(v, roundToMilli);
  // The same few texts recur on every write: each is worked out once (bigint arithmetic).
  const memo = roundToMilli ? roundedMemo : exactMemo;
  let out = memo.get(v);
  if (out === undefined) {
    out = canonicalText(v, roundToMilli);
    if (memo.size >= 4096) memo.clear();
    memo.set(v, out);
  }
  return out;
}

const roundedMemo = new Map<string, unknown>();
const exactMemo = new Map<string, unknown>();

function canonicalText(v: unknown, roundToMilli: boolean): unknown {
  const q = parseQuantityExact(v);
  if (typeof q === 'string') return v;
  return formatQuantity(roundToMilli ? roundUpQuantity(q, -3) : q);
}

export function defaultResourceList(list: unknown): void {
  if (!isObj(list)) return;
  for (const k of Object.keys(list)) list[k] = canonicalize(list[k], true);
}
