import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeHandlerFor } from './runtimeclass.js';

const classes: Record<string, any> = { gvisor: { metadata: { name: 'gvisor' }, handler: 'runsc' } };
const get = async (name: string) => classes[name];
const pod = (runtimeClassName?: string) => ({ spec: { runtimeClassName, containers: [] } });

describe('runtimeHandlerFor', () => {
  it("is the runtime's default for a pod without a RuntimeClass", async () => {
    assert.equal(await runtimeHandlerFor(pod(), get), '');
  });

  it("is the RuntimeClass's handler", async () => {
    assert.equal(await runtimeHandlerFor(pod('gvisor'), get), 'runsc');
  });

  it('fails for a missing RuntimeClass', async () => {
    await assert.rejects(runtimeHandlerFor(pod('nope'), get), { message: 'runtimeclass.node.k8s.io "nope" not found' });
  });
});
