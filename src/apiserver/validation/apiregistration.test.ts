import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateObject, validateObjectUpdate, validateStatusUpdate } from './index.js';

const KEY = 'apiregistration.k8s.io/apiservices';
const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');
const svc = (spec: Record<string, unknown> = {}, name = 'v1beta1.metrics.k8s.io') => ({
  metadata: { name, resourceVersion: '1' },
  spec: { group: 'metrics.k8s.io', version: 'v1beta1', groupPriorityMinimum: 100, versionPriority: 100, service: { namespace: 'kube-system', name: 'metrics-server', port: 443 }, insecureSkipTLSVerify: true, ...spec },
});
const messages = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);
const check = (o: any) => messages(validateObject(KEY, o, { namespaced: false }));

describe('APIService validation', () => {
  it("accepts metrics-server's APIService and local ones (the core group's name is \"v1.\")", () => {
    assert.deepEqual(check(svc()), []);
    assert.deepEqual(check(svc({ insecureSkipTLSVerify: false, caBundle: CA })), []);
    assert.deepEqual(check({ metadata: { name: 'v1.' }, spec: { group: '', version: 'v1', groupPriorityMinimum: 18000, versionPriority: 1 } }), []);
    assert.deepEqual(check({ metadata: { name: 'v1.apps' }, spec: { group: 'apps', version: 'v1', groupPriorityMinimum: 17800, versionPriority: 15 } }), []);
  });

  const cases: [string, any, string[]][] = [
    ['name must be version.group', svc({}, 'metrics'), ['metadata.name: Invalid value: "metrics": must be `spec.version+"."+spec.group`: "v1beta1.metrics.k8s.io"']],
    ['name must be a path segment', svc({}, 'a/b'), ["metadata.name: Invalid value: \"a/b\": may not contain '/'"]],
    ['only v1 may have the empty group', { metadata: { name: 'v2.' }, spec: { group: '', version: 'v2', groupPriorityMinimum: 1, versionPriority: 1 } }, ['spec.group: Required value: only v1 may have an empty group and it better be legacy kube']],
    ['group is a DNS subdomain', svc({ group: 'Metrics' }, 'v1beta1.Metrics'), ['spec.group: Invalid value: "Metrics": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')']],
    ['priorities in range', svc({ groupPriorityMinimum: 20001, versionPriority: 0 }), ['spec.groupPriorityMinimum: Invalid value: 20001: must be positive and less than 20000', 'spec.versionPriority: Invalid value: 0: must be positive and less than 1000']],
    ['priorities required', svc({ groupPriorityMinimum: undefined, versionPriority: undefined }), ['spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000', 'spec.versionPriority: Invalid value: 0: must be positive and less than 1000']],
    ['service needs a namespace and a name', svc({ service: {} }), ['spec.service.namespace: Required value', 'spec.service.name: Required value']],
    ['the service port is a port number', svc({ service: { namespace: 'kube-system', name: 'm', port: 70000 } }), ['spec.service.port: Invalid value: 70000: port is not valid: must be between 1 and 65535, inclusive']],
    ['the service port is an integer', svc({ service: { namespace: 'kube-system', name: 'm', port: 'abc' } }), ['spec.service.port: Invalid value: "abc": port is not valid: must be between 1 and 65535, inclusive']],
    ['insecure and a caBundle exclude each other', svc({ caBundle: CA }), ['spec.insecureSkipTLSVerify: Invalid value: true: may not be true if caBundle is present']],
    ['a local APIService has no TLS settings', svc({ service: undefined, caBundle: CA }), [`spec.caBundle: Invalid value: "${Buffer.from(CA, 'base64').length} bytes": local APIServices may not have a caBundle`, 'spec.insecureSkipTLSVerify: Invalid value: true: local APIServices may not have insecureSkipTLSVerify']],
  ];
  for (const [name, obj, want] of cases) it(name, () => assert.deepEqual(check(obj), want));

  it('runs the same rules on update, and checks only condition statuses on a status write', () => {
    assert.deepEqual(messages(validateObjectUpdate(KEY, svc({ versionPriority: 5000 }), svc(), { namespaced: false })), ['spec.versionPriority: Invalid value: 5000: must be positive and less than 1000']);
    const withStatus = (status: string) => ({ ...svc({ versionPriority: 5000 }), status: { conditions: [{ type: 'Available', status }] } });
    assert.deepEqual(messages(validateStatusUpdate(KEY, withStatus('False'), svc(), { namespaced: false })), []);
    assert.deepEqual(messages(validateStatusUpdate(KEY, withStatus('Maybe'), svc(), { namespaced: false })), ['status.conditions[0].status: Unsupported value: "Maybe": supported values: "True", "False", "Unknown"']);
  });
});
