import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findResource } from '../resources.js';
import { REGISTRY_PREFIX } from '../watchcache.js';
import { StatusError } from '../status.js';
import { mergeTolerations, runtimeClassPlugin } from './runtimeclass.js';
import type { AdmissionRequest } from './types.js';

const SANDBOXED = {
  metadata: { name: 'sandboxed' },
  handler: 'runsc',
  overhead: { podFixed: { cpu: '250m', memory: '512Mi' } },
  scheduling: { nodeSelector: { sandbox: 'true' }, tolerations: [{ key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' }] },
};

/** A request over a cache holding `classes`; `late` ones appear only after a sync (a lagging cache). */
function req(spec: any, classes: any[] = [SANDBOXED], late: any[] = []): AdmissionRequest {
  const objs = new Map<string, any>(classes.map((c) => [`${REGISTRY_PREFIX}node.k8s.io/runtimeclasses/${c.metadata.name}`, { obj: c }]));
  const cache = {
    get: (key: string) => objs.get(key),
    async sync() {
      for (const c of late) objs.set(`${REGISTRY_PREFIX}node.k8s.io/runtimeclasses/${c.metadata.name}`, { obj: c });
    },
  };
  const object = { metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec } };
  return { info: findResource('', 'v1', 'pods')!, operation: 'CREATE', object, namespace: 'ns', dryRun: false, registry: { cache } as any, warnings: [] };
}

async function admit(r: AdmissionRequest): Promise<void> {
  await runtimeClassPlugin.admit!(r);
  await runtimeClassPlugin.validate!(r);
}

async function rejection(r: AdmissionRequest): Promise<string> {
  const err = await admit(r).then(() => undefined, (e) => e);
  assert.ok(err instanceof StatusError, 'expected a rejection');
  assert.equal(err.code, 403);
  return err.message;
}

describe('RuntimeClass admission', () => {
  it('handles only pod creation', () => {
    const r = req({ runtimeClassName: 'sandboxed' });
    assert.equal(runtimeClassPlugin.handles(r), true);
    assert.equal(runtimeClassPlugin.handles({ ...r, operation: 'UPDATE' }), false);
    assert.equal(runtimeClassPlugin.handles({ ...r, subresource: 'status' }), false);
  });

  it('leaves a pod without a RuntimeClass alone', async () => {
    const r = req({});
    await admit(r);
    assert.equal(r.object.spec.overhead, undefined);
    assert.equal(r.object.spec.nodeSelector, undefined);
  });

  it('sets the overhead and merges the scheduling constraints', async () => {
    const r = req({ runtimeClassName: 'sandboxed', nodeSelector: { zone: 'a' }, tolerations: [{ key: 'x', operator: 'Equal', value: 'y' }] });
    await admit(r);
    assert.deepEqual(r.object.spec.overhead, { cpu: '250m', memory: '512Mi' });
    assert.deepEqual(r.object.spec.nodeSelector, { zone: 'a', sandbox: 'true' });
    assert.deepEqual(r.object.spec.tolerations, [{ key: 'x', operator: 'Equal', value: 'y' }, SANDBOXED.scheduling.tolerations[0]]);
    // The class is not shared with the pod.
    r.object.spec.overhead.cpu = '1';
    assert.equal(SANDBOXED.overhead.podFixed.cpu, '250m');
  });

  it('accepts a pod that already carries the same overhead and selector', async () => {
    const r = req({ runtimeClassName: 'sandboxed', overhead: { cpu: '250m', memory: '512Mi' }, nodeSelector: { sandbox: 'true' } });
    await admit(r);
    assert.deepEqual(r.object.spec.nodeSelector, { sandbox: 'true' });
  });

  it('finds a RuntimeClass the cache has not seen yet', async () => {
    const r = req({ runtimeClassName: 'sandboxed' }, [], [SANDBOXED]);
    await admit(r);
    assert.deepEqual(r.object.spec.overhead, { cpu: '250m', memory: '512Mi' });
  });

  it("rejects with upstream's messages", async () => {
    assert.equal(await rejection(req({ runtimeClassName: 'nope' })), 'pods "p" is forbidden: pod rejected: RuntimeClass "nope" not found');
    assert.equal(
      await rejection(req({ runtimeClassName: 'sandboxed', nodeSelector: { sandbox: 'false' } })),
      'pods "p" is forbidden: conflict: runtimeClass.scheduling.nodeSelector[sandbox] = true; pod.spec.nodeSelector[sandbox] = false',
    );
    assert.equal(
      await rejection(req({ runtimeClassName: 'sandboxed', overhead: { cpu: '1' } })),
      "pods \"p\" is forbidden: pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead",
    );
    const plain = { metadata: { name: 'plain' }, handler: 'runc' };
    assert.equal(
      await rejection(req({ runtimeClassName: 'plain', overhead: { cpu: '1' } }, [plain])),
      'pods "p" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead',
    );
    assert.equal(await rejection(req({ overhead: { cpu: '1' } })), 'pods "p" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
  });

  it('names a pod still to be named by its generateName', async () => {
    const r = req({ runtimeClassName: 'nope' });
    r.object.metadata = { generateName: 'web-', namespace: 'ns' };
    assert.equal(await rejection(r), 'pods "web-" is forbidden: pod rejected: RuntimeClass "nope" not found');
  });
});

describe('mergeTolerations', () => {
  const t = (o: Record<string, unknown>) => ({ operator: 'Equal', ...o });
  it('keeps one of equal tolerations and drops those another covers', () => {
    assert.deepEqual(mergeTolerations([t({ key: 'a', value: '1' })], [t({ key: 'a', value: '1' })]), [t({ key: 'a', value: '1' })]);
    const all = { key: 'a', operator: 'Exists' };
    assert.deepEqual(mergeTolerations([t({ key: 'a', value: '1', effect: 'NoSchedule' })], [all]), [all]);
    // An empty key with Exists tolerates everything.
    const everything = { operator: 'Exists' };
    assert.deepEqual(mergeTolerations([t({ key: 'a', value: '1' }), everything], [t({ key: 'b', value: '2' })]), [everything]);
    // A bounded NoExecute toleration covers only shorter ones.
    const short = { key: 'n', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 };
    const long = { key: 'n', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 };
    assert.deepEqual(mergeTolerations([short], [long]), [long]);
    assert.deepEqual(mergeTolerations([t({ key: 'a', value: '1' })], [t({ key: 'a', value: '2' })]), [t({ key: 'a', value: '1' }), t({ key: 'a', value: '2' })]);
  });
});
