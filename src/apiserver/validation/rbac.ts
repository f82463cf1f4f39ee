/** rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding (pkg/apis/rbac/validation). */
import type { FieldError } from './types.js';
import { child, GoLiteral, index, invalid, notSupported, required } from './errors.js';
import { nameIsDNSSubdomain, nameIsPathSegment } from './names.js';
import { labelSelectorAsSelector, validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { goLabelSelector, goStringSlice } from './gosyntax.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

export function validatePolicyRule(rule: any, namespaced: boolean, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (arr(rule?.verbs).length === 0) errs.push(required(child(field, 'verbs'), 'verbs must contain at least one value'));
  const urls = arr(rule?.nonResourceURLs);
  if (urls.length > 0) {
    if (namespaced) errs.push(invalid(child(field, 'nonResourceURLs'), goStringSlice(urls), 'namespaced rules cannot apply to non-resource URLs'));
    if (arr(rule?.apiGroups).length || arr(rule?.resources).length || arr(rule?.resourceNames).length) {
      errs.push(invalid(child(field, 'nonResourceURLs'), goStringSlice(urls), 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (arr(rule?.apiGroups).length === 0) errs.push(required(child(field, 'apiGroups'), 'resource rules must supply at least one api group'));
  if (arr(rule?.resources).length === 0) errs.push(required(child(field, 'resources'), 'resource rules must supply at least one resource'));
  return errs;
}

export function validateRole(role: any): FieldError[] {
  const errs = validateObjectMeta(role?.metadata, true, nameIsPathSegment);
  arr(role?.rules).forEach((r, i) => errs.push(...validatePolicyRule(r, true, index('rules', i))));
  return errs;
}

export function validateClusterRole(role: any): FieldError[] {
  const errs = validateObjectMeta(role?.metadata, false, nameIsPathSegment);
  arr(role?.rules).forEach((r, i) => errs.push(...validatePolicyRule(r, false, index('rules', i))));
  const agg = role?.aggregationRule;
  if (agg !== undefined && agg !== null) {
    const sels = arr(agg.clusterRoleSelectors);
    if (sels.length === 0) errs.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    sels.forEach((sel, i) => {
      const p = index('aggregationRule.clusterRoleSelectors', i);
      errs.push(...validateLabelSelector(sel, p));
      if (!labelSelectorAsSelector(sel)) errs.push(invalid(p, goLabelSelector(sel), 'invalid label selector.'));
    });
  }
  return errs;
}

export function validateRoleBindingSubject(subject: any, namespaced: boolean, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(subject?.name);
  if (!name) errs.push(required(child(field, 'name')));
  const apiGroup = str(subject?.apiGroup);
  switch (subject?.kind) {
    case 'ServiceAccount':
      if (name) errs.push(...nameIsDNSSubdomain(name, false).map((m) => invalid(child(field, 'name'), name, m)));
      if (apiGroup) errs.push(notSupported(child(field, 'apiGroup'), apiGroup, ['']));
      if (!namespaced && !str(subject?.namespace)) errs.push(required(child(field, 'namespace')));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== RBAC_GROUP) errs.push(notSupported(child(field, 'apiGroup'), apiGroup, [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(child(field, 'kind'), str(subject?.kind), ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateBinding(b: any, namespaced: boolean): FieldError[] {
  const errs = validateObjectMeta(b?.metadata, namespaced, nameIsPathSegment);
  const ref = b?.roleRef ?? {};
  if (str(ref.apiGroup) !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', str(ref.apiGroup), [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(str(ref.kind))) errs.push(notSupported('roleRef.kind', str(ref.kind), kinds));
  const name = str(ref.name);
  if (!name) errs.push(required('roleRef.name'));
  else errs.push(...nameIsPathSegment(name, false).map((m) => invalid('roleRef.name', name, m)));
  arr(b?.subjects).forEach((s, i) => errs.push(...validateRoleBindingSubject(s, namespaced, index('subjects', i))));
  return errs;
}

export const validateRoleBinding = (b: any): FieldError[] => validateBinding(b, true);
export const validateClusterRoleBinding = (b: any): FieldError[] => validateBinding(b, false);

const goRoleRef = (r: any): GoLiteral =>
  new GoLiteral(`rbac.RoleRef{APIGroup:${JSON.stringify(str(r?.apiGroup))}, Kind:${JSON.stringify(str(r?.kind))}, Name:${JSON.stringify(str(r?.name))}}`);

function validateBindingUpdate(b: any, old: any, namespaced: boolean): FieldError[] {
  const errs = validateBinding(b, namespaced).concat(validateObjectMetaUpdate(b?.metadata, old?.metadata));
  const r = b?.roleRef ?? {};
  const o = old?.roleRef ?? {};
  if (str(r.apiGroup) !== str(o.apiGroup) || str(r.kind) !== str(o.kind) || str(r.name) !== str(o.name)) {
    errs.push(invalid('roleRef', goRoleRef(r), 'cannot change roleRef'));
  }
  return errs;
}

export const validateRoleBindingUpdate = (b: any, old: any): FieldError[] => validateBindingUpdate(b, old, true);
export const validateClusterRoleBindingUpdate = (b: any, old: any): FieldError[] => validateBindingUpdate(b, old, false);

export const validateRoleUpdate = (r: any, old: any): FieldError[] => validateRole(r).concat(validateObjectMetaUpdate(r?.metadata, old?.metadata));
export const validateClusterRoleUpdate = (r: any, old: any): FieldError[] => validateClusterRole(r).concat(validateObjectMetaUpdate(r?.metadata, old?.metadata));
