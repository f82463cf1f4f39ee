/** PersistentVolume, PersistentVolumeClaim and StorageClass validation: upstream's essential rules and messages. */
import type { FieldError } from './types.js';
import { GoLiteral, forbidden, goQuote, invalid, key, notSupported, required } from './errors.js';
import { isQualifiedName, nameIsDNSSubdomain } from './names.js';
import { validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { quantityAt, validateResourceQuantityValue } from './resources.js';
import { formatQuantity } from './quantity.js';
import { semanticEqual } from './equal.js';

const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];

export function validatePVCSpec(spec: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const modes = arr(spec?.accessModes).map(str);
  if (modes.length === 0) errs.push(required(`${field}.accessModes`, 'at least 1 access mode is required'));
  if (spec?.selector) errs.push(...validateLabelSelector(spec.selector, `${field}.selector`));
  for (const m of modes) if (!ACCESS_MODES.includes(m)) errs.push(notSupported(`${field}.accessModes`, m, ACCESS_MODES));
  if (modes.includes('ReadWriteOncePod') && modes.some((m) => m !== 'ReadWriteOncePod' && ACCESS_MODES.includes(m))) {
    errs.push(forbidden(`${field}.accessModes`, 'may not use ReadWriteOncePod with other access modes'));
  }
  const storagePath = key(`${field}.resources`, 'storage');
  const raw = spec?.resources?.requests?.storage;
  if (raw === undefined || raw === null) errs.push(required(storagePath));
  else {
    const q = quantityAt(raw, storagePath, errs);
    if (q && q.value <= 0n) errs.push(invalid(storagePath, formatQuantity(q), 'must be greater than zero'));
    else if (q) errs.push(...validateResourceQuantityValue('storage', q, storagePath));
  }
  const vm = spec?.volumeMode;
  if (vm !== undefined && vm !== null && vm !== 'Block' && vm !== 'Filesystem') errs.push(notSupported(`${field}.volumeMode`, str(vm), ['Block', 'Filesystem']));
  const sc = spec?.storageClassName;
  if (str(sc)) errs.push(...nameIsDNSSubdomain(str(sc), false).map((m) => invalid(`${field}.storageClassName`, str(sc), m)));
  return errs;
}

export function validatePVC(pvc: any): FieldError[] {
  return validateObjectMeta(pvc?.metadata, true, nameIsDNSSubdomain).concat(validatePVCSpec(pvc?.spec, 'spec'));
}

export function validatePVCUpdate(pvc: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(pvc?.metadata, old?.metadata).concat(validatePVC(pvc));
  const strip = (s: any) => ({ ...(s ?? {}), volumeName: undefined, resources: undefined, volumeAttributesClassName: undefined });
  const volumeNameChangeOK = !str(old?.spec?.volumeName);
  const a = strip(pvc?.spec);
  // Retroactive default StorageClass (GA in 1.28): a claim without a class (nil, and no beta
  // annotation) may be given one once; the PV controller does this when a default class appears.
  const oldClass = old?.spec?.storageClassName;
  if ((oldClass === undefined || oldClass === null) && old?.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] === undefined) a.storageClassName = oldClass;
  const b = strip(old?.spec);
  if (!volumeNameChangeOK && str(pvc?.spec?.volumeName) !== str(old?.spec?.volumeName)) a.volumeName = pvc?.spec?.volumeName;
  if (!semanticEqual(a, b) || (!volumeNameChangeOK && str(pvc?.spec?.volumeName) !== str(old?.spec?.volumeName))) {
    errs.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n'));
  }
  return errs;
}

// PersistentVolume sources in upstream's validation order (the first one set wins, the others are "more than 1").
const PV_SOURCES = [
  'hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'glusterfs', 'flocker', 'nfs', 'rbd', 'quobyte', 'cephfs', 'iscsi',
  'cinder', 'fc', 'flexVolume', 'azureFile', 'vsphereVolume', 'photonPersistentDisk', 'portworxVolume', 'azureDisk', 'scaleIO',
  'local', 'storageos', 'csi',
];
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Go's %#v of a ResourceList, as NotSupported prints it. */
function resourceListLiteral(list: unknown): GoLiteral {
  if (!isObj(list)) return new GoLiteral('core.ResourceList(nil)');
  const items = Object.keys(list).sort().map((k) => `${goQuote(k)}:resource.Quantity{}`);
  return new GoLiteral(`core.ResourceList{${items.join(', ')}}`);
}

/** The source-specific required fields upstream checks for the common sources. */
function validatePVSource(name: string, src: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const need = (k: string) => {
    if (!str(src?.[k])) errs.push(required(`${field}.${k}`));
  };
  switch (name) {
    case 'hostPath':
    case 'local':
      need('path');
      break;
    case 'nfs':
      need('server');
      need('path');
      break;
    case 'csi':
      need('driver');
      need('volumeHandle');
      break;
  }
  return errs;
}

export function validatePVSpec(spec: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const modes = arr(spec?.accessModes).map(str);
  if (modes.length === 0) errs.push(required(`${field}.accessModes`));
  for (const m of modes) if (!ACCESS_MODES.includes(m)) errs.push(notSupported(`${field}.accessModes`, m, ACCESS_MODES));
  if (modes.includes('ReadWriteOncePod') && modes.some((m) => m !== 'ReadWriteOncePod' && ACCESS_MODES.includes(m))) {
    errs.push(forbidden(`${field}.accessModes`, 'may not use ReadWriteOncePod with other access modes'));
  }
  const capacity = spec?.capacity;
  const capKeys = isObj(capacity) ? Object.keys(capacity) : [];
  if (capKeys.length === 0) errs.push(required(`${field}.capacity`));
  if (!capKeys.includes('storage') || capKeys.length > 1) errs.push(notSupported(`${field}.capacity`, resourceListLiteral(capacity), ['storage']));
  for (const r of capKeys.sort()) {
    const p = key(`${field}.capacity`, r);
    const q = quantityAt(capacity[r], p, errs);
    if (q && q.value < 0n) errs.push(invalid(p, formatQuantity(q), 'must be greater than or equal to 0'));
  }
  const sc = spec?.storageClassName;
  if (str(sc)) errs.push(...nameIsDNSSubdomain(str(sc), false).map((m) => invalid(`${field}.storageClassName`, str(sc), m)));
  const vm = spec?.volumeMode;
  if (vm !== undefined && vm !== null && vm !== 'Block' && vm !== 'Filesystem') errs.push(notSupported(`${field}.volumeMode`, str(vm), ['Block', 'Filesystem']));
  const policy = str(spec?.persistentVolumeReclaimPolicy);
  if (policy && !RECLAIM_POLICIES.includes(policy)) errs.push(notSupported(`${field}.persistentVolumeReclaimPolicy`, policy, RECLAIM_POLICIES));
  if (isObj(spec?.local) && !isObj(spec?.nodeAffinity)) errs.push(required(`${field}.nodeAffinity`, 'Local volume requires node affinity'));
  let sources = 0;
  for (const name of PV_SOURCES) {
    const src = spec?.[name];
    if (src === undefined || src === null) continue;
    if (sources > 0) errs.push(forbidden(`${field}.${name}`, 'may not specify more than 1 volume type'));
    else {
      sources++;
      errs.push(...validatePVSource(name, src, `${field}.${name}`));
    }
  }
  if (sources === 0) errs.push(required(field, 'must specify a volume type'));
  return errs;
}

export function validatePV(pv: any): FieldError[] {
  return validateObjectMeta(pv?.metadata, false, nameIsDNSSubdomain).concat(validatePVSpec(pv?.spec, 'spec'));
}

export function validatePVUpdate(pv: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(pv?.metadata, old?.metadata).concat(validatePV(pv));
  const source = (s: any) => Object.fromEntries(PV_SOURCES.filter((k) => s?.[k] !== undefined && s?.[k] !== null).map((k) => [k, s[k]]));
  if (!semanticEqual(source(pv?.spec), source(old?.spec))) {
    errs.push(forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation\n'));
  }
  if (str(pv?.spec?.volumeMode) !== str(old?.spec?.volumeMode)) errs.push(invalid('volumeMode', str(pv?.spec?.volumeMode), 'field is immutable'));
  if (isObj(old?.spec?.nodeAffinity) && !semanticEqual(pv?.spec?.nodeAffinity, old.spec.nodeAffinity)) {
    errs.push(invalid('nodeAffinity', new GoLiteral('core.VolumeNodeAffinity{...}'), 'field is immutable'));
  }
  return errs;
}

const SC_RECLAIM_POLICIES = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];

export function validateStorageClass(sc: any): FieldError[] {
  const errs = validateObjectMeta(sc?.metadata, false, nameIsDNSSubdomain);
  const provisioner = str(sc?.provisioner);
  if (!provisioner) errs.push(required('provisioner'));
  else errs.push(...isQualifiedName(provisioner.toLowerCase()).map((m) => invalid('provisioner', provisioner, m)));
  if (isObj(sc?.parameters)) {
    if (Object.keys(sc.parameters).some((k) => k === '')) errs.push(invalid('parameters', new GoLiteral(`map[string]string{...}`), 'key cannot be empty'));
  }
  const policy = str(sc?.reclaimPolicy);
  if (policy && !SC_RECLAIM_POLICIES.includes(policy)) errs.push(notSupported('reclaimPolicy', policy, SC_RECLAIM_POLICIES));
  const mode = sc?.volumeBindingMode;
  if (mode === undefined || mode === null) errs.push(required('volumeBindingMode'));
  else if (!BINDING_MODES.includes(str(mode))) errs.push(notSupported('volumeBindingMode', str(mode), BINDING_MODES));
  return errs;
}

export function validateStorageClassUpdate(sc: any, old: any): FieldError[] {
  const errs = validateStorageClass(sc).concat(validateObjectMetaUpdate(sc?.metadata, old?.metadata));
  if (!semanticEqual(sc?.parameters ?? {}, old?.parameters ?? {})) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
  if (str(sc?.provisioner) !== str(old?.provisioner)) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (str(sc?.reclaimPolicy) !== str(old?.reclaimPolicy)) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  if (str(sc?.volumeBindingMode) !== str(old?.volumeBindingMode)) errs.push(invalid('volumeBindingMode', str(sc?.volumeBindingMode), 'field is immutable'));
  return errs;
}
