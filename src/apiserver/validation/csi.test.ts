import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateObject, validateObjectUpdate } from './index.js';
import { defaultCSIDriver } from './csi.js';

const messages = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);
const opts = { namespaced: false };

describe('CSIDriver', () => {
  const driver = (spec: Record<string, unknown> = {}, name = 'hostpath.csi.k8s.io') => {
    const d: any = { metadata: { name, resourceVersion: '1' }, spec: { ...spec } };
    defaultCSIDriver(d);
    return d;
  };

  it('defaults as v1 does', () => {
    assert.deepEqual(driver().spec, { attachRequired: true, podInfoOnMount: false, storageCapacity: false, fsGroupPolicy: 'ReadWriteOnceWithFSType', volumeLifecycleModes: ['Persistent'], requiresRepublish: false, seLinuxMount: false });
    assert.deepEqual(validateObject('storage.k8s.io/csidrivers', driver(), opts), []);
  });

  it('checks the name, modes, fsGroupPolicy and token requests', () => {
    assert.deepEqual(messages(validateObject('storage.k8s.io/csidrivers', driver({}, 'x'.repeat(64)), opts)), ['name: Too long: must have at most 63 bytes']);
    assert.deepEqual(messages(validateObject('storage.k8s.io/csidrivers', driver({ volumeLifecycleModes: ['Forever'], fsGroupPolicy: 'Some' }), opts)), [
      'spec.fsGroupPolicy: Unsupported value: "Some": supported values: "File", "None", "ReadWriteOnceWithFSType"',
      'spec.volumeLifecycleModes[0]: Unsupported value: "Forever": supported values: "Ephemeral", "Persistent"',
    ]);
    assert.deepEqual(messages(validateObject('storage.k8s.io/csidrivers', driver({ tokenRequests: [{ audience: 'a' }, { audience: 'a', expirationSeconds: 60 }] }), opts)), [
      'spec.tokenRequests[1].audience: Duplicate value: "a"',
      'spec.tokenRequests[1].expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
    ]);
  });

  it('keeps attachRequired and the modes immutable', () => {
    assert.deepEqual(messages(validateObjectUpdate('storage.k8s.io/csidrivers', driver({ attachRequired: false, podInfoOnMount: true }), driver(), opts)), ['spec.attachedRequired: Invalid value: false: field is immutable']);
  });
});

describe('CSINode and VolumeAttachment', () => {
  it('checks CSINode drivers', () => {
    const node = { metadata: { name: 'n1' }, spec: { drivers: [{ name: 'a.csi', nodeID: 'n1', topologyKeys: ['topology.kubernetes.io/zone'] }, { name: 'a.csi', nodeID: '' }] } };
    assert.deepEqual(messages(validateObject('storage.k8s.io/csinodes', node, opts)), ['spec.drivers[1].name: Duplicate value: "a.csi"', 'spec.drivers[1].nodeID: Required value']);
  });

  it('needs exactly one source, an attacher and a node; the spec never changes', () => {
    const va = (spec: Record<string, unknown>) => ({ metadata: { name: 'va', resourceVersion: '1' }, spec: { attacher: 'a.csi', nodeName: 'n1', ...spec } });
    assert.deepEqual(messages(validateObject('storage.k8s.io/volumeattachments', va({ source: { persistentVolumeName: 'pv1' } }), opts)), []);
    assert.deepEqual(messages(validateObject('storage.k8s.io/volumeattachments', va({ attacher: '', nodeName: '', source: {} }), opts)), [
      'spec.attacher: Required value',
      'spec.nodeName: Required value',
      'spec.source: Required value: must specify exactly one of persistentVolumeName and inlineVolumeSpec',
    ]);
    const errs = messages(validateObjectUpdate('storage.k8s.io/volumeattachments', va({ source: { persistentVolumeName: 'pv2' } }), va({ source: { persistentVolumeName: 'pv1' } }), opts));
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /^spec: Invalid value: .*: field is immutable$/);
  });
});
