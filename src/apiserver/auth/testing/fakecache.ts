import type { CacheListener, CachedObject } from '../../watchcache.js';
import { REGISTRY_PREFIX } from '../../watchcache.js';
import type { CacheView } from '../rbac/index.js';

const KEYS = ['rbac.authorization.k8s.io/roles', 'rbac.authorization.k8s.io/rolebindings', 'rbac.authorization.k8s.io/clusterroles', 'rbac.authorization.k8s.io/clusterrolebindings', 'pods', 'secrets', 'configmaps', 'serviceaccounts', 'namespaces'];

/** An in-memory stand-in for the watch cache, for unit tests of authorizers and admission plugins. */
export class FakeCache implements CacheView {
  private readonly maps = new Map<string, Map<string, CachedObject>>();
  private readonly listeners = new Map<string, Set<CacheListener>>();
  private rv = 1;

  storageKeyOf(key: string): string {
    const rest = key.slice(REGISTRY_PREFIX.length);
    return KEYS.find((k) => rest.startsWith(`${k}/`)) ?? rest.split('/')[0];
  }

  put(storageKey: string, obj: any): void {
    const m = obj.metadata;
    const key = `${REGISTRY_PREFIX}${storageKey}/${m.namespace ? `${m.namespace}/` : ''}${m.name}`;
    let map = this.maps.get(storageKey);
    if (!map) this.maps.set(storageKey, (map = new Map()));
    const prev = map.get(key);
    const c: CachedObject = { key, obj, raw: JSON.stringify(obj), rv: ++this.rv };
    map.set(key, c);
    for (const l of this.listeners.get(storageKey) ?? []) l.event({ type: prev ? 'MODIFIED' : 'ADDED', rv: c.rv, storageKey, object: c, prev });
  }

  remove(storageKey: string, namespace: string | undefined, name: string): void {
    const key = `${REGISTRY_PREFIX}${storageKey}/${namespace ? `${namespace}/` : ''}${name}`;
    const prev = this.maps.get(storageKey)?.get(key);
    if (!prev) return;
    this.maps.get(storageKey)!.delete(key);
    for (const l of this.listeners.get(storageKey) ?? []) l.event({ type: 'DELETED', rv: ++this.rv, storageKey, object: prev, prev });
  }

  get(key: string): CachedObject | undefined {
    return this.maps.get(this.storageKeyOf(key))?.get(key);
  }

  list(storageKey: string, prefix: string): CachedObject[] {
    return [...(this.maps.get(storageKey)?.values() ?? [])].filter((c) => c.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  count(storageKey: string): number {
    return this.maps.get(storageKey)?.size ?? 0;
  }

  subscribe(storageKey: string, l: CacheListener): () => void {
    let s = this.listeners.get(storageKey);
    if (!s) this.listeners.set(storageKey, (s = new Set()));
    s.add(l);
    return () => s!.delete(l);
  }
}
