/** storage.k8s.io/v1 CSIDrivers, CSINodes and VolumeAttachments, with upstream's columns. */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, len, str } from './common.js';
import { formatAge } from './duration.js';

const bool = (v: unknown, dflt: boolean): boolean => (typeof v === 'boolean' ? v : dflt);

export const csiDriverPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('AttachRequired', 'boolean', 'attachRequired indicates this CSI volume driver requires an attach operation.'),
    col('PodInfoOnMount', 'boolean', 'podInfoOnMount indicates this CSI volume driver requires additional pod information during mount operations.'),
    col('StorageCapacity', 'boolean', 'storageCapacity indicates that the driver wants pod scheduling to consider storage capacity.'),
    col('TokenRequests', 'string', 'tokenRequests lists the audiences of the service account tokens the driver receives.'),
    col('RequiresRepublish', 'boolean', 'requiresRepublish indicates the driver wants NodePublishVolume called periodically.'),
    col('Modes', 'string', 'volumeLifecycleModes defines what kind of volumes this CSI volume driver supports.'),
    AGE_COLUMN,
  ],
  cells(d: any, now: Date): unknown[] {
    const s = d?.spec ?? {};
    const modes = Array.isArray(s.volumeLifecycleModes) ? s.volumeLifecycleModes.map(str).join(',') : '';
    // A nil list prints <unset>; an empty one prints nothing.
    const tokens = Array.isArray(s.tokenRequests) ? s.tokenRequests.map((t: any) => str(t?.audience)).join(',') : '<unset>';
    return [str(d?.metadata?.name), bool(s.attachRequired, true), bool(s.podInfoOnMount, false), bool(s.storageCapacity, false), tokens, bool(s.requiresRepublish, false), modes || '<none>', formatAge(d?.metadata?.creationTimestamp, now)];
  },
};

export const csiNodePrinter: Printer = {
  columns: [NAME_COLUMN, col('Drivers', 'integer', 'Drivers indicates the number of CSI drivers registered on the node'), AGE_COLUMN],
  cells(n: any, now: Date): unknown[] {
    return [str(n?.metadata?.name), len(n?.spec?.drivers), formatAge(n?.metadata?.creationTimestamp, now)];
  },
};

export const volumeAttachmentPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Attacher', 'string', 'Attacher indicates the name of the volume driver that MUST handle this request.'),
    col('PV', 'string', 'Name of the persistent volume to attach.'),
    col('Node', 'string', 'The node that the volume should be attached to.'),
    col('Attached', 'boolean', 'Indicates the volume is successfully attached.'),
    AGE_COLUMN,
  ],
  cells(va: any, now: Date): unknown[] {
    const s = va?.spec ?? {};
    return [str(va?.metadata?.name), str(s.attacher), str(s.source?.persistentVolumeName), str(s.nodeName), va?.status?.attached === true, formatAge(va?.metadata?.creationTimestamp, now)];
  },
};
