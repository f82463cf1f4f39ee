/**
 * `fn` remembered per text argument. For small vocabularies that recur on every write (quantities
 * such as "100m" or "64Mi"): at most `limit` results are kept, then the memory starts over, so a
 * client sending ever-new texts cannot grow it without bound.
 */
export function memoByText<T>(fn: (text: string) => T, limit = 4096): (text: string) => T {
  const memo = new Map<string, T>();
  return (text) => {
    let v = memo.get(text);
    if (v === undefined && !memo.has(text)) {
      v = fn(text);
      if (memo.size >= limit) memo.clear();
      memo.set(text, v);
    }
    return v as T;
  };
}
