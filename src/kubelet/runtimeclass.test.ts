import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PROCESS_RUNTIME_HANDLERS, runtimeHandlerFor } from './runtimeclass.js';

const classes: Record<string, any> = { gvisor: { metadata: { name: 'gvisor' }, handler: 'runsc' }, plain: { metadata: { name: 'plain' }, handler: 'runc' } };
const get = async (name: string) => classes[name];
const pod = (runtimeClassName?: string) => ({ spec: { runtimeClassName, containers: [] } });

describe('runtimeHandlerFor', () => {
  it("is the runtime's default for a pod without a RuntimeClass", async () => {
    assert.equal(await runtimeHandlerFor(pod(), get, PROCESS_RUNTIME_HANDLERS), '');
  });

  it("is the RuntimeClass's handler", async () => {
    assert.equal(await runtimeHandlerFor(pod('gvisor'), get), 'runsc');
    assert.equal(await runtimeHandlerFor(pod('plain'), get, PROCESS_RUNTIME_HANDLERS), 'runc');
  });

  it('fails for a missing RuntimeClass, or a handler the runtime does not have', async () => {
    await assert.rejects(runtimeHandlerFor(pod('nope'), get), { message: 'runtimeclass.node.k8s.io "nope" not found' });
    await assert.rejects(runtimeHandlerFor(pod('gvisor'), get, PROCESS_RUNTIME_HANDLERS), { message: 'failed to get sandbox runtime: no runtime for "runsc" is configured' });
  });
});
