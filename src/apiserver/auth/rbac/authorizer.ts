import type { Attributes, Authorizer, Decision } from '../types.js';
import { RbacIndex } from './index.js';
import { ruleAllows, type PolicyRule } from './rules.js';

/**
 * The RBAC authorizer, as upstream's: allows when any rule of any role bound to the user (cluster-wide,
 * or in the request's namespace) allows; otherwise no opinion, with the role-resolution errors as reason.
 */
export class RbacAuthorizer implements Authorizer {
  readonly name = 'RBAC';
  constructor(readonly index: RbacIndex = new RbacIndex()) {}

  authorize(a: Attributes): Decision {
    let allowed = false;
    let errors: string[] | undefined;
    this.index.bindingsFor(a.user, a.resourceRequest ? a.namespace : undefined, (b) => {
      const rules = this.index.rulesOf(b);
      if (typeof rules === 'string') {
        (errors ??= []).push(rules);
        return false;
      }
      // Non-resource URLs are granted only cluster-wide, as upstream.
      if (b.kind === 'RoleBinding' && !a.resourceRequest) return false;
      for (const r of rules) {
        if (ruleAllows(a, r)) {
          allowed = true;
          return true;
        }
      }
      return false;
    });
    if (allowed) return { decision: 'allow' };
    return errors ? { decision: 'noopinion', reason: `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}` } : { decision: 'noopinion' };
  }

  /** Rules the user holds in a namespace (SelfSubjectRulesReview, escalation checks). */
  rulesFor(user: Attributes['user'], namespace: string | undefined): { rules: PolicyRule[]; errors: string[] } {
    return this.index.rulesFor(user, namespace);
  }
}

/** Upstream's privileged-group authorizer: system:masters may do anything, whatever RBAC says. */
export const privilegedGroupsAuthorizer: Authorizer = {
  name: 'PrivilegedGroups',
  authorize: (a) => (a.user.groups.includes('system:masters') ? { decision: 'allow' } : { decision: 'noopinion' }),
};

/** Upstream's AlwaysAllow (authorization off), for benchmarks and tests. */
export const alwaysAllowAuthorizer: Authorizer = { name: 'AlwaysAllow', authorize: () => ({ decision: 'allow' }) };
