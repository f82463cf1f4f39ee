import type { RestClient } from '../../src/client/rest.js';
import type { Registry } from '../../src/apiserver/registry.js';

/**
 * When the API server starts creating each pod, by name: it stamps creationTimestamp a moment later
 * (after checking the namespace), before admission and validation. Upstream's SLO counts from
 * creationTimestamp, which has 1 s precision; this is the same instant in milliseconds (a shade
 * early, so latencies err long), read from the API server running in this process.
 */
export function podCreationTimes(apiServer: { registry: Registry }): Map<string, number> {
  const registry = apiServer.registry;
  const times = new Map<string, number>();
  const create = registry.create.bind(registry);
  registry.create = (info, namespace, input, opts) => {
    if (info.resource === 'pods' && typeof input?.metadata?.name === 'string') times.set(input.metadata.name, performance.now());
    return create(info, namespace, input, opts);
  };
  return times;
}

/**
 * Pod startup latency, two ways: upstream's SLO (from the pod's creation, `creationTimes`, to the
 * pod observed Running through a watch) and the client's view (from the create request sent,
 * which adds the time the request waits behind the others of a burst). `start(name)` creates the
 * pod and resolves when it runs.
 */
export async function startupTimer(client: RestClient, podObj: (name: string) => unknown, creationTimes: Map<string, number>) {
  const sent = new Map<string, number>();
  const running = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const ac = new AbortController();
  const list = await client.get('/api/v1/namespaces/default/pods');
  void client
    .watch(
      '/api/v1/namespaces/default/pods',
      { resourceVersion: list.metadata.resourceVersion },
      (ev) => {
        const p = ev.object;
        const name = p?.metadata?.name;
        if (name && p.status?.phase === 'Running' && !running.has(name)) {
          running.set(name, performance.now());
          waiters.get(name)?.();
        }
      },
      ac.signal,
    )
    .catch(() => undefined);
  return {
    start: (name: string) =>
      new Promise<void>((resolve) => {
        waiters.set(name, resolve);
        sent.set(name, performance.now());
        void client.create('/api/v1/namespaces/default/pods', podObj(name));
      }),
    /** Creation → Running, in ms (upstream's SLO). */
    latency: (name: string) => {
      const created = creationTimes.get(name);
      if (created === undefined) throw new Error(`no creation time for pod ${name}`);
      return running.get(name)! - created;
    },
    /** Create request sent → Running, in ms. */
    fromRequest: (name: string) => running.get(name)! - sent.get(name)!,
    stop: () => ac.abort(),
  };
}
