import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allSchemas, dropUnknownFields, findTypeError, findUnknownFields, patchMetaFor, resolveSchema, schemaForKind } from './schemas.js';

const POD = 'io.k8s.api.core.v1.Pod';

test('schemaForKind finds built-in kinds by GVK and nothing for unknown kinds', () => {
  assert.equal(schemaForKind('', 'v1', 'Pod')?.name, POD);
  assert.equal(schemaForKind('apps', 'v1', 'Deployment')?.name, 'io.k8s.api.apps.v1.Deployment');
  assert.equal(schemaForKind('autoscaling', 'v1', 'Scale')?.name, 'io.k8s.api.autoscaling.v1.Scale');
  assert.equal(schemaForKind('', 'v1', 'Status')?.name, 'io.k8s.apimachinery.pkg.apis.meta.v1.Status');
  assert.equal(schemaForKind('example.com', 'v1', 'Widget'), undefined);
  assert.equal(schemaForKind('apps', 'v1', 'Pod'), undefined);
});

test('Pod schema: containers merge by name, required, descriptions, GVK', () => {
  const s = allSchemas();
  const pod = s[POD]!;
  assert.deepEqual(pod['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
  assert.ok(pod.description?.startsWith('Pod is a collection of containers'));
  const spec = s['io.k8s.api.core.v1.PodSpec']!;
  const containers = spec.properties!.containers!;
  assert.equal(containers.type, 'array');
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(containers.items?.$ref, '#/components/schemas/io.k8s.api.core.v1.Container');
  assert.deepEqual(spec.required, ['containers']);
  assert.equal(spec.properties!.volumes!['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  // a $ref property keeps its description through an allOf wrapper, as upstream
  const meta = pod.properties!.metadata!;
  assert.equal(meta.allOf?.[0]?.$ref, '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  assert.ok(meta.description);
  // multi-paragraph descriptions keep their blank lines
  assert.match(s['io.k8s.api.core.v1.AWSElasticBlockStoreVolumeSource']!.description!, /in AWS\.\n\nAn AWS EBS disk/);
});

test('special types: int-or-string, Quantity, Time, RawExtension, integer formats', () => {
  const s = allSchemas();
  const ios = s['io.k8s.apimachinery.pkg.util.intstr.IntOrString']!;
  assert.equal(ios['x-kubernetes-int-or-string'], true);
  assert.equal(ios.format, 'int-or-string');
  const targetPort = s['io.k8s.api.core.v1.ServicePort']!.properties!.targetPort!;
  assert.equal(targetPort.allOf?.[0]?.$ref, '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString');
  assert.equal(s['io.k8s.apimachinery.pkg.api.resource.Quantity']!['x-kubernetes-int-or-string'], true);
  const limits = s['io.k8s.api.core.v1.ResourceRequirements']!.properties!.limits!;
  assert.equal(limits.type, 'object');
  assert.equal((limits.additionalProperties as { $ref: string }).$ref, '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity');
  assert.deepEqual(
    { type: s['io.k8s.apimachinery.pkg.apis.meta.v1.Time']!.type, format: s['io.k8s.apimachinery.pkg.apis.meta.v1.Time']!.format },
    { type: 'string', format: 'date-time' },
  );
  assert.equal(s['io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime']!.format, 'date-time');
  assert.equal(s['io.k8s.apimachinery.pkg.runtime.RawExtension']!['x-kubernetes-preserve-unknown-fields'], true);
  assert.equal(s['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON']!['x-kubernetes-preserve-unknown-fields'], true);
  const cp = s['io.k8s.api.core.v1.ContainerPort']!.properties!.containerPort!;
  assert.deepEqual([cp.type, cp.format], ['integer', 'int32']);
  const gen = s['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']!.properties!.generation!;
  assert.deepEqual([gen.type, gen.format], ['integer', 'int64']);
});

test('patch metadata overlay matches upstream merge keys', () => {
  const s = allSchemas();
  const prop = (t: string, f: string) => s[t]!.properties![f]!;
  const mk = (t: string, f: string) => [prop(t, f)['x-kubernetes-patch-strategy'], prop(t, f)['x-kubernetes-patch-merge-key']];
  assert.deepEqual(mk('io.k8s.api.core.v1.Container', 'ports'), ['merge', 'containerPort']);
  assert.deepEqual(mk('io.k8s.api.core.v1.Container', 'volumeMounts'), ['merge', 'mountPath']);
  assert.deepEqual(mk('io.k8s.api.core.v1.ServiceSpec', 'ports'), ['merge', 'port']);
  assert.deepEqual(mk('io.k8s.api.core.v1.PodStatus', 'conditions'), ['merge', 'type']);
  assert.deepEqual(mk('io.k8s.api.core.v1.NodeStatus', 'addresses'), ['merge', 'type']);
  assert.deepEqual(mk('io.k8s.api.apps.v1.DeploymentStatus', 'conditions'), ['merge', 'type']);
  assert.deepEqual(mk('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'ownerReferences'), ['merge', 'uid']);
  assert.deepEqual(mk('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'finalizers'), ['merge', undefined]);
  assert.deepEqual(mk('io.k8s.api.apps.v1.DeploymentSpec', 'strategy'), ['retainKeys', undefined]);
  // upstream has no patch strategy on these
  assert.deepEqual(mk('io.k8s.api.certificates.v1.CertificateSigningRequestStatus', 'conditions'), [undefined, undefined]);
  assert.deepEqual(mk('io.k8s.api.apps.v1.DaemonSetSpec', 'updateStrategy'), [undefined, undefined]);
});

test('patchMetaFor walks structs, lists, maps and primitives', () => {
  const pod = patchMetaFor('', 'v1', 'Pod');
  assert.equal(pod.kind, 'struct');
  assert.deepEqual(pod.strategies, []);
  const containers = pod.field('spec')!.field('containers')!;
  assert.equal(containers.kind, 'list');
  assert.deepEqual(containers.strategies, ['merge']);
  assert.equal(containers.mergeKey, 'name');
  const container = containers.items()!;
  assert.equal(container.kind, 'struct');
  assert.deepEqual(container.strategies, []);
  assert.equal(container.field('ports')!.mergeKey, 'containerPort');
  assert.equal(container.field('image')!.kind, 'primitive');
  assert.equal(container.field('nope'), undefined);
  assert.deepEqual(pod.field('spec')!.field('volumes')!.strategies, ['merge', 'retainKeys']);
  const labels = pod.field('metadata')!.field('labels')!;
  assert.equal(labels.kind, 'map');
  assert.equal(labels.field('anything')!.kind, 'primitive');
  const limits = container.field('resources')!.field('limits')!;
  assert.equal(limits.kind, 'map');
  assert.equal(limits.field('cpu')!.kind, 'primitive');
  const finalizers = pod.field('metadata')!.field('finalizers')!;
  assert.deepEqual([finalizers.kind, finalizers.strategies, finalizers.mergeKey], ['list', ['merge'], undefined]);
  assert.equal(finalizers.items()!.kind, 'primitive');
  assert.equal(patchMetaFor('apps', 'v1', 'Deployment').field('spec')!.field('strategy')!.strategies[0], 'retainKeys');
  const svcPort = patchMetaFor('', 'v1', 'Service').field('spec')!.field('ports')!.items()!;
  assert.equal(svcPort.field('targetPort')!.kind, 'primitive');
  // free-form and unknown kinds behave like JSON merge patch
  assert.equal(patchMetaFor('', 'v1', 'Pod').field('metadata')!.field('managedFields')!.items()!.field('fieldsV1')!.kind, 'unknown');
  assert.equal(patchMetaFor('example.com', 'v1', 'Widget').kind, 'unknown');
  // metas are cached, not rebuilt per call
  assert.equal(patchMetaFor('', 'v1', 'Pod'), pod);
});

test('findUnknownFields reports upstream paths in document order', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', labels: { any: 'thing' }, annotations: { 'a/b': 'c' }, bogusMeta: 1 },
    spec: {
      foo: 'x',
      containers: [
        { name: 'a', image: 'i', resources: { limits: { cpu: '1', 'example.com/gpu': 2 } } },
        { name: 'b', image: 'i', bar: true, ports: [{ containerPort: 80, extra: 1 }] },
      ],
      Containers: [],
    },
    status: { phase: 'Running', nope: {} },
  };
  assert.deepEqual(findUnknownFields('', 'v1', 'Pod', pod), [
    'metadata.bogusMeta',
    'spec.foo',
    'spec.containers[1].bar',
    'spec.containers[1].ports[0].extra',
    'spec.Containers', // case-sensitive, as upstream
    'status.nope',
  ]);
  assert.deepEqual(findUnknownFields('', 'v1', 'Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } }), []);
});

test('findUnknownFields: free-form fields, int-or-string, unknown kinds', () => {
  // RawExtension / JSON / FieldsV1 are free
  assert.deepEqual(
    findUnknownFields('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', {
      spec: {
        group: 'g',
        names: { plural: 'ws', kind: 'W' },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                'x-kubernetes-preserve-unknown-fields': true,
                properties: { spec: { type: 'object', default: { any: { thing: 1 } }, 'x-kubernetes-validations': [{ rule: 'true' }] } },
                bogus: 1,
              },
            },
          },
        ],
      },
    }),
    ['spec.versions[0].schema.openAPIV3Schema.bogus'],
  );
  assert.deepEqual(
    findUnknownFields('', 'v1', 'Pod', { metadata: { managedFields: [{ manager: 'm', fieldsV1: { 'f:spec': { 'f:x': {} } } }] } }),
    [],
  );
  // int-or-string and Quantity accept numbers and strings; object values are type errors, not unknown fields
  assert.deepEqual(findUnknownFields('', 'v1', 'Service', { spec: { ports: [{ port: 80, targetPort: 'http' }, { port: 81, targetPort: 8080 }] } }), []);
  assert.deepEqual(findUnknownFields('example.com', 'v1', 'Widget', { spec: { anything: 1 } }), []);
  // maps of structs: keys are free, values are checked
  assert.deepEqual(
    findUnknownFields('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', {
      spec: { versions: [{ schema: { openAPIV3Schema: { properties: { a: { type: 'string', wat: 1 } } } } }] },
    }),
    ['spec.versions[0].schema.openAPIV3Schema.properties.a.wat'],
  );
});

test('dropUnknownFields returns a copy without unknown fields', () => {
  const dep = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd' },
    spec: { replicas: 2, bogus: 1, template: { spec: { containers: [{ name: 'c', image: 'i', junk: [1] }] } } },
  };
  const out = dropUnknownFields('apps', 'v1', 'Deployment', dep);
  assert.deepEqual(out, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 2, template: { spec: { containers: [{ name: 'c', image: 'i' }] } } } });
  assert.equal(dep.spec.bogus, 1, 'input untouched');
  assert.notEqual(out.spec, dep.spec);
  const widget = { spec: { a: 1 } };
  const w = dropUnknownFields('example.com', 'v1', 'Widget', widget);
  assert.deepEqual(w, widget);
  assert.notEqual(w, widget);
});

test('resolveSchema follows allOf and $ref', () => {
  const spec = resolveSchema(allSchemas()[POD]!.properties!.spec);
  assert.ok(spec?.properties?.containers);
});

test('schemas.json parses as the API server loads it at start (time reported, not asserted)', async (t) => {
  // a fresh parse of the file as the API server does at start
  const { readFileSync } = await import('node:fs');
  const t0 = performance.now();
  const parsed = JSON.parse(readFileSync(new URL('../../../generated/schemas.json', import.meta.url), 'utf8'));
  t.diagnostic(`schemas.json parsed in ${(performance.now() - t0).toFixed(1)} ms`);
  assert.equal(parsed['io.k8s.api.core.v1.Pod']?.type, 'object');
});

test('findTypeError: the first value of the wrong JSON type, in encoding/json\'s words', () => {
  const pod = (c: any, spec: any = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i', ...c }], ...spec } });
  const err = (c: any, spec?: any) => findTypeError('', 'v1', 'Pod', pod(c, spec));
  assert.equal(err({ command: ['sleep', '1'], ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }], tty: true, resources: { limits: { cpu: 1, memory: '1Gi' } } }), undefined);
  assert.equal(err({ command: 'sleep' }), 'json: cannot unmarshal string into Go struct field Container.spec.containers.command of type []string');
  assert.equal(err({ command: ['sleep', 1] }), 'json: cannot unmarshal number into Go struct field Container.spec.containers.command of type string');
  assert.equal(err({ ports: [{ containerPort: '80' }] }), 'json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32');
  assert.equal(err({ ports: [{ containerPort: 1.5 }] }), 'json: cannot unmarshal number 1.5 into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32');
  assert.equal(err({ ports: [{ containerPort: 2 ** 31 }] }), 'json: cannot unmarshal number 2147483648 into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32');
  assert.equal(err({ env: [{ name: 'A', value: 1 }] }), 'json: cannot unmarshal number into Go struct field EnvVar.spec.containers.env.value of type string');
  assert.equal(err({ env: { A: '1' } }), 'json: cannot unmarshal object into Go struct field Container.spec.containers.env of type []v1.EnvVar');
  assert.equal(err({ tty: 'yes' }), 'json: cannot unmarshal string into Go struct field Container.spec.containers.tty of type bool');
  assert.equal(err({}, { securityContext: { runAsUser: 2 ** 60 } }), undefined, 'int64 beyond 2^53 is still an int64');
  assert.equal(err({}, { terminationGracePeriodSeconds: '30' }), 'json: cannot unmarshal string into Go struct field PodSpec.spec.terminationGracePeriodSeconds of type int64');
  assert.equal(findTypeError('', 'v1', 'Pod', { spec: 'x' }), 'json: cannot unmarshal string into Go struct field Pod.spec of type v1.PodSpec');
  assert.equal(findTypeError('', 'v1', 'Pod', { metadata: { labels: { a: 1 } } }), 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string');
  assert.equal(
    findTypeError('apps', 'v1', 'Deployment', { spec: { replicas: '3', template: { spec: { containers: [{ name: 'c', env: [{ name: 'A', value: true }] }] } } } }),
    'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
  );
  assert.equal(
    findTypeError('apps', 'v1', 'Deployment', { spec: { template: { spec: { containers: [{ name: 'c', env: [{ name: 'A', value: true }] }] } } } }),
    'json: cannot unmarshal bool into Go struct field EnvVar.spec.template.spec.containers.env.value of type string',
  );
});

test('findTypeError leaves null, own unmarshalers, free-form fields and unknown kinds alone', () => {
  assert.equal(findTypeError('', 'v1', 'Pod', { metadata: { labels: null, creationTimestamp: null }, spec: { containers: [{ name: 'c', command: null, ports: [{ containerPort: 80, hostPort: null }] }] } }), undefined);
  // Quantity and IntOrString take numbers and strings; Time has its own messages.
  assert.equal(findTypeError('', 'v1', 'Pod', { spec: { containers: [{ name: 'c', resources: { requests: { cpu: 0.5 } }, livenessProbe: { httpGet: { port: 'http' } } }] } }), undefined);
  assert.equal(findTypeError('', 'v1', 'Pod', { metadata: { creationTimestamp: 5 } }), undefined);
  assert.equal(findTypeError('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', { spec: { versions: [{ name: 'v1', schema: { openAPIV3Schema: { type: 'object', default: 3, x: [1] } } }] } }), undefined);
  assert.equal(findTypeError('example.com', 'v1', 'Widget', { spec: 5 }), undefined);
});
