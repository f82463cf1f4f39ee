import type { AnyPlugin } from '../../interface.js';

/** Higher priority first; among equals, the pod that entered the queue first. */
export function newPrioritySort(): AnyPlugin {
  return {
    name: 'PrioritySort',
    less: (a, b) => (a.pi.priority !== b.pi.priority ? a.pi.priority > b.pi.priority : a.timestamp < b.timestamp),
  };
}
