const OBJ = 0;
const ARR = 1;
/** Past this many keys an object's are kept in a Set rather than compared in place. */
const SMALL = 24;

/**
 * Paths of keys that appear twice in the same JSON object (`spec.replicas`, `spec.containers[0].name`),
 * which JSON.parse silently collapses. Upstream's strict decoding reports them as
 * `duplicate field "…"`. A single linear scan over already-valid JSON text that allocates next to
 * nothing (every create and update runs it): keys are compared where they stand in the text, and
 * paths are built only for a duplicate. Text with escapes takes the general scan.
 */
export function findDuplicateKeys(text: string): string[] {
  if (text.indexOf('\\') >= 0) return findDuplicateKeysDecoding(text);
  const n = text.length;
  const kind: number[] = [];
  /** Per open object: the [start, end) offsets of its keys so far, flat. */
  const spans: number[][] = [];
  const sets: (Set<string> | undefined)[] = [];
  /** Per open container: its current key's offsets (objects) or item index (arrays). */
  const keyStart: number[] = [];
  const keyEnd: number[] = [];
  const index: number[] = [];
  let depth = -1;
  let expectKey = false;
  let out: string[] | undefined;
  const sameText = (a: number, b: number, len: number): boolean => {
    for (let k = 0; k < len; k++) if (text.charCodeAt(a + k) !== text.charCodeAt(b + k)) return false;
    return true;
  };
  const pathTo = (s: number, e: number): string => {
    let path = '';
    for (let d = 0; d < depth; d++) {
      if (kind[d] === ARR) path += `[${index[d]}]`;
      else path = path ? `${path}.${text.slice(keyStart[d], keyEnd[d])}` : text.slice(keyStart[d], keyEnd[d]);
    }
    const key = text.slice(s, e);
    return path ? `${path}.${key}` : key;
  };
  for (let i = 0; i < n; ) {
    const c = text.charCodeAt(i);
    if (c === 123) {
      depth++;
      kind[depth] = OBJ;
      (spans[depth] ??= []).length = 0;
      sets[depth] = undefined;
      expectKey = true;
      i++;
    } else if (c === 91) {
      depth++;
      kind[depth] = ARR;
      index[depth] = 0;
      expectKey = false;
      i++;
    } else if (c === 125 || c === 93) {
      depth--;
      i++;
    } else if (c === 44) {
      if (kind[depth] === ARR) index[depth]++;
      else expectKey = true;
      i++;
    } else if (c === 34) {
      // No escapes in this text: the next quote closes the string.
      const s = i + 1;
      const e = text.indexOf('"', s);
      if (e < 0) break;
      if (expectKey && kind[depth] === OBJ) {
        const seen = spans[depth];
        let dup = false;
        const set = sets[depth];
        if (set) {
          const key = text.slice(s, e);
          dup = set.has(key);
          set.add(key);
        } else {
          for (let k = 0; k < seen.length && !dup; k += 2) dup = seen[k + 1] - seen[k] === e - s && sameText(seen[k], s, e - s);
          seen.push(s, e);
          if (seen.length > 2 * SMALL) {
            const big = new Set<string>();
            for (let k = 0; k < seen.length; k += 2) big.add(text.slice(seen[k], seen[k + 1]));
            sets[depth] = big;
          }
        }
        if (dup) (out ??= []).push(pathTo(s, e));
        keyStart[depth] = s;
        keyEnd[depth] = e;
        expectKey = false;
      }
      i = e + 1;
    } else {
      i++;
    }
  }
  return out ?? [];
}

/** findDuplicateKeys for text with escapes: keys are decoded, so `"k\u0041"` and `"kA"` collide. */
function findDuplicateKeysDecoding(text: string): string[] {
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

/** For tests: the decoding scan, to check the in-place one against. */
export const internals = { findDuplicateKeysDecoding };
