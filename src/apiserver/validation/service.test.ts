import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateObject, validateObjectUpdate } from './index.js';
import { applyDefaults } from '../defaults/index.js';

const svc = (spec: any, meta: any = {}) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', ...meta }, spec });

function errors(obj: any): string[] {
  applyDefaults('services', obj);
  return validateObject('services', obj, { namespaced: true }).map((e) => `${e.field}: ${e.message}`);
}

test('service create validation', () => {
  const cases: [string, any, string[]][] = [
    ['valid ClusterIP service', svc({ selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }), []],
    ['ports required', svc({ selector: { app: 'web' } }), ['spec.ports: Required value']],
    ['headless without ports', svc({ clusterIP: 'None', selector: { app: 'web' } }), []],
    ['ExternalName without ports', svc({ type: 'ExternalName', externalName: 'example.com' }), []],
    ['ExternalName requires externalName', svc({ type: 'ExternalName' }), ['spec.externalName: Required value']],
    ['ExternalName must be a DNS name', svc({ type: 'ExternalName', externalName: 'Bad_Name' }), [
      "spec.externalName: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]],
    ['names required with several ports', svc({ ports: [{ port: 80 }, { port: 443, name: 'https' }] }), ['spec.ports[0].name: Required value']],
    ['port names unique', svc({ ports: [{ port: 80, name: 'web' }, { port: 443, name: 'web' }] }), ['spec.ports[1].name: Duplicate value: "web"']],
    ['port out of range', svc({ ports: [{ port: 0, targetPort: 80 }] }), ['spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive']],
    ['bad protocol', svc({ ports: [{ port: 80, protocol: 'ICMP' }] }), ['spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"']],
    ['named targetPort', svc({ ports: [{ port: 80, targetPort: 'http' }] }), []],
    ['bad targetPort name', svc({ ports: [{ port: 80, targetPort: 'HTTP' }] }), [
      'spec.ports[0].targetPort: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'spec.ports[0].targetPort: Invalid value: "HTTP": must contain at least one letter (a-z)',
    ]],
    ['duplicate port/protocol', svc({ ports: [{ port: 80, name: 'a' }, { port: 80, name: 'b' }] }), [
      'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ]],
    ['bad type', svc({ type: 'Internal', ports: [{ port: 80 }] }), ['spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
    ['bad clusterIP', svc({ clusterIP: '10.0.0.300', ports: [{ port: 80 }] }), ['spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']],
    ['nodePort on ClusterIP', svc({ ports: [{ port: 80, nodePort: 30080 }] }), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]],
    ['NodePort service', svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }), []],
    ['headless NodePort', svc({ type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] }), ["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"]],
    ['bad sessionAffinity', svc({ sessionAffinity: 'Sticky', ports: [{ port: 80 }] }), ['spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"']],
    ['name is a DNS-1035 label', { ...svc({ ports: [{ port: 80 }] }, { name: '1web' }) }, [
      "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ]],
    ['bad selector', svc({ selector: { app: 'a b' }, ports: [{ port: 80 }] }), [
      "spec.selector: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ]],
    ['externalTrafficPolicy on ClusterIP', svc({ externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }), ['spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services']],
  ];
  for (const [name, obj, want] of cases) assert.deepEqual(errors(obj), want, name);
});

test('service updates keep clusterIP and allocated values', () => {
  const old = svc({ selector: { app: 'web' }, ports: [{ port: 80 }] }, { uid: 'u', resourceVersion: '1' });
  applyDefaults('services', old);
  old.spec.clusterIP = '10.96.0.10';
  old.spec.clusterIPs = ['10.96.0.10'];
  const update = (mutate: (s: any) => void): string[] => {
    const next = structuredClone(old);
    mutate(next);
    applyDefaults('services', next);
    return validateObjectUpdate('services', next, old, { namespaced: true }).map((e) => `${e.field}: ${e.message}`);
  };
  assert.deepEqual(update((s) => { s.spec.ports[0].port = 81; }), []);
  // A replace that omits the allocated clusterIP keeps it.
  assert.deepEqual(update((s) => { delete s.spec.clusterIP; delete s.spec.clusterIPs; }), []);
  assert.deepEqual(update((s) => { s.spec.clusterIP = '10.96.0.11'; }), ['spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set']);
});
