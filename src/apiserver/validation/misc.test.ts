import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateObject, validateObjectUpdate, formatInvalidMessage, invalidStatus, warningsOnCreate } from './index.js';
import { applyDefaults } from '../defaults/index.js';

function errors(key: string, obj: any, namespaced = true): string[] {
  applyDefaults(key, obj);
  return validateObject(key, obj, { namespaced }).map((e) => `${e.field}: ${e.message}`);
}

function updateErrors(key: string, obj: any, old: any, namespaced = true): string[] {
  applyDefaults(key, old);
  applyDefaults(key, obj);
  return validateObjectUpdate(key, obj, old, { namespaced }).map((e) => `${e.field}: ${e.message}`);
}

const ns = { name: 'x', namespace: 'default' };
const KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

test('configmaps and secrets', () => {
  assert.deepEqual(errors('configmaps', { metadata: ns, data: { 'a.txt': 'x' } }), []);
  assert.deepEqual(errors('configmaps', { metadata: ns, data: { 'a b': 'x' } }), [`data[a b]: Invalid value: "a b": ${KEY_MSG}`]);
  assert.deepEqual(errors('configmaps', { metadata: ns, data: { a: 'x' }, binaryData: { a: 'eA==' } }), ['data[a]: Invalid value: "a": duplicate of key present in binaryData']);
  assert.deepEqual(errors('configmaps', { metadata: ns, data: { big: 'x'.repeat(1024 * 1024 + 1) } }), ['[]: Too long: must have at most 1048576 bytes']);
  assert.deepEqual(errors('secrets', { metadata: ns, stringData: { 'a b': 'x' } }), [`data[a b]: Invalid value: "a b": ${KEY_MSG}`]);
  assert.deepEqual(errors('secrets', { metadata: ns, type: 'kubernetes.io/tls', data: {} }), ['data[tls.crt]: Required value', 'data[tls.key]: Required value']);
  assert.deepEqual(errors('secrets', { metadata: ns, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{}' } }), []);
});

test('immutable configmaps and secrets', () => {
  const old = { metadata: { ...ns, uid: 'u' }, data: { a: 'x' }, immutable: true };
  assert.deepEqual(updateErrors('configmaps', { ...structuredClone(old), data: { a: 'y' } }, structuredClone(old)), ['data: Forbidden: field is immutable when `immutable` is set']);
  assert.deepEqual(updateErrors('configmaps', { ...structuredClone(old), immutable: false }, structuredClone(old)), ['immutable: Forbidden: field is immutable when `immutable` is set']);
  const sOld = { metadata: { ...ns, uid: 'u' }, data: { a: 'eA==' }, immutable: true };
  assert.deepEqual(updateErrors('secrets', { ...structuredClone(sOld), stringData: { a: 'y' } }, structuredClone(sOld)), ['data: Forbidden: field is immutable when `immutable` is set']);
  assert.deepEqual(updateErrors('secrets', { ...structuredClone(sOld), type: 'kubernetes.io/basic-auth', data: { username: 'eA==' } }, structuredClone(sOld)), [
    'type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
    'data: Forbidden: field is immutable when `immutable` is set',
  ]);
});

test('metadata name rules differ per resource', () => {
  const label = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
  assert.deepEqual(errors('namespaces', { metadata: { name: 'team.a' } }, false), ['metadata.name: Invalid value: "team.a": must not contain dots']);
  assert.deepEqual(errors('namespaces', { metadata: { name: 'Team' } }, false), [`metadata.name: Invalid value: "Team": ${label}`]);
  assert.deepEqual(errors('namespaces', { metadata: { name: 'team', namespace: 'default' } }, false), ['metadata.namespace: Forbidden: not allowed on this type']);
  assert.deepEqual(errors('configmaps', { metadata: { name: 'team.a', namespace: 'default' } }), []);
  assert.deepEqual(errors('rbac.authorization.k8s.io/clusterroles', { metadata: { name: 'system:admin' } }, false), []);
  assert.deepEqual(errors('rbac.authorization.k8s.io/clusterroles', { metadata: { name: 'a/b' } }, false), ['metadata.name: Invalid value: "a/b": may not contain \'/\'']);
  assert.deepEqual(errors('serviceaccounts', { metadata: { name: 'default', namespace: 'kube-system' } }), []);
  assert.deepEqual(errors('example.com/widgets', { metadata: { generateName: 'Widget-' } }), [
    "metadata.generateName: Invalid value: \"Widget-\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    'metadata.name: Required value: name or generateName is required',
    'metadata.namespace: Required value',
  ]);
});

test('metadata is immutable on update', () => {
  const old = { metadata: { name: 'a', namespace: 'default', uid: 'u1', resourceVersion: '3', creationTimestamp: '2024-01-01T00:00:00Z' }, data: {} };
  const next = structuredClone(old);
  next.metadata.namespace = 'other';
  assert.deepEqual(updateErrors('configmaps', next, structuredClone(old)), ['metadata.namespace: Invalid value: "other": field is immutable']);
});

test('rbac', () => {
  const rb = (roleRef: any, subjects: any[]) => ({ metadata: ns, roleRef, subjects });
  assert.deepEqual(errors('rbac.authorization.k8s.io/rolebindings', rb({ kind: 'Role', name: 'r' }, [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'default' }])), []);
  assert.deepEqual(errors('rbac.authorization.k8s.io/rolebindings', rb({ kind: 'Role' }, [{ kind: 'Robot', name: 'r2' }])), [
    'roleRef.name: Required value',
    'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
  ]);
  assert.deepEqual(errors('rbac.authorization.k8s.io/clusterrolebindings', { metadata: { name: 'x' }, roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }] }, false), [
    'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
    'subjects[0].namespace: Required value',
  ]);
  assert.deepEqual(errors('rbac.authorization.k8s.io/roles', { metadata: ns, rules: [{ verbs: ['get'] }] }), [
    'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
    'rules[0].resources: Required value: resource rules must supply at least one resource',
  ]);
  const old = rb({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, []);
  const next = rb({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r2' }, []);
  assert.deepEqual(updateErrors('rbac.authorization.k8s.io/rolebindings', next, old), ['roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"r2"}: cannot change roleRef']);
});

test('ingress, ingressclass and networkpolicy', () => {
  const ing = (spec: any) => ({ metadata: ns, spec });
  const backend = { service: { name: 'web', port: { number: 80 } } };
  assert.deepEqual(errors('networking.k8s.io/ingresses', ing({ rules: [{ host: 'foo.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }] })), []);
  assert.deepEqual(errors('networking.k8s.io/ingresses', ing({})), ['spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified']);
  assert.deepEqual(errors('networking.k8s.io/ingresses', ing({ rules: [{ http: { paths: [{ path: '/', backend }] } }] })), ['spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified']);
  assert.deepEqual(errors('networking.k8s.io/ingresses', ing({ rules: [{ http: { paths: [{ path: 'api', pathType: 'Exact', backend }] } }] })), ['spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path']);
  assert.deepEqual(errors('networking.k8s.io/ingresses', ing({ rules: [{ http: { paths: [{ path: '/', pathType: 'Regex', backend }] } }] })), [
    'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
  ]);
  assert.deepEqual(errors('networking.k8s.io/ingresses', ing({ rules: [{ host: '1.2.3.4', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: {} } } }] } }] })), [
    'spec.rules[0].host: Invalid value: "1.2.3.4": must be a DNS name, not an IP address',
    'spec.rules[0].http.paths[0].backend: Required value: port name or number is required',
  ]);
  assert.deepEqual(errors('networking.k8s.io/ingresses', ing({ rules: [{ host: '*.*.foo.com' }] })), [
    "spec.rules[0].host: Invalid value: \"*.*.foo.com\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  ]);
  assert.deepEqual(errors('networking.k8s.io/ingressclasses', { metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } }, false), []);
  assert.deepEqual(errors('networking.k8s.io/ingressclasses', { metadata: { name: 'nginx' }, spec: { controller: 'nginx' } }, false), [
    'spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")',
  ]);
  assert.deepEqual(errors('networking.k8s.io/networkpolicies', { metadata: ns, spec: { podSelector: {}, ingress: [{ from: [{}], ports: [{ port: 70000 }] }] } }), [
    'spec.ingress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
    'spec.ingress[0].from[0]: Required value: must specify a peer',
  ]);
});

test('endpoints, endpointslices, leases, events, quotas', () => {
  assert.deepEqual(errors('endpoints', { metadata: ns, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 80 }] }] }), [
    'subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
  ]);
  assert.deepEqual(errors('discovery.k8s.io/endpointslices', { metadata: ns, addressType: 'IPv5', endpoints: [] }), [
    'addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"',
  ]);
  assert.deepEqual(errors('discovery.k8s.io/endpointslices', { metadata: ns, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['::1'] }], ports: [{ port: 80 }] }), [
    'endpoints[1].addresses[0]: Invalid value: "::1": must be a valid IPv4 address',
  ]);
  assert.deepEqual(errors('coordination.k8s.io/leases', { metadata: ns, spec: { leaseDurationSeconds: 0 } }), ['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0']);
  assert.deepEqual(errors('events', { metadata: { name: 'e1', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'other' }, reason: 'Started' }), [
    'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
  ]);
  assert.deepEqual(errors('resourcequotas', { metadata: ns, spec: { hard: { pods: '1500m', 'requests.cpu': '2', widgets: '1' } } }), [
    'spec.hard[pods]: Invalid value: resource.Quantity{i:resource.int64Amount{value:1500, scale:-3}, d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:"", Format:"DecimalSI"}: must be an integer',
    'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource type or fully qualified',
    'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource for quota',
  ]);
  assert.deepEqual(errors('limitranges', { metadata: ns, spec: { limits: [{ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }] } }), [
    'spec.limits[0].min[cpu]: Invalid value: resource.Quantity{i:resource.int64Amount{value:2, scale:0}, d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:"", Format:"DecimalSI"}: min value 2 is greater than max value 1',
    'spec.limits[0].defaultRequest[cpu]: Invalid value: resource.Quantity{i:resource.int64Amount{value:1, scale:0}, d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:"", Format:"DecimalSI"}: min value 2 is greater than default request value 1',
    'spec.limits[0].default[cpu]: Invalid value: resource.Quantity{i:resource.int64Amount{value:2, scale:0}, d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:"", Format:"DecimalSI"}: min value 2 is greater than default value 1',
  ]);
});

test('Invalid messages and Status bodies', () => {
  const errs = [
    { type: 'FieldValueRequired' as const, field: 'spec.selector', message: 'Required value' },
    { type: 'FieldValueRequired' as const, field: 'spec.selector', message: 'Required value' },
    { type: 'FieldValueInvalid' as const, field: 'spec.replicas', message: 'Invalid value: -1: must be greater than or equal to 0' },
  ];
  assert.equal(formatInvalidMessage('Deployment', 'web', errs, 'apps'), 'Deployment.apps "web" is invalid: [spec.selector: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]');
  assert.equal(formatInvalidMessage('Pod', 'x', errs.slice(0, 2)), 'Pod "x" is invalid: spec.selector: Required value');
  const st = invalidStatus('Pod', '', 'x', errs.slice(0, 1));
  assert.deepEqual(st, {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Invalid', code: 422,
    message: 'Pod "x" is invalid: spec.selector: Required value',
    details: { name: 'x', kind: 'Pod', causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' }] },
  });
});

test('workload names that are not DNS labels warn', () => {
  assert.deepEqual(warningsOnCreate('apps/deployments', { metadata: { name: 'web' } }), []);
  assert.deepEqual(warningsOnCreate('apps/deployments', { metadata: { name: 'web.v1' } }), [
    'metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: [must not contain dots]',
  ]);
  assert.deepEqual(warningsOnCreate('pods', { metadata: { name: 'a.b' } }), [
    "metadata.name: this is used in the Pod's hostname, which can result in surprising behavior; a DNS label is recommended: [must not contain dots]",
  ]);
  assert.deepEqual(warningsOnCreate('configmaps', { metadata: { name: 'a.b' } }), []);
});
