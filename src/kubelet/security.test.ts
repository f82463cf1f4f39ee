import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, containerSecurityContext, effectiveSecurityContext, sandboxSecurityContext, verifyRunAsNonRoot } from './security.js';

const pod = (spec: any, meta: any = {}) => ({ metadata: { name: 'p', namespace: 'ns', uid: 'u1', ...meta }, spec });

describe('security context → CRI', () => {
  it('merges pod-level settings under the container’s own', () => {
    const p = pod({ securityContext: { runAsUser: 1000, runAsGroup: 3000, runAsNonRoot: true, fsGroup: 2000, supplementalGroups: [4000, 5000] } });
    assert.deepEqual(effectiveSecurityContext(p, { name: 'c', securityContext: { runAsUser: 1001 } }), { runAsUser: 1001, runAsGroup: 3000, runAsNonRoot: true });
    const sc = containerSecurityContext(p, { name: 'c', securityContext: { runAsUser: 1001, readOnlyRootFilesystem: true } });
    assert.deepEqual(sc.runAsUser, { value: 1001 });
    assert.deepEqual(sc.runAsGroup, { value: 3000 });
    assert.deepEqual(sc.supplementalGroups, [2000, 4000, 5000], 'fsGroup first, then supplementalGroups');
    assert.equal(sc.readonlyRootfs, true);
    assert.equal(sc.noNewPrivs, false);
    assert.deepEqual(sc.seccomp, { profileType: 'Unconfined' }, 'seccomp Unconfined unless asked, as the kubelet without --seccomp-default');
    assert.equal(sc.apparmor, undefined);
    assert.deepEqual(sc.namespaceOptions, { network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
    assert.deepEqual(sc.maskedPaths, DEFAULT_MASKED_PATHS);
    assert.deepEqual(sc.readonlyPaths, DEFAULT_READONLY_PATHS);
  });

  it('passes capabilities, privileged, no_new_privs, profiles and namespaces', () => {
    const p = pod({ hostNetwork: true, hostPID: true, securityContext: { seccompProfile: { type: 'RuntimeDefault' } } });
    const sc = containerSecurityContext(p, {
      name: 'c',
      securityContext: { privileged: true, allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }, procMount: 'Unmasked', appArmorProfile: { type: 'Localhost', localhostProfile: 'k8s-x' } },
    });
    assert.equal(sc.privileged, true);
    assert.equal(sc.noNewPrivs, true);
    assert.deepEqual(sc.capabilities, { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] });
    assert.deepEqual(sc.seccomp, { profileType: 'RuntimeDefault' });
    assert.deepEqual(sc.apparmor, { profileType: 'Localhost', localhostRef: 'k8s-x' });
    assert.deepEqual(sc.namespaceOptions, { network: 'NODE', pid: 'NODE', ipc: 'POD' });
    assert.deepEqual(sc.maskedPaths, []);
    const loc = containerSecurityContext(pod({}), { name: 'c', securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/a.json' } } });
    assert.deepEqual(loc.seccomp, { profileType: 'Localhost', localhostRef: '/var/lib/kubelet/seccomp/profiles/a.json' });
    const ann = containerSecurityContext(pod({}, { annotations: { 'container.apparmor.security.beta.kubernetes.io/c': 'unconfined' } }), { name: 'c' });
    assert.deepEqual(ann.apparmor, { profileType: 'Unconfined' });
  });

  it('builds the sandbox context: ids, groups, privileged when any container is, sysctls', () => {
    const p = pod({
      shareProcessNamespace: true,
      securityContext: { runAsUser: 1000, fsGroup: 2000, sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] },
      initContainers: [{ name: 'i', securityContext: { privileged: true } }],
      containers: [{ name: 'c' }],
    });
    const { securityContext: sc, sysctls } = sandboxSecurityContext(p);
    assert.deepEqual(sc.runAsUser, { value: 1000 });
    assert.deepEqual(sc.supplementalGroups, [2000]);
    assert.equal(sc.privileged, true);
    assert.deepEqual(sc.namespaceOptions, { network: 'POD', pid: 'POD', ipc: 'POD' });
    assert.deepEqual(sysctls, { 'net.ipv4.ip_unprivileged_port_start': '0' });
    assert.equal(sandboxSecurityContext(pod({ containers: [{ name: 'c' }] })).securityContext.privileged, undefined);
  });

  it('verifies runAsNonRoot against the explicit uid or the image user, with upstream messages', () => {
    const p = pod({ securityContext: { runAsNonRoot: true } });
    assert.equal(verifyRunAsNonRoot(p, { name: 'c', securityContext: { runAsUser: 0 } }, undefined), 'container\'s runAsUser breaks non-root policy (pod: "p_ns(u1)", container: c)');
    assert.equal(verifyRunAsNonRoot(p, { name: 'c', securityContext: { runAsUser: 10 } }, undefined), undefined);
    assert.equal(verifyRunAsNonRoot(p, { name: 'c' }, { uid: 0 }), 'container has runAsNonRoot and image will run as root (pod: "p_ns(u1)", container: c)');
    assert.equal(verifyRunAsNonRoot(p, { name: 'c' }, {}), 'container has runAsNonRoot and image will run as root (pod: "p_ns(u1)", container: c)', 'no user in the image is root');
    assert.equal(verifyRunAsNonRoot(p, { name: 'c' }, { username: 'nginx' }), 'container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user is non-root (pod: "p_ns(u1)", container: c)');
    assert.equal(verifyRunAsNonRoot(p, { name: 'c' }, { uid: 101 }), undefined);
    assert.equal(verifyRunAsNonRoot(p, { name: 'c' }, 'unknown'), undefined);
    assert.equal(verifyRunAsNonRoot(pod({}), { name: 'c' }, { uid: 0 }), undefined);
  });
});
