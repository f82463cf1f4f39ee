import type { ReviewHandler } from '../../handler.js';
import { badRequest } from '../../status.js';
import type { UserInfo } from '../types.js';
import type { RbacIndex } from './index.js';
import { nodeIdentity } from '../node.js';

/** What a user may do in a namespace, as authorization.k8s.io SelfSubjectRulesReview status. */
export function rulesReviewStatus(index: RbacIndex, user: UserInfo, namespace: string): any {
  const { rules, errors } = index.rulesFor(user, namespace);
  const resourceRules: any[] = [];
  const nonResourceRules: any[] = [];
  for (const r of rules) {
    if (r.nonResourceURLs?.length) nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
    else {
      const rr: any = { verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [] };
      if (r.resourceNames?.length) rr.resourceNames = r.resourceNames;
      resourceRules.push(rr);
    }
  }
  // The Node authorizer cannot list what it allows, as upstream says with `incomplete`.
  const isNode = nodeIdentity(user) !== undefined;
  const status: any = { resourceRules, nonResourceRules, incomplete: isNode || errors.length > 0 };
  const errs = [...errors];
  if (isNode) errs.push('node authorizer does not support user rule resolution');
  if (errs.length) status.evaluationError = errs.join(', ');
  return status;
}

/** authorization.k8s.io SelfSubjectRulesReview (`kubectl auth can-i --list`). */
export function selfSubjectRulesReview(index: RbacIndex): ReviewHandler {
  return (body, { user }) => {
    const ns = body?.spec?.namespace;
    if (ns !== undefined && typeof ns !== 'string') throw badRequest('spec.namespace must be a string');
    return { metadata: { creationTimestamp: null }, spec: body.spec ?? {}, status: rulesReviewStatus(index, user, ns ?? '') };
  };
}
