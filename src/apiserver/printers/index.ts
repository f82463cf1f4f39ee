/**
 * Server-side printing: the Table columns and cells `kubectl get` shows for each resource,
 * matching upstream's pkg/printers/internalversion. Resources without a printer of their
 * own get the apiserver's default Name / Created At table; custom resources use
 * customResourcePrinter() with their CRD's additionalPrinterColumns instead.
 */
import type { Printer } from './types.js';
import { apiServicePrinter } from './apiregistration.js';
import { csiDriverPrinter, csiNodePrinter, volumeAttachmentPrinter } from './csi.js';
import { flowSchemaPrinter, priorityLevelConfigurationPrinter } from './flowcontrol.js';
import { cronJobPrinter, jobPrinter } from './batch.js';
import { certificateSigningRequestPrinter } from './certificates.js';
import { horizontalPodAutoscalerPrinter, horizontalPodAutoscalerV1Printer } from './autoscaling.js';
import { configMapPrinter, secretPrinter, serviceAccountPrinter } from './config.js';
import { defaultPrinter } from './default.js';
import { eventPrinter, eventsV1Printer } from './events.js';
import { leasePrinter } from './leases.js';
import { componentStatusPrinter } from './componentstatus.js';
import { podDisruptionBudgetPrinter, priorityClassPrinter } from './policy.js';
import { namespacePrinter } from './namespaces.js';
import { ingressClassPrinter, ingressPrinter, networkPolicyPrinter } from './networking.js';
import { nodePrinter } from './nodes.js';
import { podPrinter } from './pods.js';
import { resourceQuotaPrinter } from './quota.js';
import { podTemplatePrinter, runtimeClassPrinter } from './runtimeclass.js';
import { clusterRoleBindingPrinter, roleBindingPrinter } from './rbac.js';
import { endpointSlicePrinter, endpointsPrinter, servicePrinter } from './services.js';
import { persistentVolumeClaimPrinter, persistentVolumePrinter, storageClassPrinter } from './storage.js';
import {
  controllerRevisionPrinter,
  daemonSetPrinter,
  deploymentPrinter,
  replicaSetPrinter,
  statefulSetPrinter,
} from './workloads.js';

export type { Printer, TableColumn } from './types.js';
export { formatAge } from './duration.js';
export { defaultPrinter } from './default.js';
export { customResourcePrinter } from './crd.js';
export type { CustomResourceColumn } from './crd.js';

/** Keyed by "resource" for the core group and "group/resource" otherwise. */
const PRINTERS: ReadonlyMap<string, Printer> = new Map<string, Printer>([
  ['namespaces', namespacePrinter],
  ['pods', podPrinter],
  ['podtemplates', podTemplatePrinter],
  ['nodes', nodePrinter],
  ['services', servicePrinter],
  ['endpoints', endpointsPrinter],
  ['configmaps', configMapPrinter],
  ['secrets', secretPrinter],
  ['serviceaccounts', serviceAccountPrinter],
  ['events', eventPrinter],
  ['resourcequotas', resourceQuotaPrinter],
  ['persistentvolumes', persistentVolumePrinter],
  ['persistentvolumeclaims', persistentVolumeClaimPrinter],
  ['storage.k8s.io/storageclasses', storageClassPrinter],
  ['events.k8s.io/events', eventsV1Printer],
  ['coordination.k8s.io/leases', leasePrinter],
  ['certificates.k8s.io/certificatesigningrequests', certificateSigningRequestPrinter],
  ['componentstatuses', componentStatusPrinter],
  ['policy/poddisruptionbudgets', podDisruptionBudgetPrinter],
  ['scheduling.k8s.io/priorityclasses', priorityClassPrinter],
  ['node.k8s.io/runtimeclasses', runtimeClassPrinter],
  ['apps/deployments', deploymentPrinter],
  ['apps/replicasets', replicaSetPrinter],
  ['apps/daemonsets', daemonSetPrinter],
  ['apps/statefulsets', statefulSetPrinter],
  ['apps/controllerrevisions', controllerRevisionPrinter],
  ['batch/jobs', jobPrinter],
  ['autoscaling/horizontalpodautoscalers', horizontalPodAutoscalerPrinter],
  ['autoscaling/v1/horizontalpodautoscalers', horizontalPodAutoscalerV1Printer],
  ['batch/cronjobs', cronJobPrinter],
  ['networking.k8s.io/ingresses', ingressPrinter],
  ['networking.k8s.io/ingressclasses', ingressClassPrinter],
  ['networking.k8s.io/networkpolicies', networkPolicyPrinter],
  ['discovery.k8s.io/endpointslices', endpointSlicePrinter],
  ['rbac.authorization.k8s.io/rolebindings', roleBindingPrinter],
  ['rbac.authorization.k8s.io/clusterrolebindings', clusterRoleBindingPrinter],
  ['apiregistration.k8s.io/apiservices', apiServicePrinter],
  ['storage.k8s.io/csidrivers', csiDriverPrinter],
  ['storage.k8s.io/csinodes', csiNodePrinter],
  ['storage.k8s.io/volumeattachments', volumeAttachmentPrinter],
  ['flowcontrol.apiserver.k8s.io/flowschemas', flowSchemaPrinter],
  ['flowcontrol.apiserver.k8s.io/prioritylevelconfigurations', priorityLevelConfigurationPrinter],
  // limitranges, roles and clusterroles use the default table upstream too.
]);

/** The printer for a resource key ("pods", "apps/deployments", ...), else the default printer. */
export function printerFor(resourceKey: string): Printer {
  return PRINTERS.get(resourceKey) ?? defaultPrinter;
}
