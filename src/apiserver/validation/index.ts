/**
 * Entry points of upstream-compatible validation. Objects are v1 wire-form JSON and are expected
 * to be defaulted first (defaults/applyDefaults), as kube-apiserver decodes and defaults before
 * validating. resourceKey is "resource" for the core group and "group/resource" otherwise.
 */
import type { FieldError } from './types.js';
import { validateCRD, validateCRDUpdate } from '../crd/validation.js';
import { nameIsDNSSubdomain, nameIsPathSegment, type NameFn } from './names.js';
import { validateObjectMeta, validateObjectMetaUpdate, type MetaUpdateOptions } from './meta.js';
import { validatePod, validatePodStatusUpdate, validatePodTemplateObject, validatePodTemplateSpec, validatePodUpdate } from './pod.js';
import { validateService, validateServiceUpdate } from './service.js';
import { validateConfigMap, validateConfigMapUpdate, validateSecret, validateSecretUpdate } from './configdata.js';
import { validateNamespace, validateNamespaceUpdate } from './namespace.js';
import { validateNode, validateNodeUpdate } from './node.js';
import { validateEndpoints, validateEndpointSlice, validateEndpointSliceUpdate, validateEndpointsUpdate } from './endpoints.js';
import {
  validateControllerRevision, validateControllerRevisionUpdate, validateDaemonSet, validateDaemonSetUpdate, validateDeployment,
  validateDeploymentUpdate, validateReplicaSet, validateReplicaSetUpdate, validateReplicationController,
  validateReplicationControllerUpdate, validateStatefulSet, validateStatefulSetUpdate,
} from './workloads.js';
import { validateCronJob, validateCronJobUpdate, validateJob, validateJobUpdate } from './batch.js';
import {
  validateIngress, validateIngressClass, validateIngressClassUpdate, validateIngressUpdate, validateNetworkPolicy,
  validateNetworkPolicyUpdate,
} from './networking.js';
import {
  validateClusterRole, validateClusterRoleBinding, validateClusterRoleBindingUpdate, validateClusterRoleUpdate, validateRole,
  validateRoleBinding, validateRoleBindingUpdate, validateRoleUpdate,
} from './rbac.js';
import { validateLease, validateLeaseUpdate } from './lease.js';
import { validateRuntimeClass, validateRuntimeClassUpdate } from './runtimeclass.js';
import {
  validateCertificateSigningRequest, validateCertificateSigningRequestApprovalUpdate, validateCertificateSigningRequestStatusUpdate,
  validateCertificateSigningRequestUpdate,
} from './certificates.js';
import { validateHorizontalPodAutoscaler, validateHorizontalPodAutoscalerStatusUpdate, validateHorizontalPodAutoscalerUpdate } from './autoscaling.js';
import { validateCoreEvent, validateCoreEventUpdate, validateEventsV1, validateEventsV1Update } from './events.js';
import { validateLimitRange, validateLimitRangeUpdate, validateResourceQuota, validateResourceQuotaUpdate } from './quota.js';
import {
  validatePV, validatePVC, validatePVCUpdate, validatePVUpdate, validateStorageClass, validateStorageClassUpdate,
} from './storage.js';
import { validateAPIService, validateAPIServiceStatusUpdate, validateAPIServiceUpdate } from './apiregistration.js';
import {
  validateCSIDriver, validateCSIDriverUpdate, validateCSINode, validateCSINodeUpdate, validateVolumeAttachment, validateVolumeAttachmentStatusUpdate,
  validateVolumeAttachmentUpdate,
} from './csi.js';
import { validateFlowSchema, validateFlowSchemaUpdate, validatePriorityLevelConfiguration, validatePriorityLevelConfigurationUpdate } from './flowcontrol.js';

export type { FieldError } from './types.js';
export { formatInvalidMessage, invalidStatus, aggregateMessage, type InvalidStatus } from './format.js';
export * from './names.js';
export * from './quantity.js';
export { normalizeServiceClusterIPs, patchAllocatedServiceValues } from './service.js';
export { generateJobSelector } from './batch.js';
export { warningsOnCreate } from './warnings.js';

export interface ValidateOptions {
  /** Whether the resource is namespaced (metadata.namespace required) or cluster-scoped (forbidden). */
  namespaced: boolean;
}

export interface ValidateUpdateOptions extends ValidateOptions, MetaUpdateOptions {}

interface Rules {
  create(obj: any, opts: ValidateOptions): FieldError[];
  update(obj: any, old: any, opts: ValidateOptions): FieldError[];
}

/** Resources with only ObjectMeta rules (ServiceAccount, PriorityClass, CRD instances…). */
function metaOnly(nameFn: NameFn): Rules {
  return {
    create: (obj, opts) => validateObjectMeta(obj?.metadata, opts.namespaced, nameFn),
    update: (obj, old, opts) =>
      validateObjectMetaUpdate(obj?.metadata, old?.metadata).concat(validateObjectMeta(obj?.metadata, opts.namespaced, nameFn)),
  };
}

function rules(create: (o: any) => FieldError[], update: (o: any, old: any) => FieldError[]): Rules {
  return { create: (o) => create(o), update: (o, old) => update(o, old) };
}

const RULES: Record<string, Rules> = {
  'apiextensions.k8s.io/customresourcedefinitions': rules(validateCRD, validateCRDUpdate),
  pods: rules(validatePod, validatePodUpdate),
  podtemplates: rules(validatePodTemplateObject, (o, old) => validateObjectMetaUpdate(o?.metadata, old?.metadata).concat(validatePodTemplateSpec(o?.template, 'template'))),
  services: rules(validateService, validateServiceUpdate),
  configmaps: rules(validateConfigMap, validateConfigMapUpdate),
  secrets: rules(validateSecret, validateSecretUpdate),
  namespaces: rules(validateNamespace, validateNamespaceUpdate),
  nodes: rules(validateNode, validateNodeUpdate),
  endpoints: rules(validateEndpoints, validateEndpointsUpdate),
  events: rules(validateCoreEvent, validateCoreEventUpdate),
  limitranges: rules(validateLimitRange, validateLimitRangeUpdate),
  resourcequotas: rules(validateResourceQuota, validateResourceQuotaUpdate),
  replicationcontrollers: rules(validateReplicationController, validateReplicationControllerUpdate),
  persistentvolumeclaims: rules(validatePVC, validatePVCUpdate),
  persistentvolumes: rules(validatePV, validatePVUpdate),
  'storage.k8s.io/storageclasses': rules(validateStorageClass, validateStorageClassUpdate),
  serviceaccounts: metaOnly(nameIsDNSSubdomain),
  'apps/deployments': rules(validateDeployment, validateDeploymentUpdate),
  'apps/replicasets': rules(validateReplicaSet, validateReplicaSetUpdate),
  'apps/daemonsets': rules(validateDaemonSet, validateDaemonSetUpdate),
  'apps/statefulsets': rules(validateStatefulSet, validateStatefulSetUpdate),
  'apps/controllerrevisions': rules(validateControllerRevision, validateControllerRevisionUpdate),
  'batch/jobs': rules(validateJob, validateJobUpdate),
  'batch/cronjobs': rules(validateCronJob, validateCronJobUpdate),
  'autoscaling/horizontalpodautoscalers': rules(validateHorizontalPodAutoscaler, validateHorizontalPodAutoscalerUpdate),
  'networking.k8s.io/ingresses': rules(validateIngress, validateIngressUpdate),
  'networking.k8s.io/ingressclasses': rules(validateIngressClass, validateIngressClassUpdate),
  'networking.k8s.io/networkpolicies': rules(validateNetworkPolicy, validateNetworkPolicyUpdate),
  'discovery.k8s.io/endpointslices': rules(validateEndpointSlice, validateEndpointSliceUpdate),
  'coordination.k8s.io/leases': rules(validateLease, validateLeaseUpdate),
  // Upstream's strategy runs the create rules on update too, then the immutable handler.
  'node.k8s.io/runtimeclasses': rules(validateRuntimeClass, (o, old) => validateRuntimeClass(o).concat(validateRuntimeClassUpdate(o, old))),
  'certificates.k8s.io/certificatesigningrequests': rules(validateCertificateSigningRequest, validateCertificateSigningRequestUpdate),
  'events.k8s.io/events': rules(validateEventsV1, validateEventsV1Update),
  'rbac.authorization.k8s.io/roles': rules(validateRole, validateRoleUpdate),
  'rbac.authorization.k8s.io/clusterroles': rules(validateClusterRole, validateClusterRoleUpdate),
  'rbac.authorization.k8s.io/rolebindings': rules(validateRoleBinding, validateRoleBindingUpdate),
  'rbac.authorization.k8s.io/clusterrolebindings': rules(validateClusterRoleBinding, validateClusterRoleBindingUpdate),
  'apiregistration.k8s.io/apiservices': rules(validateAPIService, validateAPIServiceUpdate),
  'storage.k8s.io/csidrivers': rules(validateCSIDriver, validateCSIDriverUpdate),
  'storage.k8s.io/csinodes': rules(validateCSINode, validateCSINodeUpdate),
  'storage.k8s.io/volumeattachments': rules(validateVolumeAttachment, validateVolumeAttachmentUpdate),
  'flowcontrol.apiserver.k8s.io/flowschemas': rules(validateFlowSchema, validateFlowSchemaUpdate),
  'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations': rules(validatePriorityLevelConfiguration, validatePriorityLevelConfigurationUpdate),
};

const RBAC_PREFIX = 'rbac.authorization.k8s.io/';

function rulesFor(resourceKey: string): Rules {
  // Unknown resources (CRD instances, other built-ins) get upstream's generic DNS-subdomain names.
  return RULES[resourceKey] ?? metaOnly(resourceKey.startsWith(RBAC_PREFIX) ? nameIsPathSegment : nameIsDNSSubdomain);
}

/**
 * The per-kind validators know their kind's scope; should the caller's scope differ (a kind served
 * with another scope), upstream's namespace error is still reported.
 */
function scopeErrors(errs: FieldError[], obj: any, opts: ValidateOptions): FieldError[] {
  const ns = obj?.metadata?.namespace;
  const wrong = opts.namespaced ? !ns : !!ns;
  if (!wrong || errs.some((e) => e.field === 'metadata.namespace')) return errs;
  return errs.concat(validateObjectMeta(obj?.metadata, opts.namespaced, nameIsDNSSubdomain).filter((e) => e.field === 'metadata.namespace'));
}

/** Validates an object being created. Returns [] when it is valid. */
export function validateObject(resourceKey: string, obj: any, opts: ValidateOptions): FieldError[] {
  return scopeErrors(rulesFor(resourceKey).create(obj, opts), obj, opts);
}

/** Status-subresource rules where they differ from the main resource's (the spec cannot change there). */
const STATUS_RULES: Record<string, (obj: any, old: any) => FieldError[]> = {
  pods: validatePodStatusUpdate,
  'autoscaling/horizontalpodautoscalers': validateHorizontalPodAutoscalerStatusUpdate,
  'certificates.k8s.io/certificatesigningrequests': validateCertificateSigningRequestStatusUpdate,
  'certificates.k8s.io/certificatesigningrequests/approval': validateCertificateSigningRequestApprovalUpdate,
  'apiregistration.k8s.io/apiservices': validateAPIServiceStatusUpdate,
  'storage.k8s.io/volumeattachments': validateVolumeAttachmentStatusUpdate,
};

/** Validates a status-subresource (or another status-like subresource: CSR approval) update of `old` to `obj`. */
export function validateStatusUpdate(resourceKey: string, obj: any, old: any, opts: ValidateUpdateOptions, subresource = 'status'): FieldError[] {
  const rule = STATUS_RULES[subresource === 'status' ? resourceKey : `${resourceKey}/${subresource}`];
  return rule ? rule(obj, old) : validateObjectUpdate(resourceKey, obj, old, opts);
}

/** Validates an update of `old` to `obj`, including upstream's immutability rules. */
export function validateObjectUpdate(resourceKey: string, obj: any, old: any, opts: ValidateUpdateOptions): FieldError[] {
  const errs = rulesFor(resourceKey).update(obj, old, opts);
  if (opts.requireResourceVersion && !obj?.metadata?.resourceVersion) {
    // The store normally fills resourceVersion for unconditional updates before validating.
    errs.unshift(...validateObjectMetaUpdate(obj?.metadata, old?.metadata, 'metadata', { requireResourceVersion: true }).filter((e) => e.field === 'metadata.resourceVersion'));
  }
  return errs;
}
