/**
 * Quantities are stored in their canonical form (resource.Quantity marshals that way), and every
 * ResourceList value is first rounded up to milli precision (SetDefaults_ResourceList).
 */
import { formatQuantity, parseQuantityExact, roundUpQuantity } from '../validation/quantity.js';
import { memoByText } from '../../util/memo.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The canonical text of a quantity; malformed values are left for validation to report. */
export function canonicalize(v: unknown, roundToMilli: boolean): unknown {
  if (typeof v !== 'string') return canonicalText(v, roundToMilli);
  return roundToMilli ? roundedText(v) : exactText(v);
}

// The same few texts recur on every write: each is worked out once (bigint arithmetic).
const roundedText = memoByText((v) => canonicalText(v, true));
const exactText = memoByText((v) => canonicalText(v, false));

function canonicalText(v: unknown, roundToMilli: boolean): unknown {
  const q = parseQuantityExact(v);
  if (typeof q === 'string') return v;
  return formatQuantity(roundToMilli ? roundUpQuantity(q, -3) : q);
}

export function defaultResourceList(list: unknown): void {
  if (!isObj(list)) return;
  for (const k of Object.keys(list)) list[k] = canonicalize(list[k], true);
}
