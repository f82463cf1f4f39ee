import type { RestClient } from '../../client/rest.js';

export interface ServedResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

/**
 * Every served top-level resource at its group's preferred version, from /api/v1 and /apis (the
 * legacy discovery documents, as client-go's ServerPreferredResources).
 */
export async function discoverResources(client: RestClient): Promise<ServedResource[]> {
  const out: ServedResource[] = [];
  const add = (group: string, version: string, list: any) => {
    for (const r of list?.resources ?? []) {
      if (String(r.name).includes('/')) continue;
      out.push({ group, version, resource: r.name, kind: r.kind, namespaced: !!r.namespaced, verbs: r.verbs ?? [] });
    }
  };
  add('', 'v1', await client.get('/api/v1'));
  const groups = await client.get('/apis');
  await Promise.all(
    (groups.groups ?? []).map(async (g: any) => {
      const v = g.preferredVersion?.version ?? g.versions?.[0]?.version;
      if (!v) return;
      add(g.name, v, await client.get(`/apis/${g.name}/${v}`));
    }),
  );
  return out;
}

/** "apps/v1" → { group: "apps", version: "v1" }; "v1" → core. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}
