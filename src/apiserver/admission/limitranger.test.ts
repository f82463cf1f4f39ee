import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findResource } from '../resources.js';
import { REGISTRY_PREFIX } from '../watchcache.js';
import { StatusError } from '../status.js';
import { limitRangerPlugin } from './limitranger.js';
import type { AdmissionRequest } from './types.js';

function req(resource: string, operation: 'CREATE' | 'UPDATE', object: any, limits: any[]): AdmissionRequest {
  const cache = {
    list: (_key: string, prefix: string) => (prefix === `${REGISTRY_PREFIX}limitranges/ns/` ? [{ obj: { metadata: { name: 'lr', namespace: 'ns' }, spec: { limits } } }] : []),
  };
  return { info: findResource('', 'v1', resource)!, operation, object, oldObject: operation === 'UPDATE' ? object : undefined, namespace: 'ns', dryRun: false, registry: { cache } as any, warnings: [] };
}

async function refusal(r: AdmissionRequest): Promise<string | undefined> {
  if (!limitRangerPlugin.handles(r)) return undefined;
  const err = await (async () => {
    await limitRangerPlugin.admit?.(r);
    await limitRangerPlugin.validate?.(r);
  })().then(() => undefined, (e) => e);
  if (err === undefined) return undefined;
  assert.ok(err instanceof StatusError);
  assert.equal(err.code, 403);
  return err.message;
}

const claim = (storage?: string) => ({ metadata: { name: 'data', namespace: 'ns' }, spec: { accessModes: ['ReadWriteOnce'], resources: storage ? { requests: { storage } } : {} } });
const pvcLimits = [{ type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '2048Mi' } }];

describe('LimitRanger', () => {
  it('enforces a PersistentVolumeClaim LimitRange on the storage request, with upstream\'s messages', async () => {
    assert.equal(await refusal(req('persistentvolumeclaims', 'CREATE', claim('1500Mi'), pvcLimits)), undefined);
    assert.equal(await refusal(req('persistentvolumeclaims', 'CREATE', claim('5Gi'), pvcLimits)), 'persistentvolumeclaims "data" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi');
    assert.equal(await refusal(req('persistentvolumeclaims', 'CREATE', claim('500Mi'), pvcLimits)), 'persistentvolumeclaims "data" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi');
    assert.equal(
      await refusal(req('persistentvolumeclaims', 'CREATE', claim(), pvcLimits)),
      'persistentvolumeclaims "data" is forbidden: [minimum storage usage per PersistentVolumeClaim is 1Gi.  No request is specified, maximum storage usage per PersistentVolumeClaim is 2Gi.  No request is specified]',
    );
    // A resize is judged too.
    assert.match((await refusal(req('persistentvolumeclaims', 'UPDATE', claim('3Gi'), pvcLimits)))!, /maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 3Gi/);
  });

  it('judges pods when they are created, not when they are updated', async () => {
    const pod = { metadata: { name: 'p', namespace: 'ns', labels: { x: 'y' } }, spec: { containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: '100m' } } }] } };
    const tight = [{ type: 'Container', max: { cpu: '50m' } }];
    assert.equal(await refusal(req('pods', 'CREATE', structuredClone(pod), tight)), 'pods "p" is forbidden: maximum cpu usage per Container is 50m, but limit is 100m');
    assert.equal(await refusal(req('pods', 'UPDATE', structuredClone(pod), tight)), undefined);
  });
});
