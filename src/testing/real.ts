import type { TestContext } from 'node:test';
import { execFileSync } from 'node:child_process';

/** True when tests must fail rather than skip if a real external part (etcd, containerd, …) is missing. */
export const requireReal = process.env.SKIFF_REQUIRE_REAL === '1';

/**
 * Skip the test (with a one-line reason) when `missing` is a reason string; under SKIFF_REQUIRE_REAL=1 fail instead.
 * Returns true when the test may proceed.
 */
export function needs(t: TestContext, missing: string | undefined): boolean {
  if (!missing) return true;
  if (requireReal) throw new Error(`SKIFF_REQUIRE_REAL=1 but ${missing}`);
  t.skip(missing);
  return false;
}

/** Path of an executable on PATH, or undefined. */
export function which(cmd: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
