import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gizmos.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gizmos, singular: gizmo, kind: Gizmo}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: self.minReplicas <= self.maxReplicas
              message: minReplicas must not exceed maxReplicas
            - rule: self.mode == oldSelf.mode
              message: mode is immutable
              reason: FieldValueForbidden
            properties:
              minReplicas: {type: integer}
              maxReplicas: {type: integer}
              mode: {type: string}
              hosts:
                type: array
                items: {type: string}
                x-kubernetes-validations:
                - rule: self.all(h, h.endsWith('.example.com'))
                  messageExpression: "'hosts must be under example.com, got ' + self.filter(h, !h.endsWith('.example.com')).join(', ')"
          status:
            type: object
            properties:
              ready: {type: integer}
            x-kubernetes-validations:
            - rule: self.ready >= 0
`;

const gizmo = (name: string, spec: string) => `apiVersion: example.com/v1
kind: Gizmo
metadata:
  name: ${name}
  namespace: default
spec:
${spec}`;

/** CRD validation rules (CEL) with the real kubectl. */
describe('CRD CEL validation rules', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster();
  });
  after(async () => {
    await c?.stop();
  });

  it('refuses a CRD whose rule does not parse', async () => {
    const bad = CRD.replace('rule: self.ready >= 0', 'rule: self.ready >=');
    const r = await c.kubectl(['create', '-f', '-'], { input: bad });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\[status\]\.x-kubernetes-validations\[0\]\.rule: Invalid value: apiextensions\.ValidationRule\{Rule:"self\.ready >=".*compilation failed/);
  });

  it('refuses invalid custom objects with upstream messages and accepts valid ones', async () => {
    await c.run(['create', '-f', '-'], CRD);
    await c.run(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/gizmos.example.com']);
    const r = await c.kubectl(['create', '-f', '-'], { input: gizmo('g1', '  minReplicas: 5\n  maxReplicas: 2\n  mode: a\n') });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /The Gizmo "g1" is invalid: spec: Invalid value: "object": minReplicas must not exceed maxReplicas/);
    const r2 = await c.kubectl(['create', '-f', '-'], { input: gizmo('g1', '  minReplicas: 1\n  maxReplicas: 2\n  hosts: [a.example.com, b.other.org]\n') });
    assert.match(r2.stderr, /spec\.hosts: Invalid value: "array": hosts must be under example\.com, got b\.other\.org/);
    await c.run(['create', '-f', '-'], gizmo('g1', '  minReplicas: 1\n  maxReplicas: 2\n  mode: a\n  hosts: [a.example.com]\n'));
  });

  it('transition rules compare with the stored object; status rules apply on /status', async () => {
    const r = await c.kubectl(['patch', 'gizmo', 'g1', '--type=merge', '-p', '{"spec":{"mode":"b"}}']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec: Forbidden: mode is immutable/);
    await c.run(['patch', 'gizmo', 'g1', '--type=merge', '-p', '{"spec":{"maxReplicas":3}}']);
    const s = await c.kubectl(['patch', 'gizmo', 'g1', '--subresource=status', '--type=merge', '-p', '{"status":{"ready":-1}}']);
    assert.notEqual(s.code, 0);
    assert.match(s.stderr, /status: Invalid value: "object": failed rule: self\.ready >= 0/);
    await c.run(['patch', 'gizmo', 'g1', '--subresource=status', '--type=merge', '-p', '{"status":{"ready":1}}']);
    const g = JSON.parse(await c.run(['get', 'gizmo', 'g1', '-o', 'json']));
    assert.equal(g.spec.maxReplicas, 3);
    assert.equal(g.status.ready, 1);
  });
});
