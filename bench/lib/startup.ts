import type { RestClient } from '../../src/client/rest.js';
import type { Backend } from '../../src/storage/backend.js';

/**
 * When the API server hands each pod to storage, by name: the moment it has just stamped
 * creationTimestamp. Upstream's SLO counts from creationTimestamp, which has 1 s precision; this
 * is the same instant in milliseconds, read from the API server running in this process.
 */
export function podCreationTimes(apiServer: unknown): Map<string, number> {
  const backend = (apiServer as { opts: { backend: Backend } }).opts.backend;
  const times = new Map<string, number>();
  const create = backend.create.bind(backend);
  backend.create = (key, value) => {
    const m = /^\/registry\/pods\/[^/]+\/([^/]+)$/.exec(key);
    if (m) times.set(m[1], performance.now());
    return create(key, value);
  };
  return times;
}

/**
 * Pod startup latency, two ways: upstream's SLO (from the pod's creation, `creationTimes`, to the
 * pod observed Running through a watch) and the client's view (from the create request sent,
 * which adds the time the request waits behind the others of a burst). `start(name)` creates the
 * pod and resolves when it runs.
 */
export async function startupTimer(client: RestClient, podObj: (name: string) => unknown, creationTimes?: Map<string, number>) {
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
    /** Creation → Running, in ms (upstream's SLO); from the request when creation times are not known. */
    latency: (name: string) => running.get(name)! - (creationTimes?.get(name) ?? sent.get(name)!),
    /** Create request sent → Running, in ms. */
    fromRequest: (name: string) => running.get(name)! - sent.get(name)!,
    stop: () => ac.abort(),
  };
}
