import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applySchemaDefaults, prune, structuralErrors, validateSchema, type JSONSchemaProps } from './schema.js';
import type { FieldError } from '../validation/types.js';

const errorText = (e: FieldError) => `${e.field}: ${e.message}`;

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['size'],
      properties: {
        size: { type: 'string', enum: ['small', 'large'] },
        replicas: { type: 'integer', minimum: 0, maximum: 10, format: 'int32' },
        ratio: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true },
        name: { type: 'string', pattern: '^[a-z]+$', minLength: 2, maxLength: 5 },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 3, uniqueItems: true },
        port: { 'x-kubernetes-int-or-string': true },
        when: { type: 'string', format: 'date-time' },
        opt: { type: 'string', nullable: true },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', properties: { a: { type: 'string' } } } } },
        color: { type: 'string', default: 'blue' },
        nested: { type: 'object', default: {}, properties: { level: { type: 'integer', default: 3 } } },
      },
    },
  },
};

const fmt = (errs: ReturnType<typeof validateSchema>) => errs.map((e) => `${e.field}: ${e.message}`);

describe('custom resource schema validation', () => {
  const cases: [string, any, string[]][] = [
    ['valid', { spec: { size: 'small', replicas: 3 } }, []],
    ['wrong type', { spec: { size: 'small', replicas: 'three' } }, ['spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"']],
    ['required', { spec: {} }, ['spec.size: Required value']],
    ['enum', { spec: { size: 'medium' } }, ['spec.size: Unsupported value: "medium": supported values: "small", "large"']],
    ['minimum', { spec: { size: 'small', replicas: -1 } }, ['spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0']],
    ['maximum', { spec: { size: 'small', replicas: 11 } }, ['spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10']],
    ['exclusive bounds', { spec: { size: 'small', ratio: 1 } }, ['spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1']],
    ['exclusive min', { spec: { size: 'small', ratio: 0 } }, ['spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0']],
    ['int32 format', { spec: { size: 'small', replicas: 2 ** 40 } }, ['spec.replicas: Invalid value: 1099511627776: spec.replicas in body should be less than or equal to 10', 'spec.replicas: Invalid value: 1099511627776: spec.replicas in body must be of type int32: "1099511627776"'].reverse()],
    ['pattern', { spec: { size: 'small', name: 'AB' } }, ["spec.name: Invalid value: \"AB\": spec.name in body should match '^[a-z]+$'"]],
    ['minLength', { spec: { size: 'small', name: 'a' } }, ['spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long']],
    ['maxLength', { spec: { size: 'small', name: 'abcdef' } }, ['spec.name: Too long: may not be longer than 5']],
    ['minItems', { spec: { size: 'small', tags: [] } }, ['spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items']],
    ['maxItems', { spec: { size: 'small', tags: ['a', 'b', 'c', 'd'] } }, ['spec.tags: Too many: 4: must have at most 3 items']],
    ['uniqueItems', { spec: { size: 'small', tags: ['a', 'a'] } }, ['spec.tags: Duplicate value: "a"']],
    ['item type', { spec: { size: 'small', tags: [1] } }, ['spec.tags[0]: Invalid value: "integer": spec.tags[0] in body must be of type string: "integer"']],
    ['int-or-string ok', { spec: { size: 'small', port: 'http' } }, []],
    ['int-or-string bad', { spec: { size: 'small', port: true } }, ['spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"']],
    ['date-time', { spec: { size: 'small', when: 'yesterday' } }, ['spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"']],
    ['date-time ok', { spec: { size: 'small', when: '2024-01-02T03:04:05Z' } }, []],
    ['nullable', { spec: { size: 'small', opt: null } }, []],
    ['not nullable', { spec: { size: null } }, ['spec.size: Invalid value: "null": spec.size in body must be of type string: "null"']],
    ['additionalProperties', { spec: { size: 'small', labels: { a: 1 } } }, ['spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"']],
    ['embedded resource', { spec: { size: 'small', template: { spec: {} } } }, ['spec.template.apiVersion: Required value: must not be empty', 'spec.template.kind: Required value: must not be empty']],
  ];
  for (const [name, obj, want] of cases) {
    it(name, () => assert.deepEqual(fmt(validateSchema(obj, schema)), want));
  }
  it('x-kubernetes-list-type set and map', () => {
    const s = { type: 'object', properties: { set: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } }, map: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' } } } } } };
    assert.deepEqual(fmt(validateSchema({ set: ['a', 'b', 'a'], map: [{ name: 'x' }, { name: 'x' }] }, s)), ['set[2]: Duplicate value: "a"', 'map[1]: Duplicate value: map[string]interface {}{"name":"x"}']);
  });
  it('anyOf, oneOf and not', () => {
    const s = { type: 'object', properties: { p: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^\\d+%$' }] }, q: { type: 'string', not: { enum: ['x'] } } } };
    assert.deepEqual(fmt(validateSchema({ p: '50%', q: 'y' }, s)), []);
    const got = fmt(validateSchema({ p: 'abc', q: 'x' }, s));
    assert.equal(got[0], 'p: Invalid value: "abc": p in body must validate at least one schema (anyOf)');
    assert.equal(got.at(-1), 'q: Invalid value: "x": q in body must not validate the schema (not)');
  });
  it('formats like upstream in an aggregate', () => {
    const errs = validateSchema({ spec: { size: 'small', replicas: 'x' } }, schema);
    assert.equal(errorText(errs[0]!), 'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"');
  });
});

describe('pruning', () => {
  it('drops unknown fields but keeps root type/object meta, preserved and embedded metadata', () => {
    const obj = {
      apiVersion: 'example.com/v1',
      kind: 'W',
      metadata: { name: 'x' },
      extra: 1,
      spec: { size: 'small', bogus: true, free: { anything: { goes: 1 } }, labels: { a: 'b' }, template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { a: 'x', b: 'y' } } },
    };
    const pruned = prune(obj, schema);
    assert.deepEqual(pruned, ['extra', 'spec.bogus', 'spec.template.spec.b']);
    assert.deepEqual(obj, {
      apiVersion: 'example.com/v1',
      kind: 'W',
      metadata: { name: 'x' },
      spec: { size: 'small', free: { anything: { goes: 1 } }, labels: { a: 'b' }, template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { a: 'x' } } },
    });
  });
  it('keeps everything under a preserve-unknown-fields root', () => {
    const obj = { spec: { a: 1 } };
    assert.deepEqual(prune(obj, { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }), []);
    assert.deepEqual(obj, { spec: { a: 1 } });
  });
});

describe('defaulting', () => {
  it('applies defaults to absent fields, depth first into defaulted objects', () => {
    const obj: any = { spec: { size: 'small' } };
    applySchemaDefaults(obj, schema);
    assert.deepEqual(obj.spec, { size: 'small', color: 'blue', nested: { level: 3 } });
  });
  it('keeps values that are set', () => {
    const obj: any = { spec: { size: 'small', color: 'red', nested: { level: 1 } } };
    applySchemaDefaults(obj, schema);
    assert.deepEqual(obj.spec, { size: 'small', color: 'red', nested: { level: 1 } });
  });
});

describe('structural schemas', () => {
  it('refuses defaults that do not validate', () => {
    const errs = structuralErrors({ type: 'object', properties: { n: { type: 'integer', default: 'x' }, m: { type: 'integer', minimum: 1, default: 0 }, ok: { type: 'string', default: 'y' } } }, 's');
    assert.deepEqual(errs.map(errorText), [
      's.properties[n].default: Invalid value: "string": default in body must be of type integer: "string"',
      's.properties[m].default: Invalid value: 0: default in body should be greater than or equal to 1',
    ]);
  });
  it('requires a type on every node unless int-or-string or preserve-unknown-fields', () => {
    const errs = structuralErrors({ type: 'object', properties: { a: { properties: { b: { type: 'string' } } }, c: { 'x-kubernetes-int-or-string': true }, d: { 'x-kubernetes-preserve-unknown-fields': true }, e: { type: 'array' } } }, 'spec.versions[0].schema.openAPIV3Schema');
    assert.deepEqual(errs.map(errorText), [
      'spec.versions[0].schema.openAPIV3Schema.properties[a].type: Required value: must not be empty for specified object fields',
      'spec.versions[0].schema.openAPIV3Schema.properties[e].items: Required value: must be specified',
    ]);
  });
});
