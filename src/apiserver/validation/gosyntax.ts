/**
 * Go `%#v` renderings of the few structured values upstream puts in messages
 * (template labels, selectors, IntOrString, ServicePort keys…), so messages match byte for byte.
 * Go sorts map keys when printing; we do the same.
 */
import { GoLiteral, goQuote } from './errors.js';

const lit = (s: string) => new GoLiteral(s);

export function goStringMapText(m: unknown): string {
  if (m === undefined || m === null || typeof m !== 'object') return 'map[string]string(nil)';
  const keys = Object.keys(m).sort();
  return 'map[string]string{' + keys.map((k) => `${goQuote(k)}:${goQuote(String((m as any)[k]))}`).join(', ') + '}';
}

export const goStringMap = (m: unknown): GoLiteral => lit(goStringMapText(m));

export function goStringSliceText(a: unknown, type = '[]string'): string {
  if (!Array.isArray(a)) return `${type}(nil)`;
  return `${type}{` + a.map((s) => goQuote(String(s))).join(', ') + '}';
}

export const goStringSlice = (a: unknown, type = '[]string'): GoLiteral => lit(goStringSliceText(a, type));

function requirementText(r: any): string {
  return `v1.LabelSelectorRequirement{Key:${goQuote(str(r?.key))}, Operator:${goQuote(str(r?.operator))}, Values:${goStringSliceText(r?.values)}}`;
}

/** `v1.LabelSelector{MatchLabels:…, MatchExpressions:…}` — the famous "field is immutable" value. */
export function goLabelSelectorText(sel: any): string {
  const exprs = Array.isArray(sel?.matchExpressions)
    ? '[]v1.LabelSelectorRequirement{' + sel.matchExpressions.map(requirementText).join(', ') + '}'
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${goStringMapText(sel?.matchLabels)}, MatchExpressions:${exprs}}`;
}

/** A *metav1.LabelSelector is dereferenced by ErrorBody; nil prints as "null". */
export const goLabelSelector = (sel: any): GoLiteral | null => (sel === undefined || sel === null ? null : lit(goLabelSelectorText(sel)));

export function goIntOrStringText(v: unknown): string {
  if (typeof v === 'string') return `intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(v)}}`;
  const n = typeof v === 'number' ? Math.trunc(v) : 0;
  return `intstr.IntOrString{Type:0, IntVal:${n}, StrVal:""}`;
}

export const goIntOrString = (v: unknown): GoLiteral => lit(goIntOrStringText(v));

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

export function goStringPtrText(v: unknown, type = 'string'): string {
  return v === undefined || v === null ? `(*${type})(nil)` : goQuote(str(v));
}

export { lit as goLiteral };
