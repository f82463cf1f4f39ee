import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCache } from '../testing/fakecache.js';
import { RbacIndex } from './index.js';
import { RbacAuthorizer } from './authorizer.js';
import { covers, compactRules, compactString, resourceMatches, nonResourceURLMatches } from './rules.js';
import { aggregatedRules } from './aggregation.js';
import { confirmNoEscalation } from './escalation.js';
import type { Attributes, UserInfo } from '../types.js';
import { NodeAuthorizer } from '../node.js';

const CR = 'rbac.authorization.k8s.io/clusterroles';
const CRB = 'rbac.authorization.k8s.io/clusterrolebindings';
const R = 'rbac.authorization.k8s.io/roles';
const RB = 'rbac.authorization.k8s.io/rolebindings';
const ref = (kind: string, name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind, name });

function res(user: UserInfo, verb: string, resource: string, opts: Partial<Attributes> = {}): Attributes {
  return { user, verb, resourceRequest: true, path: '', apiGroup: '', resource, ...opts };
}

describe('RBAC rules', () => {
  it('matches resources, subresources and wildcards as upstream', () => {
    assert.ok(resourceMatches({ verbs: ['get'], resources: ['pods'] }, 'pods', undefined));
    assert.ok(!resourceMatches({ verbs: ['get'], resources: ['pods'] }, 'pods', 'status'));
    assert.ok(resourceMatches({ verbs: ['get'], resources: ['pods/status'] }, 'pods', 'status'));
    assert.ok(resourceMatches({ verbs: ['get'], resources: ['*/status'] }, 'deployments', 'status'));
    assert.ok(!resourceMatches({ verbs: ['get'], resources: ['*/status'] }, 'deployments', undefined));
    assert.ok(resourceMatches({ verbs: ['get'], resources: ['*'] }, 'pods', 'log'));
    assert.ok(nonResourceURLMatches({ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, '/apis/apps/v1'));
    assert.ok(nonResourceURLMatches({ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, '/apis/'));
    assert.ok(!nonResourceURLMatches({ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, '/apis'));
  });

  it('covers: a star is covered only by a star; names narrow', () => {
    assert.ok(covers([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]).ok);
    assert.ok(!covers([{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }], [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }]).ok);
    assert.ok(covers([{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] }]).ok);
    assert.ok(!covers([{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]).ok);
    assert.ok(covers([{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }], [{ verbs: ['get'], nonResourceURLs: ['/apis/apps'] }]).ok);
    const { missing } = covers([], [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets'] }]);
    assert.equal(compactRules(missing).map(compactString).join('\n'), '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}');
  });

  it('aggregates labelled ClusterRoles', () => {
    const view = { metadata: { name: 'view' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'x/agg': 'true' } }] } };
    const a = { metadata: { name: 'a', labels: { 'x/agg': 'true' } }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] };
    const b = { metadata: { name: 'b' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }] };
    assert.deepEqual(aggregatedRules(view, [view, a, b]), a.rules);
  });
});

describe('RBAC authorizer', () => {
  const cache = new FakeCache();
  const index = new RbacIndex();
  index.attach(cache);
  const rbac = new RbacAuthorizer(index);
  const alice: UserInfo = { name: 'alice', groups: ['devs', 'system:authenticated'] };
  const bob: UserInfo = { name: 'bob', groups: ['system:authenticated'] };
  const sa: UserInfo = { name: 'system:serviceaccount:ns1:builder', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated'] };

  cache.put(CR, { metadata: { name: 'pod-reader' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'] }] });
  cache.put(CR, { metadata: { name: 'one-cm' }, rules: [{ verbs: ['get', 'update'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings'] }] });
  cache.put(CR, { metadata: { name: 'urls' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/metrics', '/logs/*'] }] });
  cache.put(R, { metadata: { name: 'deployer', namespace: 'ns1' }, rules: [{ verbs: ['*'], apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'] }] });
  cache.put(CRB, { metadata: { name: 'devs-read' }, roleRef: ref('ClusterRole', 'pod-reader'), subjects: [{ kind: 'Group', name: 'devs' }] });
  cache.put(CRB, { metadata: { name: 'urls' }, roleRef: ref('ClusterRole', 'urls'), subjects: [{ kind: 'User', name: 'bob' }] });
  cache.put(RB, { metadata: { name: 'cm', namespace: 'ns1' }, roleRef: ref('ClusterRole', 'one-cm'), subjects: [{ kind: 'User', name: 'bob' }] });
  cache.put(RB, { metadata: { name: 'deploy', namespace: 'ns1' }, roleRef: ref('Role', 'deployer'), subjects: [{ kind: 'ServiceAccount', name: 'builder' }] });
  cache.put(RB, { metadata: { name: 'dangling', namespace: 'ns2' }, roleRef: ref('ClusterRole', 'gone'), subjects: [{ kind: 'User', name: 'bob' }] });

  const allowed = (a: Attributes) => rbac.authorize(a).decision === 'allow';

  it('grants through groups, users, service accounts, Roles and ClusterRoles', () => {
    assert.ok(allowed(res(alice, 'get', 'pods', { namespace: 'any' })));
    assert.ok(allowed(res(alice, 'list', 'pods')));
    assert.ok(allowed(res(alice, 'get', 'pods', { namespace: 'x', subresource: 'log', name: 'p' })));
    assert.ok(!allowed(res(alice, 'get', 'pods', { namespace: 'x', subresource: 'exec', name: 'p' })));
    assert.ok(!allowed(res(alice, 'delete', 'pods', { namespace: 'x', name: 'p' })));
    assert.ok(!allowed(res(bob, 'get', 'pods', { namespace: 'x' })));
    assert.ok(allowed(res(bob, 'get', 'configmaps', { namespace: 'ns1', name: 'settings' })));
    assert.ok(!allowed(res(bob, 'get', 'configmaps', { namespace: 'ns1', name: 'other' })));
    assert.ok(!allowed(res(bob, 'list', 'configmaps', { namespace: 'ns1' })));
    assert.ok(!allowed(res(bob, 'get', 'configmaps', { namespace: 'ns2', name: 'settings' })));
    assert.ok(allowed(res(sa, 'patch', 'deployments', { namespace: 'ns1', apiGroup: 'apps', name: 'd' })));
    assert.ok(allowed(res(sa, 'update', 'deployments', { namespace: 'ns1', apiGroup: 'apps', name: 'd', subresource: 'scale' })));
    assert.ok(!allowed(res(sa, 'update', 'deployments', { namespace: 'ns1', apiGroup: 'apps', name: 'd', subresource: 'status' })));
    assert.ok(!allowed(res(sa, 'get', 'deployments', { namespace: 'ns2', apiGroup: 'apps', name: 'd' })));
    assert.ok(!allowed(res(sa, 'get', 'deployments', { namespace: 'ns1', apiGroup: 'extensions', name: 'd' })));
  });

  it('non-resource URLs with * suffix', () => {
    const nr = (path: string): Attributes => ({ user: bob, verb: 'get', resourceRequest: false, path });
    assert.ok(allowed(nr('/metrics')));
    assert.ok(allowed(nr('/logs/kube.log')));
    assert.ok(!allowed(nr('/logs')));
    assert.ok(!allowed({ ...nr('/metrics'), verb: 'post' }));
  });

  it('reports a missing role as the reason', () => {
    const d = rbac.authorize(res(bob, 'get', 'pods', { namespace: 'ns2' }));
    assert.equal(d.decision, 'noopinion');
    assert.equal(d.reason, 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found');
  });

  it('follows changes and deletions', () => {
    cache.put(CRB, { metadata: { name: 'bob-read' }, roleRef: ref('ClusterRole', 'pod-reader'), subjects: [{ kind: 'User', name: 'bob' }] });
    assert.ok(allowed(res(bob, 'get', 'pods', { namespace: 'x' })));
    cache.remove(CRB, undefined, 'bob-read');
    assert.ok(!allowed(res(bob, 'get', 'pods', { namespace: 'x' })));
  });

  it('escalation: a user may grant only what they hold', () => {
    assert.equal(confirmNoEscalation(index, alice, 'ns1', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]), undefined);
    const msg = confirmNoEscalation(index, alice, 'ns1', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]);
    assert.equal(msg, 'user "alice" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}');
  });

  it('still decides by subject among 1,000 bindings', () => {
    for (let i = 0; i < 1000; i++) {
      cache.put(RB, { metadata: { name: `b${i}`, namespace: `team${i % 50}` }, roleRef: ref('ClusterRole', 'pod-reader'), subjects: [{ kind: 'User', name: `user${i}` }] });
    }
    const u: UserInfo = { name: 'user77', groups: ['system:authenticated'] };
    assert.ok(allowed(res(u, 'get', 'pods', { namespace: 'team27', name: 'p' })));
    assert.ok(!allowed(res(u, 'get', 'pods', { namespace: 'team28', name: 'p' })));
  });
});

describe('Node authorizer', () => {
  const cache = new FakeCache();
  const node = new NodeAuthorizer();
  node.attach(cache);
  const n1: UserInfo = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
  cache.put('pods', { metadata: { name: 'p1', namespace: 'default' }, spec: { nodeName: 'n1', volumes: [{ name: 'v', secret: { secretName: 's1' } }], containers: [{ name: 'c', envFrom: [{ configMapRef: { name: 'cm1' } }] }] } });
  cache.put('pods', { metadata: { name: 'p2', namespace: 'default' }, spec: { nodeName: 'n2', volumes: [{ name: 'v', secret: { secretName: 's2' } }], containers: [{ name: 'c' }] } });
  const ok = (a: Attributes) => node.authorize(a).decision === 'allow';

  it('limits a kubelet to its own node, lease, pods and their secrets', () => {
    assert.ok(ok(res(n1, 'get', 'nodes', { name: 'n1' })));
    assert.ok(ok(res(n1, 'patch', 'nodes', { name: 'n1', subresource: 'status' })));
    assert.ok(!ok(res(n1, 'patch', 'nodes', { name: 'n2', subresource: 'status' })));
    assert.ok(ok(res(n1, 'update', 'leases', { apiGroup: 'coordination.k8s.io', namespace: 'kube-node-lease', name: 'n1' })));
    assert.ok(!ok(res(n1, 'update', 'leases', { apiGroup: 'coordination.k8s.io', namespace: 'kube-node-lease', name: 'n2' })));
    assert.ok(ok(res(n1, 'update', 'pods', { namespace: 'default', name: 'p1', subresource: 'status' })));
    assert.ok(!ok(res(n1, 'update', 'pods', { namespace: 'default', name: 'p2', subresource: 'status' })));
    assert.ok(ok(res(n1, 'get', 'secrets', { namespace: 'default', name: 's1' })));
    assert.ok(!ok(res(n1, 'get', 'secrets', { namespace: 'default', name: 's2' })));
    assert.ok(!ok(res(n1, 'list', 'secrets', { namespace: 'default' })));
    assert.ok(ok(res(n1, 'get', 'configmaps', { namespace: 'default', name: 'cm1' })));
    assert.equal(node.authorize(res({ name: 'alice', groups: [] }, 'get', 'nodes')).decision, 'noopinion');
  });
});
