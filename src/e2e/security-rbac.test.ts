import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSecureCluster, type SecureCluster } from '../apiserver/auth/testing/cluster.js';
import { needs, which } from '../testing/real.js';
import type { ApiClient } from '../testing/client.js';
import { writeComponentKubeconfigs } from '../apiserver/auth/components.js';

const RBAC = '/apis/rbac.authorization.k8s.io/v1';

describe('RBAC: bootstrap roles, can-i, upstream messages, escalation, matrix', () => {
  let c: SecureCluster;
  let admin: ApiClient;
  const kc: Record<string, string> = {};
  before(async () => {
    c = await startSecureCluster();
    admin = await c.client(c.kubeconfig);
    for (const ns of ['team-a', 'team-b']) assert.equal((await admin.request('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status, 201);
    const bind = async (ns: string, name: string, role: string, user: string) =>
      assert.equal((await admin.request('POST', `${RBAC}/namespaces/${ns}/rolebindings`, { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }] })).status, 201);
    await bind('team-a', 'admins', 'admin', 'ann');
    await bind('team-a', 'editors', 'edit', 'ed');
    await bind('team-a', 'viewers', 'view', 'vic');
    kc.ann = await c.userKubeconfig('ann', [], 'team-a');
    kc.ed = await c.userKubeconfig('ed', [], 'team-a');
    kc.vic = await c.userKubeconfig('vic', [], 'team-a');
  });
  after(async () => {
    admin?.close();
    await c?.stop();
  });

  it('creates the bootstrap roles and fills aggregated ones', async () => {
    const view = (await admin.request('GET', `${RBAC}/clusterroles/view`)).json();
    assert.ok(view.rules.some((r: any) => r.resources.includes('pods') && r.verbs.includes('list')));
    const edit = (await admin.request('GET', `${RBAC}/clusterroles/edit`)).json();
    assert.ok(edit.rules.some((r: any) => r.resources.includes('secrets') && r.verbs.includes('create')));
    assert.ok(edit.rules.some((r: any) => r.resources.includes('pods') && r.verbs.includes('list')), 'edit includes view');
    const adm = (await admin.request('GET', `${RBAC}/clusterroles/admin`)).json();
    assert.ok(adm.rules.some((r: any) => r.resources.includes('rolebindings')));
    const crb = (await admin.request('GET', `${RBAC}/clusterrolebindings/cluster-admin`)).json();
    assert.deepEqual(crb.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' }]);
    // A new ClusterRole labelled for aggregation flows into view, edit and admin.
    await admin.request('POST', `${RBAC}/clusterroles`, { metadata: { name: 'widgets-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }, rules: [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get'] }] });
    const deadline = Date.now() + 5000;
    let found = false;
    while (!found && Date.now() < deadline) {
      const a = (await admin.request('GET', `${RBAC}/clusterroles/admin`)).json();
      found = a.rules.some((r: any) => r.resources?.includes('widgets'));
      if (!found) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(found, 'aggregated through view → edit → admin');
  });

  it('RBAC matrix (users × verbs × resources × namespaces) matches upstream roles', async () => {
    const resources: [string, string][] = [['', 'pods'], ['', 'secrets'], ['apps', 'deployments'], ['rbac.authorization.k8s.io', 'roles'], ['', 'resourcequotas'], ['', 'pods/exec']];
    const verbs = ['get', 'list', 'create', 'delete'];
    // Upstream's admin/edit/view, written out by hand from the bootstrap policy.
    const expect = (user: string, verb: string, group: string, res: string, ns: string): boolean => {
      if (ns !== 'team-a') return false;
      const read = verb === 'get' || verb === 'list';
      const key = `${group}/${res}`;
      if (user === 'ann') return key === '/resourcequotas' ? read : true;
      if (user === 'ed') return key === '/resourcequotas' ? read : key === 'rbac.authorization.k8s.io/roles' ? false : true;
      if (user === 'vic') return read && ['/pods', 'apps/deployments', '/resourcequotas'].includes(key);
      return false;
    };
    const mismatches: string[] = [];
    for (const user of ['ann', 'ed', 'vic', 'nobody']) {
      for (const ns of ['team-a', 'team-b']) {
        for (const [group, r] of resources) {
          for (const verb of verbs) {
            const [resource, subresource] = r.split('/');
            const body = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user, groups: ['system:authenticated'], resourceAttributes: { namespace: ns, verb, group, resource, subresource } } };
            const got = (await admin.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', body)).json().status.allowed;
            if (got !== expect(user, verb, group, r, ns)) mismatches.push(`${user} ${verb} ${group}/${r} in ${ns}: got ${got}`);
          }
        }
      }
    }
    assert.deepEqual(mismatches, []);
    // And real requests agree with the reviews.
    const vic = await c.client(kc.vic);
    assert.equal((await vic.request('GET', '/api/v1/namespaces/team-a/pods')).status, 200);
    assert.equal((await vic.request('GET', '/api/v1/namespaces/team-a/secrets')).status, 403);
    assert.equal((await vic.request('GET', '/api/v1/namespaces/team-b/pods')).status, 403);
    vic.close();
  });

  it("a viewer's kubectl create is Forbidden with upstream's message", async (t) => {
    if (needs(t, which('kubectl') ? undefined : 'kubectl not on PATH')) return;
    const r = await c.kubectl(kc.vic, ['create', 'configmap', 'x', '--from-literal=a=b']);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim(), 'error: failed to create configmap: configmaps is forbidden: User "vic" cannot create resource "configmaps" in API group "" in the namespace "team-a"');
    const d = await c.kubectl(kc.vic, ['delete', 'pod', 'p']);
    assert.match(d.stderr, /pods "p" is forbidden: User "vic" cannot delete resource "pods" in API group "" in the namespace "team-a"/);
  });

  it('impersonation (kubectl --as, --as-group): checked against the impersonate verb, then the request runs as that user', async (t) => {
    if (needs(t, which('kubectl') ? undefined : 'kubectl not on PATH')) return;
    // The admin (system:masters) may impersonate anyone; the request is then judged as vic, a viewer.
    assert.equal((await c.kubectl(c.kubeconfig, ['auth', 'can-i', 'create', 'configmaps', '-n', 'team-a', '--as=vic'])).stdout.trim(), 'no');
    assert.equal((await c.kubectl(c.kubeconfig, ['auth', 'can-i', 'list', 'pods', '-n', 'team-a', '--as=vic'])).stdout.trim(), 'yes');
    const who = await c.kubectl(c.kubeconfig, ['auth', 'whoami', '--as=vic', '--as-group=devs', '--as-group=ops', '-o', 'json']);
    assert.deepEqual(JSON.parse(who.stdout).status.userInfo, { username: 'vic', groups: ['devs', 'ops', 'system:authenticated'] });
    const sa = await c.kubectl(c.kubeconfig, ['auth', 'whoami', '--as=system:serviceaccount:team-a:builder', '-o', 'json']);
    assert.deepEqual(JSON.parse(sa.stdout).status.userInfo, { username: 'system:serviceaccount:team-a:builder', groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'] });
    const denied = await c.kubectl(c.kubeconfig, ['create', 'configmap', 'imp', '-n', 'team-a', '--from-literal=a=b', '--as=vic']);
    assert.match(denied.stderr, /configmaps is forbidden: User "vic" cannot create resource "configmaps" in API group "" in the namespace "team-a"/);
    // Without the impersonate permission, --as is refused with upstream's message, and nothing runs as ann.
    const refused = await c.kubectl(kc.vic, ['get', 'pods', '--as=ann']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /users "ann" is forbidden: User "vic" cannot impersonate resource "users" in API group "" at the cluster scope/);
    // A grant of impersonate on one user name allows exactly that user.
    assert.equal((await admin.request('POST', `${RBAC}/clusterroles`, { metadata: { name: 'impersonate-ann' }, rules: [{ apiGroups: [''], resources: ['users'], verbs: ['impersonate'], resourceNames: ['ann'] }] })).status, 201);
    assert.equal((await admin.request('POST', `${RBAC}/clusterrolebindings`, { metadata: { name: 'vic-as-ann' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'impersonate-ann' }, subjects: [{ kind: 'User', name: 'vic', apiGroup: 'rbac.authorization.k8s.io' }] })).status, 201);
    const deadline = Date.now() + 5000;
    let r = await c.kubectl(kc.vic, ['create', 'configmap', 'as-ann', '-n', 'team-a', '--from-literal=a=b', '--as=ann']);
    while (r.code !== 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      r = await c.kubectl(kc.vic, ['create', 'configmap', 'as-ann', '-n', 'team-a', '--from-literal=a=b', '--as=ann']);
    }
    assert.equal(r.code, 0, r.stderr);
    assert.match((await c.kubectl(kc.vic, ['get', 'pods', '--as=ed'])).stderr, /users "ed" is forbidden/);
    // Groups without a user are refused, as upstream.
    const vicClient = await c.client(kc.vic);
    const bad = await vicClient.request('GET', '/api/v1/namespaces/team-a/pods', undefined, { 'Impersonate-Group': 'system:masters' });
    assert.equal(bad.status, 500);
    assert.match(bad.json().message, /without impersonating a user/);
    vicClient.close();
  });

  it('kubectl auth can-i and can-i --list for admin, editor and viewer', async (t) => {
    if (needs(t, which('kubectl') ? undefined : 'kubectl not on PATH')) return;
    const can = async (k: string, ...args: string[]) => (await c.kubectl(k, ['auth', 'can-i', ...args])).stdout.trim();
    assert.equal(await can(kc.vic, 'list', 'pods'), 'yes');
    assert.equal(await can(kc.vic, 'create', 'pods'), 'no');
    assert.equal(await can(kc.vic, 'get', 'secrets'), 'no');
    assert.equal(await can(kc.ed, 'create', 'secrets'), 'yes');
    assert.equal(await can(kc.ed, 'create', 'rolebindings'), 'no');
    assert.equal(await can(kc.ann, 'create', 'rolebindings'), 'yes');
    assert.equal(await can(kc.ann, 'create', 'pods', '-n', 'team-b'), 'no');
    assert.equal(await can(c.kubeconfig, '*', '*'), 'yes');

    const list = async (k: string) => {
      const r = await c.kubectl(k, ['auth', 'can-i', '--list']);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.split('\n').map((l) => l.trim().split(/\s{2,}/));
    };
    const row = (rows: string[][], res: string) => rows.find((r) => r[0] === res);
    const adminRows = await list(c.kubeconfig);
    assert.deepEqual(row(adminRows, '*.*'), ['*.*', '[]', '[]', '[*]']);
    assert.ok(adminRows.some((r) => r[0] === '[*]' && r[2] === '[*]'), 'non-resource * for cluster-admin');
    const vicRows = await list(kc.vic);
    assert.deepEqual(vicRows[0], ['Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs']);
    assert.deepEqual(row(vicRows, 'pods'), ['pods', '[]', '[]', '[get list watch]']);
    assert.deepEqual(row(vicRows, 'selfsubjectrulesreviews.authorization.k8s.io'), ['selfsubjectrulesreviews.authorization.k8s.io', '[]', '[]', '[create]']);
    assert.equal(row(vicRows, 'secrets'), undefined);
    const edRows = await list(kc.ed);
    assert.deepEqual(row(edRows, 'secrets'), ['secrets', '[]', '[]', '[create delete deletecollection patch update get list watch]']);
    assert.deepEqual(row(edRows, 'serviceaccounts/token'), ['serviceaccounts/token', '[]', '[]', '[create]']);
    const annRows = await list(kc.ann);
    assert.deepEqual(row(annRows, 'rolebindings.rbac.authorization.k8s.io'), ['rolebindings.rbac.authorization.k8s.io', '[]', '[]', '[create delete deletecollection get list patch update watch]']);
  });

  it('refuses self-escalation to cluster-admin and grants beyond held permissions', async () => {
    // mallory may create ClusterRoleBindings, but holds nothing else.
    await admin.request('POST', `${RBAC}/clusterroles`, { metadata: { name: 'crb-writer' }, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterrolebindings', 'clusterroles'], verbs: ['create'] }] });
    await admin.request('POST', `${RBAC}/clusterrolebindings`, { metadata: { name: 'mallory-crb' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'crb-writer' }, subjects: [{ kind: 'User', name: 'mallory', apiGroup: 'rbac.authorization.k8s.io' }] });
    const m = await c.client(await c.userKubeconfig('mallory', ['hackers']));
    const deadline = Date.now() + 5000;
    let r = await m.request('POST', `${RBAC}/clusterrolebindings`, { metadata: { name: 'pwn' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', name: 'mallory', apiGroup: 'rbac.authorization.k8s.io' }] });
    while (r.status === 403 && !/attempting to grant/.test(r.body) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
      r = await m.request('POST', `${RBAC}/clusterrolebindings`, { metadata: { name: 'pwn' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', name: 'mallory', apiGroup: 'rbac.authorization.k8s.io' }] });
    }
    assert.equal(r.status, 403, r.body);
    assert.equal(r.json().reason, 'Forbidden');
    assert.equal(
      r.json().message,
      'clusterrolebindings.rbac.authorization.k8s.io "pwn" is forbidden: user "mallory" (groups=["hackers" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}',
    );
    const role = await m.request('POST', `${RBAC}/clusterroles`, { metadata: { name: 'super' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }] });
    assert.equal(role.status, 403);
    assert.match(role.json().message, /^clusterroles.rbac.authorization.k8s.io "super" is forbidden: user "mallory" .*\n\{APIGroups:\[""\], Resources:\["secrets"\], Verbs:\["get" "list"\]\}$/);
    // Granting what one holds is fine.
    const fine = await m.request('POST', `${RBAC}/clusterroles`, { metadata: { name: 'crb-writer-2' }, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterrolebindings'], verbs: ['create'] }] });
    assert.equal(fine.status, 201, fine.body);
    m.close();
    // A namespace admin cannot hand out cluster-admin in their namespace either.
    const ann = await c.client(kc.ann);
    const rb = await ann.request('POST', `${RBAC}/namespaces/team-a/rolebindings`, { metadata: { name: 'ca' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', name: 'ann', apiGroup: 'rbac.authorization.k8s.io' }] });
    assert.equal(rb.status, 403);
    assert.match(rb.json().message, /is attempting to grant RBAC permissions not currently held/);
    const ok = await ann.request('POST', `${RBAC}/namespaces/team-a/rolebindings`, { metadata: { name: 'more-viewers' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'val', apiGroup: 'rbac.authorization.k8s.io' }] });
    assert.equal(ok.status, 201, ok.body);
    ann.close();
  });

  it('the Node authorizer limits a kubelet to its own pods and their secrets', async () => {
    await admin.request('POST', '/api/v1/namespaces/team-a/serviceaccounts', { metadata: { name: 'default' } });
    await admin.request('POST', '/api/v1/namespaces/team-a/secrets', { metadata: { name: 'mine' }, stringData: { a: 'b' } });
    await admin.request('POST', '/api/v1/namespaces/team-a/secrets', { metadata: { name: 'theirs' }, stringData: { a: 'b' } });
    const mk = (name: string, node: string, secret: string) => ({ metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 's', secret: { secretName: secret } }] } });
    assert.equal((await admin.request('POST', '/api/v1/namespaces/team-a/pods', mk('on-n1', 'n1', 'mine'))).status, 201);
    assert.equal((await admin.request('POST', '/api/v1/namespaces/team-a/pods', mk('on-n2', 'n2', 'theirs'))).status, 201);
    const n1 = await c.client(await c.userKubeconfig('system:node:n1', ['system:nodes']));
    const deadline = Date.now() + 5000;
    let r = await n1.request('GET', '/api/v1/namespaces/team-a/secrets/mine');
    while (r.status !== 200 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
      r = await n1.request('GET', '/api/v1/namespaces/team-a/secrets/mine');
    }
    assert.equal(r.status, 200, r.body);
    const theirs = await n1.request('GET', '/api/v1/namespaces/team-a/secrets/theirs');
    assert.equal(theirs.status, 403);
    assert.equal(theirs.json().message, `secrets "theirs" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "team-a": no relationship found between node 'n1' and this object`);
    assert.equal((await n1.request('GET', '/api/v1/namespaces/team-a/pods/on-n1')).status, 200);
    assert.equal((await n1.request('GET', '/api/v1/namespaces/team-a/pods/on-n2')).status, 403);
    assert.equal((await n1.request('GET', '/api/v1/nodes')).status, 200);
    n1.close();
  });

  it("Skiff's components get their own least-privilege identities", async () => {
    const kcs = await writeComponentKubeconfigs(c.pki, c.server, c.dataDir, ['n9']);
    const can = async (k: string, verb: string, resource: string, ns?: string, group = '', sub?: string) => {
      const cl = await c.client(k);
      const r = await cl.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb, resource, namespace: ns, group, subresource: sub } } });
      cl.close();
      return r.json().status.allowed;
    };
    assert.equal(await can(kcs.scheduler, 'create', 'pods', 'team-a', '', 'binding'), true);
    assert.equal(await can(kcs.scheduler, 'list', 'nodes'), true);
    assert.equal(await can(kcs.scheduler, 'get', 'secrets', 'team-a'), false);
    assert.equal(await can(kcs['controller-manager'], 'create', 'replicasets', 'team-a', 'apps'), true);
    assert.equal(await can(kcs['controller-manager'], 'create', 'pods', 'team-a'), true);
    assert.equal(await can(kcs['controller-manager'], 'create', 'clusterrolebindings', undefined, 'rbac.authorization.k8s.io'), false);
    assert.equal(await can(kcs['controller-manager'], 'create', 'secrets', 'team-a'), true);
    assert.equal(await can(kcs.proxy, 'list', 'endpointslices', undefined, 'discovery.k8s.io'), true);
    assert.equal(await can(kcs.proxy, 'list', 'pods'), false);
    assert.equal(await can(kcs['kubelet-n9'], 'get', 'nodes'), true);
  });
});
