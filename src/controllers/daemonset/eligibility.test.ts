import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeShouldRunDaemonPod, pinToNode, targetNodeOf, toleratesTaint, daemonPodTolerations, scaledValue } from './eligibility.js';

const node = (name: string, labels: Record<string, string> = {}, taints: any[] = []) => ({ metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, spec: { taints } });
const ds = (podSpec: any = {}) => ({ spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }], ...podSpec } } } });

describe('daemonset node eligibility', () => {
  it('every node by default, nodeSelector and required affinity narrow it', () => {
    assert.deepEqual(nodeShouldRunDaemonPod(node('a'), ds()), { shouldRun: true, shouldContinueRunning: true });
    const sel = ds({ nodeSelector: { disk: 'ssd' } });
    assert.equal(nodeShouldRunDaemonPod(node('a', { disk: 'ssd' }), sel).shouldRun, true);
    assert.deepEqual(nodeShouldRunDaemonPod(node('b'), sel), { shouldRun: false, shouldContinueRunning: false });
    const aff = ds({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1', 'z2'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['special'] }] }] } } } });
    assert.equal(nodeShouldRunDaemonPod(node('x', { zone: 'z2' }), aff).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(node('special'), aff).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(node('y', { zone: 'z3' }), aff).shouldRun, false);
  });

  it('taints: NoSchedule keeps running pods, NoExecute removes them, tolerations and daemon defaults apply', () => {
    const ns = node('a', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    assert.deepEqual(nodeShouldRunDaemonPod(ns, ds()), { shouldRun: false, shouldContinueRunning: true });
    const ne = node('a', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }]);
    assert.deepEqual(nodeShouldRunDaemonPod(ne, ds()), { shouldRun: false, shouldContinueRunning: false });
    assert.equal(nodeShouldRunDaemonPod(ne, ds({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu' }] })).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(ns, ds({ tolerations: [{ operator: 'Exists' }] })).shouldRun, true);
    // Node trouble and cordoning don't keep daemons away.
    for (const key of ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready']) assert.equal(nodeShouldRunDaemonPod(node('a', {}, [{ key, effect: 'NoExecute' }]), ds()).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]), ds()).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), ds()).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), ds({ hostNetwork: true })).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'x', effect: 'PreferNoSchedule' }]), ds()).shouldRun, true);
  });

  it('toleration matching', () => {
    assert.equal(toleratesTaint({ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }, { key: 'k', value: 'v', effect: 'NoSchedule' }), true);
    assert.equal(toleratesTaint({ key: 'k', value: 'w' }, { key: 'k', value: 'v', effect: 'NoSchedule' }), false);
    assert.equal(toleratesTaint({ key: 'k', operator: 'Exists', effect: 'NoExecute' }, { key: 'k', effect: 'NoSchedule' }), false);
    assert.equal(daemonPodTolerations({ tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }] }).filter((t) => t.key === 'node.kubernetes.io/unreachable').length, 1);
  });

  it('pins pods by metadata.name affinity', () => {
    const spec: any = { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }] } } } };
    pinToNode(spec, 'n1');
    assert.deepEqual(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution, { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] });
    assert.equal(targetNodeOf({ spec }), 'n1');
    assert.equal(targetNodeOf({ spec: { ...spec, nodeName: 'n2' } }), 'n2');
  });

  it('scales percentages', () => {
    assert.equal(scaledValue('25%', 10, true), 3);
    assert.equal(scaledValue('25%', 10, false), 2);
    assert.equal(scaledValue(2, 10, true), 2);
  });
});
