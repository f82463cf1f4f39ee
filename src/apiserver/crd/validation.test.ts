import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { celWarnings, defaultCRD, validateCRD, validateCRDUpdate } from './validation.js';
import { compareKubeVersions, customInfos, customPrinter, jsonPathValue } from './custom.js';

function crd(over: (c: any) => void = () => {}): any {
  const c: any = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object' } } } } }],
    },
  };
  over(c);
  defaultCRD(c);
  return c;
}

const text = (c: any) => validateCRD(c).map((e) => `${e.field}: ${e.message}`);

describe('CRD validation', () => {
  it('defaults singular and listKind', () => {
    const c = crd();
    assert.equal(c.spec.names.singular, 'widget');
    assert.equal(c.spec.names.listKind, 'WidgetList');
    assert.deepEqual(text(c), []);
  });
  const cases: [string, (c: any) => void, string[]][] = [
    ['group without a dot', (c) => ((c.spec.group = 'example'), (c.metadata.name = 'widgets.example')), ['spec.group: Invalid value: "example": should be a domain with at least one dot']],
    ['name not plural.group', (c) => (c.metadata.name = 'gadgets.example.com'), ['metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group']],
    ['bad scope', (c) => (c.spec.scope = 'Global'), ['spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"']],
    ['no kind', (c) => delete c.spec.names.kind, ['spec.names.kind: Required value', 'spec.names.listKind: Required value']],
    ['two storage versions', (c) => c.spec.versions.push({ ...c.spec.versions[0], name: 'v2' }), ['spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{...}: must have exactly one version marked as storage version']],
    ['no schema', (c) => delete c.spec.versions[0].schema, ['spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required']],
    ['untyped node', (c) => (c.spec.versions[0].schema.openAPIV3Schema.properties.spec = { properties: {} }), ['spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields']],
    ['preserveUnknownFields', (c) => (c.spec.preserveUnknownFields = true), ['spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead']],
    ['bad plural', (c) => ((c.spec.names.plural = 'Widgets'), (c.metadata.name = 'Widgets.example.com')), ['spec.names.plural: Invalid value: "Widgets": a DNS-1035 label must consist of lower case alphanumeric characters or \'-\', start with an alphabetic character, and end with an alphanumeric character (e.g. \'my-name\',  or \'abc-123\', regex used for validation is \'[a-z]([-a-z0-9]*[a-z0-9])?\')']],
  ];
  for (const [name, over, want] of cases) {
    it(name, () => {
      const got = text(crd(over)).filter((m) => !m.startsWith('metadata.name: Invalid value: "Widgets'));
      assert.deepEqual(got, want);
    });
  }
  it('warns only about CEL rules this server cannot evaluate', () => {
    const c = crd((c) => (c.spec.versions[0].schema.openAPIV3Schema.properties.spec['x-kubernetes-validations'] = [{ rule: 'self.a > 0' }, { rule: 'self.b.foo()' }]));
    assert.deepEqual(celWarnings(c), ['spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[1]: rule "self.b.foo()" is not evaluated by this server: function foo is not supported by this server']);
    assert.deepEqual(celWarnings(crd()), []);
  });
  it('refuses a CEL rule that does not parse', () => {
    const c = crd((c) => (c.spec.versions[0].schema.openAPIV3Schema.properties.spec['x-kubernetes-validations'] = [{ rule: 'self.a >' }]));
    const got = text(c);
    assert.equal(got.length, 1);
    assert.match(got[0]!, /^spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\[spec\]\.x-kubernetes-validations\[0\]\.rule: Invalid value: apiextensions\.ValidationRule\{Rule:"self\.a >", .*\}: compilation failed: ERROR: <input>:1:/);
  });
  it('group is immutable', () => {
    const old = crd();
    const next = crd((c) => ((c.spec.group = 'example.org'), (c.metadata.name = 'widgets.example.org')));
    assert.ok(validateCRDUpdate(next, old).some((e) => e.field === 'spec.group' && e.message.includes('field is immutable')));
  });
});

describe('custom resource infos and printing', () => {
  it('serves each served version with its subresources', () => {
    const c = crd((c) => {
      c.spec.versions[0].subresources = { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } };
      c.spec.versions.push({ name: 'v1beta1', served: false, storage: false, schema: c.spec.versions[0].schema });
    });
    const infos = customInfos(c);
    assert.equal(infos.length, 1);
    assert.equal(infos[0]!.key, 'example.com/widgets');
    assert.deepEqual(infos[0]!.subresources, ['status', 'scale']);
    assert.equal(infos[0]!.apiVersion, 'example.com/v1');
  });
  it('orders versions as upstream: GA, beta, alpha, then others', () => {
    assert.deepEqual(['v1alpha1', 'foo', 'v1beta1', 'v2', 'v1', 'v11alpha2', 'v1beta2', 'bar'].sort(compareKubeVersions), ['v2', 'v1', 'v1beta2', 'v1beta1', 'v11alpha2', 'v1alpha1', 'bar', 'foo']);
  });
  it('evaluates printer-column JSONPaths', () => {
    const o = { spec: { a: { 'b.c': 2 }, list: [{ x: 'y' }] } };
    assert.equal(jsonPathValue(o, '.spec.list[0].x'), 'y');
    assert.equal(jsonPathValue(o, ".spec.a['b.c']"), 2);
    assert.equal(jsonPathValue(o, '.spec.missing.deep'), undefined);
  });
  it('prints NAME, the columns and AGE', () => {
    const c = crd((c) => (c.spec.versions[0].additionalPrinterColumns = [{ name: 'Size', type: 'string', jsonPath: '.spec.size' }, { name: 'Count', type: 'integer', jsonPath: '.spec.count' }]));
    const p = customPrinter(customInfos(c)[0]!);
    assert.deepEqual(p.columns.map((x) => x.name), ['Name', 'Size', 'Count', 'Age']);
    const now = new Date('2024-01-01T00:10:00Z');
    assert.deepEqual(p.cells({ metadata: { name: 'w', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { size: 's' } }, now), ['w', 's', null, '10m']);
  });
});
