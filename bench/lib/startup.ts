import type { RestClient } from '../../src/client/rest.js';

/**
 * Pod startup latency as upstream's SLO defines it: from the create request to the pod observed
 * Running through a watch. `start(name)` creates the pod and resolves when it runs.
 */
export async function startupTimer(client: RestClient, podObj: (name: string) => unknown) {
  const created = new Map<string, number>();
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
        created.set(name, performance.now());
        void client.create('/api/v1/namespaces/default/pods', podObj(name));
      }),
    /** create → Running, in ms. */
    latency: (name: string) => running.get(name)! - created.get(name)!,
    stop: () => ac.abort(),
  };
}
