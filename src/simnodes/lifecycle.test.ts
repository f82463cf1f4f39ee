import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IPAllocator, indexOf, nodeIP, podCIDR } from './addressing.js';
import { nodeObject, podAction } from './lifecycle.js';

const now = new Date('2026-01-02T03:04:05Z');
const pod = (o: any = {}) => ({
  metadata: { name: 'p', namespace: 'default', uid: 'u1', ...o.metadata },
  spec: { nodeName: 'n', containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }], ...o.spec },
  status: { phase: 'Pending', ...o.status },
});

test('a pending pod becomes Running with IPs, conditions and running containers', () => {
  const ips = new IPAllocator('10.0.7.0/24');
  const a = podAction(pod({ spec: { initContainers: [{ name: 'init', image: 'z' }, { name: 'side', image: 's', restartPolicy: 'Always' }] } }) as any, now, { hostIP: '172.16.0.7', podIP: () => ips.allocate() });
  assert.equal(a?.kind, 'run');
  const s: any = (a as any).status;
  assert.equal(s.phase, 'Running');
  assert.equal(s.podIP, '10.0.7.1');
  assert.deepEqual(s.podIPs, [{ ip: '10.0.7.1' }]);
  assert.equal(s.hostIP, '172.16.0.7');
  assert.equal(s.startTime, '2026-01-02T03:04:05Z');
  assert.deepEqual(s.conditions.map((c: any) => `${c.type}=${c.status}`), ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True']);
  assert.deepEqual(s.containerStatuses.map((c: any) => [c.name, c.ready, !!c.state.running]), [['a', true, true], ['b', true, true]]);
  assert.deepEqual(s.initContainerStatuses.map((c: any) => Object.keys(c.state)[0]), ['terminated', 'running']);
});

test('terminating pods are deleted; running ones are left alone; hostNetwork uses the node IP', () => {
  assert.deepEqual(podAction(pod({ metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } }) as any, now, { hostIP: 'h', podIP: () => 'x' }), { kind: 'delete' });
  assert.equal(podAction(pod({ status: { phase: 'Running', podIP: '1.2.3.4' } }) as any, now, { hostIP: 'h', podIP: () => 'x' }), undefined);
  const hn: any = podAction(pod({ spec: { hostNetwork: true } }) as any, now, { hostIP: '172.16.0.1', podIP: () => 'x' });
  assert.equal(hn.status.podIP, '172.16.0.1');
});

test('addresses: stable per node number, pod IPs reused after release', () => {
  assert.equal(nodeIP(258), '172.16.1.2');
  assert.equal(podCIDR(258), '10.1.2.0/24');
  assert.equal(indexOf('sim-node-42'), 42);
  const a = new IPAllocator('10.1.2.0/24');
  const ips = [a.allocate(), a.allocate()];
  a.release(ips[0]!);
  assert.deepEqual([...ips, a.allocate()], ['10.1.2.1', '10.1.2.2', '10.1.2.1']);
});

test('node object: kubelet-like registration with simulated marker, capacity and Ready', () => {
  const n: any = nodeObject({ name: 'sim-0', index: 0, capacity: { cpu: '4', memory: '8Gi', pods: '110' }, labels: { zone: 'a' }, taints: [{ key: 'k', effect: 'NoSchedule' }], ip: '172.16.0.0', podCIDR: '10.0.0.0/24' }, now);
  assert.equal(n.metadata.labels['kubernetes.io/hostname'], 'sim-0');
  assert.equal(n.metadata.labels['skiff.dev/simulated'], 'true');
  assert.equal(n.metadata.labels.zone, 'a');
  assert.deepEqual(n.spec.taints, [{ key: 'k', effect: 'NoSchedule' }]);
  assert.deepEqual(n.status.allocatable, { cpu: '4', memory: '8Gi', pods: '110' });
  assert.equal(n.status.conditions.find((c: any) => c.type === 'Ready').status, 'True');
});
