import type { WatchCache, CachedObject } from '../../watchcache.js';
import { REGISTRY_PREFIX } from '../../watchcache.js';
import type { UserInfo } from '../types.js';
import { subjectKey, type PolicyRule, type RoleRef } from './rules.js';

export const RBAC_KEYS = {
  roles: 'rbac.authorization.k8s.io/roles',
  rolebindings: 'rbac.authorization.k8s.io/rolebindings',
  clusterroles: 'rbac.authorization.k8s.io/clusterroles',
  clusterrolebindings: 'rbac.authorization.k8s.io/clusterrolebindings',
} as const;

/** The part of the watch cache RBAC reads (a fake in unit tests). */
export type CacheView = Pick<WatchCache, 'list' | 'count' | 'subscribe' | 'get'>;

/** One binding as the index keeps it: where it is and what it grants. */
export interface IndexedBinding {
  kind: 'ClusterRoleBinding' | 'RoleBinding';
  name: string;
  namespace?: string;
  roleRef: RoleRef;
}

/** Where a rule came from, for SelfSubjectRulesReview and escalation checks. */
export interface ResolvedRules {
  rules: PolicyRule[];
  errors: string[];
}

const EMPTY: readonly IndexedBinding[] = Object.freeze([]);

/**
 * RBAC state kept in step with the watch cache: bindings filed by subject (`u:NAME`, `g:GROUP`) so
 * a decision looks at the few bindings that name the requester, not at all of them. Rebuilt lazily
 * after any change to the four RBAC resources; lookups between changes cost a few map reads.
 */
export class RbacIndex {
  private cache?: CacheView;
  private dirty = true;
  private counts = '';
  private clusterBySubject = new Map<string, IndexedBinding[]>();
  /** namespace → subject → bindings. */
  private nsBySubject = new Map<string, Map<string, IndexedBinding[]>>();
  private clusterRoles = new Map<string, PolicyRule[]>();
  private roles = new Map<string, PolicyRule[]>();
  private unsubscribe: (() => void)[] = [];

  attach(cache: CacheView): void {
    this.detach();
    this.cache = cache;
    const listener = { event: () => void (this.dirty = true), reset: () => void (this.dirty = true) };
    for (const k of Object.values(RBAC_KEYS)) this.unsubscribe.push(cache.subscribe(k, listener));
    this.dirty = true;
  }

  detach(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
  }

  get attached(): boolean {
    return !!this.cache;
  }

  /** The cache's initial load (and reloads) send no events: object counts catch those. */
  private fresh(): void {
    const c = this.cache;
    if (!c) return;
    const counts = `${c.count(RBAC_KEYS.roles)},${c.count(RBAC_KEYS.rolebindings)},${c.count(RBAC_KEYS.clusterroles)},${c.count(RBAC_KEYS.clusterrolebindings)}`;
    if (!this.dirty && counts === this.counts) return;
    this.dirty = false;
    this.counts = counts;
    this.rebuild(c);
  }

  private rebuild(c: CacheView): void {
    const all = (k: string) => c.list(k, `${REGISTRY_PREFIX}${k}/`);
    const clusterRoles = new Map<string, PolicyRule[]>();
    for (const o of all(RBAC_KEYS.clusterroles)) clusterRoles.set(o.obj.metadata.name, o.obj.rules ?? []);
    const roles = new Map<string, PolicyRule[]>();
    for (const o of all(RBAC_KEYS.roles)) roles.set(`${o.obj.metadata.namespace}/${o.obj.metadata.name}`, o.obj.rules ?? []);
    const clusterBySubject = new Map<string, IndexedBinding[]>();
    for (const o of all(RBAC_KEYS.clusterrolebindings)) file(clusterBySubject, o, 'ClusterRoleBinding');
    const nsBySubject = new Map<string, Map<string, IndexedBinding[]>>();
    for (const o of all(RBAC_KEYS.rolebindings)) {
      const ns = o.obj.metadata.namespace;
      let m = nsBySubject.get(ns);
      if (!m) nsBySubject.set(ns, (m = new Map()));
      file(m, o, 'RoleBinding', ns);
    }
    this.clusterRoles = clusterRoles;
    this.roles = roles;
    this.clusterBySubject = clusterBySubject;
    this.nsBySubject = nsBySubject;
  }

  /** Bindings that apply to the user: cluster-wide ones, then the namespace's (when given). */
  bindingsFor(user: UserInfo, namespace: string | undefined, visit: (b: IndexedBinding) => boolean | void): void {
    this.fresh();
    const keys = subjectKeysOf(user);
    for (const k of keys) for (const b of this.clusterBySubject.get(k) ?? EMPTY) if (visit(b)) return;
    if (!namespace) return;
    const m = this.nsBySubject.get(namespace);
    if (!m) return;
    for (const k of keys) for (const b of m.get(k) ?? EMPTY) if (visit(b)) return;
  }

  /** The rules a binding's roleRef grants, or an upstream-style error when the role is missing. */
  rulesOf(b: IndexedBinding): PolicyRule[] | string {
    this.fresh();
    if (b.roleRef.kind === 'ClusterRole') return this.clusterRoles.get(b.roleRef.name) ?? `clusterrole.rbac.authorization.k8s.io "${b.roleRef.name}" not found`;
    if (b.roleRef.kind === 'Role' && b.namespace) return this.roles.get(`${b.namespace}/${b.roleRef.name}`) ?? `role.rbac.authorization.k8s.io "${b.roleRef.name}" not found`;
    return `unknown roleRef kind ${JSON.stringify(b.roleRef.kind)}`;
  }

  clusterRoleRules(name: string): PolicyRule[] | undefined {
    this.fresh();
    return this.clusterRoles.get(name);
  }

  roleRules(namespace: string, name: string): PolicyRule[] | undefined {
    this.fresh();
    return this.roles.get(`${namespace}/${name}`);
  }

  /** Every rule the user holds in the namespace ("" = cluster-wide only), as upstream's RulesFor. */
  rulesFor(user: UserInfo, namespace: string | undefined): ResolvedRules {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.bindingsFor(user, namespace || undefined, (b) => {
      const r = this.rulesOf(b);
      if (typeof r === 'string') errors.push(r);
      else rules.push(...r);
    });
    return { rules, errors };
  }
}

function file(m: Map<string, IndexedBinding[]>, o: CachedObject, kind: IndexedBinding['kind'], namespace?: string): void {
  const obj = o.obj;
  if (!obj.roleRef) return;
  const b: IndexedBinding = { kind, name: obj.metadata.name, namespace, roleRef: obj.roleRef };
  const seen = new Set<string>();
  for (const s of obj.subjects ?? []) {
    const k = subjectKey(s, namespace);
    if (!k || seen.has(k)) continue;
    seen.add(k);
    let list = m.get(k);
    if (!list) m.set(k, (list = []));
    list.push(b);
  }
}

/** Users are filed under their name; every group under the group's name. */
export function subjectKeysOf(user: UserInfo): string[] {
  const keys = [`u:${user.name}`];
  for (const g of user.groups) keys.push(`g:${g}`);
  return keys;
}
