import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csiDriverPrinter, csiNodePrinter, volumeAttachmentPrinter } from './csi.js';
import { printerFor } from './index.js';
import { NOW, meta } from './testutil.js';

const m = (name: string) => ({ ...meta(name), namespace: undefined });

test('CSIDriver columns and cells, as upstream', () => {
  assert.equal(printerFor('storage.k8s.io/csidrivers'), csiDriverPrinter);
  assert.deepEqual(csiDriverPrinter.columns.map((c) => c.name.toUpperCase()), ['NAME', 'ATTACHREQUIRED', 'PODINFOONMOUNT', 'STORAGECAPACITY', 'TOKENREQUESTS', 'REQUIRESREPUBLISH', 'MODES', 'AGE']);
  const d = { metadata: m('hostpath.csi.k8s.io'), spec: { attachRequired: false, podInfoOnMount: true, storageCapacity: true, tokenRequests: [{ audience: 'vault' }, { audience: 'gcp' }], requiresRepublish: true, volumeLifecycleModes: ['Persistent', 'Ephemeral'] } };
  assert.deepEqual(csiDriverPrinter.cells(d, NOW), ['hostpath.csi.k8s.io', false, true, true, 'vault,gcp', true, 'Persistent,Ephemeral', '5m']);
  // Unset fields print as upstream's defaults would (attach required) and <unset>/<none>.
  assert.deepEqual(csiDriverPrinter.cells({ metadata: m('x'), spec: {} }, NOW), ['x', true, false, false, '<unset>', false, '<none>', '5m']);
});

test('CSINode and VolumeAttachment columns and cells, as upstream', () => {
  assert.deepEqual(csiNodePrinter.columns.map((c) => c.name.toUpperCase()), ['NAME', 'DRIVERS', 'AGE']);
  assert.deepEqual(csiNodePrinter.cells({ metadata: m('n1'), spec: { drivers: [{ name: 'a' }, { name: 'b' }] } }, NOW), ['n1', 2, '5m']);
  assert.equal(printerFor('storage.k8s.io/volumeattachments'), volumeAttachmentPrinter);
  assert.deepEqual(volumeAttachmentPrinter.columns.map((c) => c.name.toUpperCase()), ['NAME', 'ATTACHER', 'PV', 'NODE', 'ATTACHED', 'AGE']);
  const va = { metadata: m('csi-123'), spec: { attacher: 'a.csi', source: { persistentVolumeName: 'pv1' }, nodeName: 'n1' }, status: { attached: true } };
  assert.deepEqual(volumeAttachmentPrinter.cells(va, NOW), ['csi-123', 'a.csi', 'pv1', 'n1', true, '5m']);
  assert.deepEqual(volumeAttachmentPrinter.cells({ metadata: m('i'), spec: { attacher: 'a', source: { inlineVolumeSpec: {} }, nodeName: 'n' } }, NOW), ['i', 'a', '', 'n', false, '5m']);
});
