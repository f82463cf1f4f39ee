/** PersistentVolumeClaim validation (light): access modes and the storage request. */
import type { FieldError } from './types.js';
import { forbidden, invalid, key, notSupported, required } from './errors.js';
import { nameIsDNSSubdomain } from './names.js';
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
  const b = strip(old?.spec);
  if (!volumeNameChangeOK && str(pvc?.spec?.volumeName) !== str(old?.spec?.volumeName)) a.volumeName = pvc?.spec?.volumeName;
  if (!semanticEqual(a, b) || (!volumeNameChangeOK && str(pvc?.spec?.volumeName) !== str(old?.spec?.volumeName))) {
    errs.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n'));
  }
  return errs;
}
