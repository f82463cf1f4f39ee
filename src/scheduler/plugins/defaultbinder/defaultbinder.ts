import type { AnyPlugin, Handle } from '../../interface.js';
import { Status } from '../../status.js';

/** Binds through the API server's pods/binding subresource. */
export function newDefaultBinder(_args: unknown, h: Handle): AnyPlugin {
  return {
    name: 'DefaultBinder',
    async bind(_s, pi, nodeName) {
      if (!h.api) return Status.error('no API to bind with');
      try {
        await h.api.bind(pi.pod, nodeName);
        return null;
      } catch (e) {
        return Status.error((e as Error).message);
      }
    },
  };
}
