/** Nodes: NAME STATUS ROLES AGE VERSION, plus addresses and system info with -o wide. */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, sortedUnique, str, wide } from './common.js';
import { NODE } from './descriptions.js';
import { formatAge } from './duration.js';

const LABEL_NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';
const NODE_LABEL_ROLE = 'kubernetes.io/role';

/** "Ready", "NotReady" or "Unknown", then "SchedulingDisabled" for cordoned nodes. */
function nodeStatus(node: any): string {
  const status: string[] = [];
  // Only the Ready condition is summarised; others (MemoryPressure, ...) are not shown.
  // Upstream indexes conditions by type, so a repeated type's last entry wins.
  const conditions: any[] = Array.isArray(node?.status?.conditions) ? node.status.conditions : [];
  const ready = conditions.filter((c) => c?.type === 'Ready').pop();
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (status.length === 0) status.push('Unknown');
  if (node?.spec?.unschedulable === true) status.push('SchedulingDisabled');
  return status.join(',');
}

/** Roles from node-role.kubernetes.io/<role> keys and kubernetes.io/role=<role> values, sorted. */
function nodeRoles(node: any): string {
  const labels: Record<string, string> = node?.metadata?.labels ?? {};
  const roles: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith(LABEL_NODE_ROLE_PREFIX)) {
      const role = k.slice(LABEL_NODE_ROLE_PREFIX.length);
      if (role.length > 0) roles.push(role);
    } else if (k === NODE_LABEL_ROLE && v !== '') {
      roles.push(v);
    }
  }
  const joined = sortedUnique(roles).join(',');
  return joined === '' ? '<none>' : joined;
}

/** The first address of the type, "<none>" without one. */
function nodeAddress(node: any, type: string): string {
  const addrs: any[] = Array.isArray(node?.status?.addresses) ? node.status.addresses : [];
  const a = addrs.find((x) => x?.type === type);
  return a ? str(a.address) : '<none>';
}

function orUnknown(s: string): string {
  return s === '' ? '<unknown>' : s;
}

export const nodePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Status', 'string', 'The status of the node'),
    col('Roles', 'string', 'The roles of the node'),
    AGE_COLUMN,
    col('Version', 'string', NODE.kubeletVersion),
    wide('Internal-IP', 'string', NODE.addresses),
    wide('External-IP', 'string', NODE.addresses),
    wide('OS-Image', 'string', NODE.osImage),
    wide('Kernel-Version', 'string', NODE.kernelVersion),
    wide('Container-Runtime', 'string', NODE.containerRuntimeVersion),
  ],
  cells(node: any, now: Date): unknown[] {
    const info = node?.status?.nodeInfo ?? {};
    return [
      str(node?.metadata?.name),
      nodeStatus(node),
      nodeRoles(node),
      formatAge(node?.metadata?.creationTimestamp, now),
      str(info.kubeletVersion),
      nodeAddress(node, 'InternalIP'),
      nodeAddress(node, 'ExternalIP'),
      orUnknown(str(info.osImage)),
      orUnknown(str(info.kernelVersion)),
      orUnknown(str(info.containerRuntimeVersion)),
    ];
  },
};
