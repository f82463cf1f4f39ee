import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { celErrors, celRuleProblems, escapeProperty, toCel } from './cel.js';

type Rule = Record<string, unknown>;

/** A root schema whose spec carries `rules` and the usual field types. */
function schema(rules: Rule[], extra: Record<string, any> = {}): any {
  return {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        'x-kubernetes-validations': rules,
        properties: {
          replicas: { type: 'integer' },
          min: { type: 'integer' },
          max: { type: 'integer' },
          ratio: { type: 'number' },
          name: { type: 'string' },
          port: { 'x-kubernetes-int-or-string': true },
          tags: { type: 'array', items: { type: 'string' } },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          when: { type: 'string', format: 'date-time' },
          timeout: { type: 'string', format: 'duration' },
          namespace: { type: 'string' },
          day: { type: 'string', format: 'date' },
          data: { type: 'string', format: 'byte' },
          if: { type: 'string' },
          'a-b': { type: 'integer' },
          'x.y': { type: 'integer' },
          p__q: { type: 'integer' },
          ...extra,
        },
      },
    },
  };
}

const msgs = (errs: { field: string; message: string; type: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);

describe('CEL rules on create', () => {
  const cases: [string, Rule[], any, string[]][] = [
    ['passing rule', [{ rule: 'self.min <= self.max' }], { min: 1, max: 2 }, []],
    ['failing rule, default message', [{ rule: 'self.min <= self.max' }], { min: 3, max: 2 }, ['spec: Invalid value: "object": failed rule: self.min <= self.max']],
    ['failing rule, message', [{ rule: 'self.min <= self.max', message: ' min must not exceed max ' }], { min: 3, max: 2 }, ['spec: Invalid value: "object": min must not exceed max']],
    ['messageExpression', [{ rule: 'self.replicas < 10', messageExpression: "'replicas ' + string(self.replicas) + ' is too many'" }], { replicas: 12 }, ['spec: Invalid value: "object": replicas 12 is too many']],
    ['messageExpression that fails falls back to message', [{ rule: 'self.replicas < 10', message: 'too many', messageExpression: 'self.nope' }], { replicas: 12 }, ['spec: Invalid value: "object": too many']],
    ['empty messageExpression falls back', [{ rule: 'self.replicas < 10', messageExpression: "''" }], { replicas: 12 }, ['spec: Invalid value: "object": failed rule: self.replicas < 10']],
    ['reason Forbidden', [{ rule: '!has(self.name)', message: 'name is set by the server', reason: 'FieldValueForbidden' }], { name: 'x' }, ['spec: Forbidden: name is set by the server']],
    ['reason Required + fieldPath', [{ rule: 'has(self.name)', message: 'name is required', reason: 'FieldValueRequired', fieldPath: '.name' }], {}, ['spec.name: Required value: name is required']],
    ['reason Duplicate', [{ rule: 'false', reason: 'FieldValueDuplicate' }], {}, ['spec: Duplicate value: "object"']],
    ['fieldPath with brackets', [{ rule: 'false', message: 'm', fieldPath: ".labels['a.b']" }], {}, ['spec.labels[a.b]: Invalid value: "object": m']],
    ['absent field: has() is false', [{ rule: '!has(self.replicas)' }], {}, []],
    ['absent field: no such key', [{ rule: 'self.replicas > 0' }], {}, ['spec: Invalid value: "object": no such key: replicas evaluating rule: self.replicas > 0']],
    ['integers are int', [{ rule: 'self.replicas == 3 && type(self.replicas) == int' }], { replicas: 3 }, []],
    ['numbers are double even when whole', [{ rule: 'type(self.ratio) == double && self.ratio > 0.5' }], { ratio: 1 }, []],
    ['int + double has no overload', [{ rule: 'self.replicas + 0.5 > 1.0' }], { replicas: 3 }, ['spec: Invalid value: "object": \'no such overload\': call arguments did not match a supported operator, function or macro signature for rule: self.replicas + 0.5 > 1.0']],
    ['int-or-string as int', [{ rule: 'type(self.port) == int' }], { port: 80 }, []],
    ['int-or-string as string', [{ rule: 'type(self.port) == string' }], { port: 'http' }, []],
    ['additionalProperties map', [{ rule: "self.labels.all(k, self.labels[k] != '')", message: 'empty label' }], { labels: { a: 'x', b: '' } }, ['spec: Invalid value: "object": empty label']],
    ['preserve-unknown-fields is dyn', [{ rule: 'self.extra.n == 2 && self.extra.s == "x"' }], { extra: { n: 2, s: 'x' } }, []],
    ['list functions', [{ rule: 'self.tags.isSorted() && self.tags.indexOf("b") == 1 && [3, 1, 2].max() == 3 && [1, 2].sum() == 3 && [2, 1].min() == 1 && [1, 1].lastIndexOf(1) == 1' }], { tags: ['a', 'b'] }, []],
    ['strings ext', [{ rule: "self.name.lowerAscii().startsWith('ab') && self.name.split('-').size() == 2 && self.name.indexOf('-') == 2" }], { name: 'AB-c' }, []],
    ['regex find/findAll', [{ rule: "self.name.find('[0-9]+') == '12' && self.name.findAll('[0-9]').size() == 3 && self.name.matches('^a')" }], { name: 'a12b3' }, []],
    ['date-time is a timestamp', [{ rule: "self.when > timestamp('2020-01-01T00:00:00Z')" }], { when: '2021-06-01T00:00:00Z' }, []],
    ['date and byte formats', [{ rule: "self.day < timestamp('2020-01-02T00:00:00Z') && self.data == b'hi'" }], { day: '2020-01-01', data: 'aGk=' }, []],
    ['duration', [{ rule: "self.timeout <= duration('1h')", message: 'at most 1h' }], { timeout: '2h' }, ['spec: Invalid value: "object": at most 1h']],
    ['several failing rules, one error each', [{ rule: 'self.min < 0', message: 'a' }, { rule: 'self.max < 0', message: 'b' }], { min: 1, max: 1 }, ['spec: Invalid value: "object": a', 'spec: Invalid value: "object": b']],
    ['escaped property names', [{ rule: "self.__namespace__ == 'ns' && self.a__dash__b == 1 && self.x__dot__y == 2 && self.p__underscores__q == 3 && !has(self.__if__)" }], { namespace: 'ns', 'a-b': 1, 'x.y': 2, p__q: 3 }, []],
    ['transition rule skipped on create', [{ rule: 'self.name == oldSelf.name' }], { name: 'x' }, []],
    ['unsupported function skipped', [{ rule: 'self.name.noSuchFunction()' }], { name: 'x' }, []],
  ];
  for (const [name, rules, spec, want] of cases) {
    it(name, () => assert.deepEqual(msgs(celErrors(schema(rules), { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec })), want));
  }

  it('rules on scalars print the type; on list items the index', () => {
    const s = schema([], { tags: { type: 'array', items: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.size() < 3', message: 'too long' }] } }, replicas: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self >= 0' }] } });
    assert.deepEqual(msgs(celErrors(s, { spec: { tags: ['ok', 'long'], replicas: -1 } })), ['spec.replicas: Invalid value: "integer": failed rule: self >= 0', 'spec.tags[1]: Invalid value: "string": too long']);
  });

  it('root rules see apiVersion, kind and metadata.name', () => {
    const s = { type: 'object', 'x-kubernetes-validations': [{ rule: "self.metadata.name.startsWith('w') && self.kind == 'Widget'", message: 'bad name' }], properties: { spec: { type: 'object' } } };
    assert.deepEqual(msgs(celErrors(s, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' }, spec: {} })), ['<nil>: Invalid value: "object": bad name']);
    assert.deepEqual(celErrors(s, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: {} }), []);
  });

  it('null values are not validated', () => {
    const s = schema([], { name: { type: 'string', nullable: true, 'x-kubernetes-validations': [{ rule: "self != ''" }] } });
    assert.deepEqual(celErrors(s, { spec: { name: null } }), []);
  });

  it('compiles once per schema object', () => {
    const s = schema([{ rule: 'self.min <= self.max' }]);
    for (let i = 0; i < 100; i++) celErrors(s, { spec: { min: i, max: 50 } });
    assert.equal(celErrors(s, { spec: { min: 51, max: 50 } }).length, 1);
  });
});

describe('CEL transition rules and ratcheting', () => {
  const immutable = [{ rule: 'self.name == oldSelf.name', message: 'name is immutable' }];
  it('oldSelf is the old value on update', () => {
    assert.deepEqual(msgs(celErrors(schema(immutable), { spec: { name: 'b' } }, { spec: { name: 'a' } })), ['spec: Invalid value: "object": name is immutable']);
    assert.deepEqual(celErrors(schema(immutable), { spec: { name: 'a', min: 1 } }, { spec: { name: 'a' } }), []);
  });
  it('not run when the old value is absent', () => {
    assert.deepEqual(celErrors(schema(immutable), { spec: { name: 'b' } }, { metadata: {} }), []);
  });
  it('map-list items correlate by key, atomic-list items do not', () => {
    const item = { type: 'object', properties: { name: { type: 'string' }, v: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.v >= oldSelf.v', message: 'v may not decrease' }] };
    const s = schema([], {
      m: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: item },
      a: { type: 'array', 'x-kubernetes-list-type': 'atomic', items: item },
    });
    const old = { spec: { m: [{ name: 'x', v: 2 }, { name: 'y', v: 2 }], a: [{ name: 'x', v: 2 }] } };
    const next = { spec: { m: [{ name: 'y', v: 1 }, { name: 'x', v: 3 }, { name: 'z', v: 0 }], a: [{ name: 'x', v: 1 }] } };
    assert.deepEqual(msgs(celErrors(s, next, old)), ['spec.m[0]: Invalid value: "object": v may not decrease']);
  });
  it('optionalOldSelf: oldSelf is an optional, evaluated on create too', () => {
    const rules = [{ rule: '!oldSelf.hasValue() || self.name == oldSelf.value().name', optionalOldSelf: true, message: 'name is immutable once set' }, { rule: "self.name != oldSelf.orValue({'name': ''}).name + 'x'", optionalOldSelf: true, message: 'm' }];
    assert.deepEqual(celErrors(schema(rules), { spec: { name: 'a' } }), []);
    assert.deepEqual(msgs(celErrors(schema(rules), { spec: { name: 'x' } })), ['spec: Invalid value: "object": m']);
    assert.deepEqual(msgs(celErrors(schema(rules), { spec: { name: 'b' } }, { spec: { name: 'a' } })), ['spec: Invalid value: "object": name is immutable once set']);
  });
  it('errors on values unchanged since the old object are ratcheted', () => {
    const rules = [{ rule: 'self.min <= self.max', message: 'min must not exceed max' }];
    const old = { spec: { min: 3, max: 1 }, status: { a: 1 } };
    assert.deepEqual(celErrors(schema(rules), { spec: { min: 3, max: 1 }, status: { a: 2 } }, old), []);
    assert.equal(celErrors(schema(rules), { spec: { min: 4, max: 1 } }, old).length, 1);
  });
  it('property names are escaped as Kubernetes does', () => {
    assert.equal(escapeProperty('namespace'), '__namespace__');
    assert.equal(escapeProperty('x-y/z.w'), 'x__dash__y__slash__z__dot__w');
    assert.equal(escapeProperty('a__b'), 'a__underscores__b');
    assert.equal(escapeProperty('1abc'), undefined);
  });
  it('a rule on a value of the wrong type is not the schema error', () => {
    // toCel keeps what it cannot type (schema validation reports the type).
    assert.equal(toCel('x', { type: 'integer' }), 'x');
    assert.equal(toCel(5, { type: 'integer' }), 5n);
    assert.equal(toCel(5, { type: 'number' }), 5);
  });
});

describe('celRuleProblems', () => {
  it("checks the rule's fields as upstream", () => {
    const p = celRuleProblems({ type: 'object', 'x-kubernetes-validations': [{ rule: ' ' }, { rule: 'a\n&& b' }, { rule: 'true', message: 'a\nb' }, { rule: 'true', reason: 'Bogus' }] }, 'x');
    assert.deepEqual(p.errors.map((e) => `${e.field}: ${e.message}`), [
      'x.x-kubernetes-validations[0].rule: Required value: rule is not specified',
      'x.x-kubernetes-validations[1].message: Required value: message must be specified if rule contains line breaks',
      'x.x-kubernetes-validations[2].message: Invalid value: "a\\nb": message must not contain line breaks',
      'x.x-kubernetes-validations[3].reason: Unsupported value: "Bogus": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"',
    ]);
  });

  it('syntax errors are errors, missing functions and optional syntax warnings', () => {
    const p = celRuleProblems({ type: 'object', 'x-kubernetes-validations': [{ rule: 'self.a ==' }, { rule: "self.name.noSuch()" }, { rule: 'self.?a.orValue(1) == 1' }, { rule: 'self.a == 1' }] }, 'spec.versions[0].schema.openAPIV3Schema');
    assert.equal(p.errors.length, 1);
    assert.equal(p.errors[0]!.field, 'spec.versions[0].schema.openAPIV3Schema.x-kubernetes-validations[0].rule');
    assert.match(p.errors[0]!.message, /^Invalid value: apiextensions\.ValidationRule\{Rule:"self\.a ==", Message:"", MessageExpression:"", Reason:\(\*apiextensions\.FieldValueErrorReason\)\(nil\), FieldPath:"", OptionalOldSelf:\(\*bool\)\(nil\)\}: compilation failed: ERROR: <input>:1:/);
    assert.equal(p.warnings.length, 2);
    assert.match(p.warnings[0]!, /x-kubernetes-validations\[1\]: rule "self\.name\.noSuch\(\)" is not evaluated by this server: function noSuch/);
  });
});
