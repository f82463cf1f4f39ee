import type { AnyPlugin, Handle } from '../../interface.js';
import { normalizeImage } from '../../nodeinfo.js';
import { MAX_NODE_SCORE } from '../../types.js';

const MB = 1024 * 1024;
const MIN_THRESHOLD = 23 * MB;
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/**
 * Favors nodes that already have the pod's images, weighting each image by its size and by how
 * widely it is spread (so one node with a popular image does not attract everything).
 */
export function newImageLocality(_args: unknown, h: Handle): AnyPlugin {
  return {
    name: 'ImageLocality',
    score(_s, pi, ni) {
      if (!ni.images.size) return 0;
      const spec = pi.pod.spec;
      const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
      const total = h.snapshot().nodes().length;
      let sum = 0;
      for (const c of containers) {
        if (!c.image) continue;
        const name = normalizeImage(c.image);
        const size = ni.images.get(name);
        if (size === undefined) continue;
        sum += Math.trunc(size * (h.snapshot().imageNodeCount(name) / total));
      }
      const max = MAX_CONTAINER_THRESHOLD * containers.length;
      sum = Math.min(Math.max(sum, MIN_THRESHOLD), max);
      return Math.trunc((MAX_NODE_SCORE * (sum - MIN_THRESHOLD)) / (max - MIN_THRESHOLD));
    },
  };
}
