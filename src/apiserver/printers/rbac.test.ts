import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterRoleBindingPrinter, roleBindingPrinter } from './rbac.js';
import { NOW, meta } from './testutil.js';

test('rolebinding rows list subjects by kind', () => {
  const rb = {
    metadata: meta('devs-view'),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' },
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' },
      { kind: 'ServiceAccount', namespace: 'ci', name: 'builder' },
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' },
    ],
  };
  assert.deepEqual(roleBindingPrinter.cells(rb, NOW), ['devs-view', 'ClusterRole/view', '5m', 'alice, bob', 'devs', 'ci/builder']);
  assert.deepEqual(
    clusterRoleBindingPrinter.cells({ metadata: meta('cluster-admin'), roleRef: { kind: 'ClusterRole', name: 'cluster-admin' } }, NOW),
    ['cluster-admin', 'ClusterRole/cluster-admin', '5m', '', '', ''],
  );
  assert.deepEqual(
    roleBindingPrinter.columns.map((c) => [c.name, c.priority, c.description]),
    [
      ['Name', 0, roleBindingPrinter.columns[0]!.description],
      ['Role', 0, roleBindingPrinter.columns[1]!.description],
      ['Age', 0, roleBindingPrinter.columns[2]!.description],
      ['Users', 1, 'Users in the roleBinding'],
      ['Groups', 1, 'Groups in the roleBinding'],
      ['ServiceAccounts', 1, 'ServiceAccounts in the roleBinding'],
    ],
  );
  assert.equal(clusterRoleBindingPrinter.columns[3]!.description, 'Users in the clusterRoleBinding');
});
