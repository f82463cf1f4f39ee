/**
 * Paths of keys that appear twice in the same JSON object (`spec.replicas`, `spec.containers[0].name`),
 * which JSON.parse silently collapses. Upstream's strict decoding reports them as
 * `duplicate field "…"`. A single linear scan over already-valid JSON text.
 */
export function findDuplicateKeys(text: string): string[] {
  const out: string[] = [];
  type Frame = { kind: 'obj'; keys: Set<string>; key?: string; path: string } | { kind: 'arr'; index: number; path: string };
  const stack: Frame[] = [];
  let i = 0;
  const n = text.length;
  const childPath = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    if (top.kind === 'arr') return `${top.path}[${top.index}]`;
    return top.path ? `${top.path}.${top.key}` : top.key!;
  };
  const readString = (): string => {
    // i is at the opening quote.
    let s = '';
    let j = i + 1;
    for (;;) {
      const c = text.charCodeAt(j);
      if (c === 34) break;
      if (c === 92) {
        // Escapes are rare in keys: find the closing quote and let JSON.parse decode the literal.
        let k = j;
        while (k < n && text.charCodeAt(k) !== 34) k += text.charCodeAt(k) === 92 ? 2 : 1;
        s = JSON.parse(text.slice(i, k + 1));
        i = k + 1;
        return s;
      }
      j++;
    }
    s = text.slice(i + 1, j);
    i = j + 1;
    return s;
  };
  let expectKey = false;
  while (i < n) {
    const c = text[i];
    if (c === '{') {
      stack.push({ kind: 'obj', keys: new Set(), path: childPath() });
      expectKey = true;
      i++;
    } else if (c === '[') {
      stack.push({ kind: 'arr', index: 0, path: childPath() });
      expectKey = false;
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      i++;
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'arr') top.index++;
      else expectKey = true;
      i++;
    } else if (c === '"') {
      const top = stack[stack.length - 1];
      if (expectKey && top?.kind === 'obj') {
        const key = readString();
        if (top.keys.has(key)) out.push(top.path ? `${top.path}.${key}` : key);
        top.keys.add(key);
        top.key = key;
        expectKey = false;
      } else {
        readString();
      }
    } else {
      i++;
    }
  }
  return out;
}
