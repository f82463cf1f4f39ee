import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCache } from '../auth/testing/fakecache.js';
import { findResource } from '../resources.js';
import { podSecurityPlugin, checkPod, violationText } from './podsecurity.js';
import type { AdmissionRequest } from './types.js';

function req(key: 'pods' | 'deployments', labels: Record<string, string>, object: any): AdmissionRequest {
  const cache = new FakeCache();
  cache.put('namespaces', { metadata: { name: 'ns', labels } });
  const info = key === 'pods' ? findResource('', 'v1', 'pods')! : findResource('apps', 'v1', 'deployments')!;
  return { info, operation: 'CREATE', object, namespace: 'ns', dryRun: false, registry: { cache } as any, warnings: [] };
}

describe('PodSecurity', () => {
  const hostPod = { metadata: { name: 'p' }, spec: { hostNetwork: true, containers: [{ name: 'a', ports: [{ containerPort: 80, hostPort: 8080 }], securityContext: { capabilities: { add: ['NET_ADMIN'] } } }], volumes: [{ name: 'h', hostPath: { path: '/' } }] } };

  it('baseline names host namespaces, hostPath, hostPort and capabilities', () => {
    assert.equal(
      violationText(checkPod('baseline', hostPod.metadata, hostPod.spec)),
      'non-default capabilities (container "a" must not include "NET_ADMIN" in securityContext.capabilities.add), host namespaces (hostNetwork=true), hostPath volumes (volume "h"), hostPort (container "a" uses hostPort 8080)',
    );
    assert.deepEqual(checkPod('privileged', hostPod.metadata, hostPod.spec), []);
  });

  it('enforce refuses pods; warn and workloads warn; audit annotates', () => {
    assert.throws(() => podSecurityPlugin.validate!(req('pods', { 'pod-security.kubernetes.io/enforce': 'baseline' }, hostPod)), /violates PodSecurity "baseline:latest": non-default capabilities/);
    const w = req('pods', { 'pod-security.kubernetes.io/warn': 'baseline', 'pod-security.kubernetes.io/warn-version': 'v1.32', 'pod-security.kubernetes.io/audit': 'baseline' }, hostPod);
    podSecurityPlugin.validate!(w);
    assert.match(w.warnings![0], /^would violate PodSecurity "baseline:v1.32": non-default capabilities/);
    assert.match(w.auditAnnotations!['pod-security.kubernetes.io/audit-violations'], /^would violate PodSecurity "baseline:latest"/);
    const d = req('deployments', { 'pod-security.kubernetes.io/enforce': 'baseline' }, { metadata: { name: 'd' }, spec: { template: { metadata: {}, spec: hostPod.spec } } });
    podSecurityPlugin.validate!(d);
    assert.match(d.warnings![0], /^would violate PodSecurity "baseline:latest"/);
  });

  it('checks ephemeral containers added through pods/ephemeralcontainers (kubectl debug), and no other subresource', () => {
    const plain = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }] } };
    const debugged = { ...plain, spec: { ...plain.spec, ephemeralContainers: [{ name: 'dbg', securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }] } };
    const r = { ...req('pods', { 'pod-security.kubernetes.io/enforce': 'baseline' }, debugged), operation: 'UPDATE' as const, oldObject: plain, subresource: 'ephemeralcontainers' };
    assert.ok(podSecurityPlugin.handles(r));
    assert.throws(() => podSecurityPlugin.validate!(r), /violates PodSecurity "baseline:latest": non-default capabilities \(container "dbg" must not include "SYS_ADMIN"/);
    assert.ok(!podSecurityPlugin.handles({ ...r, subresource: 'status' }));
  });
});
