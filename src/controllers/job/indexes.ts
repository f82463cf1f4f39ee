/** Indexed Jobs: completion indexes on pods and the `1,3-5` interval lists of status.completedIndexes. */

export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

/** The pod's completion index, or undefined if missing or malformed. */
export function podIndex(p: any): number | undefined {
  const v = p.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION] ?? p.metadata?.labels?.[COMPLETION_INDEX_ANNOTATION];
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]*)$/.test(v)) return undefined;
  return Number(v);
}

/** Parses "1,3-5" into {1,3,4,5}; ignores values at or beyond `completions`. */
export function parseIndexes(s: string | undefined, completions = Infinity): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let i = lo; i <= hi && i < completions; i++) out.add(i);
  }
  return out;
}

export function formatIndexes(set: Iterable<number>): string {
  const xs = [...new Set(set)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    parts.push(j === i ? `${xs[i]}` : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
