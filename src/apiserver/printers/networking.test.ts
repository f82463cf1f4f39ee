import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ingressClassPrinter, ingressPrinter, networkPolicyPrinter } from './networking.js';
import { NOW, meta } from './testutil.js';

test('ingress rows', () => {
  const ing = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => ({ metadata: meta('web'), spec, status });
  const rule = (host?: string) => (host ? { host, http: { paths: [] } } : { http: { paths: [] } });
  const cases: Array<[string, any, unknown[]]> = [
    [
      'class, hosts, address, TLS',
      ing(
        { ingressClassName: 'nginx', rules: [rule('a.example.com'), rule('b.example.com')], tls: [{ hosts: ['a.example.com'] }] },
        { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
      ),
      ['web', 'nginx', 'a.example.com,b.example.com', '192.0.2.10', '80, 443', '5m'],
    ],
    ['no class, no rules', ing({ defaultBackend: { service: { name: 's', port: { number: 80 } } } }), ['web', '<none>', '*', '', '80', '5m']],
    ['hostless rules are skipped', ing({ rules: [rule(), rule('x.example.com')] }), ['web', '<none>', 'x.example.com', '', '80', '5m']],
    [
      'more than three rules counts them all',
      ing({ rules: [rule('a'), rule('b'), rule('c'), rule(), rule('e')] }),
      ['web', '<none>', 'a,b,c + 2 more...', '', '80', '5m'],
    ],
  ];
  for (const [name, obj, want] of cases) assert.deepEqual(ingressPrinter.cells(obj, NOW), want, name);
  assert.deepEqual(
    ingressPrinter.columns.map((c) => c.name),
    ['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age'],
  );
});

test('ingressclass rows', () => {
  const ic = (parameters?: unknown) => ({ metadata: meta('nginx'), spec: { controller: 'k8s.io/ingress-nginx', parameters } });
  assert.deepEqual(ingressClassPrinter.cells(ic(), NOW), ['nginx', 'k8s.io/ingress-nginx', '<none>', '5m']);
  assert.deepEqual(
    ingressClassPrinter.cells(ic({ apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' }), NOW)[2],
    'IngressParameters.k8s.example.com/external-lb',
  );
  assert.equal(ingressClassPrinter.cells(ic({ kind: 'ConfigMap', name: 'cfg', scope: 'Namespace', namespace: 'x' }), NOW)[2], 'ConfigMap/cfg');
});

test('networkpolicy rows', () => {
  const np = (podSelector?: unknown) => ({ metadata: meta('deny'), spec: { podSelector, policyTypes: ['Ingress'] } });
  assert.deepEqual(networkPolicyPrinter.cells(np({}), NOW), ['deny', '<none>', '5m']);
  assert.deepEqual(networkPolicyPrinter.cells(np(), NOW), ['deny', '<none>', '5m']);
  assert.deepEqual(networkPolicyPrinter.cells(np({ matchLabels: { role: 'db' } }), NOW), ['deny', 'role=db', '5m']);
  assert.deepEqual(networkPolicyPrinter.columns.map((c) => c.name), ['Name', 'Pod-Selector', 'Age']);
});
