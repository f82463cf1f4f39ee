/**
 * /livez, /readyz and /healthz as kube-apiserver serves them: a list of named checks, each also
 * reachable alone (`/readyz/etcd`); `?verbose` lists every check (`[+]etcd ok`), `?exclude=NAME`
 * skips one, and a failing check makes the endpoint answer 500 with the list and the failed line.
 */

/** One named check: resolves when healthy, throws (or rejects) when not. */
export interface HealthCheck {
  name: string;
  run(): void | Promise<void>;
}

export type HealthEndpoint = 'livez' | 'readyz' | 'healthz';

export interface HealthAnswer {
  code: number;
  body: string;
}

/** How long one check may take before it counts as failed (upstream gives etcd a few seconds too). */
const CHECK_TIMEOUT_MS = 2000;

async function passes(c: HealthCheck): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(() => c.run()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return undefined;
  } catch (e) {
    return (e as Error)?.message || String(e);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The answer to `/<endpoint>[/<check>]?<query>`: undefined for an unknown check name (a 404, as
 * upstream). Upstream withholds a failed check's reason from the listing ("reason withheld") and
 * gives it for the single-check path; so does this.
 */
export async function answerHealth(endpoint: HealthEndpoint, checks: HealthCheck[], single: string | undefined, query: URLSearchParams): Promise<HealthAnswer | undefined> {
  if (single !== undefined) {
    const c = checks.find((x) => x.name === single);
    if (!c) return undefined;
    const err = await passes(c);
    return err === undefined ? { code: 200, body: 'ok' } : { code: 500, body: `internal server error: ${err}\n` };
  }
  const exclude = new Set(query.getAll('exclude'));
  const lines: string[] = [];
  let failed = false;
  const results = await Promise.all(checks.map(async (c) => ({ c, excluded: exclude.has(c.name), err: exclude.has(c.name) ? undefined : await passes(c) })));
  for (const { c, excluded, err } of results) {
    if (excluded) lines.push(`[+]${c.name} excluded: ok`);
    else if (err === undefined) lines.push(`[+]${c.name} ok`);
    else {
      failed = true;
      lines.push(`[-]${c.name} failed: reason withheld`);
    }
  }
  // Sorted, as upstream lists the names from a set.
  const unknown = [...exclude].filter((n) => !checks.some((c) => c.name === n)).sort();
  if (unknown.length) lines.push(`warn: some health checks cannot be excluded: no matches for ${unknown.map((n) => JSON.stringify(n)).join(',')}`);
  const verbose = query.has('verbose');
  if (!failed && !verbose) return { code: 200, body: 'ok' };
  lines.push(failed ? `${endpoint} check failed` : `${endpoint} check passed`);
  return { code: failed ? 500 : 200, body: lines.join('\n') + '\n' };
}

/**
 * The checks each endpoint runs, in upstream's order and with its names: the datastore is "etcd"
 * whatever backs it (as in k3s's kine); readiness adds the watch cache's sync and shutdown.
 */
export function healthChecks(endpoint: HealthEndpoint, o: { storage: () => Promise<unknown>; ready: () => boolean; shuttingDown?: () => boolean }): HealthCheck[] {
  const storage: HealthCheck = { name: 'etcd', run: async () => void (await o.storage()) };
  const started = (name: string): HealthCheck => ({
    name,
    run: () => {
      if (!o.ready()) throw new Error('not finished');
    },
  });
  const hooks = [
    started('poststarthook/start-apiserver-admission-initializer'),
    started('poststarthook/generic-apiserver-start-informers'),
    started('poststarthook/rbac/bootstrap-roles'),
    started('poststarthook/scheduling/bootstrap-system-priority-classes'),
    started('poststarthook/bootstrap-controller'),
  ];
  const base: HealthCheck[] = [{ name: 'ping', run: () => undefined }, { name: 'log', run: () => undefined }, storage];
  if (endpoint !== 'readyz') return [...base, ...hooks];
  return [
    ...base,
    { ...storage, name: 'etcd-readiness' },
    started('informer-sync'),
    ...hooks,
    {
      name: 'shutdown',
      run: () => {
        if (o.shuttingDown?.()) throw new Error('process is shutting down');
      },
    },
  ];
}
