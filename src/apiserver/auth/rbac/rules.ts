import type { Attributes } from '../types.js';

/** rbac.authorization.k8s.io/v1 PolicyRule. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount' | string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: 'Role' | 'ClusterRole' | string;
  name: string;
}

const has = (list: readonly string[] | undefined, v: string): boolean => !!list && (list.includes('*') || list.includes(v));

export function verbMatches(r: PolicyRule, verb: string): boolean {
  return has(r.verbs, verb);
}

export function apiGroupMatches(r: PolicyRule, group: string): boolean {
  return has(r.apiGroups, group);
}

/** `pods`, `pods/status`, `*` and `* /status` (any resource's subresource), as upstream's ResourceMatches. */
export function resourceMatches(r: PolicyRule, resource: string, subresource: string | undefined): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const rr of r.resources ?? []) {
    if (rr === '*' || rr === combined) return true;
    if (subresource && rr.length === subresource.length + 2 && rr.startsWith('*/') && rr.endsWith(subresource)) return true;
  }
  return false;
}

export function resourceNameMatches(r: PolicyRule, name: string | undefined): boolean {
  if (!r.resourceNames?.length) return true;
  return name !== undefined && r.resourceNames.includes(name);
}

/** Exact path, `*`, or a prefix rule ending in `*`. */
export function nonResourceURLMatches(r: PolicyRule, path: string): boolean {
  for (const u of r.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(a: Attributes, r: PolicyRule): boolean {
  if (a.resourceRequest) {
    return verbMatches(r, a.verb) && apiGroupMatches(r, a.apiGroup ?? '') && resourceMatches(r, a.resource ?? '', a.subresource) && resourceNameMatches(r, a.name);
  }
  return verbMatches(r, a.verb) && nonResourceURLMatches(r, a.path);
}

export function rulesAllow(a: Attributes, rules: readonly PolicyRule[]): boolean {
  for (const r of rules) if (ruleAllows(a, r)) return true;
  return false;
}

const SA_USER_PREFIX = 'system:serviceaccount:';

/** The user name a ServiceAccount authenticates as. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SA_USER_PREFIX}${namespace}:${name}`;
}

/** The ServiceAccount a user name stands for (`system:serviceaccount:NS:NAME`), if it is one. */
export function splitServiceAccountUsername(user: string): { namespace: string; name: string } | undefined {
  if (!user.startsWith(SA_USER_PREFIX)) return undefined;
  const parts = user.slice(SA_USER_PREFIX.length).split(':');
  return parts.length === 2 && parts[0] && parts[1] ? { namespace: parts[0], name: parts[1] } : undefined;
}

/** The groups every ServiceAccount of a namespace is in. */
export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
}

/**
 * The index key a subject is filed under: users (and service accounts, which are users) by name,
 * groups by group. `defaultNamespace` is the RoleBinding's namespace for service accounts without one.
 */
export function subjectKey(s: Subject, defaultNamespace?: string): string | undefined {
  switch (s.kind) {
    case 'User':
      return `u:${s.name}`;
    case 'Group':
      return `g:${s.name}`;
    case 'ServiceAccount': {
      const ns = s.namespace || defaultNamespace;
      return ns ? `u:${serviceAccountUsername(ns, s.name)}` : undefined;
    }
    default:
      return undefined;
  }
}

const q = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;

/** Upstream's CompactString: `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${q(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${q(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${q(r.resourceNames)}`);
  if (r.verbs?.length) parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/**
 * Upstream's Covers: every servant rule, broken into single-verb/group/resource/name pieces, must be
 * covered by some owner rule. A `*` in the servant is covered only by a `*` in the owner.
 */
export function covers(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): { ok: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const s of servant) for (const piece of breakdown(s)) if (!owner.some((o) => ruleCovers(o, piece))) missing.push(piece);
  return { ok: missing.length === 0, missing };
}

function breakdown(r: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of r.apiGroups ?? []) {
    for (const resource of r.resources ?? []) {
      for (const verb of r.verbs) {
        if (r.resourceNames?.length) for (const name of r.resourceNames) out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
        else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
    }
  }
  for (const url of r.nonResourceURLs ?? []) for (const verb of r.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

function ruleCovers(o: PolicyRule, s: PolicyRule): boolean {
  const listCovers = (ol: readonly string[] | undefined, sl: readonly string[] | undefined) => (sl ?? []).every((v) => ol?.includes('*') || ol?.includes(v));
  if (!listCovers(o.verbs, s.verbs)) return false;
  if (!listCovers(o.apiGroups, s.apiGroups)) return false;
  // Non-resource URLs: the owner's `prefix*` covers the servant's path or narrower prefix.
  for (const u of s.nonResourceURLs ?? []) {
    const ok = (o.nonResourceURLs ?? []).some((ou) => ou === '*' || ou === u || (ou.endsWith('*') && u.startsWith(ou.slice(0, -1))));
    if (!ok) return false;
  }
  for (const res of s.resources ?? []) {
    const ok = (o.resources ?? []).some((or) => {
      if (or === '*' || or === res) return true;
      // `*/status` covers `pods/status`.
      const i = res.indexOf('/');
      return or.startsWith('*/') && i >= 0 && or.slice(1) === res.slice(i);
    });
    if (!ok) return false;
  }
  if (s.resourceNames?.length) {
    if (o.resourceNames?.length && !s.resourceNames.every((n) => o.resourceNames!.includes(n))) return false;
  } else if (o.resourceNames?.length) return false;
  return true;
}

/**
 * Upstream's CompactRules: single-group, single-resource rules without names merge their verbs, so
 * the escalation message lists `Verbs:["get" "list"]` once per resource.
 */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    if (r.resourceNames?.length || r.nonResourceURLs?.length || r.apiGroups?.length !== 1 || r.resources?.length !== 1) {
      out.push(r);
      continue;
    }
    const k = `${r.apiGroups[0]}\0${r.resources[0]}`;
    const e = simple.get(k);
    if (e) {
      for (const v of r.verbs) if (!e.verbs.includes(v)) e.verbs.push(v);
    } else {
      const copy = { apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] };
      simple.set(k, copy);
      out.push(copy);
    }
  }
  return out;
}
