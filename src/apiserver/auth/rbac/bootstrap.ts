import type { Registry } from '../../registry.js';
import { findResource } from '../../resources.js';
import { StatusError } from '../../status.js';
import { covers, type PolicyRule, type Subject } from './rules.js';

const RW = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const READ = ['get', 'list', 'watch'];
const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const rule = (verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule =>
  resourceNames ? { apiGroups, resources, resourceNames, verbs } : { apiGroups, resources, verbs };
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ nonResourceURLs, verbs });

interface RoleDef {
  name: string;
  rules?: PolicyRule[];
  labels?: Record<string, string>;
  aggregateFrom?: string;
}

const AGG = (to: string) => ({ [`rbac.authorization.k8s.io/aggregate-to-${to}`]: 'true' });
const eventsRule = rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']);

/** Upstream's default ClusterRoles (the ones that matter for a single cluster without storage or CSR APIs). */
export const BOOTSTRAP_CLUSTER_ROLES: RoleDef[] = [
  {
    name: 'system:volume-scheduler',
    rules: [rule(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumes']), rule(READ, ['storage.k8s.io'], ['storageclasses']), rule(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumeclaims'])],
  },
  { name: 'cluster-admin', rules: [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])] },
  { name: 'admin', aggregateFrom: 'admin' },
  { name: 'edit', aggregateFrom: 'edit', labels: AGG('admin') },
  { name: 'view', aggregateFrom: 'view', labels: AGG('edit') },
  {
    name: 'system:aggregate-to-admin',
    labels: AGG('admin'),
    rules: [rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']), rule(ALL, ['rbac.authorization.k8s.io'], ['rolebindings', 'roles'])],
  },
  {
    name: 'system:aggregate-to-edit',
    labels: AGG('edit'),
    rules: [
      rule(READ, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
      rule(['impersonate'], [''], ['serviceaccounts']),
      rule(RW, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
      rule(['create'], [''], ['pods/eviction']),
      rule(RW, [''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
      rule(['create'], [''], ['serviceaccounts/token']),
      rule(RW, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
      rule(RW, ['autoscaling'], ['horizontalpodautoscalers']),
      rule(RW, ['batch'], ['cronjobs', 'jobs']),
      rule(RW, ['extensions'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale']),
      rule(RW, ['policy'], ['poddisruptionbudgets']),
      rule(RW, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
      rule(ALL, ['coordination.k8s.io'], ['leases']),
    ],
  },
  {
    name: 'system:aggregate-to-view',
    labels: AGG('view'),
    rules: [
      rule(READ, [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status']),
      rule(READ, [''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status']),
      rule(READ, [''], ['namespaces']),
      rule(READ, ['discovery.k8s.io'], ['endpointslices']),
      rule(READ, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
      rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
      rule(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
      rule(READ, ['extensions'], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale']),
      rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
      rule(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
    ],
  },
  {
    // metrics-server's role (its manifest, which Skiff's built-in metrics.k8s.io stands in for): view, edit
    // and admin may read pod and node metrics.
    name: 'system:aggregated-metrics-reader',
    labels: { 'k8s-app': 'metrics-server', ...AGG('admin'), ...AGG('edit'), ...AGG('view') },
    rules: [rule(READ, ['metrics.k8s.io'], ['pods', 'nodes'])],
  },
  { name: 'system:auth-delegator', rules: [rule(['create'], ['authentication.k8s.io'], ['tokenreviews']), rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews'])] },
  {
    name: 'system:basic-user',
    rules: [rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']), rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews'])],
  },
  { name: 'system:discovery', rules: [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])] },
  { name: 'system:public-info-viewer', rules: [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])] },
  { name: 'system:monitoring', rules: [urls(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'])] },
  { name: 'system:service-account-issuer-discovery', rules: [urls(['get'], ['/.well-known/openid-configuration', '/openid/v1/jwks'])] },
  {
    name: 'system:kube-controller-manager',
    rules: [
      eventsRule,
      rule(['create'], ['coordination.k8s.io'], ['leases']),
      rule(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-controller-manager']),
      rule(['create'], [''], ['secrets', 'serviceaccounts']),
      rule(['delete'], [''], ['secrets']),
      rule(['get'], [''], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts']),
      rule(['update'], [''], ['secrets', 'serviceaccounts']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      rule(['list', 'watch'], ['*'], ['*']),
      rule(['create'], [''], ['serviceaccounts/token']),
    ],
  },
  {
    name: 'system:kube-scheduler',
    rules: [
      eventsRule,
      rule(['create'], ['coordination.k8s.io'], ['leases']),
      rule(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-scheduler']),
      rule(READ, [''], ['nodes']),
      rule(['delete', 'get', 'list', 'watch'], [''], ['pods']),
      rule(['create'], [''], ['bindings', 'pods/binding']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(READ, [''], ['replicationcontrollers', 'services']),
      rule(READ, ['apps', 'extensions'], ['replicasets']),
      rule(READ, ['apps'], ['statefulsets']),
      rule(READ, ['policy'], ['poddisruptionbudgets']),
      rule(READ, [''], ['persistentvolumeclaims', 'persistentvolumes']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      rule(READ, ['storage.k8s.io'], ['csinodes']),
      rule(READ, [''], ['namespaces']),
      rule(READ, ['storage.k8s.io'], ['csidrivers']),
      rule(READ, ['storage.k8s.io'], ['csistoragecapacities']),
      rule(READ, ['scheduling.k8s.io'], ['priorityclasses']),
    ],
  },
  {
    name: 'system:node',
    rules: [
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews', 'subjectaccessreviews']),
      rule(READ, [''], ['services']),
      rule(['create', 'get', 'list', 'watch'], [''], ['nodes']),
      rule(['patch', 'update'], [''], ['nodes/status']),
      rule(['patch', 'update'], [''], ['nodes']),
      rule(['create', 'patch', 'update'], [''], ['events']),
      rule(READ, [''], ['pods']),
      rule(['create', 'delete'], [''], ['pods']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(['create'], [''], ['pods/eviction']),
      rule(READ, [''], ['configmaps', 'secrets']),
      rule(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
      rule(['get'], [''], ['endpoints']),
      rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
      rule(['create', 'delete', 'get', 'patch', 'update'], ['coordination.k8s.io'], ['leases']),
      rule(['get'], ['storage.k8s.io'], ['volumeattachments']),
      rule(['create'], [''], ['serviceaccounts/token']),
      rule(['get', 'patch', 'update'], [''], ['persistentvolumeclaims/status']),
      rule(READ, ['storage.k8s.io'], ['csidrivers']),
      rule(['create', 'delete', 'get', 'patch', 'update'], ['storage.k8s.io'], ['csinodes']),
      rule(READ, ['node.k8s.io'], ['runtimeclasses']),
    ],
  },
  // Approving for the kubernetes.io signers, to bind to whoever approves CSRs.
  ...['kube-apiserver-client', 'kube-apiserver-client-kubelet', 'kubelet-serving', 'legacy-unknown'].map((signer) => ({
    name: `system:certificates.k8s.io:${signer}-approver`,
    rules: [rule(['approve'], ['certificates.k8s.io'], ['signers'], [`kubernetes.io/${signer}`])],
  })),
  {
    name: 'system:node-proxier',
    rules: [rule(['list', 'watch'], [''], ['endpoints', 'services']), rule(READ, [''], ['nodes']), eventsRule, rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices'])],
  },
];

const EV = rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']);

/**
 * Upstream's per-controller roles for the controllers Skiff runs. Upstream binds each to its
 * controller's service account; Skiff's controller manager is one identity, so they are bound to the
 * user system:kube-controller-manager as well (the union is still far from cluster-admin).
 */
export const CONTROLLER_ROLES: RoleDef[] = [
  {
    name: 'system:controller:deployment-controller',
    rules: [
      rule(['get', 'list', 'update', 'watch'], ['apps', 'extensions'], ['deployments']),
      rule(['update'], ['apps', 'extensions'], ['deployments/status', 'deployments/finalizers']),
      rule(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['apps', 'extensions'], ['replicasets']),
      rule(['get', 'list', 'update', 'watch'], [''], ['pods']),
      EV,
    ],
  },
  {
    name: 'system:controller:replicaset-controller',
    rules: [
      rule(['get', 'list', 'update', 'watch'], ['apps', 'extensions'], ['replicasets']),
      rule(['update'], ['apps', 'extensions'], ['replicasets/status', 'replicasets/finalizers']),
      rule(['create', 'delete', 'list', 'patch', 'watch'], [''], ['pods']),
      EV,
    ],
  },
  {
    name: 'system:controller:job-controller',
    rules: [
      rule(['get', 'list', 'patch', 'update', 'watch'], ['batch'], ['jobs']),
      rule(['update'], ['batch'], ['jobs/status', 'jobs/finalizers']),
      rule(['create', 'delete', 'list', 'patch', 'watch'], [''], ['pods']),
      EV,
    ],
  },
  {
    name: 'system:controller:cronjob-controller',
    rules: [
      rule(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['batch'], ['jobs']),
      rule(['get', 'list', 'update', 'watch'], ['batch'], ['cronjobs']),
      rule(['update'], ['batch'], ['cronjobs/status', 'cronjobs/finalizers']),
      rule(['delete', 'list'], [''], ['pods']),
      EV,
    ],
  },
  { name: 'system:controller:service-account-controller', rules: [rule(['create'], [''], ['serviceaccounts']), EV] },
  {
    name: 'system:controller:certificate-controller',
    rules: [
      rule(['delete', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
      // Upstream's role also approves kubelet client CSRs (its csrapproving controller); Skiff has no auto-approver, so no approve.
      rule(['update'], ['certificates.k8s.io'], ['certificatesigningrequests/status']),
      rule(['sign'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/legacy-unknown', 'kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      EV,
    ],
  },
  { name: 'system:controller:root-ca-cert-publisher', rules: [rule(['create', 'update'], [''], ['configmaps']), EV] },
  {
    name: 'system:controller:namespace-controller',
    rules: [
      rule(['delete', 'get', 'list', 'watch'], [''], ['namespaces']),
      rule(['update'], [''], ['namespaces/finalize', 'namespaces/status']),
      rule(['delete', 'deletecollection', 'get', 'list'], ['*'], ['*']),
    ],
  },
  { name: 'system:controller:generic-garbage-collector', rules: [rule(['delete', 'get', 'list', 'patch', 'update', 'watch'], ['*'], ['*'])] },
  {
    name: 'system:controller:endpointslice-controller',
    rules: [rule(['get', 'list', 'watch'], [''], ['services', 'pods', 'nodes']), rule(['update'], [''], ['services/finalizers']), rule(['create', 'delete', 'get', 'list', 'update'], ['discovery.k8s.io'], ['endpointslices']), EV],
  },
  {
    name: 'system:controller:endpoint-controller',
    rules: [rule(['get', 'list', 'watch'], [''], ['services', 'pods']), rule(['create', 'delete', 'get', 'list', 'update'], [''], ['endpoints']), rule(['create'], [''], ['endpoints/restricted']), EV],
  },
  {
    name: 'system:controller:daemon-set-controller',
    rules: [
      rule(['get', 'list', 'watch'], ['extensions', 'apps'], ['daemonsets']),
      rule(['update'], ['extensions', 'apps'], ['daemonsets/status', 'daemonsets/finalizers']),
      rule(['list', 'watch'], [''], ['nodes']),
      rule(['list', 'watch', 'create', 'delete', 'patch'], [''], ['pods']),
      rule(['create'], [''], ['pods/binding']),
      rule(['get', 'list', 'watch', 'create', 'delete', 'update', 'patch'], ['apps'], ['controllerrevisions']),
      EV,
    ],
  },
  {
    name: 'system:controller:statefulset-controller',
    rules: [
      rule(['list', 'watch'], [''], ['pods']),
      rule(['get', 'list', 'watch'], ['apps'], ['statefulsets']),
      rule(['update'], ['apps'], ['statefulsets/status', 'statefulsets/finalizers']),
      rule(['get', 'create', 'delete', 'update', 'patch'], [''], ['pods']),
      rule(['get', 'create', 'delete', 'update', 'patch', 'list', 'watch'], ['apps'], ['controllerrevisions']),
      rule(['get', 'create', 'list', 'watch'], [''], ['persistentvolumeclaims']),
      rule(['update', 'delete'], [''], ['persistentvolumeclaims']),
      rule(['update'], [''], ['pods/finalizers']),
      EV,
    ],
  },
  {
    name: 'system:controller:disruption-controller',
    rules: [
      rule(['get', 'list', 'watch'], ['extensions', 'apps'], ['deployments']),
      rule(['get', 'list', 'watch'], ['apps', 'extensions'], ['replicasets']),
      rule(['get', 'list', 'watch'], [''], ['replicationcontrollers']),
      rule(['get', 'list', 'watch'], ['policy'], ['poddisruptionbudgets']),
      rule(['get', 'list', 'watch'], ['apps'], ['statefulsets']),
      rule(['update'], ['policy'], ['poddisruptionbudgets/status']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(['get'], ['*'], ['*/scale']),
      EV,
    ],
  },
  {
    // Upstream's node lifecycle, node IPAM and taint eviction controllers all run as node-controller.
    name: 'system:controller:node-controller',
    rules: [
      rule(['get', 'list', 'watch', 'update', 'delete', 'patch'], [''], ['nodes']),
      rule(['patch', 'update'], [''], ['nodes/status']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(['list', 'watch', 'get', 'delete'], [''], ['pods']),
      EV,
    ],
  },
  {
    name: 'system:controller:persistent-volume-binder',
    rules: [
      rule(['create', 'delete', 'get', 'list', 'update', 'watch'], [''], ['persistentvolumes']),
      rule(['update'], [''], ['persistentvolumes/status']),
      rule(['get', 'list', 'update', 'watch'], [''], ['persistentvolumeclaims']),
      rule(['update'], [''], ['persistentvolumeclaims/status']),
      rule(['create', 'delete', 'get', 'list', 'watch'], [''], ['pods']),
      rule(['get', 'list', 'watch'], ['storage.k8s.io'], ['storageclasses']),
      rule(['create', 'delete', 'get', 'update'], [''], ['endpoints']),
      rule(['create', 'delete', 'get'], [''], ['services']),
      rule(['get'], [''], ['secrets']),
      rule(['get', 'list'], [''], ['nodes']),
      EV,
    ],
  },
  {
    name: 'system:controller:pvc-protection-controller',
    rules: [rule(['get', 'list', 'watch', 'update'], [''], ['persistentvolumeclaims']), rule(['list', 'watch', 'get'], [''], ['pods']), EV],
  },
  { name: 'system:controller:pv-protection-controller', rules: [rule(['get', 'list', 'watch', 'update'], [''], ['persistentvolumes']), EV] },
  { name: 'system:controller:ttl-after-finished-controller', rules: [rule(['get', 'list', 'watch', 'delete'], ['batch'], ['jobs']), EV] },
  {
    name: 'system:controller:horizontal-pod-autoscaler',
    rules: [
      rule(READ, ['autoscaling'], ['horizontalpodautoscalers']),
      rule(['update'], ['autoscaling'], ['horizontalpodautoscalers/status']),
      rule(['get', 'update'], ['*'], ['*/scale']),
      rule(['list'], [''], ['pods']),
      rule(['get'], [''], ['services'], ['https:heapster:', 'http:heapster:']),
      rule(['list'], ['metrics.k8s.io'], ['pods']),
      rule(['get', 'list'], ['custom.metrics.k8s.io'], ['*']),
      rule(['get', 'list'], ['external.metrics.k8s.io'], ['*']),
      EV,
    ],
  },
  {
    name: 'system:controller:resourcequota-controller',
    rules: [rule(['list', 'watch'], ['*'], ['*']), rule(['update'], [''], ['resourcequotas/status']), EV],
  },
];

/**
 * Roles for Skiff's own node add-ons, which upstream ships as separate deployments with their own
 * RBAC (CoreDNS's system:coredns, ingress-nginx's ClusterRole, kwok): each runs as its own user.
 */
export const SKIFF_COMPONENT_ROLES: (RoleDef & { user: string })[] = [
  {
    // system:coredns, plus owning kube-system/kube-dns and its EndpointSlice.
    name: 'skiff:cluster-dns',
    user: 'system:skiff:cluster-dns',
    rules: [
      rule(['list', 'watch'], [''], ['endpoints', 'services', 'pods', 'namespaces']),
      rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
      // Nodes: where it listens (the gateway of the node's pod range).
      rule(READ, [''], ['nodes']),
      rule(['create', 'get', 'update'], [''], ['services', 'endpoints']),
      rule(['create', 'get', 'update'], ['discovery.k8s.io'], ['endpointslices']),
    ],
  },
  {
    name: 'skiff:network-policy',
    user: 'system:skiff:network-policy',
    // EndpointSlices: kube-dns's, so the usual DNS egress rule reaches the node-local cluster DNS.
    rules: [rule(['list', 'watch'], [''], ['pods', 'namespaces']), rule(['list', 'watch'], ['networking.k8s.io'], ['networkpolicies']), rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']), EV],
  },
  {
    // ingress-nginx's ClusterRole (what the controller reads and the status it writes).
    name: 'skiff:ingress-controller',
    user: 'system:skiff:ingress-controller',
    rules: [
      rule(['list', 'watch'], [''], ['configmaps', 'endpoints', 'nodes', 'pods', 'secrets', 'namespaces']),
      rule(READ, [''], ['services']),
      rule(READ, ['networking.k8s.io'], ['ingresses', 'ingressclasses']),
      rule(['update', 'patch'], ['networking.k8s.io'], ['ingresses/status']),
      rule(['list', 'watch', 'get'], ['discovery.k8s.io'], ['endpointslices']),
      rule(['get', 'create', 'update'], ['coordination.k8s.io'], ['leases']),
      EV,
    ],
  },
  {
    // rancher/local-path-provisioner's ClusterRole: claims handed to it, the volumes it makes and deletes.
    name: 'skiff:local-path-provisioner',
    user: 'system:skiff:local-path-provisioner',
    rules: [
      rule(READ, [''], ['nodes', 'persistentvolumeclaims', 'configmaps', 'pods']),
      rule(['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'], [''], ['persistentvolumes']),
      rule(READ, ['storage.k8s.io'], ['storageclasses']),
      EV,
    ],
  },
  {
    // Stands in for many kubelets at once (the Node authorizer admits one node per identity).
    name: 'skiff:simulated-nodes',
    user: 'system:skiff:simulated-nodes',
    rules: [
      rule(['create', 'get', 'list', 'watch', 'patch', 'update', 'delete'], [''], ['nodes']),
      rule(['patch', 'update'], [''], ['nodes/status', 'pods/status']),
      rule(['get', 'list', 'watch', 'delete'], [''], ['pods']),
      rule(['create', 'delete', 'get', 'patch', 'update'], ['coordination.k8s.io'], ['leases']),
      EV,
    ],
  },
];

const G = (name: string): Subject => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name });
const U = (name: string): Subject => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name });

/** Upstream's default ClusterRoleBindings (system:node has none: the Node authorizer grants nodes). */
export const BOOTSTRAP_CLUSTER_ROLE_BINDINGS: { name: string; role: string; subjects: Subject[] }[] = [
  { name: 'cluster-admin', role: 'cluster-admin', subjects: [G('system:masters')] },
  { name: 'system:basic-user', role: 'system:basic-user', subjects: [G('system:authenticated')] },
  { name: 'system:discovery', role: 'system:discovery', subjects: [G('system:authenticated')] },
  { name: 'system:public-info-viewer', role: 'system:public-info-viewer', subjects: [G('system:authenticated'), G('system:unauthenticated')] },
  { name: 'system:monitoring', role: 'system:monitoring', subjects: [G('system:monitoring')] },
  { name: 'system:service-account-issuer-discovery', role: 'system:service-account-issuer-discovery', subjects: [G('system:serviceaccounts')] },
  { name: 'system:kube-controller-manager', role: 'system:kube-controller-manager', subjects: [U('system:kube-controller-manager')] },
  { name: 'system:kube-scheduler', role: 'system:kube-scheduler', subjects: [U('system:kube-scheduler')] },
  { name: 'system:node-proxier', role: 'system:node-proxier', subjects: [U('system:kube-proxy')] },
  { name: 'system:volume-scheduler', role: 'system:volume-scheduler', subjects: [U('system:kube-scheduler')] },
  ...CONTROLLER_ROLES.map((r) => ({
    name: r.name,
    role: r.name,
    subjects: [{ kind: 'ServiceAccount', name: r.name.slice('system:controller:'.length), namespace: 'kube-system' }, U('system:kube-controller-manager')],
  })),
  ...SKIFF_COMPONENT_ROLES.map((r) => ({ name: r.name, role: r.name, subjects: [U(r.user)] })),
];

const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const AUTOUPDATE = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

/**
 * Upstream's namespaced bootstrap Roles that third-party manifests bind to: aggregated API servers
 * (metrics-server) read the front proxy's trust settings through this one.
 */
const BOOTSTRAP_NAMESPACED_ROLES: { namespace: string; name: string; rules: any[] }[] = [
  {
    namespace: 'kube-system',
    name: 'extension-apiserver-authentication-reader',
    rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['extension-apiserver-authentication'], verbs: ['get', 'list', 'watch'] }],
  },
];

function clusterRoleObject(d: RoleDef): any {
  const obj: any = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: d.name, labels: { ...BOOTSTRAP_LABELS, ...d.labels }, annotations: { ...AUTOUPDATE } },
  };
  if (d.aggregateFrom) {
    obj.aggregationRule = { clusterRoleSelectors: [{ matchLabels: AGG(d.aggregateFrom) }] };
    obj.rules = [];
  } else obj.rules = d.rules;
  return obj;
}

/**
 * Creates upstream's default roles and bindings, and (as upstream's reconciliation) adds missing
 * permissions back to defaults marked autoupdate, keeping whatever else they hold.
 */
export async function ensureBootstrapPolicy(reg: Registry): Promise<void> {
  const roles = findResource('rbac.authorization.k8s.io', 'v1', 'clusterroles')!;
  const bindings = findResource('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings')!;
  await reg.cache.sync();
  for (const d of [...BOOTSTRAP_CLUSTER_ROLES, ...CONTROLLER_ROLES, ...SKIFF_COMPONENT_ROLES]) {
    const want = clusterRoleObject(d);
    const cur = reg.cache.get(reg.keyFor(roles, undefined, d.name))?.obj;
    if (!cur) {
      await ignoreExists(() => reg.create(roles, undefined, want, {}));
      continue;
    }
    if (cur.metadata?.annotations?.['rbac.authorization.kubernetes.io/autoupdate'] === 'false' || d.aggregateFrom) continue;
    const { ok, missing } = covers(cur.rules ?? [], want.rules);
    if (ok) continue;
    const next = structuredClone(cur);
    next.rules = [...(cur.rules ?? []), ...missing];
    await ignoreConflict(() => reg.update(roles, undefined, d.name, next, {}));
  }
  const nsRoles = findResource('rbac.authorization.k8s.io', 'v1', 'roles')!;
  for (const r of BOOTSTRAP_NAMESPACED_ROLES) {
    if (reg.cache.get(reg.keyFor(nsRoles, r.namespace, r.name))) continue;
    await ignoreExists(() =>
      reg.create(nsRoles, r.namespace, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: r.name, namespace: r.namespace, labels: { ...BOOTSTRAP_LABELS }, annotations: { ...AUTOUPDATE } }, rules: r.rules }, {}),
    );
  }
  for (const b of BOOTSTRAP_CLUSTER_ROLE_BINDINGS) {
    if (reg.cache.get(reg.keyFor(bindings, undefined, b.name))) continue;
    await ignoreExists(() =>
      reg.create(
        bindings,
        undefined,
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: b.name, labels: { ...BOOTSTRAP_LABELS }, annotations: { ...AUTOUPDATE } },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: b.role },
          subjects: b.subjects,
        },
        {},
      ),
    );
  }
}

async function ignoreExists(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof StatusError && e.reason === 'AlreadyExists')) throw e;
  }
}

async function ignoreConflict(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof StatusError && e.reason === 'Conflict')) throw e;
  }
}
