import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyPlugin, QueueingHint } from './interface.js';
import { newPodInfo } from './podinfo.js';
import { newNodeAffinity } from './plugins/nodeaffinity/nodeaffinity.js';
import { newNodePorts } from './plugins/nodeports/nodeports.js';
import { newNodeResourcesFit } from './plugins/noderesources/fit.js';
import { newNodeUnschedulable } from './plugins/nodeunschedulable/nodeunschedulable.js';
import { newTaintToleration } from './plugins/tainttoleration/tainttoleration.js';
import { mkNode, mkPod, mkWorld } from './testutil.js';
import type { Pod } from './types.js';

/** The hint a plugin registered for resource/action, applied to (pod, old, new). */
function hint(p: AnyPlugin, resource: string, action: string, pod: Pod, oldObj: unknown, newObj: unknown): QueueingHint | 'none' {
  const e = p.events!().find((x) => x.resource === resource && (x.actions === '*' || x.actions.includes(action as any)));
  if (!e) return 'none';
  return e.hint ? e.hint(newPodInfo(pod), oldObj, newObj) : 'Queue';
}

const big = mkPod('big', { cpu: '3' });
const ported = mkPod('ported', { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }] }] });
const zoned = mkPod('zoned', { spec: { nodeSelector: { zone: 'a' } } });
const tainted = mkNode('t', { taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] });

const cases: [string, AnyPlugin, string, string, Pod, unknown, unknown, QueueingHint | 'none'][] = [
  ['Fit: a node too small even when empty', newNodeResourcesFit(), 'Node', 'Add', big, undefined, mkNode('n', { cpu: '2' }), 'QueueSkip'],
  ['Fit: a node big enough', newNodeResourcesFit(), 'Node', 'Add', big, undefined, mkNode('n', { cpu: '4' }), 'Queue'],
  ['Fit: allocatable grew', newNodeResourcesFit(), 'Node', 'UpdateNodeAllocatable', big, mkNode('n', { cpu: '3' }), mkNode('n', { cpu: '4' }), 'Queue'],
  ['Fit: only memory grew, the pod asks cpu', newNodeResourcesFit(), 'Node', 'UpdateNodeAllocatable', big, mkNode('n', { cpu: '4' }), mkNode('n', { cpu: '4', memory: '16Gi' }), 'QueueSkip'],
  ['Fit: an assigned pod deleted', newNodeResourcesFit(), 'AssignedPod', 'Delete', big, mkPod('v', { cpu: '1', nodeName: 'n' }), undefined, 'Queue'],
  ['Fit: scale down of cpu', newNodeResourcesFit(), 'AssignedPod', 'UpdatePodScaleDown', big, mkPod('v', { cpu: '2', nodeName: 'n' }), mkPod('v', { cpu: '1', nodeName: 'n' }), 'Queue'],
  ['Fit: scale down of memory only', newNodeResourcesFit(), 'AssignedPod', 'UpdatePodScaleDown', big, mkPod('v', { memory: '2Gi', nodeName: 'n' }), mkPod('v', { memory: '1Gi', nodeName: 'n' }), 'QueueSkip'],
  ['Fit: a graceful deletion started (no room yet)', newNodeResourcesFit(), 'AssignedPod', 'Update', big, undefined, undefined, 'none'],
  ['NodeAffinity: a matching node', newNodeAffinity(), 'Node', 'Add', zoned, undefined, mkNode('n', { labels: { zone: 'a' } }), 'Queue'],
  ['NodeAffinity: a node of another zone', newNodeAffinity(), 'Node', 'Add', zoned, undefined, mkNode('n', { labels: { zone: 'b' } }), 'QueueSkip'],
  ['NodeAffinity: labels changed to match', newNodeAffinity(), 'Node', 'UpdateNodeLabel', zoned, mkNode('n'), mkNode('n', { labels: { zone: 'a' } }), 'Queue'],
  ['NodeAffinity: matched before too', newNodeAffinity(), 'Node', 'UpdateNodeLabel', zoned, mkNode('n', { labels: { zone: 'a' } }), mkNode('n', { labels: { zone: 'a', x: 'y' } }), 'QueueSkip'],
  ['TaintToleration: an untainted node', newTaintToleration(), 'Node', 'Add', big, undefined, mkNode('n'), 'Queue'],
  ['TaintToleration: a tainted node', newTaintToleration(), 'Node', 'Add', big, undefined, tainted, 'QueueSkip'],
  ['TaintToleration: taint removed', newTaintToleration(), 'Node', 'UpdateNodeTaint', big, tainted, mkNode('t'), 'Queue'],
  ['TaintToleration: taint tolerated', newTaintToleration(), 'Node', 'Add', mkPod('tol', { spec: { tolerations: [{ key: 'gpu', operator: 'Exists' }] } }), undefined, tainted, 'Queue'],
  ['NodeUnschedulable: uncordoned', newNodeUnschedulable(), 'Node', 'UpdateNodeTaint', big, mkNode('n', { unschedulable: true }), mkNode('n'), 'Queue'],
  ['NodeUnschedulable: still cordoned', newNodeUnschedulable(), 'Node', 'UpdateNodeTaint', big, mkNode('n', { unschedulable: true }), mkNode('n', { unschedulable: true, labels: { a: 'b' } }), 'QueueSkip'],
  ['NodePorts: the pod holding the port deleted', newNodePorts(), 'AssignedPod', 'Delete', ported, mkPod('holder', { nodeName: 'n', containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 1, hostPort: 8080 }] }] }), undefined, 'Queue'],
  ['NodePorts: a pod with other ports deleted', newNodePorts(), 'AssignedPod', 'Delete', ported, mkPod('other', { nodeName: 'n', containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 1, hostPort: 9090 }] }] }), undefined, 'QueueSkip'],
];

for (const [name, plugin, resource, action, pod, oldObj, newObj, want] of cases) {
  test(`QueueingHint ${name}: ${want}`, () => {
    assert.equal(hint(plugin, resource, action, pod, oldObj, newObj), want);
  });
}

test('QueueingHints of InterPodAffinity and PodTopologySpread (assigned pods and nodes)', () => {
  const w = mkWorld([mkNode('n')]);
  const plugin = (name: string) => w.fwk.eventsByPlugin().get(name)!;
  const h = (name: string, resource: string, pod: Pod, oldObj: unknown, newObj: unknown) => {
    const e = plugin(name).find((x) => x.resource === resource)!;
    return e.hint!(newPodInfo(pod), oldObj, newObj);
  };
  const ZONE = 'topology.kubernetes.io/zone';
  const term = { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: ZONE };
  const wantsDb = mkPod('w', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } } });
  const avoidsDb = mkPod('a', { spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } } });
  const db = mkPod('db', { labels: { app: 'db' }, nodeName: 'n' });
  const web = mkPod('web', { labels: { app: 'web' }, nodeName: 'n' });
  const guard = mkPod('guard', { nodeName: 'n', spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'x' } }, topologyKey: ZONE }] } } } });
  const cases: [string, string, string, Pod, unknown, unknown, string][] = [
    ['IPA: a pod matching the required affinity added', 'InterPodAffinity', 'AssignedPod', wantsDb, undefined, db, 'Queue'],
    ['IPA: an unrelated pod added', 'InterPodAffinity', 'AssignedPod', wantsDb, undefined, web, 'QueueSkip'],
    ['IPA: relabelled to match', 'InterPodAffinity', 'AssignedPod', wantsDb, web, { ...web, metadata: { ...web.metadata, labels: { app: 'db' } } }, 'Queue'],
    ['IPA: a pod the anti-affinity avoided deleted', 'InterPodAffinity', 'AssignedPod', avoidsDb, db, undefined, 'Queue'],
    ['IPA: an unrelated pod deleted', 'InterPodAffinity', 'AssignedPod', avoidsDb, web, undefined, 'QueueSkip'],
    ["IPA: a deleted pod whose anti-affinity kept us out", 'InterPodAffinity', 'AssignedPod', mkPod('x', { labels: { app: 'x' } }), guard, undefined, 'Queue'],
    ['PTS: a selected pod of the namespace deleted', 'PodTopologySpread', 'AssignedPod', mkPod('s', { labels: { app: 'db' }, spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'db' } } }] } }), db, undefined, 'Queue'],
    ['PTS: an unselected pod deleted', 'PodTopologySpread', 'AssignedPod', mkPod('s', { labels: { app: 'db' }, spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'db' } } }] } }), web, undefined, 'QueueSkip'],
    ['PTS: a node with the topology key', 'PodTopologySpread', 'Node', mkPod('s', { spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'db' } } }] } }), undefined, mkNode('z', { labels: { [ZONE]: 'a' } }), 'Queue'],
    ['PTS: a node without it', 'PodTopologySpread', 'Node', mkPod('s', { spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'db' } } }] } }), undefined, mkNode('z'), 'QueueSkip'],
  ];
  for (const [name, p, r, pod, o, n, want] of cases) assert.equal(h(p, r, pod, o, n), want, name);
});
