import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeConditionEvents, registerNode } from './node.js';
import { ApiError } from '../client/rest.js';

const cond = (type: string, status: string) => ({ type, status });
const healthy = [cond('MemoryPressure', 'False'), cond('DiskPressure', 'False'), cond('PIDPressure', 'False'), cond('Ready', 'True')];

test('nodeConditionEvents: every condition of a new node, then only changes', () => {
  assert.deepEqual(nodeConditionEvents('vm', undefined, healthy), [
    { reason: 'NodeHasSufficientMemory', message: 'Node vm status is now: NodeHasSufficientMemory' },
    { reason: 'NodeHasNoDiskPressure', message: 'Node vm status is now: NodeHasNoDiskPressure' },
    { reason: 'NodeHasSufficientPID', message: 'Node vm status is now: NodeHasSufficientPID' },
    { reason: 'NodeReady', message: 'Node vm status is now: NodeReady' },
  ]);
  assert.deepEqual(nodeConditionEvents('vm', healthy, healthy), []);
  const notReady = healthy.map((c) => (c.type === 'Ready' ? cond('Ready', 'False') : c));
  assert.deepEqual(nodeConditionEvents('vm', notReady, healthy), [{ reason: 'NodeReady', message: 'Node vm status is now: NodeReady' }]);
  // Conditions the kubelet has no event for (e.g. NetworkPolicyNotEnforced) record nothing.
  assert.deepEqual(nodeConditionEvents('vm', [], [cond('NetworkPolicyNotEnforced', 'True')]), []);
});

test('registerNode records the start as upstream\'s kubelet: Starting, the conditions, NodeAllocatableEnforced, NodeReady', async () => {
  const recorded: string[] = [];
  const client: any = {
    // The node exists (a restart): upstream records the start's events all the same.
    async create() {
      throw new ApiError(409, 'AlreadyExists', 'nodes "vm" already exists');
    },
    async get() {
      return { metadata: { name: 'vm', uid: 'u' }, status: { conditions: [] } };
    },
    async patch(_p: string, body: any) {
      return { metadata: { name: 'vm', uid: 'u' }, status: body.status };
    },
  };
  await registerNode(client, { nodeName: 'vm', nodeIP: '10.0.0.2', dataDir: '/tmp', kubeletPort: 10250, runtimeVersion: 'process://0.1.0' } as any, (r, m) => recorded.push(`${r}: ${m}`));
  assert.deepEqual(recorded, [
    'Starting: Starting kubelet.',
    'NodeHasSufficientMemory: Node vm status is now: NodeHasSufficientMemory',
    'NodeHasNoDiskPressure: Node vm status is now: NodeHasNoDiskPressure',
    'NodeHasSufficientPID: Node vm status is now: NodeHasSufficientPID',
    'NodeAllocatableEnforced: Updated Node Allocatable limit across pods',
    'NodeReady: Node vm status is now: NodeReady',
  ]);
});
