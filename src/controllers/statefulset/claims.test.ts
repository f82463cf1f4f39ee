import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { claimName, claimsFor, retentionPolicy } from './statefulset.js';

const set = (extra: any = {}) => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'set-uid' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    volumeClaimTemplates: [
      { metadata: { name: 'data', labels: { tier: 'db', app: 'ignored' }, annotations: { a: 'b' } }, spec: { storageClassName: 'standard', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      { metadata: { name: 'logs' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Mi' } } } },
    ],
    ...extra,
  },
});

describe('statefulset: volumeClaimTemplates', () => {
  it('names claims <template>-<set>-<ordinal>', () => assert.equal(claimName('data', 'web', 3), 'data-web-3'));

  it('makes one claim per template with the template labels plus the selector labels', () => {
    const cs = claimsFor(set(), 'web-0');
    assert.deepEqual(cs.map((c) => c.metadata.name), ['data-web-0', 'logs-web-0']);
    assert.deepEqual(cs[0].metadata.labels, { tier: 'db', app: 'web' });
    assert.deepEqual(cs[0].metadata.annotations, { a: 'b' });
    assert.equal(cs[0].metadata.namespace, 'ns');
    assert.equal(cs[0].spec.storageClassName, 'standard');
    assert.equal(cs[1].spec.storageClassName, undefined, 'no class: the default class applies');
    assert.equal(cs[0].metadata.ownerReferences, undefined, 'Retain by default: not owned');
  });

  const policies: [string, any, { whenDeleted: string; whenScaled: string }, boolean][] = [
    ['default', undefined, { whenDeleted: 'Retain', whenScaled: 'Retain' }, false],
    ['whenDeleted Delete', { whenDeleted: 'Delete' }, { whenDeleted: 'Delete', whenScaled: 'Retain' }, true],
    ['whenScaled Delete only', { whenScaled: 'Delete' }, { whenDeleted: 'Retain', whenScaled: 'Delete' }, false],
  ];
  for (const [name, p, want, owned] of policies) {
    it(`retention policy: ${name}`, () => {
      const s = set(p ? { persistentVolumeClaimRetentionPolicy: p } : {});
      assert.deepEqual(retentionPolicy(s), want);
      const refs = claimsFor(s, 'web-1')[0].metadata.ownerReferences;
      if (owned) assert.deepEqual(refs, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true, blockOwnerDeletion: true }]);
      else assert.equal(refs, undefined);
    });
  }
});
