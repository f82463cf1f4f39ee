import type { CacheView } from './rbac/index.js';
import { REGISTRY_PREFIX } from '../watchcache.js';
import type { Attributes, Authorizer, Decision, UserInfo } from './types.js';
import { rulesAllow, type PolicyRule } from './rbac/rules.js';
import { BOOTSTRAP_CLUSTER_ROLES } from './rbac/bootstrap.js';

const NODE_RULES: PolicyRule[] = BOOTSTRAP_CLUSTER_ROLES.find((r) => r.name === 'system:node')!.rules!;
const NO: Decision = { decision: 'noopinion' };
const ALLOW: Decision = { decision: 'allow' };

/** `system:node:NAME` in group `system:nodes` → NAME. */
export function nodeIdentity(u: UserInfo): string | undefined {
  if (!u.name.startsWith('system:node:') || !u.groups.includes('system:nodes')) return undefined;
  return u.name.slice('system:node:'.length);
}

/**
 * Upstream's Node authorizer: a kubelet may read and write its own Node and Lease and the pods bound
 * to it, and read only the secrets, configmaps and service-account tokens those pods use. Everything
 * else a node may do comes from the system:node rules. Other users get no opinion.
 */
export class NodeAuthorizer implements Authorizer {
  readonly name = 'Node';
  private cache?: CacheView;

  attach(cache: CacheView): void {
    this.cache = cache;
  }

  authorize(a: Attributes): Decision {
    const node = nodeIdentity(a.user);
    if (node === undefined) return NO;
    if (!node) return { decision: 'noopinion', reason: 'unknown node' };
    if (!a.resourceRequest) return rulesAllow(a, NODE_RULES) ? ALLOW : NO;
    const gr = `${a.apiGroup ?? ''}/${a.resource}`;
    switch (gr) {
      case '/secrets':
      case '/configmaps':
        return this.readReferenced(node, a);
      case '/serviceaccounts':
        if (a.subresource === 'token') return a.verb === 'create' && this.podUses(node, a.namespace, (p) => (p.spec?.serviceAccountName ?? 'default') === a.name) ? ALLOW : this.noRelation(node);
        break;
      case 'coordination.k8s.io/leases':
        if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return { decision: 'noopinion', reason: `can only get, create, update, patch, or delete a node lease` };
        if (a.namespace !== 'kube-node-lease') return { decision: 'noopinion', reason: `can only access leases in the kube-node-lease namespace` };
        if (a.verb !== 'create' && a.name !== node) return { decision: 'noopinion', reason: `can only access node lease with the same name as the requesting node` };
        return ALLOW;
      case '/nodes':
        if (a.name !== undefined && a.name !== node && a.verb !== 'list' && a.verb !== 'watch') return { decision: 'noopinion', reason: `node '${node}' cannot modify or read node '${a.name}'` };
        break;
      case '/pods':
        // Named pod requests (other than creating a mirror pod) only for pods bound to this node.
        if (a.name !== undefined && !(a.verb === 'create' && !a.subresource)) {
          const pod = this.cache?.get(`${REGISTRY_PREFIX}pods/${a.namespace}/${a.name}`)?.obj;
          if (!pod || pod.spec?.nodeName !== node) return this.noRelation(node);
        }
        break;
    }
    return rulesAllow(a, NODE_RULES) ? ALLOW : NO;
  }

  private noRelation(node: string): Decision {
    return { decision: 'noopinion', reason: `no relationship found between node '${node}' and this object` };
  }

  private readReferenced(node: string, a: Attributes): Decision {
    const kind = a.resource === 'secrets' ? 'secret' : 'configmap';
    if (a.verb !== 'get' || !a.name) return { decision: 'noopinion', reason: `can only read individual ${a.resource} (get)` };
    if (!a.namespace) return { decision: 'noopinion', reason: `can only read namespaced object of this type` };
    const name = a.name;
    return this.podUses(node, a.namespace, (p) => podReferences(p, kind, name)) ? ALLOW : this.noRelation(node);
  }

  private podUses(node: string, namespace: string | undefined, pred: (pod: any) => boolean): boolean {
    if (!this.cache || !namespace) return false;
    for (const c of this.cache.list('pods', `${REGISTRY_PREFIX}pods/${namespace}/`)) if (c.obj.spec?.nodeName === node && pred(c.obj)) return true;
    return false;
  }
}

/** Whether a pod uses a secret or configmap: volumes, projected sources, env, envFrom, image pull secrets. */
export function podReferences(pod: any, kind: 'secret' | 'configmap', name: string): boolean {
  const spec = pod.spec ?? {};
  if (kind === 'secret' && (spec.imagePullSecrets ?? []).some((s: any) => s.name === name)) return true;
  for (const v of spec.volumes ?? []) {
    if (kind === 'secret' && v.secret?.secretName === name) return true;
    if (kind === 'configmap' && v.configMap?.name === name) return true;
    for (const src of v.projected?.sources ?? []) {
      if (kind === 'secret' && src.secret?.name === name) return true;
      if (kind === 'configmap' && src.configMap?.name === name) return true;
    }
  }
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])]) {
    for (const e of c.env ?? []) {
      if (kind === 'secret' && e.valueFrom?.secretKeyRef?.name === name) return true;
      if (kind === 'configmap' && e.valueFrom?.configMapKeyRef?.name === name) return true;
    }
    for (const e of c.envFrom ?? []) {
      if (kind === 'secret' && e.secretRef?.name === name) return true;
      if (kind === 'configmap' && e.configMapRef?.name === name) return true;
    }
  }
  return false;
}
