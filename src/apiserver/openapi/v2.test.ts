import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from '../protobuf/wire.js';
import { allSchemas } from './schemas.js';
import { buildOpenapiV2, customDefinitionName, encodeOpenapiV2, openapiV2Json, openapiV2Protobuf, toV2Schema, wantsOpenapiV2Protobuf, type CustomKind } from './v2.js';

// ---------------------------------------------------------------------------------------------
// A reader for the gnostic messages we write (field numbers from OpenAPIv2.proto), back to JSON form

type Fields = Map<number, (Buffer | number)[]>;

function fields(buf: Buffer): Fields {
  const r = new Reader(buf);
  const out: Fields = new Map();
  while (!r.done()) {
    const key = r.uint32();
    const no = key >>> 3;
    const wire = key & 7;
    let v: Buffer | number;
    if (wire === WIRE_LEN) v = r.bytes();
    else if (wire === WIRE_VARINT) v = r.uint64();
    else if (wire === WIRE_FIXED64) v = r.double();
    else throw new Error(`unexpected wire type ${wire} for field ${no}`);
    if (!out.has(no)) out.set(no, []);
    out.get(no)!.push(v);
  }
  return out;
}

const str = (f: Fields, no: number) => (f.get(no) ?? []).map((b) => (b as Buffer).toString('utf8'));
const msgs = (f: Fields, no: number) => (f.get(no) ?? []).map((b) => fields(b as Buffer));
const one = (f: Fields, no: number) => msgs(f, no)[0];

/** gnostic Any → value (we write its yaml field as JSON, which is YAML). */
function anyValue(f: Fields): unknown {
  return JSON.parse(str(f, 2)[0]!);
}

function decodeSchema(f: Fields): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  const strings: [number, string][] = [[1, '$ref'], [2, 'format'], [3, 'title'], [4, 'description'], [13, 'pattern']];
  for (const [no, name] of strings) if (f.has(no)) s[name] = str(f, no)[0];
  if (f.has(5)) s.default = anyValue(one(f, 5)!);
  for (const [no, name] of [[6, 'multipleOf'], [7, 'maximum'], [9, 'minimum'], [11, 'maxLength'], [12, 'minLength'], [14, 'maxItems'], [15, 'minItems'], [17, 'maxProperties'], [18, 'minProperties']] as const) {
    if (f.has(no)) s[name] = f.get(no)![0];
  }
  for (const [no, name] of [[8, 'exclusiveMaximum'], [10, 'exclusiveMinimum'], [16, 'uniqueItems'], [27, 'readOnly']] as const) if (f.has(no)) s[name] = f.get(no)![0] === 1;
  if (f.has(19)) s.required = str(f, 19);
  if (f.has(20)) s.enum = msgs(f, 20).map(anyValue);
  if (f.has(21)) {
    const ap = one(f, 21)!;
    s.additionalProperties = ap.has(1) ? decodeSchema(one(ap, 1)!) : ap.get(2)![0] === 1;
  }
  if (f.has(22)) {
    const t = str(one(f, 22)!, 1);
    s.type = t.length === 1 ? t[0] : t;
  }
  if (f.has(23)) s.items = decodeSchema(one(msgs(f, 23)[0]!, 1)!);
  if (f.has(25)) s.properties = Object.fromEntries(msgs(one(f, 25)!, 1).map((n) => [str(n, 1)[0]!, decodeSchema(one(n, 2) ?? new Map())]));
  for (const na of msgs(f, 31)) s[str(na, 1)[0]!] = anyValue(one(na, 2)!);
  return s;
}

function decodeDocument(buf: Buffer): { swagger: string; info: Fields; paths: Fields | undefined; definitions: Record<string, Record<string, unknown>>; order: string[] } {
  const d = fields(buf);
  const defs = msgs(one(d, 9)!, 1);
  const definitions: Record<string, Record<string, unknown>> = {};
  for (const n of defs) definitions[str(n, 1)[0]!] = decodeSchema(one(n, 2) ?? new Map());
  return { swagger: str(d, 1)[0]!, info: one(d, 2)!, paths: one(d, 8), definitions, order: defs.map((n) => str(n, 1)[0]!) };
}

// ---------------------------------------------------------------------------------------------
// What kube-openapi's proto.NewOpenAPIData accepts (pkg/util/proto/document.go, ParseSchema)

function kubeOpenapiParse(defs: Record<string, Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const walk = (s: Record<string, unknown>, path: string): void => {
    const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
    if (typeof s.$ref === 'string') {
      if (s.properties || types.length) problems.push(`${path}: $ref with type or properties`);
      if (!s.$ref.startsWith('#/definitions/') || !defs[s.$ref.slice('#/definitions/'.length)]) problems.push(`${path}: dangling ${s.$ref}`);
      return;
    }
    if (types.length > 1) problems.push(`${path}: multiple types`);
    const t = types[0];
    if (t === 'array') {
      if (!s.items || typeof s.items !== 'object') problems.push(`${path}: array without items`);
      else walk(s.items as Record<string, unknown>, `${path}[]`);
    } else if (t === 'object' || (t === undefined && s.properties)) {
      if (s.properties) for (const [k, v] of Object.entries(s.properties)) walk(v as Record<string, unknown>, `${path}.${k}`);
      else if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(s.additionalProperties as Record<string, unknown>, `${path}{}`);
    } else if (t !== undefined && !['string', 'number', 'integer', 'boolean'].includes(t as string)) problems.push(`${path}: unknown primitive type ${String(t)}`);
  };
  for (const [name, s] of Object.entries(defs)) walk(s, name);
  return problems;
}

const CRD_SCHEMA = {
  type: 'object',
  required: ['spec'],
  properties: {
    spec: {
      type: 'object',
      properties: {
        size: { type: 'integer', minimum: 1, maximum: 10 },
        port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
        color: { type: 'string', enum: ['red', 'blue'], default: 'red' },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { a: { type: 'string' } } },
        maybe: { type: 'string', nullable: true },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        strict: { type: 'object', additionalProperties: false, properties: { x: { type: 'string' } } },
        embedded: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
        rules: { type: 'array', items: { type: 'string' }, 'x-kubernetes-validations': [{ rule: 'size(self) < 5' }] },
      },
    },
    metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 10 } } },
  },
};

const WIDGET: CustomKind = { group: 'example.com', version: 'v1', kind: 'Widget', schema: CRD_SCHEMA };
const LOOSE: CustomKind = { group: 'example.com', version: 'v1alpha1', kind: 'Loose' };

// ---------------------------------------------------------------------------------------------

test('the protobuf is a gnostic Document: swagger 2.0, info, paths, every built-in definition', () => {
  const doc = decodeDocument(openapiV2Protobuf([]).body);
  assert.equal(doc.swagger, '2.0');
  assert.deepEqual(str(doc.info, 1), ['Kubernetes']);
  assert.ok(doc.paths, 'paths present');
  assert.deepEqual(new Set(doc.order), new Set(Object.keys(allSchemas())));
  assert.deepEqual([...doc.order].sort(), doc.order, 'definitions in name order');
});

test('decoding the protobuf gives back exactly the JSON form', () => {
  const json = JSON.parse(openapiV2Json([WIDGET, LOOSE]).body) as { definitions: Record<string, unknown> };
  const pb = decodeDocument(openapiV2Protobuf([WIDGET, LOOSE]).body);
  assert.deepEqual(pb.definitions, json.definitions);
});

test('a kind carries x-kubernetes-group-version-kind as YAML in a vendor extension; properties refer to #/definitions', () => {
  const { definitions } = decodeDocument(openapiV2Protobuf([]).body);
  const d = definitions['io.k8s.api.apps.v1.Deployment']!;
  assert.equal(d.type, 'object');
  assert.deepEqual(d['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  const spec = (d.properties as Record<string, Record<string, unknown>>).spec!;
  assert.equal(spec.$ref, '#/definitions/io.k8s.api.apps.v1.DeploymentSpec');
  assert.equal(spec.description, 'Specification of the desired behavior of the Deployment.');
  assert.equal(spec.type, undefined);
  assert.deepEqual(definitions['io.k8s.api.apps.v1.DeploymentSpec']!.required, ['selector', 'template']);
  const containers = (definitions['io.k8s.api.core.v1.PodSpec']!.properties as Record<string, Record<string, unknown>>).containers!;
  assert.equal(containers.type, 'array');
  assert.equal((containers.items as Record<string, unknown>).$ref, '#/definitions/io.k8s.api.core.v1.Container');
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
});

test('IntOrString and Quantity are strings, as upstream publishes them', () => {
  const { definitions } = decodeDocument(openapiV2Protobuf([]).body);
  const ios = definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString']!;
  assert.equal(ios.type, 'string');
  assert.equal(ios.format, 'int-or-string');
  assert.equal(definitions['io.k8s.apimachinery.pkg.api.resource.Quantity']!.type, 'string');
  // The protobuf has no oneOf field at all, so check the document it is encoded from.
  const json = JSON.parse(openapiV2Json([]).body) as { definitions: Record<string, Record<string, unknown>> };
  assert.equal(json.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString']!.oneOf, undefined);
});

test('every definition parses with kube-openapi rules (no typed $ref, no dangling ref, arrays have items)', () => {
  const json = JSON.parse(openapiV2Json([WIDGET, LOOSE]).body) as { definitions: Record<string, Record<string, unknown>> };
  assert.deepEqual(kubeOpenapiParse(json.definitions), []);
  const text = JSON.stringify(json);
  assert.ok(!text.includes('#/components/schemas/'), 'no v3 refs');
  const v3Only: string[] = [];
  const walk = (x: Record<string, unknown>, path: string): void => {
    for (const k of ['allOf', 'oneOf', 'anyOf', 'not', 'nullable']) if (k in x) v3Only.push(`${path}: ${k}`);
    if (x.properties) for (const [k, v] of Object.entries(x.properties)) walk(v as Record<string, unknown>, `${path}.${k}`);
    if (x.items) walk(x.items as Record<string, unknown>, `${path}[]`);
    if (x.additionalProperties && typeof x.additionalProperties === 'object') walk(x.additionalProperties as Record<string, unknown>, `${path}{}`);
  };
  for (const [n, d] of Object.entries(json.definitions)) walk(d, n);
  assert.deepEqual(v3Only, [], 'no v3-only constructs');
});

test('CRD kinds: upstream names, ObjectMeta, List, structural-v2 conversion', () => {
  const doc = buildOpenapiV2(allSchemas(), [WIDGET, LOOSE]) as { definitions: Record<string, any> };
  const name = customDefinitionName('example.com', 'v1', 'Widget');
  assert.equal(name, 'com.example.v1.Widget');
  const w = doc.definitions[name];
  assert.deepEqual(w['x-kubernetes-group-version-kind'], [{ group: 'example.com', kind: 'Widget', version: 'v1' }]);
  assert.deepEqual(w.required, ['spec']);
  assert.equal(w.properties.metadata.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  assert.equal(w.properties.apiVersion.type, 'string');
  const spec = w.properties.spec.properties;
  assert.deepEqual(spec.size, { type: 'integer', minimum: 1, maximum: 10 });
  assert.deepEqual(spec.port, { 'x-kubernetes-int-or-string': true }, 'int-or-string is untyped');
  assert.deepEqual(spec.extra, { 'x-kubernetes-preserve-unknown-fields': true }, 'preserve-unknown-fields loses type and properties');
  assert.deepEqual(spec.maybe, {}, 'nullable loses its type');
  assert.deepEqual(spec.embedded, { 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true });
  assert.deepEqual(spec.labels, { type: 'object', additionalProperties: { type: 'string' } });
  assert.equal(spec.strict.additionalProperties, false);
  assert.deepEqual(spec.rules, { type: 'array', items: { type: 'string' } }, 'CEL rules are not published in v2');
  assert.deepEqual(spec.color, { type: 'string', enum: ['red', 'blue'], default: 'red' });
  const list = doc.definitions['com.example.v1.WidgetList'];
  assert.deepEqual(list['x-kubernetes-group-version-kind'], [{ group: 'example.com', kind: 'WidgetList', version: 'v1' }]);
  assert.equal(list.properties.items.items.$ref, `#/definitions/${name}`);
  // no schema: kubectl gets a kind that accepts anything
  assert.deepEqual(doc.definitions['com.example.v1alpha1.Loose'], { 'x-kubernetes-group-version-kind': [{ group: 'example.com', kind: 'Loose', version: 'v1alpha1' }] });
});

test('a CRD schema kube-openapi could not parse is published untyped there, not as a broken document', () => {
  const odd: CustomKind = {
    group: 'odd.example.com',
    version: 'v1',
    kind: 'Odd',
    schema: { type: 'object', properties: { tuple: { type: 'array', items: [{ type: 'string' }] }, bare: { type: 'array' }, weird: { type: 'null' } } },
  };
  const doc = buildOpenapiV2(allSchemas(), [odd]) as { definitions: Record<string, any> };
  const props = doc.definitions['com.example.odd.v1.Odd'].properties;
  assert.deepEqual([props.tuple, props.bare, props.weird], [{}, {}, {}]);
  assert.deepEqual(kubeOpenapiParse(doc.definitions), []);
  const names = Object.keys(doc.definitions);
  assert.deepEqual([...names].sort(), names, 'CRD definitions sorted in with the built-in ones');
});

test('additionalProperties: false survives the protobuf (a oneof bool written even when false)', () => {
  const pb = encodeOpenapiV2({ swagger: '2.0', definitions: { X: { type: 'object', additionalProperties: false }, Y: { type: 'object', additionalProperties: true } } });
  const { definitions } = decodeDocument(pb);
  assert.deepEqual(definitions, { X: { type: 'object', additionalProperties: false }, Y: { type: 'object', additionalProperties: true } });
});

test('allOf wrappers become $ref siblings; the wrapper description wins', () => {
  assert.deepEqual(toV2Schema({ allOf: [{ $ref: '#/components/schemas/A' }], description: 'outer', 'x-kubernetes-patch-strategy': 'merge' }, false), {
    $ref: '#/definitions/A',
    description: 'outer',
    'x-kubernetes-patch-strategy': 'merge',
  });
});

test('built once and cached; a CRD change rebuilds with a new ETag; JSON and protobuf share the ETag', () => {
  const a = openapiV2Protobuf([WIDGET]);
  const b = openapiV2Protobuf([WIDGET]);
  assert.equal(a.body, b.body, 'same buffer');
  assert.equal(openapiV2Json([WIDGET]).etag, a.etag);
  const c = openapiV2Protobuf([WIDGET, LOOSE]);
  assert.notEqual(c.etag, a.etag);
  assert.match(a.etag, /^"[0-9A-F]{128}"$/);
});

test('Accept negotiation: kubectl asks for protobuf, curl gets JSON', () => {
  assert.equal(wantsOpenapiV2Protobuf('application/com.github.proto-openapi.spec.v2@v1.0+protobuf'), true);
  assert.equal(wantsOpenapiV2Protobuf('application/json, */*'), false);
  assert.equal(wantsOpenapiV2Protobuf(''), false);
});
