/**
 * storage.k8s.io/v1 CSIDriver, CSINode and VolumeAttachment: upstream's validation basics
 * (pkg/apis/storage/validation) and v1 defaults. Skiff stores these; nothing attaches volumes.
 */
import type { FieldError } from './types.js';
import { duplicate, invalid, notSupported, required, tooLong } from './errors.js';
import { isDNS1123Subdomain, isQualifiedName, nameIsDNSSubdomain } from './names.js';
import { validateImmutableField, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';

const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);
const strOf = (v: unknown): string => (typeof v === 'string' ? v : '');
const listOf = (v: unknown): any[] => (Array.isArray(v) ? v : []);

/** Upstream's ValidateCSIDriverName: a DNS subdomain (any case) of at most 63 characters. */
export function validateCSIDriverName(name: string, field: string): FieldError[] {
  if (!name) return [required(field)];
  const errs: FieldError[] = [];
  if (name.length > 63) errs.push(tooLong(field, 63));
  for (const m of isDNS1123Subdomain(name.toLowerCase())) errs.push(invalid(field, name, m));
  return errs;
}

const FS_GROUP_POLICIES = ['File', 'None', 'ReadWriteOnceWithFSType'];
const LIFECYCLE_MODES = ['Ephemeral', 'Persistent'];

/** v1 defaults for CSIDriverSpec (SELinuxMount is on by default in 1.32, so seLinuxMount is too). */
export function defaultCSIDriver(obj: any): void {
  if (!isObj(obj)) return;
  if (!isObj(obj.spec)) obj.spec = {};
  const s = obj.spec;
  s.attachRequired ??= true;
  s.podInfoOnMount ??= false;
  s.storageCapacity ??= false;
  s.fsGroupPolicy ??= 'ReadWriteOnceWithFSType';
  if (s.volumeLifecycleModes === undefined || s.volumeLifecycleModes === null) s.volumeLifecycleModes = ['Persistent'];
  s.requiresRepublish ??= false;
  s.seLinuxMount ??= false;
}

export function validateCSIDriver(obj: any): FieldError[] {
  const errs = validateObjectMeta(obj?.metadata, false, nameIsDNSSubdomain);
  errs.push(...validateCSIDriverName(strOf(obj?.metadata?.name), 'name'));
  const s = isObj(obj?.spec) ? obj.spec : {};
  for (const f of ['attachRequired', 'podInfoOnMount', 'storageCapacity', 'requiresRepublish']) {
    if (typeof s[f] !== 'boolean') errs.push(required(`spec.${f}`));
  }
  if (s.fsGroupPolicy === undefined || s.fsGroupPolicy === null) errs.push(required('spec.fsGroupPolicy'));
  else if (!FS_GROUP_POLICIES.includes(s.fsGroupPolicy)) errs.push(notSupported('spec.fsGroupPolicy', strOf(s.fsGroupPolicy), FS_GROUP_POLICIES));
  listOf(s.volumeLifecycleModes).forEach((m, i) => {
    if (!LIFECYCLE_MODES.includes(m)) errs.push(notSupported(`spec.volumeLifecycleModes[${i}]`, strOf(m), LIFECYCLE_MODES));
  });
  const audiences = new Set<string>();
  listOf(s.tokenRequests).forEach((t, i) => {
    const aud = strOf(t?.audience);
    if (audiences.has(aud)) errs.push(duplicate(`spec.tokenRequests[${i}].audience`, aud));
    audiences.add(aud);
    const exp = t?.expirationSeconds;
    if (typeof exp === 'number') {
      if (exp < 600) errs.push(invalid(`spec.tokenRequests[${i}].expirationSeconds`, exp, 'may not specify a duration less than 10 minutes'));
      else if (exp > 2 ** 32) errs.push(invalid(`spec.tokenRequests[${i}].expirationSeconds`, exp, 'may not specify a duration larger than 2^32 seconds'));
    }
  });
  return errs;
}

export function validateCSIDriverUpdate(obj: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(obj?.metadata, old?.metadata).concat(validateCSIDriver(obj));
  // Upstream's path really says "attachedRequired".
  errs.push(...validateImmutableField(obj?.spec?.attachRequired, old?.spec?.attachRequired, 'spec.attachedRequired'));
  errs.push(...validateImmutableField(obj?.spec?.volumeLifecycleModes, old?.spec?.volumeLifecycleModes, 'spec.volumeLifecycleModes'));
  return errs;
}

export function validateCSINode(obj: any): FieldError[] {
  const errs = validateObjectMeta(obj?.metadata, false, nameIsDNSSubdomain);
  const names = new Set<string>();
  listOf(obj?.spec?.drivers).forEach((d, i) => {
    const f = `spec.drivers[${i}]`;
    const name = strOf(d?.name);
    errs.push(...validateCSIDriverName(name, `${f}.name`));
    if (name && names.has(name)) errs.push(duplicate(`${f}.name`, name));
    names.add(name);
    const nodeID = strOf(d?.nodeID);
    if (!nodeID) errs.push(required(`${f}.nodeID`));
    else if (nodeID.length > 192) errs.push(tooLong(`${f}.nodeID`, 192));
    const keys = new Set<string>();
    listOf(d?.topologyKeys).forEach((k, j) => {
      const key = strOf(k);
      if (!key) errs.push(required(`${f}.topologyKeys[${j}]`));
      else for (const m of isQualifiedName(key)) errs.push(invalid(`${f}.topologyKeys[${j}]`, key, m));
      if (keys.has(key)) errs.push(duplicate(`${f}.topologyKeys[${j}]`, key));
      keys.add(key);
    });
    const count = d?.allocatable?.count;
    if (typeof count === 'number' && count < 0) errs.push(invalid(`${f}.allocatable.count`, count, 'must be greater than or equal to 0'));
  });
  return errs;
}

/** A registered driver's node ID and topology keys may not change. */
export function validateCSINodeUpdate(obj: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(obj?.metadata, old?.metadata).concat(validateCSINode(obj));
  const before = new Map<string, any>(listOf(old?.spec?.drivers).map((d) => [strOf(d?.name), d]));
  listOf(obj?.spec?.drivers).forEach((d, i) => {
    const o = before.get(strOf(d?.name));
    if (!o) return;
    errs.push(...validateImmutableField(strOf(d?.nodeID), strOf(o.nodeID), `spec.drivers[${i}].nodeID`));
    errs.push(...validateImmutableField(listOf(d?.topologyKeys), listOf(o.topologyKeys), `spec.drivers[${i}].topologyKeys`));
  });
  return errs;
}

export function validateVolumeAttachment(obj: any): FieldError[] {
  const errs = validateObjectMeta(obj?.metadata, false, nameIsDNSSubdomain);
  const s = isObj(obj?.spec) ? obj.spec : {};
  errs.push(...validateCSIDriverName(strOf(s.attacher), 'spec.attacher'));
  if (!strOf(s.nodeName)) errs.push(required('spec.nodeName'));
  else for (const m of isDNS1123Subdomain(s.nodeName)) errs.push(invalid('spec.nodeName', s.nodeName, m));
  const src = isObj(s.source) ? s.source : {};
  const hasPV = src.persistentVolumeName !== undefined && src.persistentVolumeName !== null;
  const hasInline = src.inlineVolumeSpec !== undefined && src.inlineVolumeSpec !== null;
  if (hasPV === hasInline) errs.push(required('spec.source', 'must specify exactly one of persistentVolumeName and inlineVolumeSpec'));
  else if (hasPV && !strOf(src.persistentVolumeName)) errs.push(required('spec.source.persistentVolumeName', 'must specify non empty persistentVolumeName'));
  return errs.concat(validateVolumeAttachmentStatus(obj));
}

function validateVolumeAttachmentStatus(obj: any): FieldError[] {
  const errs: FieldError[] = [];
  const st = isObj(obj?.status) ? obj.status : {};
  const meta = isObj(st.attachmentMetadata) ? st.attachmentMetadata : {};
  let size = 0;
  for (const [k, v] of Object.entries(meta)) size += k.length + strOf(v).length;
  if (size > 256 * 1024) errs.push(tooLong('status.attachmentMetadata', 256 * 1024));
  for (const f of ['attachError', 'detachError']) {
    const msg = strOf(st[f]?.message);
    if (msg.length > 1024) errs.push(tooLong(`status.${f}.message`, 1024));
  }
  return errs;
}

/** The spec of a VolumeAttachment never changes. */
export function validateVolumeAttachmentUpdate(obj: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(obj?.metadata, old?.metadata).concat(validateVolumeAttachment(obj));
  return errs.concat(validateImmutableField(obj?.spec, old?.spec, 'spec'));
}

export function validateVolumeAttachmentStatusUpdate(obj: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(obj?.metadata, old?.metadata).concat(validateVolumeAttachmentStatus(obj));
}
