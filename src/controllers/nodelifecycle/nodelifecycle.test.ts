import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeLifecycleController } from './nodelifecycle.js';

class FakeInformer {
  readonly items = new Map<string, any>();
  readonly handlers: any[] = [];
  addHandlers(h: any): void {
    this.handlers.push(h);
  }
  get(k: string) {
    return this.items.get(k);
  }
  list() {
    return [...this.items.values()];
  }
}

test('the node controller records RegisteredNode and RemovingNode as upstream', () => {
  const informers = new Map<string, FakeInformer>();
  const events: any[] = [];
  const ctx: any = {
    client: {},
    informers: { for: (ref: any) => informers.get(ref.resource) ?? informers.set(ref.resource, new FakeInformer()).get(ref.resource)! },
    recorder: (component: string) => ({ event: (obj: any, type: string, reason: string, message: string) => events.push({ component, kind: obj.kind, name: obj.name, uid: obj.uid, type, reason, message }) }),
    clock: { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined },
    identity: 't',
    log: () => undefined,
  };
  const c = new NodeLifecycleController(ctx);
  (c as any).enqueue = () => undefined;
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'vm', uid: 'u-vm' } };
  const h = informers.get('nodes')!.handlers[0];
  h.add(node);
  h.delete(node);
  assert.deepEqual(events, [
    { component: 'node-controller', kind: 'Node', name: 'vm', uid: 'u-vm', type: 'Normal', reason: 'RegisteredNode', message: 'Node vm event: Registered Node vm in Controller' },
    { component: 'node-controller', kind: 'Node', name: 'vm', uid: 'u-vm', type: 'Normal', reason: 'RemovingNode', message: 'Node vm event: Removing Node vm from Controller' },
  ]);
});
