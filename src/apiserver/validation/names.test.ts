import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isConfigMapKey, isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isRelaxedEnvVarName, isValidLabelValue,
  isValidPathSegmentName, isValidPortName, isWildcardDNS1123Subdomain, nameIsDNSSubdomain,
} from './names.js';
import { goQuote } from './errors.js';

const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const NAME_PART_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

test('DNS-1123 labels and subdomains', () => {
  const cases: [(v: string) => string[], string, string[]][] = [
    [isDNS1123Label, 'my-name', []],
    [isDNS1123Label, '123-abc', []],
    [isDNS1123Label, 'My-Name', [LABEL_MSG]],
    [isDNS1123Label, '-a', [LABEL_MSG]],
    [isDNS1123Label, 'a.b', ['must not contain dots']],
    [isDNS1123Label, 'a'.repeat(64), ['must be no more than 63 characters']],
    [isDNS1123Subdomain, 'example.com', []],
    [isDNS1123Subdomain, 'Example.com', [SUBDOMAIN_MSG]],
    [isDNS1123Subdomain, 'a..b', [SUBDOMAIN_MSG]],
    [isDNS1123Subdomain, 'a'.repeat(254), ['must be no more than 253 characters']],
  ];
  for (const [fn, v, want] of cases) assert.deepEqual(fn(v), want, `${fn.name}(${v})`);
});

test('DNS-1035 labels must start with a letter', () => {
  assert.deepEqual(isDNS1035Label('svc-1'), []);
  assert.deepEqual(isDNS1035Label('1svc'), [
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
  ]);
});

test('qualified names and label values', () => {
  const cases: [string, string[]][] = [
    ['app', []],
    ['example.com/app', []],
    ['a b', [NAME_PART_MSG]],
    ['/app', ['prefix part must be non-empty']],
    ['Example.com/app', ['prefix part ' + SUBDOMAIN_MSG]],
    ['a/b/c', ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]],
    ['example.com/', ['name part must be non-empty', NAME_PART_MSG]],
  ];
  for (const [v, want] of cases) assert.deepEqual(isQualifiedName(v), want, v);
  assert.deepEqual(isValidLabelValue(''), []);
  assert.deepEqual(isValidLabelValue('v1.0_beta'), []);
  assert.deepEqual(isValidLabelValue('-x'), [VALUE_MSG]);
  assert.deepEqual(isValidLabelValue('a'.repeat(64)), ['must be no more than 63 characters']);
});

test('port names (IANA_SVC_NAME)', () => {
  assert.deepEqual(isValidPortName('http'), []);
  assert.deepEqual(isValidPortName('Http'), ['must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)']);
  assert.deepEqual(isValidPortName('80'), ['must contain at least one letter (a-z)']);
  assert.deepEqual(isValidPortName('a--b'), ['must not contain consecutive hyphens']);
  assert.deepEqual(isValidPortName('-a'), ['must not begin or end with a hyphen']);
  assert.deepEqual(isValidPortName('abcdefghijklmnop'), ['must be no more than 15 characters']);
});

test('other formats', () => {
  assert.deepEqual(isConfigMapKey('key.name'), []);
  assert.deepEqual(isConfigMapKey('..x'), ["must not start with '..'"]);
  assert.deepEqual(isWildcardDNS1123Subdomain('*.foo.com'), []);
  assert.equal(isWildcardDNS1123Subdomain('*.*.foo.com').length, 1);
  assert.deepEqual(isValidPathSegmentName('a/b'), ["may not contain '/'"]);
  assert.deepEqual(isValidPathSegmentName('..'), ["may not be '..'"]);
  assert.deepEqual(isRelaxedEnvVarName('1ABC'), []);
  assert.deepEqual(isRelaxedEnvVarName('A=B'), ["a valid environment variable name must consist only of printable ASCII characters other than '='"]);
  // A generateName prefix may end with a dash.
  assert.deepEqual(nameIsDNSSubdomain('web-', true), []);
  assert.deepEqual(nameIsDNSSubdomain('web-', false), [SUBDOMAIN_MSG]);
});

test('Go quoting of values', () => {
  assert.equal(goQuote('a"b\\c\n'), '"a\\"b\\\\c\\n"');
  assert.equal(goQuote('\x01'), '"\\x01"');
  assert.equal(goQuote('héllo'), '"héllo"');
});
