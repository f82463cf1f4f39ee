import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findResource } from '../resources.js';
import { REGISTRY_PREFIX } from '../watchcache.js';
import { StatusError } from '../status.js';
import { pvcResizePlugin } from './pvcresize.js';
import { securityAdmissionChain } from './chain.js';
import type { AdmissionRequest } from './types.js';

const classes: Record<string, any> = {
  standard: { metadata: { name: 'standard' }, provisioner: 'rancher.io/local-path' },
  growable: { metadata: { name: 'growable' }, provisioner: 'x', allowVolumeExpansion: true },
};

const pvc = (size: string, cls = 'growable', phase = 'Bound') => ({
  metadata: { name: 'data', namespace: 'ns' },
  spec: { storageClassName: cls, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
  status: { phase },
});

function req(object: any, oldObject: any, subresource?: string): AdmissionRequest {
  const cache = { get: (k: string) => (k.startsWith(`${REGISTRY_PREFIX}storage.k8s.io/storageclasses/`) ? (classes[k.split('/').pop()!] ? { obj: classes[k.split('/').pop()!] } : undefined) : undefined) };
  return { info: findResource('', 'v1', 'persistentvolumeclaims')!, operation: 'UPDATE', object, oldObject, namespace: 'ns', subresource, dryRun: false, registry: { cache } as any, warnings: [] };
}

async function refusal(r: AdmissionRequest): Promise<string | undefined> {
  if (!pvcResizePlugin.handles(r)) return undefined;
  const err = await (async () => pvcResizePlugin.validate!(r))().then(() => undefined, (e) => e);
  if (err === undefined) return undefined;
  assert.ok(err instanceof StatusError);
  assert.equal(err.code, 403);
  return err.message;
}

describe('PersistentVolumeClaimResize admission', () => {
  it('is in the default chain', () => {
    assert.ok(securityAdmissionChain().some((p) => p.name === 'PersistentVolumeClaimResize'));
  });

  it('lets a bound claim of an expandable class grow', async () => {
    assert.equal(await refusal(req(pvc('2Gi'), pvc('1Gi'))), undefined);
  });

  it('refuses growth when the class does not allow expansion, is missing, or changes', async () => {
    const msg = 'persistentvolumeclaims "data" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize';
    assert.equal(await refusal(req(pvc('2Gi', 'standard'), pvc('1Gi', 'standard'))), msg);
    assert.equal(await refusal(req(pvc('2Gi', 'gone'), pvc('1Gi', 'gone'))), msg);
    assert.equal(await refusal(req(pvc('2Gi', ''), pvc('1Gi', ''))), msg);
    assert.equal(await refusal(req(pvc('2Gi', 'growable'), pvc('1Gi', 'standard'))), msg);
  });

  it('refuses growth of a claim that is not bound', async () => {
    assert.equal(await refusal(req(pvc('2Gi', 'growable', 'Pending'), pvc('1Gi', 'growable', 'Pending'))), 'persistentvolumeclaims "data" is forbidden: Only bound persistent volume claims can be expanded');
  });

  it('ignores same or smaller sizes (validation judges those), other changes and the status subresource', async () => {
    assert.equal(await refusal(req(pvc('1024Mi', 'standard'), pvc('1Gi', 'standard'))), undefined);
    assert.equal(await refusal(req(pvc('500Mi', 'standard'), pvc('1Gi', 'standard'))), undefined);
    assert.equal(await refusal(req(pvc('2Gi', 'standard'), pvc('1Gi', 'standard'), 'status')), undefined);
  });
});
