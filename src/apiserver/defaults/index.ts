/**
 * Upstream defaulting of v1 wire-form objects (k8s.io/kubernetes/pkg/apis/<group>/v1/defaults.go),
 * plus the few fields kube-apiserver fills before validation (pod priority, Service IP families,
 * Job selector). applyDefaults mutates the object and is idempotent.
 */
import { defaultCRD } from '../crd/validation.js';
import { defaultPod, defaultPodTemplateSpec } from './pod.js';
import { defaultService } from './service.js';
import { defaultHorizontalPodAutoscaler } from './autoscaling.js';
import { defaultResourceList } from './quantities.js';
import {
  defaultCronJob, defaultDaemonSet, defaultDeployment, defaultJob, defaultReplicaSet, defaultReplicationController, defaultStatefulSet,
} from './workloads.js';
import {
  defaultBinding, defaultEndpointSlice, defaultEndpoints, defaultIngressClass, defaultLimitRange, defaultNamespace, defaultNetworkPolicy,
  defaultNode, defaultPV, defaultPVC, defaultResourceQuota, defaultSecret, defaultStorageClass,
} from './misc.js';

export { imageTag } from './pod.js';
export { canonicalize as canonicalQuantityText } from './quantities.js';
export { normalizeServiceClusterIPs, patchAllocatedServiceValues } from '../validation/service.js';
export { generateJobSelector } from '../validation/batch.js';

const DEFAULTERS: Record<string, (obj: any) => void> = {
  pods: defaultPod,
  podtemplates: (o) => defaultPodTemplateSpec(o?.template),
  services: defaultService,
  secrets: defaultSecret,
  namespaces: defaultNamespace,
  nodes: defaultNode,
  endpoints: defaultEndpoints,
  limitranges: defaultLimitRange,
  resourcequotas: defaultResourceQuota,
  replicationcontrollers: defaultReplicationController,
  persistentvolumeclaims: defaultPVC,
  persistentvolumes: defaultPV,
  'storage.k8s.io/storageclasses': defaultStorageClass,
  'node.k8s.io/runtimeclasses': (o) => defaultResourceList(o?.overhead?.podFixed),
  'apps/deployments': defaultDeployment,
  'apps/replicasets': defaultReplicaSet,
  'apps/daemonsets': defaultDaemonSet,
  'apps/statefulsets': defaultStatefulSet,
  'batch/jobs': defaultJob,
  'batch/cronjobs': defaultCronJob,
  'autoscaling/horizontalpodautoscalers': defaultHorizontalPodAutoscaler,
  'apiextensions.k8s.io/customresourcedefinitions': defaultCRD,
  'networking.k8s.io/networkpolicies': defaultNetworkPolicy,
  'networking.k8s.io/ingressclasses': defaultIngressClass,
  'discovery.k8s.io/endpointslices': defaultEndpointSlice,
  'rbac.authorization.k8s.io/rolebindings': defaultBinding,
  'rbac.authorization.k8s.io/clusterrolebindings': defaultBinding,
};

/** Applies upstream defaults for the resource (resourceKey as "pods" or "apps/deployments"). */
export function applyDefaults(resourceKey: string, obj: any): void {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return;
  DEFAULTERS[resourceKey]?.(obj);
}
