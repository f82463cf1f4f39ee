import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateObject, validateObjectUpdate, formatInvalidMessage } from './index.js';
import { applyDefaults } from '../defaults/index.js';

const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const NAME_PART_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

function pod(spec: any, meta: any = {}): any {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', ...meta }, spec };
}

/** Field errors of a create after defaulting, as "field: message". */
function errors(obj: any): string[] {
  applyDefaults('pods', obj);
  return validateObject('pods', obj, { namespaced: true }).map((e) => `${e.field}: ${e.message}`);
}

const c = (extra: any = {}) => ({ name: 'app', image: 'nginx', ...extra });

test('pod create validation', () => {
  const cases: [string, any, string[]][] = [
    ['valid pod', pod({ containers: [c()] }), []],
    ['missing container name', pod({ containers: [{ image: 'nginx' }] }), ['spec.containers[0].name: Required value']],
    ['no containers', pod({ containers: [] }), ['spec.containers: Required value']],
    ['missing image', pod({ containers: [{ name: 'a' }] }), ['spec.containers[0].image: Required value']],
    ['bad container name', pod({ containers: [c({ name: 'App_1' })] }), [`spec.containers[0].name: Invalid value: "App_1": ${LABEL_MSG}`]],
    ['duplicate container names', pod({ containers: [c(), c()] }), ['spec.containers[1].name: Duplicate value: "app"']],
    ['init container name collides', pod({ containers: [c()], initContainers: [c()] }), ['spec.initContainers[0].name: Duplicate value: "app"']],
    ['bad restartPolicy', pod({ containers: [c()], restartPolicy: 'Sometimes' }), ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']],
    ['bad dnsPolicy', pod({ containers: [c()], dnsPolicy: 'Cluster' }), ['spec.dnsPolicy: Unsupported value: "Cluster": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"']],
    ['container port 0', pod({ containers: [c({ ports: [{ containerPort: 0 }] })] }), ['spec.containers[0].ports[0].containerPort: Required value']],
    ['container port out of range', pod({ containers: [c({ ports: [{ containerPort: 70000 }] })] }), ['spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive']],
    ['bad protocol', pod({ containers: [c({ ports: [{ containerPort: 80, protocol: 'HTTP' }] })] }), ['spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"']],
    ['bad port name', pod({ containers: [c({ ports: [{ containerPort: 80, name: 'Web' }] })] }), ['spec.containers[0].ports[0].name: Invalid value: "Web": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)']],
    ['duplicate port names', pod({ containers: [c({ ports: [{ containerPort: 80, name: 'web' }, { containerPort: 81, name: 'web' }] })] }), ['spec.containers[0].ports[1].name: Duplicate value: "web"']],
    ['host port conflict', pod({ containers: [c({ ports: [{ containerPort: 80, hostPort: 8080 }] }), c({ name: 'b', ports: [{ containerPort: 81, hostPort: 8080 }] })] }), ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"']],
    ['env name with =', pod({ containers: [c({ env: [{ name: 'A=B', value: 'x' }] })] }), ["spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='"]],
    ['env name required', pod({ containers: [c({ env: [{ value: 'x' }] })] }), ['spec.containers[0].env[0].name: Required value']],
    ['env valueFrom empty', pod({ containers: [c({ env: [{ name: 'A', valueFrom: {} }] })] }), ['spec.containers[0].env[0].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`']],
    ['unsupported fieldRef', pod({ containers: [c({ env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'status.phase' } } }] })] }),
      ['spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "status.phase": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"']],
    ['requests above limits', pod({ containers: [c({ resources: { limits: { cpu: '500m' }, requests: { cpu: '1' } } })] }), ['spec.containers[0].resources.requests: Invalid value: "1": must be less than or equal to cpu limit of 500m']],
    ['negative quantity', pod({ containers: [c({ resources: { requests: { memory: '-1Gi' } } })] }), ['spec.containers[0].resources.requests[memory]: Invalid value: "-1Gi": must be greater than or equal to 0']],
    ['unknown resource', pod({ containers: [c({ resources: { requests: { gpu: '1' } } })] }), ['spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified', 'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers']],
    ['extended resource needs equal limit', pod({ containers: [c({ resources: { requests: { 'example.com/gpu': '1' } } })] }), ['spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources']],
    ['volume mount of unknown volume', pod({ containers: [c({ volumeMounts: [{ name: 'data', mountPath: '/data' }] })] }), ['spec.containers[0].volumeMounts[0].name: Not found: "data"']],
    ['duplicate volumes', pod({ containers: [c()], volumes: [{ name: 'v' }, { name: 'v' }] }), ['spec.volumes[1].name: Duplicate value: "v"']],
    ['bad volume name', pod({ containers: [c()], volumes: [{ name: 'V' }] }), [`spec.volumes[0].name: Invalid value: "V": ${LABEL_MSG}`]],
    ['two volume sources', pod({ containers: [c()], volumes: [{ name: 'v', emptyDir: {}, hostPath: { path: '/x' } }] }), ['spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type']],
    ['configMap volume needs a name', pod({ containers: [c()], volumes: [{ name: 'v', configMap: {} }] }), ['spec.volumes[0].configMap.name: Required value']],
    ['probe without handler', pod({ containers: [c({ livenessProbe: {} })] }), ['spec.containers[0].livenessProbe: Required value: must specify a handler type']],
    ['probe with two handlers', pod({ containers: [c({ readinessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 80 } } })] }), ['spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type']],
    ['liveness successThreshold', pod({ containers: [c({ livenessProbe: { exec: { command: ['true'] }, successThreshold: 2 } })] }), ['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1']],
    ['httpGet bad port', pod({ containers: [c({ livenessProbe: { httpGet: { port: 0 } } })] }), ['spec.containers[0].livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive']],
    ['negative grace period', pod({ containers: [c()], terminationGracePeriodSeconds: -1 }), []],
    ['bad nodeSelector', pod({ containers: [c()], nodeSelector: { 'a b': 'x' } }), [`spec.nodeSelector: Invalid value: "a b": ${NAME_PART_MSG}`]],
    ['toleration without key must be Exists', pod({ containers: [c()], tolerations: [{ operator: 'Equal', value: 'x' }] }), ['spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"']],
    ['tolerationSeconds needs NoExecute', pod({ containers: [c()], tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }] }), ["spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"]],
    ['bad toleration effect', pod({ containers: [c()], tolerations: [{ key: 'k', operator: 'Exists', effect: 'Never' }] }), ['spec.tolerations[0].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"']],
    ['sidecar init container may have probes', pod({ containers: [c()], initContainers: [c({ name: 'side', restartPolicy: 'Always', readinessProbe: { exec: { command: ['true'] } } })] }), []],
    ['init container probes need restartPolicy Always', pod({ containers: [c()], initContainers: [c({ name: 'init', readinessProbe: { exec: { command: ['true'] } } })] }), ['spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always']],
    ['init container restartPolicy value', pod({ containers: [c()], initContainers: [c({ name: 'init', restartPolicy: 'Never' })] }), ['spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"']],
    ['restartPolicy on app container', pod({ containers: [c({ restartPolicy: 'Always' })] }), ['spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers']],
    ['image with whitespace', pod({ containers: [c({ image: ' nginx' })] }), ['spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace']],
    ['ephemeral containers on create', pod({ containers: [c()], ephemeralContainers: [{ name: 'dbg', image: 'busybox' }] }), ['spec.ephemeralContainers: Forbidden: cannot be set on create']],
  ];
  for (const [name, obj, want] of cases) assert.deepEqual(errors(obj), want, name);
});

test('pod metadata validation', () => {
  const cases: [string, any, string[]][] = [
    ['missing name', pod({ containers: [c()] }, { name: undefined }), ['metadata.name: Required value: name or generateName is required']],
    ['bad name', pod({ containers: [c()] }, { name: 'Web_1' }), [
      "metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]],
    ['missing namespace', pod({ containers: [c()] }, { namespace: undefined }), ['metadata.namespace: Required value']],
    ['bad label key', pod({ containers: [c()] }, { labels: { 'bad key': 'v' } }), [`metadata.labels: Invalid value: "bad key": ${NAME_PART_MSG}`]],
    ['bad label value', pod({ containers: [c()] }, { labels: { app: 'x y' } }), [
      "metadata.labels: Invalid value: \"x y\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ]],
    ['annotations too large', pod({ containers: [c()] }, { annotations: { big: 'x'.repeat(256 * 1024) } }), ['metadata.annotations: Too long: must have at most 262144 bytes']],
    ['bad finalizer', pod({ containers: [c()] }, { finalizers: ['custom'] }), ['metadata.finalizers[0]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified']],
    ['owner reference fields', pod({ containers: [c()] }, { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs' }] }), ['metadata.ownerReferences.uid: Invalid value: "": must not be empty']],
    ['deletion cost annotation', pod({ containers: [c()] }, { annotations: { 'controller.kubernetes.io/pod-deletion-cost': 'x' } }), ['metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: "x": must be a 32bit integer']],
  ];
  for (const [name, obj, want] of cases) assert.deepEqual(errors(obj), want, name);
});

test('the Invalid message lists one error plainly and several in brackets', () => {
  const one = pod({ containers: [{ image: 'nginx' }] });
  applyDefaults('pods', one);
  assert.equal(formatInvalidMessage('Pod', 'p', validateObject('pods', one, { namespaced: true })), 'Pod "p" is invalid: spec.containers[0].name: Required value');
  const two = pod({ containers: [{}] });
  applyDefaults('pods', two);
  assert.equal(
    formatInvalidMessage('Pod', 'p', validateObject('pods', two, { namespaced: true })),
    'Pod "p" is invalid: [spec.containers[0].name: Required value, spec.containers[0].image: Required value]',
  );
});

test('pod updates may change only images, deadlines, tolerations and gates', () => {
  const old = pod({ containers: [c()], tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }] }, { uid: 'u1', resourceVersion: '5', creationTimestamp: '2024-01-01T00:00:00Z' });
  applyDefaults('pods', old);
  const update = (mutate: (p: any) => void): string[] => {
    const next = structuredClone(old);
    mutate(next);
    applyDefaults('pods', next);
    return validateObjectUpdate('pods', next, old, { namespaced: true }).map((e) => `${e.field}: ${e.message}`);
  };
  assert.deepEqual(update((p) => { p.spec.containers[0].image = 'nginx:2'; }), []);
  assert.deepEqual(update((p) => { p.spec.activeDeadlineSeconds = 30; }), []);
  assert.deepEqual(update((p) => { p.spec.tolerations.push({ key: 'x', operator: 'Exists' }); }), []);
  assert.deepEqual(update((p) => { p.spec.tolerations[0].tolerationSeconds = 20; }), []);
  assert.deepEqual(update((p) => { p.spec.tolerations = []; }), ['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds']);
  assert.deepEqual(update((p) => { p.spec.containers.push(c({ name: 'b' })); }), ['spec.containers: Forbidden: pod updates may not add or remove containers']);
  assert.deepEqual(update((p) => { p.metadata.name = 'q'; }), ['metadata.name: Invalid value: "q": field is immutable']);
  assert.deepEqual(update((p) => { p.metadata.uid = 'u2'; }), ['metadata.uid: Invalid value: "u2": field is immutable']);
  assert.deepEqual(update((p) => { p.metadata.creationTimestamp = '2024-02-01T00:00:00Z'; }), ['metadata.creationTimestamp: Invalid value: 2024-02-01 00:00:00 +0000 UTC: field is immutable']);
  const changed = update((p) => { p.spec.restartPolicy = 'Never'; });
  assert.equal(changed.length, 1);
  assert.ok(changed[0].startsWith(
    'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n',
  ), changed[0]);
  assert.match(changed[0], /restartPolicy/);
});
