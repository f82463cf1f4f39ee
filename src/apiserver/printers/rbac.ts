/**
 * rbac.authorization.k8s.io/v1 bindings. Roles and ClusterRoles have no printer upstream
 * and use the default Name / Created At table.
 */
import type { Printer, TableColumn } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, str, wide } from './common.js';
import { RBAC } from './descriptions.js';
import { formatAge } from './duration.js';

/** rbac.SubjectsStrings: users, groups and "namespace/name" service accounts. */
function subjects(binding: any): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of Array.isArray(binding?.subjects) ? binding.subjects : []) {
    switch (s?.kind) {
      case 'ServiceAccount':
        sas.push(`${str(s.namespace)}/${str(s.name)}`);
        break;
      case 'User':
        users.push(str(s.name));
        break;
      case 'Group':
        groups.push(str(s.name));
        break;
      // Other kinds are not shown.
    }
  }
  return [users.join(', '), groups.join(', '), sas.join(', ')];
}

function bindingPrinter(roleRefDescription: string, what: string): Printer {
  const columns: TableColumn[] = [
    NAME_COLUMN,
    col('Role', 'string', roleRefDescription),
    AGE_COLUMN,
    wide('Users', 'string', `Users in the ${what}`),
    wide('Groups', 'string', `Groups in the ${what}`),
    wide('ServiceAccounts', 'string', `ServiceAccounts in the ${what}`),
  ];
  return {
    columns,
    cells(b: any, now: Date): unknown[] {
      const [users, groups, sas] = subjects(b);
      return [
        str(b?.metadata?.name),
        `${str(b?.roleRef?.kind)}/${str(b?.roleRef?.name)}`,
        formatAge(b?.metadata?.creationTimestamp, now),
        users,
        groups,
        sas,
      ];
    },
  };
}

export const roleBindingPrinter = bindingPrinter(RBAC.roleBindingRoleRef, 'roleBinding');
export const clusterRoleBindingPrinter = bindingPrinter(RBAC.clusterRoleBindingRoleRef, 'clusterRoleBinding');
