/**
 * Polls `fn` until it returns a truthy value (errors count as "not yet"), or fails after `ms` with
 * what it was waiting for and the last error. Tests wait on conditions, never on fixed sleeps.
 */
export async function until<T = any>(what: string, fn: () => Promise<T | undefined | false | null> | T | undefined | false | null, ms = 30_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
