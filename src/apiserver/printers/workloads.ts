/** apps/v1 workloads: Deployments, ReplicaSets, DaemonSets, StatefulSets and ControllerRevisions. */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, containerCells, int, str, wide } from './common.js';
import { CONTAINERS_DESC, CONTROLLER_REVISION_REVISION, EXTENSIONS, IMAGES_DESC, POD } from './descriptions.js';
import { formatAge } from './duration.js';
import { formatLabelSelector, formatLabels, labelSelectorString } from './labels.js';

/**
 * spec.replicas as stored: the API server defaults an omitted value to 1, so a missing
 * field here means an undefaulted object and 1 is what upstream would show.
 */
function desiredReplicas(obj: any): number {
  const r = obj?.spec?.replicas;
  return typeof r === 'number' ? Math.trunc(r) : 1;
}

function templateContainers(obj: any): any[] | undefined {
  return obj?.spec?.template?.spec?.containers;
}

export const deploymentPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Ready', 'string', 'Number of the pod with ready state'),
    col('Up-to-date', 'string', EXTENSIONS.deploymentUpdatedReplicas),
    col('Available', 'string', EXTENSIONS.deploymentAvailableReplicas),
    AGE_COLUMN,
    wide('Containers', 'string', CONTAINERS_DESC),
    wide('Images', 'string', IMAGES_DESC),
    wide('Selector', 'string', EXTENSIONS.deploymentSpecSelector),
  ],
  cells(d: any, now: Date): unknown[] {
    let selector: string;
    try {
      // Unlike most printers, an empty selector prints as "" here, not "<none>".
      selector = labelSelectorString(d?.spec?.selector);
    } catch {
      selector = '<invalid>';
    }
    const [names, images] = containerCells(templateContainers(d));
    return [
      str(d?.metadata?.name),
      `${int(d?.status?.readyReplicas)}/${desiredReplicas(d)}`,
      int(d?.status?.updatedReplicas),
      int(d?.status?.availableReplicas),
      formatAge(d?.metadata?.creationTimestamp, now),
      names,
      images,
      selector,
    ];
  },
};

export const replicaSetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Desired', 'integer', EXTENSIONS.replicaSetSpecReplicas),
    col('Current', 'integer', EXTENSIONS.replicaSetStatusReplicas),
    col('Ready', 'integer', EXTENSIONS.replicaSetStatusReadyReplicas),
    AGE_COLUMN,
    wide('Containers', 'string', CONTAINERS_DESC),
    wide('Images', 'string', IMAGES_DESC),
    wide('Selector', 'string', EXTENSIONS.replicaSetSpecSelector),
  ],
  cells(rs: any, now: Date): unknown[] {
    const [names, images] = containerCells(templateContainers(rs));
    return [
      str(rs?.metadata?.name),
      desiredReplicas(rs),
      int(rs?.status?.replicas),
      int(rs?.status?.readyReplicas),
      formatAge(rs?.metadata?.creationTimestamp, now),
      names,
      images,
      formatLabelSelector(rs?.spec?.selector),
    ];
  },
};

export const daemonSetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Desired', 'integer', EXTENSIONS.daemonSetDesiredNumberScheduled),
    col('Current', 'integer', EXTENSIONS.daemonSetCurrentNumberScheduled),
    col('Ready', 'integer', EXTENSIONS.daemonSetNumberReady),
    col('Up-to-date', 'integer', EXTENSIONS.daemonSetUpdatedNumberScheduled),
    col('Available', 'integer', EXTENSIONS.daemonSetNumberAvailable),
    col('Node Selector', 'string', POD.nodeSelector),
    AGE_COLUMN,
    wide('Containers', 'string', CONTAINERS_DESC),
    wide('Images', 'string', IMAGES_DESC),
    wide('Selector', 'string', EXTENSIONS.daemonSetSpecSelector),
  ],
  cells(ds: any, now: Date): unknown[] {
    const st = ds?.status ?? {};
    const [names, images] = containerCells(templateContainers(ds));
    return [
      str(ds?.metadata?.name),
      int(st.desiredNumberScheduled),
      int(st.currentNumberScheduled),
      int(st.numberReady),
      int(st.updatedNumberScheduled),
      int(st.numberAvailable),
      formatLabels(ds?.spec?.template?.spec?.nodeSelector),
      formatAge(ds?.metadata?.creationTimestamp, now),
      names,
      images,
      formatLabelSelector(ds?.spec?.selector),
    ];
  },
};

export const statefulSetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Ready', 'string', 'Number of the pod with ready state'),
    AGE_COLUMN,
    wide('Containers', 'string', CONTAINERS_DESC),
    wide('Images', 'string', IMAGES_DESC),
  ],
  cells(ss: any, now: Date): unknown[] {
    const [names, images] = containerCells(templateContainers(ss));
    return [
      str(ss?.metadata?.name),
      `${int(ss?.status?.readyReplicas)}/${desiredReplicas(ss)}`,
      formatAge(ss?.metadata?.creationTimestamp, now),
      names,
      images,
    ];
  },
};

/** schema.ParseGroupVersion: only the group matters here. */
function groupOf(apiVersion: string): string {
  if (apiVersion === '' || apiVersion === '/') return '';
  const parts = apiVersion.split('/');
  if (parts.length === 1) return '';
  if (parts.length === 2) return parts[0]!;
  // Upstream fails the whole request on a malformed owner reference.
  throw new Error(`unexpected GroupVersion string: ${apiVersion}`);
}

/** "daemonset.apps/name" for the controlling owner, "<none>" without one. */
function controllerName(obj: any): string {
  const refs: any[] = Array.isArray(obj?.metadata?.ownerReferences) ? obj.metadata.ownerReferences : [];
  const ref = refs.find((r) => r?.controller === true);
  if (!ref) return '<none>';
  const group = groupOf(str(ref.apiVersion));
  const kind = str(ref.kind);
  const name = str(ref.name);
  if (group === '' && kind === '') return name;
  const groupKind = group === '' ? kind : `${kind}.${group}`;
  return `${groupKind.toLowerCase()}/${name}`;
}

export const controllerRevisionPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Controller', 'string', 'Controller of the object'),
    col('Revision', 'string', CONTROLLER_REVISION_REVISION),
    AGE_COLUMN,
  ],
  cells(cr: any, now: Date): unknown[] {
    return [
      str(cr?.metadata?.name),
      controllerName(cr),
      int(cr?.revision),
      formatAge(cr?.metadata?.creationTimestamp, now),
    ];
  },
};
