import { isDeepStrictEqual } from 'node:util';
import type { AdmissionPlugin, AdmissionRequest } from '../../admission/types.js';
import { StatusError } from '../../status.js';
import type { Attributes, Decision, UserInfo } from '../types.js';
import type { RbacIndex } from './index.js';
import { compactRules, compactString, covers, type PolicyRule, type RoleRef } from './rules.js';

const GROUP = 'rbac.authorization.k8s.io';
const KEYS = new Set([`${GROUP}/roles`, `${GROUP}/clusterroles`, `${GROUP}/rolebindings`, `${GROUP}/clusterrolebindings`]);

function forbidden(resource: string, name: string, message: string): StatusError {
  return new StatusError(403, 'Forbidden', `${resource}.${GROUP} "${name}" is forbidden: ${message}`, { name, group: GROUP, kind: resource });
}

const quoted = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;

/** Upstream's ConfirmNoEscalation: the writer must already hold every permission being granted. */
export function confirmNoEscalation(index: RbacIndex, user: UserInfo, namespace: string | undefined, rules: readonly PolicyRule[]): string | undefined {
  const owner = index.rulesFor(user, namespace);
  const { ok, missing } = covers(owner.rules, rules);
  if (ok) return undefined;
  const lines = [...new Set(compactRules(missing).map(compactString))].sort();
  let msg = `user ${JSON.stringify(user.name)} (groups=${quoted(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
  if (owner.errors.length) msg += `; resolution errors: [${owner.errors.join(' ')}]`;
  return msg;
}

/**
 * Escalation prevention on roles and bindings (upstream does it in the RBAC REST storage; Skiff runs it
 * as a validating admission step). Writes by system:masters, or by users the authorizer lets `escalate`
 * (roles) or `bind` (the referenced role), skip the check. Server-internal writes (no user) are trusted.
 */
export function rbacEscalationPlugin(index: RbacIndex, authorize: (a: Attributes) => Promise<Decision> | Decision): AdmissionPlugin {
  const may = async (user: UserInfo, verb: string, resource: string, namespace: string | undefined, name: string) =>
    (await authorize({ user, verb, resourceRequest: true, path: '', apiGroup: GROUP, resource, namespace, name })).decision === 'allow';
  return {
    name: 'RBACEscalation',
    handles: (req) => KEYS.has(req.info.key) && (req.operation === 'CREATE' || req.operation === 'UPDATE') && !req.subresource && !!req.user,
    async validate(req: AdmissionRequest) {
      const user = req.user!;
      if (user.groups.includes('system:masters')) return;
      const obj = req.object;
      const name = obj.metadata?.name ?? '';
      const resource = req.info.resource;
      const ns = req.info.namespaced ? req.namespace : undefined;
      if (resource === 'roles' || resource === 'clusterroles') {
        if (req.operation === 'UPDATE' && isDeepStrictEqual(obj.rules ?? [], req.oldObject?.rules ?? []) && isDeepStrictEqual(obj.aggregationRule, req.oldObject?.aggregationRule)) return;
        if (await may(user, 'escalate', resource, ns, name)) return;
        if (resource === 'clusterroles' && obj.aggregationRule) {
          throw forbidden(resource, name, 'must have cluster-admin privileges to use the aggregationRule');
        }
        const msg = confirmNoEscalation(index, user, ns, obj.rules ?? []);
        if (msg) throw forbidden(resource, name, msg);
        return;
      }
      const ref: RoleRef = obj.roleRef ?? {};
      const refResource = ref.kind === 'Role' ? 'roles' : 'clusterroles';
      if (await may(user, 'bind', refResource, ns, ref.name)) return;
      const rules = ref.kind === 'Role' ? (ns ? index.roleRules(ns, ref.name) : undefined) : index.clusterRoleRules(ref.name);
      if (!rules) throw forbidden(resource, name, `${ref.kind === 'Role' ? 'role' : 'clusterrole'}.${GROUP} "${ref.name}" not found`);
      const msg = confirmNoEscalation(index, user, ns, rules);
      if (msg) throw forbidden(resource, name, msg);
    },
  };
}
