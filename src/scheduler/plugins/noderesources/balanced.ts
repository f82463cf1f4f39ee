import type { AnyPlugin } from '../../interface.js';
import { Status } from '../../status.js';
import { MAX_NODE_SCORE } from '../../types.js';
import { allocatableAndRequested, type ResourceSpec } from './fit.js';

/** Favors nodes whose cpu and memory would be equally used (1 - std of the used fractions). */
export function newBalancedAllocation(args: { resources?: ResourceSpec[] } = {}): AnyPlugin {
  const resources = args.resources?.length ? args.resources.map((r) => r.name) : ['cpu', 'memory'];
  const fractions: number[] = [];
  const cpuMemOnly = resources.length === 2 && resources[0] === 'cpu' && resources[1] === 'memory';
  return {
    name: 'NodeResourcesBalancedAllocation',
    preScore(_s, pi) {
      const r = pi.requests;
      const any = resources.some((n) => (n === 'cpu' ? r.milliCPU : n === 'memory' ? r.memory : n === 'ephemeral-storage' ? r.ephemeralStorage : r.scalar?.get(n) ?? 0) > 0);
      return any ? null : Status.skip();
    },
    score(_s, pi, ni) {
      if (cpuMemOnly) {
        // The default resources without the generic path's tuples: this runs for every scored node.
        const ac = ni.allocatable.milliCPU;
        const am = ni.allocatable.memory;
        if (ac === 0 || am === 0) return MAX_NODE_SCORE;
        const fc = Math.min(1, (ni.requested.milliCPU + pi.requests.milliCPU) / ac);
        const fm = Math.min(1, (ni.requested.memory + pi.requests.memory) / am);
        return Math.trunc((1 - Math.abs((fc - fm) / 2)) * MAX_NODE_SCORE);
      }
      fractions.length = 0;
      let total = 0;
      for (const n of resources) {
        const [alloc, req] = allocatableAndRequested(ni, pi, n, false);
        if (alloc === 0) continue;
        const f = Math.min(1, req / alloc);
        fractions.push(f);
        total += f;
      }
      let std = 0;
      if (fractions.length === 2) std = Math.abs((fractions[0] - fractions[1]) / 2);
      else if (fractions.length > 2) {
        const mean = total / fractions.length;
        let sum = 0;
        for (const f of fractions) sum += (f - mean) * (f - mean);
        std = Math.sqrt(sum / fractions.length);
      }
      return Math.trunc((1 - std) * MAX_NODE_SCORE);
    },
  };
}
