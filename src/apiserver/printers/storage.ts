/** PersistentVolumes, PersistentVolumeClaims and StorageClasses, with upstream's columns. */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, str, wide } from './common.js';
import { formatAge } from './duration.js';
import { formatQuantity } from './quantity.js';

// helper.GetAccessModesAsString: fixed order, each mode once.
const MODE_ABBREV: [string, string][] = [
  ['ReadWriteOnce', 'RWO'],
  ['ReadOnlyMany', 'ROX'],
  ['ReadWriteMany', 'RWX'],
  ['ReadWriteOncePod', 'RWOP'],
];

export function accessModesString(modes: unknown): string {
  const set = new Set(Array.isArray(modes) ? modes : []);
  return MODE_ABBREV.filter(([m]) => set.has(m)).map(([, a]) => a).join(',');
}

/** The class of a volume or claim: spec.storageClassName, else the beta annotation. */
function storageClassOf(obj: any): string {
  const beta = obj?.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'];
  return typeof beta === 'string' ? beta : str(obj?.spec?.storageClassName);
}

const orUnset = (v: unknown): string => (typeof v === 'string' && v !== '' ? v : '<unset>');
const phaseOf = (obj: any): string => (obj?.metadata?.deletionTimestamp ? 'Terminating' : str(obj?.status?.phase));
const quantity = (v: unknown): string => (v === undefined || v === null ? '0' : formatQuantity(v));

const VOLUME_MODE = wide('VolumeMode', 'string', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.');
const VOLUME_ATTRIBUTES_CLASS = col('VolumeAttributesClass', 'string', 'Name of VolumeAttributesClass to which this persistent volume (claim) belongs.');

export const persistentVolumePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Capacity', 'string', 'capacity is the description of the persistent volume\'s resources and capacity.'),
    col('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted.'),
    col('Reclaim Policy', 'string', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
    col('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
    col('Claim', 'string', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
    col('StorageClass', 'string', 'storageClassName is the name of StorageClass to which this persistent volume belongs.'),
    VOLUME_ATTRIBUTES_CLASS,
    col('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
    AGE_COLUMN,
    VOLUME_MODE,
  ],
  cells(pv: any, now: Date): unknown[] {
    const ref = pv?.spec?.claimRef;
    const claim = ref ? `${str(ref.namespace)}/${str(ref.name)}` : '';
    return [
      str(pv?.metadata?.name),
      quantity(pv?.spec?.capacity?.storage),
      accessModesString(pv?.spec?.accessModes),
      str(pv?.spec?.persistentVolumeReclaimPolicy),
      phaseOf(pv),
      claim,
      storageClassOf(pv),
      orUnset(pv?.spec?.volumeAttributesClassName),
      str(pv?.status?.reason),
      formatAge(pv?.metadata?.creationTimestamp, now),
      orUnset(pv?.spec?.volumeMode),
    ];
  },
};

export const persistentVolumeClaimPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
    col('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
    col('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
    col('Access Modes', 'string', 'accessModes contains the desired access modes the volume should have.'),
    col('StorageClass', 'string', 'storageClassName is the name of the StorageClass required by the claim.'),
    VOLUME_ATTRIBUTES_CLASS,
    AGE_COLUMN,
    VOLUME_MODE,
  ],
  cells(pvc: any, now: Date): unknown[] {
    const volume = str(pvc?.spec?.volumeName);
    // Capacity and access modes are the bound volume's, so only shown once bound.
    const capacity = volume ? quantity(pvc?.status?.capacity?.storage) : '';
    const modes = volume ? accessModesString(pvc?.status?.accessModes) : '';
    return [
      str(pvc?.metadata?.name),
      phaseOf(pvc),
      volume,
      capacity,
      modes,
      storageClassOf(pvc),
      orUnset(pvc?.spec?.volumeAttributesClassName),
      formatAge(pvc?.metadata?.creationTimestamp, now),
      orUnset(pvc?.spec?.volumeMode),
    ];
  },
};

function isDefaultClass(sc: any): boolean {
  const a = sc?.metadata?.annotations ?? {};
  return a['storageclass.kubernetes.io/is-default-class'] === 'true' || a['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
}

export const storageClassPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Provisioner', 'string', 'provisioner indicates the type of the provisioner.'),
    col('ReclaimPolicy', 'string', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.'),
    col('VolumeBindingMode', 'string', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.'),
    col('AllowVolumeExpansion', 'string', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
    AGE_COLUMN,
  ],
  cells(sc: any, now: Date): unknown[] {
    const name = str(sc?.metadata?.name);
    return [
      isDefaultClass(sc) ? `${name} (default)` : name,
      str(sc?.provisioner),
      str(sc?.reclaimPolicy) || 'Delete',
      str(sc?.volumeBindingMode) || 'Immediate',
      String(sc?.allowVolumeExpansion === true),
      formatAge(sc?.metadata?.creationTimestamp, now),
    ];
  },
};
