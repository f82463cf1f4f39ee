/**
 * Label maps and label selectors rendered the way apimachinery's labels.Set.String(),
 * metav1.LabelSelectorAsSelector(...).String() and metav1.FormatLabelSelector do.
 */

/** labels.FormatLabels: "k1=v1,k2=v2" with keys sorted, "<none>" when empty. */
export function formatLabels(labels: Record<string, string> | undefined | null): string {
  const s = labelSetString(labels);
  return s === '' ? '<none>' : s;
}

/** labels.Set.String(): sorted "k=v" pairs joined by commas. */
export function labelSetString(labels: Record<string, string> | undefined | null): string {
  if (!labels) return '';
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

interface Requirement {
  key: string;
  text: string;
}

/**
 * LabelSelectorAsSelector(sel).String(). A nil selector selects nothing and an empty one
 * everything; both print as "". Throws on a selector upstream would reject.
 */
export function labelSelectorString(sel: any): string {
  if (sel === undefined || sel === null) return '';
  const matchLabels: Record<string, string> = sel.matchLabels ?? {};
  const exprs: any[] = sel.matchExpressions ?? [];
  const reqs: Requirement[] = [];
  for (const k of Object.keys(matchLabels)) {
    reqs.push({ key: k, text: `${k}=${matchLabels[k]}` });
  }
  for (const e of exprs) {
    const key = String(e?.key ?? '');
    const values: string[] = Array.isArray(e?.values) ? e.values.map(String) : [];
    switch (e?.operator) {
      case 'In':
      case 'NotIn': {
        if (values.length === 0) throw new Error(`for '${e.operator}' operator, values set can't be empty`);
        // Values print sorted regardless of the order they were given in.
        const vs = [...values].sort().join(',');
        reqs.push({ key, text: `${key} ${e.operator === 'In' ? 'in' : 'notin'} (${vs})` });
        break;
      }
      case 'Exists':
      case 'DoesNotExist':
        if (values.length !== 0) throw new Error(`values set must be empty for exists and does not exist`);
        reqs.push({ key, text: e.operator === 'Exists' ? key : `!${key}` });
        break;
      default:
        throw new Error(`"${e?.operator}" is not a valid label selector operator`);
    }
  }
  // Requirements are ordered by key; Array.prototype.sort is stable, so ties keep their order.
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(',');
}

/** metav1.FormatLabelSelector: "<none>" when it selects everything/nothing, "<error>" if invalid. */
export function formatLabelSelector(sel: any): string {
  let s: string;
  try {
    s = labelSelectorString(sel);
  } catch {
    return '<error>';
  }
  return s === '' ? '<none>' : s;
}
