/**
 * Kubernetes resource quantities ("100m", "1.5", "128Mi", "1e3") as plain numbers, shared by the
 * scheduler and the HPA controller (each rounds as its upstream counterpart does).
 */
const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
};

const RE = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;
const memo = new Map<string, number>();

/** The quantity as a float in base units; NaN when malformed. */
export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined || q === null) return 0;
  if (typeof q === 'number') return q;
  let v = memo.get(q);
  if (v !== undefined) return v;
  const m = RE.exec(q.trim());
  if (!m) v = NaN;
  else if (m[2]) v = Number(m[1] + m[2]);
  else v = Number(m[1]) * SUFFIX[m[3] ?? ''];
  if (memo.size < 10_000) memo.set(q, v);
  return v;
}
