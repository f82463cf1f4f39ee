/**
 * Warnings kube-apiserver returns (Warning headers) on create: workload names that are valid
 * subdomains but not DNS labels end up in pod hostnames.
 */
import { isDNS1123Label } from './names.js';

const POD_NAME_USERS = new Set(['apps/deployments', 'apps/replicasets', 'batch/jobs', 'batch/cronjobs', 'replicationcontrollers']);

export function warningsOnCreate(resourceKey: string, obj: any): string[] {
  const name = typeof obj?.metadata?.name === 'string' ? obj.metadata.name : '';
  if (!name) return [];
  const msgs = isDNS1123Label(name);
  if (msgs.length === 0) return [];
  // Go prints the []string with %v: "[a b]".
  if (resourceKey === 'pods') {
    return [`metadata.name: this is used in the Pod's hostname, which can result in surprising behavior; a DNS label is recommended: [${msgs.join(' ')}]`];
  }
  if (POD_NAME_USERS.has(resourceKey)) {
    return [`metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: [${msgs.join(' ')}]`];
  }
  return [];
}
