/**
 * The API surface Skiff serves: one entry per resource, with what discovery, OpenAPI, storage and
 * the generic REST store need to know. Behaviour that differs per resource lives in strategy.ts.
 */
export interface ResourceInfo {
  group: string;
  version: string;
  /** Plural, lower case: "pods". */
  resource: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** Subresources served: status, scale, binding. */
  subresources: string[];
  /** metadata.generation tracks spec changes. */
  generation: boolean;
  /** "resource" for the core group, "group/resource" otherwise. Also the storage prefix. */
  key: string;
  /** "v1" or "group/version". */
  apiVersion: string;
  /** Resource key of the storage this resource shares (events.k8s.io events live with core events). */
  storageKey: string;
  /** Not stored: a create-only review (SubjectAccessReview, TokenReview, …) answered by a handler. */
  virtual: boolean;
  /** Set for custom resources (served from a CustomResourceDefinition). */
  custom?: CustomInfo;
}

/** What the store needs to know about a custom resource version, from its CRD. */
export interface CustomInfo {
  crdName: string;
  /** The version objects are stored as. */
  storageVersion: string;
  /** The version's openAPIV3Schema. */
  schema?: Record<string, any>;
  printerColumns: { name: string; type: string; jsonPath: string; description?: string; priority?: number; format?: string }[];
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  selectableFields: string[];
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface Def {
  resource: string;
  kind: string;
  namespaced?: boolean;
  shortNames?: string[];
  categories?: string[];
  subresources?: string[];
  generation?: boolean;
  storageKey?: string;
  virtual?: boolean;
  /** Computed on each read, never stored (ComponentStatus): get and list only. */
  readOnly?: boolean;
  /** A version served beside the storage version of the same resource gets a key of its own ("group/version/resource"). */
  versionedKey?: boolean;
}

function group(group: string, version: string, defs: Def[]): ResourceInfo[] {
  return defs.map((d) => {
    const key = d.versionedKey ? `${group}/${version}/${d.resource}` : group ? `${group}/${d.resource}` : d.resource;
    return {
      group,
      version,
      resource: d.resource,
      kind: d.kind,
      singular: d.kind.toLowerCase(),
      namespaced: d.namespaced ?? true,
      shortNames: d.shortNames ?? [],
      categories: d.categories ?? [],
      verbs: d.virtual ? ['create'] : d.readOnly ? ['get', 'list'] : ALL_VERBS,
      subresources: d.subresources ?? [],
      generation: d.generation ?? false,
      key,
      apiVersion: group ? `${group}/${version}` : version,
      storageKey: d.storageKey ?? key,
      virtual: d.virtual ?? false,
    };
  });
}

export const RESOURCES: ResourceInfo[] = [
  ...group('', 'v1', [
    { resource: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize'] },
    { resource: 'pods', kind: 'Pod', shortNames: ['po'], categories: ['all'], subresources: ['status', 'binding', 'eviction', 'ephemeralcontainers', 'log', 'exec', 'attach', 'portforward', 'proxy'] },
    // The older form of pods/binding (POST namespaces/NS/bindings, the pod named in the body).
    { resource: 'bindings', kind: 'Binding', virtual: true },
    { resource: 'podtemplates', kind: 'PodTemplate' },
    { resource: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'], subresources: ['status', 'proxy'] },
    { resource: 'componentstatuses', kind: 'ComponentStatus', namespaced: false, shortNames: ['cs'], readOnly: true },
    { resource: 'services', kind: 'Service', shortNames: ['svc'], categories: ['all'], subresources: ['status', 'proxy'] },
    { resource: 'endpoints', kind: 'Endpoints', shortNames: ['ep'] },
    { resource: 'configmaps', kind: 'ConfigMap', shortNames: ['cm'] },
    { resource: 'secrets', kind: 'Secret' },
    { resource: 'serviceaccounts', kind: 'ServiceAccount', shortNames: ['sa'], subresources: ['token'] },
    { resource: 'events', kind: 'Event', shortNames: ['ev'] },
    { resource: 'limitranges', kind: 'LimitRange', shortNames: ['limits'] },
    { resource: 'resourcequotas', kind: 'ResourceQuota', shortNames: ['quota'], subresources: ['status'] },
    { resource: 'replicationcontrollers', kind: 'ReplicationController', shortNames: ['rc'], categories: ['all'], subresources: ['status', 'scale'], generation: true },
    { resource: 'persistentvolumes', kind: 'PersistentVolume', namespaced: false, shortNames: ['pv'], subresources: ['status'] },
    { resource: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', shortNames: ['pvc'], subresources: ['status'] },
  ]),
  ...group('apps', 'v1', [
    { resource: 'deployments', kind: 'Deployment', shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'], generation: true },
    { resource: 'replicasets', kind: 'ReplicaSet', shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'], generation: true },
    { resource: 'daemonsets', kind: 'DaemonSet', shortNames: ['ds'], categories: ['all'], subresources: ['status'], generation: true },
    { resource: 'statefulsets', kind: 'StatefulSet', shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'], generation: true },
    { resource: 'controllerrevisions', kind: 'ControllerRevision' },
  ]),
  ...group('batch', 'v1', [
    { resource: 'jobs', kind: 'Job', categories: ['all'], subresources: ['status'], generation: true },
    { resource: 'cronjobs', kind: 'CronJob', shortNames: ['cj'], categories: ['all'], subresources: ['status'], generation: true },
  ]),
  // v2 first: the preferred and storage version; v1 is converted (hpa/conversion.ts).
  ...group('autoscaling', 'v2', [
    { resource: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', shortNames: ['hpa'], categories: ['all'], subresources: ['status'], generation: true },
  ]),
  ...group('autoscaling', 'v1', [
    { resource: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', shortNames: ['hpa'], categories: ['all'], subresources: ['status'], generation: true, versionedKey: true, storageKey: 'autoscaling/horizontalpodautoscalers' },
  ]),
  ...group('apiextensions.k8s.io', 'v1', [
    { resource: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'], subresources: ['status'], generation: true },
  ]),
  ...group('apiregistration.k8s.io', 'v1', [
    { resource: 'apiservices', kind: 'APIService', namespaced: false, categories: ['api-extensions'], subresources: ['status'] },
  ]),
  ...group('coordination.k8s.io', 'v1', [{ resource: 'leases', kind: 'Lease' }]),
  ...group('discovery.k8s.io', 'v1', [{ resource: 'endpointslices', kind: 'EndpointSlice' }]),
  ...group('events.k8s.io', 'v1', [{ resource: 'events', kind: 'Event', shortNames: ['ev'], storageKey: 'events' }]),
  ...group('networking.k8s.io', 'v1', [
    { resource: 'ingresses', kind: 'Ingress', shortNames: ['ing'], subresources: ['status'], generation: true },
    { resource: 'ingressclasses', kind: 'IngressClass', namespaced: false, generation: true },
    { resource: 'networkpolicies', kind: 'NetworkPolicy', shortNames: ['netpol'], generation: true },
  ]),
  ...group('node.k8s.io', 'v1', [{ resource: 'runtimeclasses', kind: 'RuntimeClass', namespaced: false }]),
  ...group('policy', 'v1', [{ resource: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', shortNames: ['pdb'], subresources: ['status'], generation: true }]),
  ...group('scheduling.k8s.io', 'v1', [{ resource: 'priorityclasses', kind: 'PriorityClass', namespaced: false, shortNames: ['pc'] }]),
  ...group('storage.k8s.io', 'v1', [
    { resource: 'storageclasses', kind: 'StorageClass', namespaced: false, shortNames: ['sc'] },
    { resource: 'csidrivers', kind: 'CSIDriver', namespaced: false },
    { resource: 'csinodes', kind: 'CSINode', namespaced: false },
    { resource: 'volumeattachments', kind: 'VolumeAttachment', namespaced: false, subresources: ['status'] },
  ]),
  ...group('admissionregistration.k8s.io', 'v1', [
    { resource: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', namespaced: false, generation: true },
    { resource: 'validatingwebhookconfigurations', kind: 'ValidatingWebhookConfiguration', namespaced: false, generation: true },
  ]),
  ...group('authentication.k8s.io', 'v1', [
    { resource: 'selfsubjectreviews', kind: 'SelfSubjectReview', namespaced: false, virtual: true },
    { resource: 'tokenreviews', kind: 'TokenReview', namespaced: false, virtual: true },
  ]),
  ...group('authorization.k8s.io', 'v1', [
    { resource: 'localsubjectaccessreviews', kind: 'LocalSubjectAccessReview', virtual: true },
    { resource: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview', namespaced: false, virtual: true },
    { resource: 'selfsubjectrulesreviews', kind: 'SelfSubjectRulesReview', namespaced: false, virtual: true },
    { resource: 'subjectaccessreviews', kind: 'SubjectAccessReview', namespaced: false, virtual: true },
  ]),
  ...group('certificates.k8s.io', 'v1', [
    { resource: 'certificatesigningrequests', kind: 'CertificateSigningRequest', namespaced: false, shortNames: ['csr'], subresources: ['status', 'approval'] },
  ]),
  ...group('rbac.authorization.k8s.io', 'v1', [
    { resource: 'roles', kind: 'Role' },
    { resource: 'rolebindings', kind: 'RoleBinding' },
    { resource: 'clusterroles', kind: 'ClusterRole', namespaced: false },
    { resource: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false },
  ]),
  // Stored and validated only: Skiff does no API Priority and Fairness with them.
  ...group('flowcontrol.apiserver.k8s.io', 'v1', [
    { resource: 'flowschemas', kind: 'FlowSchema', namespaced: false, subresources: ['status'], generation: true },
    { resource: 'prioritylevelconfigurations', kind: 'PriorityLevelConfiguration', namespaced: false, subresources: ['status'], generation: true },
  ]),
];

const byGroupResource = new Map<string, ResourceInfo>();
for (const r of RESOURCES) byGroupResource.set(`${r.group}/${r.version}/${r.resource}`, r);

// Custom resources, registered at run time from established CRDs (by CRD name).
const customByCRD = new Map<string, ResourceInfo[]>();
const customIndex = new Map<string, ResourceInfo>();
let customList: ResourceInfo[] = [];
let customGeneration = 0;

/** Serves (or, with no infos, stops serving) the custom resources of one CRD. */
export function setCustomResources(crdName: string, infos: ResourceInfo[]): void {
  if (infos.length) customByCRD.set(crdName, infos);
  else if (!customByCRD.delete(crdName)) return;
  customIndex.clear();
  customList = [...customByCRD.values()].flat();
  for (const r of customList) {
    const k = `${r.group}/${r.version}/${r.resource}`;
    if (!byGroupResource.has(k)) customIndex.set(k, r);
  }
  customGeneration++;
}

/** Changes whenever the set of custom resources does (for caches of discovery and OpenAPI). */
export function resourcesGeneration(): number {
  return customGeneration;
}

/** Built-in and custom resources, in discovery order. */
export function allResources(): ResourceInfo[] {
  return customList.length ? RESOURCES.concat(customList) : RESOURCES;
}

export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  const k = `${group}/${version}/${resource}`;
  return byGroupResource.get(k) ?? (customIndex.size ? customIndex.get(k) : undefined);
}

export function findByKey(key: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.key === key) ?? customList.find((r) => r.key === key);
}

/** Group versions in discovery order: core first, then groups in the order above. */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Set<string>();
  const out: { group: string; version: string }[] = [];
  for (const r of allResources()) {
    const gv = `${r.group}/${r.version}`;
    if (!seen.has(gv)) {
      seen.add(gv);
      out.push({ group: r.group, version: r.version });
    }
  }
  return out;
}

/** Kind and verbs of a subresource, as discovery and OpenAPI describe it. */
export function subresourceInfo(info: ResourceInfo, sub: string): { group: string; version: string; kind: string; verbs: string[] } {
  switch (sub) {
    case 'scale':
      return { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] };
    case 'binding':
      return { group: '', version: 'v1', kind: 'Binding', verbs: ['create'] };
    case 'eviction':
      return { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] };
    case 'token':
      return { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] };
    case 'log':
      return { group: '', version: 'v1', kind: 'Pod', verbs: ['get'] };
    case 'exec':
      return { group: '', version: 'v1', kind: 'PodExecOptions', verbs: ['create', 'get'] };
    case 'attach':
      return { group: '', version: 'v1', kind: 'PodAttachOptions', verbs: ['create', 'get'] };
    case 'portforward':
      return { group: '', version: 'v1', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] };
    case 'finalize':
      return { group: info.group, version: info.version, kind: info.kind, verbs: ['update'] };
    case 'proxy':
      return { group: '', version: 'v1', kind: info.kind === 'Pod' ? 'PodProxyOptions' : info.kind === 'Service' ? 'ServiceProxyOptions' : 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] };
    default:
      return { group: info.group, version: info.version, kind: info.kind, verbs: ['get', 'patch', 'update'] };
  }
}
