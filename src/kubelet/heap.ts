/**
 * A node agent's young generation, capped. V8 doubles the new space under allocation pressure up
 * to 32 MB and never gives it back, so a burst of pods leaves an idle agent ~24 MB larger for the
 * rest of its life. `--max-semi-space-size` can only be set at process start; the growth factor can
 * be changed at any time, so growth stops once the new space reaches the cap. For `skiff agent`
 * only: in `skiff up` the API server shares the process and wants its large new space.
 */
import v8 from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';

export const AGENT_NEW_SPACE_MB = 8;

function newSpaceBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Stops the new space from growing past `mb`. GC entries reach an observer a little after the GC,
 * when V8 may have doubled the space once more: so growth stops from half the cap on.
 */
export function capYoungGeneration(mb = AGENT_NEW_SPACE_MB): void {
  const freeze = () => v8.setFlagsFromString('--semi-space-growth-factor=1');
  const half = (mb / 2) * 1048576;
  if (newSpaceBytes() >= half) return freeze();
  const obs = new PerformanceObserver(() => {
    if (newSpaceBytes() < half) return;
    freeze();
    obs.disconnect();
  });
  obs.observe({ entryTypes: ['gc'] });
}
