import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findResource } from '../resources.js';
import { REGISTRY_PREFIX } from '../watchcache.js';
import { StatusError } from '../status.js';
import { resourceQuotaPlugin } from './resourcequota.js';
import type { AdmissionRequest } from './types.js';

/** A namespace "ns" holding `objs` (storage key → object) and the quota "rq", over an in-memory cache. */
function world(hard: Record<string, string>) {
  const objs = new Map<string, any>();
  const quotaKey = `${REGISTRY_PREFIX}resourcequotas/ns/rq`;
  objs.set(quotaKey, { metadata: { name: 'rq', namespace: 'ns' }, spec: { hard }, status: { hard, used: {} } });
  const cache = {
    count: (key: string) => [...objs.keys()].filter((k) => k.startsWith(`${REGISTRY_PREFIX}${key}/`)).length,
    list: (_key: string, prefix: string) => [...objs].filter(([k]) => k.startsWith(prefix)).map(([, obj]) => ({ obj })),
    get: (k: string) => (objs.has(k) ? { obj: objs.get(k) } : undefined),
    async sync() {},
  };
  const registry: any = {
    cache,
    keyFor: (_info: any, ns: string, name: string) => `${REGISTRY_PREFIX}pods/${ns}/${name}`,
    async update(_info: any, _ns: string, _name: string, next: any) {
      objs.set(quotaKey, next);
      return next;
    },
  };
  const plugin = resourceQuotaPlugin();
  const pod = (name: string, limits: Record<string, string>, requests: Record<string, string> = {}) => ({
    metadata: { name, namespace: 'ns' },
    spec: { containers: [{ name: 'c', image: 'i', resources: { limits, requests } }] },
  });
  /** Admits a pod create and, when admitted, stores it (as the registry would). */
  async function create(p: any): Promise<void> {
    const r: AdmissionRequest = { info: findResource('', 'v1', 'pods')!, operation: 'CREATE', object: p, namespace: 'ns', dryRun: false, registry, warnings: [] };
    await plugin.validate!(r);
    objs.set(`${REGISTRY_PREFIX}pods/ns/${p.metadata.name}`, p);
  }
  const used = () => objs.get(quotaKey).status.used;
  const remove = (name: string) => objs.delete(`${REGISTRY_PREFIX}pods/ns/${name}`);
  return { create, pod, used, remove };
}

describe('ResourceQuota admission', () => {
  it('records usage in the quantities\' own format, as resource.Quantity.Add', async () => {
    const w = world({ pods: '5', 'limits.memory': '1Gi', 'requests.cpu': '2' });
    await w.create(w.pod('a', { memory: '128Mi' }, { cpu: '100m' }));
    await w.create(w.pod('b', { memory: '128Mi' }, { cpu: '250m' }));
    assert.deepEqual(w.used(), { pods: '2', 'limits.memory': '256Mi', 'requests.cpu': '350m' });
    await w.create(w.pod('c', { memory: '1M' }, { cpu: '1' }));
    assert.equal(w.used()['limits.memory'], '269435456', 'a sum no longer whole Mi prints in the first term\'s format, in bytes');
  });

  it('says what was requested, used and limited in upstream\'s words and formats', async () => {
    const w = world({ pods: '2', 'limits.memory': '512Mi' });
    await w.create(w.pod('a', { memory: '200Mi' }));
    await w.create(w.pod('b', { memory: '250Mi' }));
    const err = await w.create(w.pod('c', { memory: '250Mi' })).then(() => undefined, (e) => e);
    assert.ok(err instanceof StatusError);
    assert.equal(err.code, 403);
    assert.equal(err.message, 'pods "c" is forbidden: exceeded quota: rq, requested: limits.memory=250Mi,pods=1, used: limits.memory=450Mi,pods=2, limited: limits.memory=512Mi,pods=2');
  });

  it('a recount after deletions keeps the formats', async () => {
    const w = world({ pods: '1', 'limits.memory': '1Gi' });
    await w.create(w.pod('a', { memory: '128Mi' }));
    await assert.rejects(w.create(w.pod('x', { memory: '1Mi' })), /exceeded quota: rq, requested: pods=1, used: pods=1, limited: pods=1/);
    w.remove('a');
    await w.create(w.pod('b', { memory: '64Mi' }));
    assert.deepEqual(w.used(), { pods: '1', 'limits.memory': '64Mi' });
  });
});
