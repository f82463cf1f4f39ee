import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseLabelSelector,
  selectorFromLabelSelector,
  selectorFromSet,
  SelectorError,
  qualifiedNameErrors,
} from './labels.js';

const NAME_RE_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_RE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

test('string selectors parse to their canonical form', () => {
  const cases: [string, string][] = [
    ['', ''],
    ['   ', ''],
    ['a=b', 'a=b'],
    ['a==b', 'a==b'],
    ['a!=b', 'a!=b'],
    ['a', 'a'],
    ['!a', '!a'],
    ['  ! a ', '!a'],
    ['a in (y,x)', 'a in (x,y)'],
    ['a in (x,x)', 'a in (x)'],
    ['a notin (x)', 'a notin (x)'],
    ['a in ()', 'a in ()'],
    ['a in (,x)', 'a in (,x)'],
    ['a in (x,,y)', 'a in (,x,y)'],
    ['a in (x,)', 'a in (,x)'],
    ['a in (in,notin)', 'a in (in,notin)'],
    ['a=', 'a='],
    ['a=,b', 'a=,b'],
    ['a>1', 'a>1'],
    ['a<10', 'a<10'],
    ['b=2,a=1', 'a=1,b=2'],
    ['x in (foo,,baz),y,z notin ()', 'x in (,baz,foo),y,z notin ()'],
    ['app.kubernetes.io/name=web', 'app.kubernetes.io/name=web'],
    ['a=in', 'a=in'],
    ['env in(prod)', 'env in (prod)'],
  ];
  for (const [input, want] of cases) {
    assert.equal(parseLabelSelector(input).toString(), want, `input ${JSON.stringify(input)}`);
  }
});

test('string selectors match labels like upstream', () => {
  const L = { app: 'web', tier: 'fe', n: '5', big: '99999999999999999999', empty: '' };
  const cases: [string, Record<string, string> | undefined, boolean][] = [
    ['', undefined, true],
    ['app=web', L, true],
    ['app==web', L, true],
    ['app=db', L, false],
    ['app!=db', L, true],
    ['missing!=x', L, true],
    ['app!=web', L, false],
    ['app', L, true],
    ['missing', L, false],
    ['!missing', L, true],
    ['!app', L, false],
    ['app in (db,web)', L, true],
    ['app in (db)', L, false],
    ['missing in (x)', L, false],
    ['app notin (db)', L, true],
    ['missing notin (db)', L, true],
    ['app notin (web)', L, false],
    ['empty=', L, true],
    ['empty in ()', L, true],
    ['missing=', L, false],
    ['n>4', L, true],
    ['n>5', L, false],
    ['n<6', L, true],
    ['n<5', L, false],
    ['app>1', L, false], // non-numeric label value never matches
    ['big>1', L, false], // out of int64 range
    ['missing<1', L, false],
    ['app=web,tier=fe', L, true],
    ['app=web,tier=be', L, false],
    ['app', undefined, false],
    ['!app', undefined, true],
  ];
  for (const [sel, labels, want] of cases) {
    assert.equal(parseLabelSelector(sel).matches(labels), want, `${sel} on ${JSON.stringify(labels)}`);
  }
});

test('string selector errors carry upstream messages', () => {
  const cases: [string, string][] = [
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['a,', "found '', expected: identifier after ','"],
    ['a,,b', "found ',', expected: identifier after ','"],
    ['=a', "found '=', expected: !, identifier, or 'end of string'"],
    [',a', "found ',', expected: !, identifier, or 'end of string'"],
    ['!a=b', "found '=', expected: ',' or 'end of string'"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['a in x', "unable to parse requirement: found 'x' expected: '('"],
    ['a in (x', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['a in (x y)', "unable to parse requirement: found 'y', expected: ',' or ')'"],
    ['a in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['a in (x,=)', "unable to parse requirement: found '=', expected: ',', or identifier"],
    ['a==(', "unable to parse requirement: found '(', expected: identifier"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['!=a', "found '!=', expected: !, identifier, or 'end of string'"],
    ['-a=b', `unable to parse requirement: <nil>: Invalid value: "-a": ${NAME_RE_MSG}`],
    ['a=-b', `unable to parse requirement: values[0][a]: Invalid value: "-b": ${VALUE_RE_MSG}`],
    [
      'a>b',
      `unable to parse requirement: values[0]: Invalid value: "b": for 'Gt', 'Lt' operators, the value must be an integer`,
    ],
    ['a in (x,-y)', `unable to parse requirement: values[0][a]: Invalid value: "-y": ${VALUE_RE_MSG}`],
    [
      `a=${'v'.repeat(64)}`,
      `unable to parse requirement: values[0][a]: Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters`,
    ],
    [`${'k'.repeat(64)}`, `unable to parse requirement: <nil>: Invalid value: "${'k'.repeat(64)}": name part must be no more than 63 characters`],
  ];
  for (const [input, msg] of cases) {
    assert.throws(
      () => parseLabelSelector(input),
      (e: unknown) => {
        assert.ok(e instanceof SelectorError, `${input}: not a SelectorError`);
        assert.equal((e as Error).message, msg, `input ${JSON.stringify(input)}`);
        return true;
      },
    );
  }
});

test('qualified name validation', () => {
  const ok = ['a', 'A1', 'a.b-c_d', 'example.com/x', 'k8s.io/a.b', 'x'.repeat(63), `${'a.'.repeat(100)}b/c`];
  for (const k of ok) assert.deepEqual(qualifiedNameErrors(k), [], k);
  assert.deepEqual(qualifiedNameErrors('/a'), ['prefix part must be non-empty']);
  assert.deepEqual(qualifiedNameErrors('a/'), ['name part must be non-empty', NAME_RE_MSG]);
  assert.equal(qualifiedNameErrors('a/b/c').length, 1);
  assert.match(qualifiedNameErrors('a/b/c')[0]!, /^a qualified name must consist .* with an optional DNS subdomain prefix and '\/' \(e\.g\. 'example\.com\/MyName'\)$/);
  assert.match(qualifiedNameErrors('Example.com/a')[0]!, /^prefix part a lowercase RFC 1123 subdomain/);
  assert.deepEqual(qualifiedNameErrors('x'.repeat(64)), ['name part must be no more than 63 characters']);
});

test('metav1.LabelSelector struct', () => {
  const nothing = selectorFromLabelSelector(undefined);
  assert.equal(nothing.empty, false);
  assert.equal(nothing.matches({}), false);
  assert.equal(selectorFromLabelSelector(null).matches({ a: 'b' }), false);

  const every = selectorFromLabelSelector({});
  assert.equal(every.empty, true);
  assert.equal(every.matches({ a: 'b' }), true);
  assert.equal(selectorFromLabelSelector({ matchLabels: {}, matchExpressions: [] }).empty, true);

  const s = selectorFromLabelSelector({
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['fe', 'be'] },
      { key: 'env', operator: 'NotIn', values: ['prod'] },
      { key: 'team', operator: 'Exists' },
      { key: 'legacy', operator: 'DoesNotExist' },
    ],
  });
  assert.equal(s.empty, false);
  assert.equal(s.toString(), 'app=web,env notin (prod),!legacy,team,tier in (be,fe)');
  const cases: [Record<string, string>, boolean][] = [
    [{ app: 'web', tier: 'fe', team: 'x' }, true],
    [{ app: 'web', tier: 'fe', team: 'x', env: 'dev' }, true],
    [{ app: 'web', tier: 'fe', team: 'x', env: 'prod' }, false],
    [{ app: 'web', tier: 'fe' }, false],
    [{ app: 'web', tier: 'fe', team: 'x', legacy: '' }, false],
    [{ app: 'db', tier: 'fe', team: 'x' }, false],
  ];
  for (const [labels, want] of cases) assert.equal(s.matches(labels), want, JSON.stringify(labels));
  assert.equal(s.requiresExactMatch('app'), 'web');
  assert.equal(s.requiresExactMatch('tier'), undefined);
});

test('metav1.LabelSelector validation errors', () => {
  const cases: [unknown, string][] = [
    [{ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }, '"Gt" is not a valid label selector operator'],
    [{ matchExpressions: [{ key: 'a', operator: 'in', values: ['1'] }] }, '"in" is not a valid label selector operator'],
    [
      { matchExpressions: [{ key: 'a', operator: 'In' }] },
      "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      { matchExpressions: [{ key: 'a', operator: 'NotIn', values: [] }] },
      "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] },
      'values: Invalid value: ["x"]: values set must be empty for exists and does not exist',
    ],
    [{ matchLabels: { '-a': 'b' } }, `key: Invalid value: "-a": ${NAME_RE_MSG}`],
    [{ matchLabels: { a: 'b c' } }, `values[0][a]: Invalid value: "b c": ${VALUE_RE_MSG}`],
    [
      { matchExpressions: [{ key: '-a', operator: 'In', values: ['-b'] }] },
      `[key: Invalid value: "-a": ${NAME_RE_MSG}, values[0][-a]: Invalid value: "-b": ${VALUE_RE_MSG}]`,
    ],
  ];
  for (const [sel, msg] of cases) {
    assert.throws(() => selectorFromLabelSelector(sel as any), (e: unknown) => {
      assert.ok(e instanceof SelectorError);
      assert.equal((e as Error).message, msg);
      return true;
    });
  }
});

test('selectorFromSet', () => {
  assert.equal(selectorFromSet(undefined).empty, true);
  const s = selectorFromSet({ b: '2', a: '1' });
  assert.equal(s.toString(), 'a=1,b=2');
  assert.equal(s.matches({ a: '1', b: '2', c: '3' }), true);
  assert.equal(s.matches({ a: '1' }), false);
});

test('requiresExactMatch on string selectors', () => {
  assert.equal(parseLabelSelector('a=x,b in (y),c in (p,q),d!=z').requiresExactMatch('a'), 'x');
  assert.equal(parseLabelSelector('a=x,b in (y)').requiresExactMatch('b'), 'y');
  assert.equal(parseLabelSelector('c in (p,q)').requiresExactMatch('c'), undefined);
  assert.equal(parseLabelSelector('d!=z').requiresExactMatch('d'), undefined);
});
