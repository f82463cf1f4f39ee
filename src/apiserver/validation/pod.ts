/**
 * Pod, PodSpec and PodTemplateSpec validation (pkg/apis/core/validation/validation.go),
 * in upstream's order so multi-error messages list causes the same way.
 * Objects are expected to be defaulted first (see defaults/), as kube-apiserver does.
 */
import type { FieldError } from './types.js';
import {
  child, duplicate, forbidden, GoLiteral, index, invalid, key, notFound, notSupported, required, tooLong,
} from './errors.js';
import {
  byteLength, inclusiveRangeError, isConfigMapKey, isDNS1123Label, isDNS1123Subdomain, isHTTPHeaderName,
  isQualifiedName, isRelaxedEnvVarName, isValidLabelValue, isValidPortName, isValidPortNum, nameIsDNSSubdomain,
} from './names.js';
import {
  validateAnnotations, validateLabelName, validateLabelSelector, validateLabels, validateNonnegative, validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';
import { isValidIP } from './ip.js';
import { validateContainerResources, quantityAt } from './resources.js';
import { isNegativeQuantity } from './quantity.js';
import { diffPaths, semanticEqual } from './equal.js';
import { goStringMap } from './gosyntax.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const has = (o: any, k: string): boolean => isObj(o) && o[k] !== undefined && o[k] !== null;

const MAX_INT32 = 2147483647;
const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';

export interface PodValidationOptions {
  /** The PodSpec belongs to a Pod (not a template in a workload). */
  resourceIsPod: boolean;
}

type Volumes = Map<string, any>;

// ---------------------------------------------------------------------------------- volumes

/** Volume source fields in upstream's check order, with the path name used when one is extra. */
const VOLUME_SOURCES: [string, string][] = [
  ['emptyDir', 'emptyDir'], ['hostPath', 'hostPath'], ['gitRepo', 'gitRepo'], ['gcePersistentDisk', 'gcePersistentDisk'],
  ['awsElasticBlockStore', 'awsElasticBlockStore'], ['secret', 'secret'], ['nfs', 'nfs'], ['iscsi', 'iscsi'],
  ['glusterfs', 'glusterfs'], ['flocker', 'flocker'], ['persistentVolumeClaim', 'persistentVolumeClaim'], ['rbd', 'rbd'],
  ['cinder', 'cinder'], ['cephfs', 'cephFS'], ['quobyte', 'quobyte'], ['downwardAPI', 'downwarAPI'], ['fc', 'fc'],
  ['flexVolume', 'flexVolume'], ['configMap', 'configMap'], ['azureFile', 'azureFile'], ['vsphereVolume', 'vsphereVolume'],
  ['photonPersistentDisk', 'photonPersistentDisk'], ['portworxVolume', 'portworxVolume'], ['azureDisk', 'azureDisk'],
  ['storageos', 'storageos'], ['projected', 'projected'], ['scaleIO', 'scaleIO'], ['csi', 'csi'], ['ephemeral', 'ephemeral'],
  ['image', 'image'],
];

const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

function validatePathNoBacksteps(p: string, field: string): FieldError[] {
  return p.replace(/\\/g, '/').split('/').includes('..') ? [invalid(field, p, "must not contain '..'")] : [];
}

function validateLocalDescendingPath(p: string, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (p.startsWith('/')) errs.push(invalid(field, p, 'must be a relative path'));
  return errs.concat(validatePathNoBacksteps(p, field));
}

function validateLocalNonReservedPath(p: string, field: string): FieldError[] {
  const errs = validateLocalDescendingPath(p, field);
  if (p.startsWith('..') && !p.startsWith('../')) errs.push(invalid(field, p, "must not start with '..'"));
  return errs;
}

function validateMode(mode: unknown, field: string): FieldError[] {
  return typeof mode === 'number' && (mode > 0o777 || mode < 0) ? [invalid(field, mode, FILE_MODE_ERROR)] : [];
}

function validateKeyToPath(kp: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!str(kp?.key)) errs.push(required(child(field, 'key')));
  if (!str(kp?.path)) errs.push(required(child(field, 'path')));
  errs.push(...validateLocalNonReservedPath(str(kp?.path), child(field, 'path')));
  errs.push(...validateMode(kp?.mode, child(field, 'mode')));
  return errs;
}

const VOLUME_FIELD_PATHS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
const ENV_FIELD_PATHS = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs'];
/** Field labels the v1 downward API accepts at all (ConvertDownwardAPIFieldLabel). */
const DOWNWARD_CONVERTIBLE = new Set([
  'metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName',
  'spec.restartPolicy', 'spec.serviceAccountName', 'spec.schedulerName', 'status.phase', 'status.hostIP', 'status.hostIPs',
  'status.podIP', 'status.podIPs',
]);
const RESOURCE_FIELD_PATHS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];

function validateObjectFieldSelector(fs: any, allowed: string[], field: string): FieldError[] {
  if (!str(fs?.apiVersion)) return [required(child(field, 'apiVersion'))];
  const fieldPath = str(fs?.fieldPath);
  if (!fieldPath) return [required(child(field, 'fieldPath'))];
  const sub = /^(metadata\.(?:annotations|labels))\['(.*)'\]$/.exec(fieldPath);
  const path = sub ? sub[1] : fieldPath;
  if (!DOWNWARD_CONVERTIBLE.has(path) || (fs.apiVersion !== 'v1')) {
    const why = fs.apiVersion !== 'v1' ? `unsupported pod version: ${str(fs.apiVersion)}` : `field label not supported: ${fieldPath}`;
    return [invalid(child(field, 'fieldPath'), fieldPath, `error converting fieldPath: ${why}`)];
  }
  if (sub) {
    if (path === 'metadata.annotations') return isQualifiedName(sub[2].toLowerCase()).map((m) => invalid(field, sub[2].toLowerCase(), m));
    return isQualifiedName(sub[2]).map((m) => invalid(field, sub[2], m));
  }
  if (!allowed.includes(path)) return [notSupported(child(field, 'fieldPath'), path, allowed)];
  return [];
}

function validateResourceFieldSelector(fs: any, field: string, volume: boolean): FieldError[] {
  const resource = str(fs?.resource);
  if (volume && !str(fs?.containerName)) return [required(child(field, 'containerName'))];
  if (!resource) return [required(child(field, 'resource'))];
  if (!RESOURCE_FIELD_PATHS.includes(resource) && !resource.startsWith('requests.hugepages-') && !resource.startsWith('limits.hugepages-')) {
    return [notSupported(child(field, 'resource'), resource, RESOURCE_FIELD_PATHS)];
  }
  return [];
}

function validateDownwardAPIFile(file: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!str(file?.path)) errs.push(required(child(field, 'path')));
  errs.push(...validateLocalNonReservedPath(str(file?.path), child(field, 'path')));
  if (has(file, 'fieldRef')) {
    errs.push(...validateObjectFieldSelector(file.fieldRef, VOLUME_FIELD_PATHS, child(field, 'fieldRef')));
    if (has(file, 'resourceFieldRef')) errs.push(invalid(field, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (has(file, 'resourceFieldRef')) {
    errs.push(...validateResourceFieldSelector(file.resourceFieldRef, child(field, 'resourceFieldRef'), true));
  } else {
    errs.push(required(field, 'one of fieldRef and resourceFieldRef is required'));
  }
  errs.push(...validateMode(file?.mode, child(field, 'mode')));
  return errs;
}

function validateProjected(proj: any, field: string): FieldError[] {
  const errs = validateMode(proj?.defaultMode, child(field, 'defaultMode'));
  const seen = new Set<string>();
  arr(proj?.sources).forEach((src: any, i: number) => {
    const srcPath = index(child(field, 'sources'), i);
    let count = 0;
    for (const kind of ['secret', 'configMap'] as const) {
      if (!has(src, kind)) continue;
      count++;
      const p = child(srcPath, kind);
      if (!str(src[kind].name)) errs.push(required(child(p, 'name')));
      arr(src[kind].items).forEach((kp: any, j: number) => {
        errs.push(...validateKeyToPath(kp, index(child(p, 'items'), j)));
        const path = str(kp?.path);
        if (path) {
          if (seen.has(path)) errs.push(invalid(field, str(src[kind].name), 'conflicting duplicate paths'));
          else seen.add(path);
        }
      });
    }
    if (has(src, 'downwardAPI')) {
      count++;
      for (const file of arr(src.downwardAPI.items)) {
        errs.push(...validateDownwardAPIFile(file, child(srcPath, 'downwardAPI')));
        const path = str(file?.path);
        if (path) {
          if (seen.has(path)) errs.push(invalid(field, path, 'conflicting duplicate paths'));
          else seen.add(path);
        }
      }
    }
    if (has(src, 'serviceAccountToken')) {
      count++;
      const sat = src.serviceAccountToken;
      const p = child(srcPath, 'serviceAccountToken');
      const exp = typeof sat.expirationSeconds === 'number' ? sat.expirationSeconds : 3600;
      if (exp < 600) errs.push(invalid(child(p, 'expirationSeconds'), exp, 'may not specify a duration less than 10 minutes'));
      if (exp > 2 ** 32) errs.push(invalid(child(p, 'expirationSeconds'), exp, 'may not specify a duration larger than 2^32 seconds'));
      if (!str(sat.path)) errs.push(required(child(field, 'path')));
      else errs.push(...validateLocalNonReservedPath(str(sat.path), child(field, 'path')));
    }
    if (has(src, 'clusterTrustBundle')) {
      count++;
      const ctb = src.clusterTrustBundle;
      const p = child(srcPath, 'clusterTrustBundle');
      if (!str(ctb.path)) errs.push(required(child(p, 'path')));
    }
    if (count > 1) errs.push(forbidden(srcPath, 'may not specify more than 1 volume type per source'));
  });
  return errs;
}

function validateSourceDetails(k: string, src: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  switch (k) {
    case 'emptyDir': {
      if (src.sizeLimit !== undefined && src.sizeLimit !== null) {
        const q = quantityAt(src.sizeLimit, child(field, 'sizeLimit'), errs);
        if (q && isNegativeQuantity(q)) errs.push(forbidden(child(field, 'sizeLimit'), 'SizeLimit field must be a valid resource quantity'));
      }
      break;
    }
    case 'hostPath':
      if (!str(src.path)) return [required(child(field, 'path'))];
      errs.push(...validatePathNoBacksteps(str(src.path), child(field, 'path')));
      if (src.type !== undefined && src.type !== null && !HOST_PATH_TYPES.includes(str(src.type))) {
        errs.push(notSupported(child(field, 'type'), str(src.type), HOST_PATH_TYPES));
      }
      break;
    case 'gitRepo':
      if (!str(src.repository)) errs.push(required(child(field, 'repository')));
      errs.push(...validateLocalDescendingPath(str(src.directory), child(field, 'directory')));
      break;
    case 'secret':
      if (!str(src.secretName)) errs.push(required(child(field, 'secretName')));
      errs.push(...validateMode(src.defaultMode, child(field, 'defaultMode')));
      arr(src.items).forEach((kp, i) => errs.push(...validateKeyToPath(kp, index(child(field, 'items'), i))));
      break;
    case 'configMap':
      if (!str(src.name)) errs.push(required(child(field, 'name')));
      errs.push(...validateMode(src.defaultMode, child(field, 'defaultMode')));
      arr(src.items).forEach((kp, i) => errs.push(...validateKeyToPath(kp, index(child(field, 'items'), i))));
      break;
    case 'persistentVolumeClaim':
      if (!str(src.claimName)) errs.push(required(child(field, 'claimName')));
      break;
    case 'nfs':
      if (!str(src.server)) errs.push(required(child(field, 'server')));
      if (!str(src.path)) errs.push(required(child(field, 'path')));
      if (!str(src.path).startsWith('/')) errs.push(invalid(child(field, 'path'), str(src.path), 'must be an absolute path'));
      break;
    case 'downwardAPI':
      errs.push(...validateMode(src.defaultMode, child(field, 'defaultMode')));
      for (const file of arr(src.items)) errs.push(...validateDownwardAPIFile(file, field));
      break;
    case 'projected':
      errs.push(...validateProjected(src, field));
      break;
    case 'csi':
      if (!str(src.driver)) errs.push(required(child(field, 'driver')));
      break;
    case 'ephemeral':
      if (!has(src, 'volumeClaimTemplate')) errs.push(required(child(field, 'volumeClaimTemplate')));
      break;
    case 'iscsi':
      if (!str(src.targetPortal)) errs.push(required(child(field, 'targetPortal')));
      if (!str(src.iqn)) errs.push(required(child(field, 'iqn')));
      break;
    case 'glusterfs':
      if (!str(src.endpoints)) errs.push(required(child(field, 'endpoints')));
      if (!str(src.path)) errs.push(required(child(field, 'path')));
      break;
    case 'rbd':
      if (arr(src.monitors).length === 0) errs.push(required(child(field, 'monitors')));
      if (!str(src.image)) errs.push(required(child(field, 'image')));
      break;
    case 'cephfs':
      if (arr(src.monitors).length === 0) errs.push(required(child(field, 'monitors')));
      break;
    case 'image':
      if (!str(src.reference)) errs.push(required(child(field, 'reference')));
      break;
  }
  return errs;
}

function validateVolumeSource(vol: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const [k, pathName] of VOLUME_SOURCES) {
    if (!has(vol, k)) continue;
    if (count > 0) {
      errs.push(forbidden(child(field, pathName), 'may not specify more than 1 volume type'));
      continue;
    }
    count++;
    errs.push(...validateSourceDetails(k, isObj(vol[k]) ? vol[k] : {}, child(field, k)));
  }
  if (count === 0) errs.push(required(field, 'must specify a volume type'));
  return errs;
}

function validateVolumes(volumes: unknown, field: string): { vols: Volumes; errs: FieldError[] } {
  const errs: FieldError[] = [];
  const vols: Volumes = new Map();
  arr(volumes).forEach((vol: any, i: number) => {
    const p = index(field, i);
    const namePath = child(p, 'name');
    const name = str(vol?.name);
    const el = validateVolumeSource(vol, p);
    if (!name) el.push(required(namePath));
    else el.push(...isDNS1123Label(name).map((m) => invalid(namePath, name, m)));
    if (vols.has(name)) el.push(duplicate(namePath, name));
    if (el.length === 0) vols.set(name, vol);
    else errs.push(...el);
  });
  return { vols, errs };
}

// ------------------------------------------------------------------------------- containers

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validateContainerPorts(ports: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  arr(ports).forEach((port: any, i: number) => {
    const p = index(field, i);
    const name = str(port?.name);
    if (name) {
      const msgs = isValidPortName(name);
      if (msgs.length) for (const m of msgs) errs.push(invalid(child(p, 'name'), name, m));
      else if (names.has(name)) errs.push(duplicate(child(p, 'name'), name));
      else names.add(name);
    }
    const cp = num(port?.containerPort);
    if (cp === 0) errs.push(required(child(p, 'containerPort')));
    else for (const m of isValidPortNum(cp)) errs.push(invalid(child(p, 'containerPort'), cp, m));
    const hp = num(port?.hostPort);
    if (hp !== 0) for (const m of isValidPortNum(hp)) errs.push(invalid(child(p, 'hostPort'), hp, m));
    const proto = str(port?.protocol);
    if (!proto) errs.push(required(child(p, 'protocol')));
    else if (!PROTOCOLS.includes(proto)) errs.push(notSupported(child(p, 'protocol'), proto, PROTOCOLS));
  });
  return errs;
}

function validateEnv(env: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  arr(env).forEach((ev: any, i: number) => {
    const p = index(field, i);
    const name = str(ev?.name);
    if (!name) errs.push(required(child(p, 'name')));
    else for (const m of isRelaxedEnvVarName(name)) errs.push(invalid(child(p, 'name'), name, m));
    if (!has(ev, 'valueFrom')) return;
    const vf = ev.valueFrom;
    const vfPath = child(p, 'valueFrom');
    let sources = 0;
    if (has(vf, 'fieldRef')) {
      sources++;
      errs.push(...validateObjectFieldSelector(vf.fieldRef, ENV_FIELD_PATHS, child(vfPath, 'fieldRef')));
    }
    if (has(vf, 'resourceFieldRef')) {
      sources++;
      errs.push(...validateResourceFieldSelector(vf.resourceFieldRef, child(vfPath, 'resourceFieldRef'), false));
    }
    for (const kind of ['configMapKeyRef', 'secretKeyRef']) {
      if (!has(vf, kind)) continue;
      sources++;
      const ref = vf[kind];
      const kp = child(vfPath, kind);
      for (const m of nameIsDNSSubdomain(str(ref.name), false)) errs.push(invalid(child(kp, 'name'), str(ref.name), m));
      if (!str(ref.key)) errs.push(required(child(kp, 'key')));
      else for (const m of isConfigMapKey(str(ref.key))) errs.push(invalid(child(kp, 'key'), str(ref.key), m));
    }
    if (sources === 0) errs.push(invalid(vfPath, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (str(ev.value)) errs.push(invalid(vfPath, '', 'may not be specified when `value` is not empty'));
    else if (sources > 1) errs.push(invalid(vfPath, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateEnvFrom(envFrom: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  arr(envFrom).forEach((ef: any, i: number) => {
    const p = index(field, i);
    const prefix = str(ef?.prefix);
    if (prefix) for (const m of isRelaxedEnvVarName(prefix)) errs.push(invalid(child(p, 'prefix'), prefix, m));
    let sources = 0;
    for (const kind of ['configMapRef', 'secretRef']) {
      if (!has(ef, kind)) continue;
      sources++;
      const name = str(ef[kind].name);
      if (!name) errs.push(required(child(p, kind, 'name')));
      else for (const m of nameIsDNSSubdomain(name, true)) errs.push(invalid(child(p, kind, 'name'), name, m));
    }
    if (sources === 0) errs.push(invalid(field, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (sources > 1) errs.push(invalid(field, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

const MOUNT_PROPAGATIONS = ['Bidirectional', 'HostToContainer', 'None'];

function validateVolumeMounts(mounts: unknown, devices: unknown, vols: Volumes, container: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  const devNames = new Set(arr(devices).map((d: any) => str(d?.name)));
  const devPaths = new Set(arr(devices).map((d: any) => str(d?.devicePath)));
  arr(mounts).forEach((mnt: any, i: number) => {
    const p = index(field, i);
    const name = str(mnt?.name);
    const mountPath = str(mnt?.mountPath);
    if (!name) errs.push(required(child(p, 'name')));
    if (!vols.has(name)) errs.push(notFound(child(p, 'name'), name));
    if (!mountPath) errs.push(required(child(p, 'mountPath')));
    if (mountPoints.has(mountPath)) errs.push(invalid(child(p, 'mountPath'), mountPath, 'must be unique'));
    mountPoints.add(mountPath);
    if (devNames.has(name)) errs.push(invalid(child(p, 'name'), name, 'must not already exist in volumeDevices'));
    if (devPaths.has(mountPath)) errs.push(invalid(child(p, 'mountPath'), mountPath, 'must not already exist as a path in volumeDevices'));
    // Upstream reports subPath problems without the mount's index.
    if (str(mnt?.subPath)) errs.push(...validateLocalDescendingPath(str(mnt.subPath), child(field, 'subPath')));
    if (str(mnt?.subPathExpr)) {
      if (str(mnt?.subPath)) errs.push(invalid(child(p, 'subPathExpr'), str(mnt.subPathExpr), 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(str(mnt.subPathExpr), child(field, 'subPathExpr')));
    }
    if (mnt?.mountPropagation !== undefined && mnt?.mountPropagation !== null) {
      const mp = str(mnt.mountPropagation);
      const mpPath = child(field, 'mountPropagation');
      if (!MOUNT_PROPAGATIONS.includes(mp)) errs.push(notSupported(mpPath, mp, MOUNT_PROPAGATIONS));
      if (mp === 'Bidirectional' && container?.securityContext?.privileged !== true) {
        errs.push(forbidden(mpPath, 'Bidirectional mount propagation is available only to privileged containers'));
      }
    }
    const rro = mnt?.recursiveReadOnly;
    if (rro !== undefined && rro !== null) {
      const rroPath = child(field, 'recursiveReadOnly');
      if (rro === 'Enabled' || rro === 'IfPossible') {
        if (mnt.readOnly !== true) errs.push(forbidden(rroPath, 'may only be specified when readOnly is true'));
        if (mnt.mountPropagation && mnt.mountPropagation !== 'None') errs.push(forbidden(rroPath, 'may only be specified when mountPropagation is None or not specified'));
      } else if (rro !== 'Disabled') errs.push(notSupported(rroPath, str(rro), ['Disabled', 'Enabled', 'IfPossible']));
    }
  });
  return errs;
}

function validateVolumeDevices(devices: unknown, mounts: unknown, vols: Volumes, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const paths = new Set<string>();
  const names = new Set<string>();
  const mountNames = new Set(arr(mounts).map((m: any) => str(m?.name)));
  const mountPaths = new Set(arr(mounts).map((m: any) => str(m?.mountPath)));
  arr(devices).forEach((dev: any, i: number) => {
    const p = index(field, i);
    const name = str(dev?.name);
    const devPath = str(dev?.devicePath);
    const vol = vols.get(name);
    const isPVC = !!vol && (has(vol, 'persistentVolumeClaim') || has(vol, 'ephemeral'));
    if (!name) errs.push(required(child(p, 'name')));
    if (names.has(name)) errs.push(invalid(child(p, 'name'), name, 'must be unique'));
    if (vol && !isPVC) errs.push(invalid(child(p, 'name'), name, 'can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode'));
    if (!vol) errs.push(notFound(child(p, 'name'), name));
    if (!devPath) errs.push(required(child(p, 'devicePath')));
    if (paths.has(devPath)) errs.push(invalid(child(p, 'devicePath'), devPath, 'must be unique'));
    if (devPath && validatePathNoBacksteps(devPath, '').length) errs.push(invalid(child(p, 'devicePath'), devPath, "can not contain backsteps ('..')"));
    else paths.add(devPath);
    if (mountNames.has(name)) errs.push(invalid(child(p, 'name'), name, 'must not already exist in volumeMounts'));
    if (mountPaths.has(devPath)) errs.push(invalid(child(p, 'devicePath'), devPath, 'must not already exist as a path in volumeMounts'));
    if (name) names.add(name);
  });
  return errs;
}

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];

function validatePullPolicy(policy: unknown, field: string): FieldError[] {
  const p = str(policy);
  if (!p) return [required(field)];
  return PULL_POLICIES.includes(p) ? [] : [notSupported(field, p, PULL_POLICIES)];
}

function validateResizePolicy(list: unknown, field: string, podRestartPolicy: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  arr(list).forEach((rp: any, i: number) => {
    const name = str(rp?.resourceName);
    if (seen.has(name)) errs.push(duplicate(index(field, i), name));
    seen.add(name);
    if (!name) errs.push(required(field));
    else if (name !== 'cpu' && name !== 'memory') errs.push(notSupported(field, name, ['cpu', 'memory']));
    const policy = str(rp?.restartPolicy);
    if (!policy) errs.push(required(field));
    else if (policy !== 'NotRequired' && policy !== 'RestartContainer') errs.push(notSupported(field, policy, ['NotRequired', 'RestartContainer']));
    if (podRestartPolicy === 'Never' && policy !== 'NotRequired') errs.push(invalid(field, policy, "must be 'NotRequired' when `restartPolicy` is 'Never'"));
  });
  return errs;
}

function validateSeccompProfileField(sp: any, field: string): FieldError[] {
  if (!isObj(sp)) return [];
  const errs: FieldError[] = [];
  const type = str(sp.type);
  if (!type) errs.push(required(child(field, 'type'), 'type is required when seccompProfile is set'));
  else if (!['Localhost', 'RuntimeDefault', 'Unconfined'].includes(type)) errs.push(notSupported(child(field, 'type'), type, ['Localhost', 'RuntimeDefault', 'Unconfined']));
  if (type === 'Localhost') {
    if (sp.localhostProfile === undefined || sp.localhostProfile === null) errs.push(required(child(field, 'localhostProfile'), 'must be set when seccomp type is Localhost'));
    else errs.push(...validateLocalDescendingPath(str(sp.localhostProfile), child(field, 'localhostProfile')));
  } else if (sp.localhostProfile !== undefined && sp.localhostProfile !== null) {
    errs.push(invalid(child(field, 'localhostProfile'), new GoLiteral(`core.SeccompProfile{Type:${JSON.stringify(type)}, LocalhostProfile:(*string)(0xc000000000)}`), 'can only be set when seccomp type is Localhost'));
  }
  return errs;
}

function validateAppArmorProfileField(p: any, field: string): FieldError[] {
  if (!isObj(p)) return [];
  const type = str(p.type);
  const errs: FieldError[] = [];
  if (type === 'Localhost') {
    const lp = p.localhostProfile;
    if (lp === undefined || lp === null || str(lp).trim() === '') errs.push(required(child(field, 'localhostProfile'), 'must be set when AppArmor type is Localhost'));
    else if (str(lp).trim() !== str(lp)) errs.push(invalid(child(field, 'localhostProfile'), str(lp), 'must not be padded with whitespace'));
    if (byteLength(str(lp)) > 4095) errs.push(tooLong(child(field, 'localhostProfile'), 4095));
  } else if (type === 'RuntimeDefault' || type === 'Unconfined') {
    if (p.localhostProfile !== undefined && p.localhostProfile !== null) errs.push(invalid(child(field, 'localhostProfile'), str(p.localhostProfile), 'can only be set when AppArmor type is Localhost'));
  } else if (!type) errs.push(required(child(field, 'type'), 'type is required when appArmorProfile is set'));
  else errs.push(notSupported(child(field, 'type'), type, ['Localhost', 'RuntimeDefault', 'Unconfined']));
  return errs;
}

function validateIDs(v: unknown, field: string): FieldError[] {
  return typeof v === 'number' && (v < 0 || v > MAX_INT32) ? [invalid(field, v, inclusiveRangeError(0, MAX_INT32))] : [];
}

function validateSecurityContext(sc: any, field: string, hostUsers: boolean): FieldError[] {
  if (!isObj(sc)) return [];
  const errs: FieldError[] = [];
  errs.push(...validateIDs(sc.runAsUser, child(field, 'runAsUser')));
  errs.push(...validateIDs(sc.runAsGroup, child(field, 'runAsGroup')));
  if (sc.procMount !== undefined && sc.procMount !== null) {
    const pm = str(sc.procMount);
    if (pm !== 'Default' && pm !== 'Unmasked') errs.push(notSupported(child(field, 'procMount'), pm, ['Default', 'Unmasked']));
    if (hostUsers && pm === 'Unmasked') errs.push(invalid(child(field, 'procMount'), pm, '`hostUsers` must be false to use `Unmasked`'));
  }
  errs.push(...validateSeccompProfileField(sc.seccompProfile, child(field, 'seccompProfile')));
  if (sc.allowPrivilegeEscalation === false) {
    const scText = new GoLiteral('&core.SecurityContext{…}');
    if (sc.privileged === true) errs.push(invalid(field, scText, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    for (const cap of arr(sc.capabilities?.add)) {
      if (cap === 'CAP_SYS_ADMIN') errs.push(invalid(field, scText, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
    }
  }
  errs.push(...validateAppArmorProfileField(sc.appArmorProfile, child(field, 'appArmorProfile')));
  return errs;
}

/** validateContainerCommon: checks shared by app, init and ephemeral containers. */
function validateContainerCommon(c: any, vols: Volumes, field: string, podRestartPolicy: string, hostUsers: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(c?.name);
  if (!name) errs.push(required(child(field, 'name')));
  else errs.push(...isDNS1123Label(name).map((m) => invalid(child(field, 'name'), name, m)));
  if (!str(c?.image)) errs.push(required(child(field, 'image')));
  const tmp = str(c?.terminationMessagePolicy);
  if (!tmp) errs.push(required(child(field, 'terminationMessagePolicy')));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') errs.push(notSupported(child(field, 'terminationMessagePolicy'), tmp, ['File', 'FallbackToLogsOnError']));
  errs.push(...validateContainerPorts(c?.ports, child(field, 'ports')));
  errs.push(...validateEnv(c?.env, child(field, 'env')));
  errs.push(...validateEnvFrom(c?.envFrom, child(field, 'envFrom')));
  errs.push(...validateVolumeMounts(c?.volumeMounts, c?.volumeDevices, vols, c, child(field, 'volumeMounts')));
  errs.push(...validateVolumeDevices(c?.volumeDevices, c?.volumeMounts, vols, child(field, 'volumeDevices')));
  errs.push(...validatePullPolicy(c?.imagePullPolicy, child(field, 'imagePullPolicy')));
  errs.push(...validateContainerResources(c?.resources, child(field, 'resources')));
  errs.push(...validateResizePolicy(c?.resizePolicy, child(field, 'resizePolicy'), podRestartPolicy));
  errs.push(...validateSecurityContext(c?.securityContext, child(field, 'securityContext'), hostUsers));
  return errs;
}

function validatePortNumOrName(port: unknown, field: string): FieldError[] {
  if (typeof port === 'string') return isValidPortName(port).map((m) => invalid(field, port, m));
  const n = typeof port === 'number' ? port : 0;
  return isValidPortNum(n).map((m) => invalid(field, n, m));
}

function validateHandler(h: any, gracePeriod: number | undefined, field: string, kinds: string[]): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const k of kinds) {
    if (!has(h, k)) continue;
    if (count > 0) {
      errs.push(forbidden(child(field, k), 'may not specify more than 1 handler type'));
      continue;
    }
    count++;
    const v = h[k];
    const p = child(field, k);
    switch (k) {
      case 'exec':
        if (arr(v.command).length === 0) errs.push(required(child(p, 'command')));
        break;
      case 'httpGet': {
        if (!str(v.path)) errs.push(required(child(p, 'path')));
        errs.push(...validatePortNumOrName(v.port, child(p, 'port')));
        const scheme = str(v.scheme);
        if (scheme !== 'HTTP' && scheme !== 'HTTPS') errs.push(notSupported(child(p, 'scheme'), scheme, ['HTTP', 'HTTPS']));
        for (const hdr of arr(v.httpHeaders)) for (const m of isHTTPHeaderName(str(hdr?.name))) errs.push(invalid(child(p, 'httpHeaders'), str(hdr?.name), m));
        break;
      }
      case 'tcpSocket':
        errs.push(...validatePortNumOrName(v.port, child(p, 'port')));
        break;
      case 'grpc':
        errs.push(...validatePortNumOrName(typeof v.port === 'number' ? v.port : 0, child(p, 'port')));
        break;
      case 'sleep': {
        const s = num(v.seconds);
        if (gracePeriod !== undefined && (s <= 0 || s > gracePeriod)) {
          errs.push(invalid(p, s, `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`));
        }
        break;
      }
    }
  }
  if (count === 0) errs.push(required(field, 'must specify a handler type'));
  return errs;
}

const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];
const LIFECYCLE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'sleep'];

function validateProbe(probe: any, gracePeriod: number | undefined, field: string, kind: 'liveness' | 'readiness' | 'startup'): FieldError[] {
  if (!isObj(probe)) return [];
  const errs = validateHandler(probe, gracePeriod, field, PROBE_HANDLERS);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    errs.push(...validateNonnegative(probe[f], child(field, f)));
  }
  if (typeof probe.terminationGracePeriodSeconds === 'number' && probe.terminationGracePeriodSeconds <= 0) {
    errs.push(invalid(child(field, 'terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  if (kind === 'readiness') {
    if (probe.terminationGracePeriodSeconds !== undefined && probe.terminationGracePeriodSeconds !== null) {
      errs.push(invalid(child(field, 'terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
    }
  } else if (num(probe.successThreshold) !== 1) {
    errs.push(invalid(child(field, 'successThreshold'), num(probe.successThreshold), 'must be 1'));
  }
  return errs;
}

function validateLifecycleAndProbes(c: any, gracePeriod: number | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (isObj(c?.lifecycle)) {
    if (has(c.lifecycle, 'postStart')) errs.push(...validateHandler(c.lifecycle.postStart, gracePeriod, child(field, 'lifecycle', 'postStart'), LIFECYCLE_HANDLERS));
    if (has(c.lifecycle, 'preStop')) errs.push(...validateHandler(c.lifecycle.preStop, gracePeriod, child(field, 'lifecycle', 'preStop'), LIFECYCLE_HANDLERS));
  }
  errs.push(...validateProbe(c?.livenessProbe, gracePeriod, child(field, 'livenessProbe'), 'liveness'));
  errs.push(...validateProbe(c?.readinessProbe, gracePeriod, child(field, 'readinessProbe'), 'readiness'));
  errs.push(...validateProbe(c?.startupProbe, gracePeriod, child(field, 'startupProbe'), 'startup'));
  return errs;
}

/** AccumulateUniqueHostPorts: a protocol/hostIP/hostPort triple may appear once. */
function checkHostPortConflicts(containers: any[], field: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((c, ci) => {
    arr(c?.ports).forEach((port: any, pi: number) => {
      const hp = num(port?.hostPort);
      if (hp === 0) return;
      const k = `${str(port.protocol)}/${str(port.hostIP)}/${hp}`;
      if (seen.has(k)) errs.push(duplicate(child(index(child(index(field, ci), 'ports'), pi), 'hostPort'), k));
      else seen.add(k);
    });
  });
  return errs;
}

function validateContainers(containers: unknown, vols: Volumes, gracePeriod: number | undefined, field: string, podRestartPolicy: string, hostUsers: boolean): FieldError[] {
  const list = arr(containers);
  if (list.length === 0) return [required(field)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list.forEach((c, i) => {
    const p = index(field, i);
    errs.push(...validateContainerCommon(c, vols, p, podRestartPolicy, hostUsers));
    // Collisions with init containers are reported by the init container check.
    const name = str(c?.name);
    if (names.has(name)) errs.push(duplicate(child(p, 'name'), name));
    else names.add(name);
    errs.push(...validateLifecycleAndProbes(c, gracePeriod, p));
    if (c?.restartPolicy !== undefined && c?.restartPolicy !== null) errs.push(forbidden(child(p, 'restartPolicy'), 'may not be set for non-init containers'));
  });
  errs.push(...checkHostPortConflicts(list, field));
  return errs;
}

function validateInitContainers(containers: unknown, regular: unknown, vols: Volumes, gracePeriod: number | undefined, field: string, podRestartPolicy: string, hostUsers: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set(arr(regular).map((c: any) => str(c?.name)));
  arr(containers).forEach((c: any, i: number) => {
    const p = index(field, i);
    errs.push(...validateContainerCommon(c, vols, p, podRestartPolicy, hostUsers));
    let sidecar = false;
    if (c?.restartPolicy !== undefined && c?.restartPolicy !== null) {
      // restartPolicy: Always on an init container makes it a sidecar.
      if (c.restartPolicy !== 'Always') errs.push(notSupported(child(p, 'restartPolicy'), str(c.restartPolicy), ['Always']));
      sidecar = c.restartPolicy === 'Always';
    }
    const name = str(c?.name);
    if (names.has(name)) errs.push(duplicate(child(p, 'name'), name));
    else if (name) names.add(name);
    errs.push(...checkHostPortConflicts([c], field));
    if (sidecar) errs.push(...validateLifecycleAndProbes(c, gracePeriod, p));
    else {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (c?.[f] !== undefined && c?.[f] !== null) errs.push(forbidden(child(p, f), 'may not be set for init containers without restartPolicy=Always'));
      }
    }
    if (arr(c?.resizePolicy).length > 0) errs.push(invalid(child(p, 'resizePolicy'), new GoLiteral('[]core.ContainerResizePolicy{…}'), 'must not be set for init containers'));
  });
  return errs;
}

// Upstream's allow-list, inverted: every EphemeralContainerCommon field outside it, in struct order.
const EPHEMERAL_DISALLOWED = ['ports', 'resources', 'resizePolicy', 'restartPolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'];

function validateEphemeralContainers(list: unknown, containers: unknown, inits: unknown, vols: Volumes, field: string, podRestartPolicy: string, hostUsers: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const items = arr(list);
  if (items.length === 0) return errs;
  const other = new Set([...arr(containers), ...arr(inits)].map((c: any) => str(c?.name)));
  const all = new Set(other);
  items.forEach((ec: any, i: number) => {
    const p = index(field, i);
    errs.push(...validateContainerCommon(ec, vols, p, podRestartPolicy, hostUsers));
    const image = str(ec?.image);
    if (image.length !== image.trim().length) errs.push(invalid(child(p, 'image'), image, 'must not have leading or trailing whitespace'));
    const name = str(ec?.name);
    if (all.has(name)) errs.push(duplicate(child(p, 'name'), name));
    else all.add(name);
    if (str(ec?.targetContainerName) && !other.has(str(ec.targetContainerName))) errs.push(notFound(child(p, 'targetContainerName'), str(ec.targetContainerName)));
    for (const f of EPHEMERAL_DISALLOWED) {
      const v = ec?.[f];
      if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0) && !(isObj(v) && Object.keys(v).length === 0)) {
        errs.push(forbidden(child(p, f), 'cannot be set for an Ephemeral Container'));
      }
    }
    arr(ec?.volumeMounts).forEach((vm: any, j: number) => {
      if (str(vm?.subPath)) errs.push(forbidden(child(index(child(p, 'volumeMounts'), j), 'subPath'), 'cannot be set for an Ephemeral Container'));
      if (str(vm?.subPathExpr)) errs.push(forbidden(child(index(child(p, 'volumeMounts'), j), 'subPathExpr'), 'cannot be set for an Ephemeral Container'));
    });
  });
  return errs;
}

// ------------------------------------------------------------------------------- pod spec

function validateRestartPolicy(v: unknown, field: string): FieldError[] {
  const p = str(v);
  if (p === 'Always' || p === 'OnFailure' || p === 'Never') return [];
  if (!p) return [required(field)];
  return [notSupported(field, p, ['Always', 'OnFailure', 'Never'])];
}

function validateDNSPolicy(v: unknown, field: string): FieldError[] {
  const p = str(v);
  const valid = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
  if (valid.includes(p)) return [];
  if (!p) return [required(field)];
  return [notSupported(field, p, valid)];
}

const SYSCTL_SEGMENT = '[a-z0-9]([-_a-z0-9]*[a-z0-9])?';
const SYSCTL_RE = new RegExp('^(' + SYSCTL_SEGMENT + '[\\./])*' + SYSCTL_SEGMENT + '$');

function validatePodSecurityContext(spec: any, field: string): FieldError[] {
  const sc = spec?.securityContext;
  if (!isObj(sc)) return [];
  const errs: FieldError[] = [];
  errs.push(...validateIDs(sc.fsGroup, child(field, 'fsGroup')));
  errs.push(...validateIDs(sc.runAsUser, child(field, 'runAsUser')));
  errs.push(...validateIDs(sc.runAsGroup, child(field, 'runAsGroup')));
  arr(sc.supplementalGroups).forEach((g, i) => errs.push(...validateIDs(g, index(child(field, 'supplementalGroups'), i))));
  if (spec.shareProcessNamespace === true && spec.hostPID === true) {
    errs.push(invalid(child(field, 'shareProcessNamespace'), true, 'ShareProcessNamespace and HostPID cannot both be enabled'));
  }
  const seen = new Set<string>();
  arr(sc.sysctls).forEach((s: any, i: number) => {
    const p = child(index(child(field, 'sysctls'), i), 'name');
    const name = str(s?.name);
    if (!name) errs.push(required(p));
    else if (byteLength(name) > 253 || !SYSCTL_RE.test(name)) errs.push(invalid(p, name, `must have at most 253 characters and match regex ${SYSCTL_RE.source}`));
    else if (seen.has(name)) errs.push(duplicate(p, name));
    if (spec.hostNetwork === true && name.startsWith('net.')) errs.push(invalid(p, name, "may not be specified when 'hostNetwork' is true"));
    seen.add(name);
  });
  if (sc.fsGroupChangePolicy !== undefined && sc.fsGroupChangePolicy !== null && !['Always', 'OnRootMismatch'].includes(str(sc.fsGroupChangePolicy))) {
    errs.push(notSupported(child(field, 'fsGroupChangePolicy'), str(sc.fsGroupChangePolicy), ['Always', 'OnRootMismatch']));
  }
  errs.push(...validateSeccompProfileField(sc.seccompProfile, child(field, 'seccompProfile')));
  errs.push(...validateAppArmorProfileField(sc.appArmorProfile, child(field, 'appArmorProfile')));
  if (sc.supplementalGroupsPolicy !== undefined && sc.supplementalGroupsPolicy !== null && !['Merge', 'Strict'].includes(str(sc.supplementalGroupsPolicy))) {
    errs.push(notSupported(child(field, 'supplementalGroupsPolicy'), str(sc.supplementalGroupsPolicy), ['Merge', 'Strict']));
  }
  if (sc.seLinuxChangePolicy !== undefined && sc.seLinuxChangePolicy !== null && !['MountOption', 'Recursive'].includes(str(sc.seLinuxChangePolicy))) {
    errs.push(notSupported(child(field, 'seLinuxChangePolicy'), str(sc.seLinuxChangePolicy), ['MountOption', 'Recursive']));
  }
  return errs;
}

function validateNodeSelectorRequirement(rq: any, field: string, checkValues: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const values = arr(rq?.values);
  switch (rq?.operator) {
    case 'In': case 'NotIn':
      if (values.length === 0) errs.push(required(child(field, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists': case 'DoesNotExist':
      if (values.length > 0) errs.push(forbidden(child(field, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case 'Gt': case 'Lt':
      if (values.length !== 1) errs.push(required(child(field, 'values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      break;
    default:
      errs.push(invalid(child(field, 'operator'), str(rq?.operator), 'not a valid selector operator'));
  }
  errs.push(...validateLabelName(str(rq?.key), child(field, 'key')));
  if (checkValues) values.forEach((v, i) => {
    for (const m of isValidLabelValue(str(v))) errs.push(invalid(index(child(field, 'values'), i), str(v), m));
  });
  return errs;
}

function validateNodeSelectorTerm(term: any, field: string, checkValues: boolean): FieldError[] {
  const errs: FieldError[] = [];
  arr(term?.matchExpressions).forEach((rq, j) => errs.push(...validateNodeSelectorRequirement(rq, index(child(field, 'matchExpressions'), j), checkValues)));
  arr(term?.matchFields).forEach((rq: any, j: number) => {
    const p = index(child(field, 'matchFields'), j);
    if (rq?.operator === 'In' || rq?.operator === 'NotIn') {
      if (arr(rq.values).length !== 1) errs.push(required(child(p, 'values'), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
    } else errs.push(invalid(child(p, 'operator'), str(rq?.operator), 'not a valid selector operator'));
    if (rq?.key !== 'metadata.name') errs.push(invalid(child(p, 'key'), str(rq?.key), 'not a valid field selector key'));
    else arr(rq.values).forEach((v, i) => {
      for (const m of isDNS1123Subdomain(str(v))) errs.push(invalid(index(child(p, 'values'), i), str(v), m));
    });
  });
  return errs;
}

function validatePodAffinityTerm(term: any, field: string): FieldError[] {
  const errs = validateLabelSelector(term?.labelSelector, child(field, 'labelSelector'));
  errs.push(...validateLabelSelector(term?.namespaceSelector, child(field, 'namespaceSelector')));
  for (const ns of arr(term?.namespaces)) for (const m of isDNS1123Label(str(ns))) errs.push(invalid(child(field, 'namespace'), str(ns), m));
  if (!str(term?.topologyKey)) errs.push(required(child(field, 'topologyKey'), 'can not be empty'));
  return errs.concat(validateLabelName(str(term?.topologyKey), child(field, 'topologyKey')));
}

function validateAffinity(aff: any, field: string): FieldError[] {
  if (!isObj(aff)) return [];
  const errs: FieldError[] = [];
  const na = aff.nodeAffinity;
  if (isObj(na)) {
    const p = child(field, 'nodeAffinity');
    const req = na.requiredDuringSchedulingIgnoredDuringExecution;
    if (isObj(req)) {
      const tp = child(p, 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms');
      if (arr(req.nodeSelectorTerms).length === 0) errs.push(required(tp, 'must have at least one node selector term'));
      arr(req.nodeSelectorTerms).forEach((t, i) => errs.push(...validateNodeSelectorTerm(t, index(tp, i), true)));
    }
    arr(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((t: any, i: number) => {
      const tp = index(child(p, 'preferredDuringSchedulingIgnoredDuringExecution'), i);
      const w = num(t?.weight);
      if (w <= 0 || w > 100) errs.push(invalid(child(tp, 'weight'), w, 'must be in the range 1-100'));
      errs.push(...validateNodeSelectorTerm(t?.preference, child(tp, 'preference'), false));
    });
  }
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const pa = aff[kind];
    if (!isObj(pa)) continue;
    const p = child(field, kind);
    arr(pa.requiredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => errs.push(...validatePodAffinityTerm(t, index(child(p, 'requiredDuringSchedulingIgnoredDuringExecution'), i))));
    arr(pa.preferredDuringSchedulingIgnoredDuringExecution).forEach((t: any, i: number) => {
      const tp = index(child(p, 'preferredDuringSchedulingIgnoredDuringExecution'), i);
      const w = num(t?.weight);
      if (w <= 0 || w > 100) errs.push(invalid(child(tp, 'weight'), w, 'must be in the range 1-100'));
      errs.push(...validatePodAffinityTerm(t?.podAffinityTerm, child(tp, 'podAffinityTerm')));
    });
  }
  return errs;
}

function validateDNSConfig(cfg: any, dnsPolicy: string, field: string): FieldError[] {
  if (dnsPolicy === 'None') {
    if (!isObj(cfg)) return [required(field, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (arr(cfg.nameservers).length === 0) return [required(child(field, 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (!isObj(cfg)) return [];
  const errs: FieldError[] = [];
  const ns = arr(cfg.nameservers).map(str);
  if (ns.length > 3) errs.push(invalid(child(field, 'nameservers'), new GoLiteral(goSlice(ns)), 'must not have more than 3 nameservers'));
  ns.forEach((n, i) => errs.push(...isValidIP(index(child(field, 'nameservers'), i), n)));
  const searches = arr(cfg.searches).map(str);
  if (searches.length > 32) errs.push(invalid(child(field, 'searches'), new GoLiteral(goSlice(searches)), 'must not have more than 32 search paths'));
  if (byteLength(searches.join(' ')) > 2048) errs.push(invalid(child(field, 'searches'), new GoLiteral(goSlice(searches)), 'must not have more than 2048 characters (including spaces) in the search list'));
  searches.forEach((s, i) => {
    const t = s.endsWith('.') ? s.slice(0, -1) : s;
    for (const m of isDNS1123Subdomain(t)) errs.push(invalid(index(child(field, 'searches'), i), t, m));
  });
  arr(cfg.options).forEach((o: any, i: number) => {
    if (!str(o?.name)) errs.push(required(index(child(field, 'options'), i), 'must not be empty'));
  });
  return errs;
}

const goSlice = (a: string[]): string => '[]string{' + a.map((s) => JSON.stringify(s)).join(', ') + '}';

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** ValidateTolerations. */
export function validateTolerations(tolerations: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  arr(tolerations).forEach((t: any, i: number) => {
    const p = index(field, i);
    const k = str(t?.key);
    const op = str(t?.operator);
    if (k) errs.push(...validateLabelName(k, child(p, 'key')));
    if (!k && op !== 'Exists') errs.push(invalid(child(p, 'operator'), op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t?.tolerationSeconds !== undefined && t?.tolerationSeconds !== null && t?.effect !== 'NoExecute') {
      errs.push(invalid(child(p, 'effect'), str(t?.effect), "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (op) {
      case 'Equal': case '': {
        const e = isValidLabelValue(str(t?.value));
        if (e.length) errs.push(invalid(child(p, 'operator'), str(t?.value), e.join(';')));
        break;
      }
      case 'Exists':
        if (str(t?.value)) errs.push(invalid(child(p, 'operator'), str(t.value), "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(notSupported(child(p, 'operator'), op, ['Equal', 'Exists']));
    }
    const effect = str(t?.effect);
    if (effect && !TAINT_EFFECTS.includes(effect)) errs.push(notSupported(child(p, 'effect'), effect, TAINT_EFFECTS));
  });
  return errs;
}

/** validateNodeTaints (shared with Node). */
export function validateTaints(taints: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const unique = new Map<string, Set<string>>();
  arr(taints).forEach((t: any, i: number) => {
    const p = index(field, i);
    errs.push(...validateLabelName(str(t?.key), child(p, 'key')));
    const ve = isValidLabelValue(str(t?.value));
    if (ve.length) errs.push(invalid(child(p, 'value'), str(t?.value), ve.join(';')));
    const effect = str(t?.effect);
    if (!effect) errs.push(required(child(p, 'effect')));
    else if (!TAINT_EFFECTS.includes(effect)) errs.push(notSupported(child(p, 'effect'), effect, TAINT_EFFECTS));
    const keys = unique.get(effect) ?? new Set<string>();
    if (keys.has(str(t?.key))) {
      const lit = `core.Taint{Key:${JSON.stringify(str(t?.key))}, Value:${JSON.stringify(str(t?.value))}, Effect:${JSON.stringify(effect)}, TimeAdded:<nil>}`;
      errs.push(duplicate(p, new GoLiteral(lit), 'taints must be unique by key and effect pair'));
      return;
    }
    keys.add(str(t?.key));
    unique.set(effect, keys);
  });
  return errs;
}

function validateTopologySpreadConstraints(list: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const items = arr(list);
  items.forEach((c: any, i: number) => {
    const p = index(field, i);
    if (num(c?.maxSkew) <= 0) errs.push(invalid(child(p, 'maxSkew'), num(c?.maxSkew), 'must be greater than zero'));
    if (!str(c?.topologyKey)) errs.push(required(child(p, 'topologyKey'), 'can not be empty'));
    const wu = str(c?.whenUnsatisfiable);
    if (wu !== 'DoNotSchedule' && wu !== 'ScheduleAnyway') errs.push(notSupported(child(p, 'whenUnsatisfiable'), wu, ['DoNotSchedule', 'ScheduleAnyway']));
    if (items.slice(i + 1).some((o: any) => str(o?.topologyKey) === str(c?.topologyKey) && str(o?.whenUnsatisfiable) === wu)) {
      errs.push(duplicate(child(p, '{topologyKey, whenUnsatisfiable}'), `{${str(c?.topologyKey)}, ${wu}}`));
    }
    if (c?.minDomains !== undefined && c?.minDomains !== null) {
      if (num(c.minDomains) <= 0) errs.push(invalid(child(p, 'minDomains'), num(c.minDomains), 'must be greater than zero'));
      if (wu !== 'DoNotSchedule') errs.push(invalid(child(p, 'minDomains'), num(c.minDomains), `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${wu}`));
    }
    for (const f of ['nodeAffinityPolicy', 'nodeTaintsPolicy']) {
      if (c?.[f] !== undefined && c?.[f] !== null && c[f] !== 'Honor' && c[f] !== 'Ignore') errs.push(notSupported(child(p, f), str(c[f]), ['Honor', 'Ignore']));
    }
    const mlk = arr(c?.matchLabelKeys);
    if (mlk.length) {
      if (!isObj(c?.labelSelector)) errs.push(forbidden(child(p, 'matchLabelKeys'), 'must not be specified when labelSelector is not set'));
      const selKeys = new Set([...Object.keys(c?.labelSelector?.matchLabels ?? {}), ...arr(c?.labelSelector?.matchExpressions).map((e: any) => str(e?.key))]);
      mlk.forEach((k, j) => {
        errs.push(...validateLabelName(str(k), index(child(p, 'matchLabelKeys'), j)));
        if (selKeys.has(str(k))) errs.push(invalid(index(child(p, 'matchLabelKeys'), j), str(k), 'exists in both matchLabelKeys and labelSelector'));
      });
    }
    errs.push(...validateLabelSelector(c?.labelSelector, child(p, 'labelSelector')));
  });
  return errs;
}

/** ValidatePodSpec. `podMeta` is set only for real Pods. */
export function validatePodSpec(spec: any, field: string, opts: PodValidationOptions): FieldError[] {
  const s = isObj(spec) ? spec : {};
  const errs: FieldError[] = [];
  if (typeof s.terminationGracePeriodSeconds !== 'number') errs.push(required(child(field, 'terminationGracePeriodSeconds')));
  const gracePeriod = typeof s.terminationGracePeriodSeconds === 'number' ? s.terminationGracePeriodSeconds : undefined;
  const hostUsers = s.hostUsers !== false;
  const restartPolicy = str(s.restartPolicy);
  const { vols, errs: vErrs } = validateVolumes(s.volumes, child(field, 'volumes'));
  errs.push(...vErrs);
  errs.push(...validateContainers(s.containers, vols, gracePeriod, child(field, 'containers'), restartPolicy, hostUsers));
  errs.push(...validateInitContainers(s.initContainers, s.containers, vols, gracePeriod, child(field, 'initContainers'), restartPolicy, hostUsers));
  errs.push(...validateEphemeralContainers(s.ephemeralContainers, s.containers, s.initContainers, vols, child(field, 'ephemeralContainers'), restartPolicy, hostUsers));
  if (s.hostNetwork === true) {
    arr(s.containers).forEach((c: any, i: number) => {
      arr(c?.ports).forEach((port: any, j: number) => {
        const hp = num(port?.hostPort);
        const cp = num(port?.containerPort);
        if ((opts.resourceIsPod || hp !== 0) && hp !== cp) {
          errs.push(invalid(child(index(child(index(child(field, 'containers'), i), 'ports'), j), 'hostPort'), hp, 'must match `containerPort` when `hostNetwork` is true'));
        }
      });
    });
  }
  errs.push(...validateRestartPolicy(s.restartPolicy, child(field, 'restartPolicy')));
  errs.push(...validateDNSPolicy(s.dnsPolicy, child(field, 'dnsPolicy')));
  errs.push(...validateLabels(s.nodeSelector, child(field, 'nodeSelector')));
  errs.push(...validatePodSecurityContext(s, child(field, 'securityContext')));
  arr(s.imagePullSecrets).forEach((ref: any, i: number) => {
    if (isObj(ref) && Object.keys(ref).some((k) => k !== 'name')) {
      errs.push(invalid(index(child(field, 'imagePullSecrets'), i), new GoLiteral(`core.LocalObjectReference{Name:${JSON.stringify(str(ref.name))}}`), 'only name may be set'));
    }
  });
  errs.push(...validateAffinity(s.affinity, child(field, 'affinity')));
  errs.push(...validateDNSConfig(s.dnsConfig, str(s.dnsPolicy), child(field, 'dnsConfig')));
  arr(s.readinessGates).forEach((g: any, i: number) => {
    for (const m of isQualifiedName(str(g?.conditionType))) errs.push(invalid(child(index(child(field, 'readinessGates'), i), 'conditionType'), str(g?.conditionType), m));
  });
  const gates = new Set<string>();
  arr(s.schedulingGates).forEach((g: any, i: number) => {
    const p = index(child(field, 'schedulingGates'), i);
    for (const m of isQualifiedName(str(g?.name))) errs.push(invalid(p, str(g?.name), m));
    if (gates.has(str(g?.name))) errs.push(duplicate(p, str(g?.name)));
    gates.add(str(g?.name));
  });
  errs.push(...validateTopologySpreadConstraints(s.topologySpreadConstraints, child(field, 'topologySpreadConstraints')));
  if (s.hostUsers === false) {
    if (s.hostNetwork === true) errs.push(forbidden(child(field, 'hostNetwork'), 'when `pod.Spec.HostUsers` is false'));
    if (s.hostPID === true) errs.push(forbidden(child(field, 'HostPID'), 'when `pod.Spec.HostUsers` is false'));
    if (s.hostIPC === true) errs.push(forbidden(child(field, 'HostIPC'), 'when `pod.Spec.HostUsers` is false'));
  }
  const sa = str(s.serviceAccountName);
  if (sa) for (const m of nameIsDNSSubdomain(sa, false)) errs.push(invalid(child(field, 'serviceAccountName'), sa, m));
  const nodeName = str(s.nodeName);
  if (nodeName) for (const m of nameIsDNSSubdomain(nodeName, false)) errs.push(invalid(child(field, 'nodeName'), nodeName, m));
  if (typeof s.activeDeadlineSeconds === 'number' && (s.activeDeadlineSeconds < 1 || s.activeDeadlineSeconds > MAX_INT32)) {
    errs.push(invalid(child(field, 'activeDeadlineSeconds'), s.activeDeadlineSeconds, inclusiveRangeError(1, MAX_INT32)));
  }
  for (const f of ['hostname', 'subdomain']) {
    const v = str(s[f]);
    if (v) errs.push(...isDNS1123Label(v).map((m) => invalid(child(field, f), v, m)));
  }
  if (arr(s.tolerations).length) errs.push(...validateTolerations(s.tolerations, child(field, 'tolerations')));
  arr(s.hostAliases).forEach((ha: any, i: number) => {
    const p = index(child(field, 'hostAliases'), i);
    errs.push(...isValidIP(child(p, 'ip'), str(ha?.ip)));
    arr(ha?.hostnames).forEach((h, j) => {
      for (const m of isDNS1123Subdomain(str(h))) errs.push(invalid(index(child(p, 'hostnames'), j), str(h), m));
    });
  });
  const pcn = str(s.priorityClassName);
  if (pcn) for (const m of nameIsDNSSubdomain(pcn, false)) errs.push(invalid(child(field, 'priorityClassName'), pcn, m));
  if (s.runtimeClassName !== undefined && s.runtimeClassName !== null) {
    for (const m of nameIsDNSSubdomain(str(s.runtimeClassName), false)) errs.push(invalid(child(field, 'runtimeClassName'), str(s.runtimeClassName), m));
  }
  if (s.preemptionPolicy !== undefined && s.preemptionPolicy !== null) {
    const pp = str(s.preemptionPolicy);
    if (!pp) errs.push(required(child(field, 'preemptionPolicy')));
    else if (pp !== 'PreemptLowerPriority' && pp !== 'Never') errs.push(notSupported(child(field, 'preemptionPolicy'), pp, ['PreemptLowerPriority', 'Never']));
  }
  if (isObj(s.overhead)) errs.push(...validateContainerResources({ limits: s.overhead }, child(field, 'overhead')));
  if (isObj(s.os)) {
    const osName = str(s.os.name);
    if (osName !== 'linux' && osName !== 'windows') errs.push(notSupported(child(field, 'os', 'name'), osName, ['linux', 'windows']));
    else if (osName === 'linux') {
      if (isObj(s.securityContext?.windowsOptions)) errs.push(forbidden(child(field, 'securityContext', 'windowsOptions'), 'windows options cannot be set for a linux pod'));
    }
  }
  return errs;
}

// ------------------------------------------------------------------------ annotations, pods

const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
const MIRROR = 'kubernetes.io/config.mirror';
const SECCOMP_POD = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
const APPARMOR_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function validateSeccompAnnotation(p: string, field: string): FieldError[] {
  if (p === 'runtime/default' || p === 'docker/default' || p === 'unconfined') return [];
  if (p.startsWith('localhost/')) return validateLocalDescendingPath(p.slice('localhost/'.length), field);
  return [invalid(field, p, 'must be a valid seccomp profile')];
}

function podSpecHasContainer(spec: any, name: string): boolean {
  return [...arr(spec?.containers), ...arr(spec?.initContainers), ...arr(spec?.ephemeralContainers)].some((c: any) => str(c?.name) === name);
}

export function validatePodSpecificAnnotations(annotations: unknown, spec: any, field: string, allowInvalidDeletionCost = false): FieldError[] {
  const a = isObj(annotations) ? annotations : {};
  const errs: FieldError[] = [];
  if (MIRROR in a && !str(spec?.nodeName)) errs.push(invalid(key(field, MIRROR), str(a[MIRROR]), 'must set spec.nodeName if mirror pod annotation is set'));
  if (!allowInvalidDeletionCost && DELETION_COST in a) {
    const v = str(a[DELETION_COST]);
    const n = Number(v);
    if (!/^[+-]?[0-9]+$/.test(v) || n < -2147483648 || n > MAX_INT32) errs.push(invalid(key(field, DELETION_COST), v, 'must be a 32bit integer'));
  }
  if (SECCOMP_POD in a) errs.push(...validateSeccompAnnotation(str(a[SECCOMP_POD]), child(field, SECCOMP_POD)));
  for (const [k, v] of Object.entries(a)) {
    if (k.startsWith(SECCOMP_CONTAINER_PREFIX)) errs.push(...validateSeccompAnnotation(str(v), child(field, k)));
  }
  for (const [k, v] of Object.entries(a)) {
    if (!k.startsWith(APPARMOR_PREFIX)) continue;
    const cname = k.slice(APPARMOR_PREFIX.length);
    if (!podSpecHasContainer(spec, cname)) errs.push(invalid(key(field, k), cname, 'container not found'));
    const p = str(v);
    if (p && p !== 'runtime/default' && p !== 'unconfined' && !p.startsWith('localhost/')) errs.push(invalid(key(field, k), p, `invalid AppArmor profile name: ${JSON.stringify(p)}`));
  }
  return errs;
}

/** ValidatePodTemplateSpec (the pod template inside a workload). */
export function validatePodTemplateSpec(tpl: any, field: string): FieldError[] {
  const meta = tpl?.metadata;
  const errs = validateLabels(meta?.labels, child(field, 'labels'));
  errs.push(...validateAnnotations(meta?.annotations, child(field, 'annotations')));
  errs.push(...validatePodSpecificAnnotations(meta?.annotations, tpl?.spec, child(field, 'annotations')));
  errs.push(...validatePodSpec(tpl?.spec, child(field, 'spec'), { resourceIsPod: false }));
  if (arr(tpl?.spec?.ephemeralContainers).length > 0) errs.push(forbidden(child(field, 'spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  return errs;
}

/** validatePodMetadataAndSpec: shared by create and update. */
function validatePodMetadataAndSpec(pod: any, allowInvalidDeletionCost: boolean): FieldError[] {
  const errs = validateObjectMeta(pod?.metadata, true, nameIsDNSSubdomain);
  errs.push(...validatePodSpecificAnnotations(pod?.metadata?.annotations, pod?.spec, 'metadata.annotations', allowInvalidDeletionCost));
  errs.push(...validatePodSpec(pod?.spec, 'spec', { resourceIsPod: true }));
  if (!str(pod?.spec?.serviceAccountName)) {
    arr(pod?.spec?.volumes).forEach((vol: any, vi: number) => {
      arr(vol?.projected?.sources).forEach((src: any, si: number) => {
        if (has(src, 'serviceAccountToken')) {
          errs.push(forbidden(`spec.volumes[${vi}].projected.sources[${si}].serviceAccountToken`, 'must not be specified when serviceAccountName is not set'));
        }
      });
    });
  }
  for (const kind of ['containers', 'initContainers']) {
    arr(pod?.spec?.[kind]).forEach((c: any, i: number) => {
      const image = str(c?.image);
      if (image.length !== image.trim().length) errs.push(invalid(`spec.${kind}[${i}].image`, image, 'must not have leading or trailing whitespace'));
    });
  }
  return errs;
}

/** ValidatePodCreate. */
export function validatePod(pod: any): FieldError[] {
  const errs = validatePodMetadataAndSpec(pod, false);
  if (arr(pod?.spec?.ephemeralContainers).length > 0) errs.push(forbidden('spec.ephemeralContainers', 'cannot be set on create'));
  if (str(pod?.spec?.nodeName) && arr(pod?.spec?.schedulingGates).length) errs.push(forbidden('spec.nodeName', 'cannot be set until all schedulingGates have been cleared'));
  return errs;
}

const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

/** A short stand-in for cmp.Diff: one -/+ pair per changed field. */
function specDiff(oldSpec: unknown, newSpec: unknown): string {
  return structDiff('core.PodSpec', oldSpec, newSpec);
}

function structDiff(type: string, oldSpec: unknown, newSpec: unknown): string {
  const lines = [`  ${type}{`];
  for (const p of diffPaths(oldSpec, newSpec)) {
    const get = (o: any) => p.split(/\.|\[(\d+)\]/).filter((x) => x !== undefined && x !== '').reduce((acc: any, k) => (acc == null ? acc : acc[k]), o);
    lines.push(`- \t${p}: ${JSON.stringify(get(oldSpec)) ?? 'nil'},`);
    lines.push(`+ \t${p}: ${JSON.stringify(get(newSpec)) ?? 'nil'},`);
  }
  lines.push('  }');
  return lines.join('\n') + '\n';
}

function clone<T>(v: T): T {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

/** ValidatePodUpdate: only images, activeDeadlineSeconds, added tolerations and removed gates may change. */
export function validatePodUpdate(newPod: any, oldPod: any): FieldError[] {
  const errs = validateObjectMetaUpdate(newPod?.metadata, oldPod?.metadata);
  errs.push(...validatePodMetadataAndSpec(newPod, allowsInvalidDeletionCost(oldPod)));
  errs.push(...podAnnotationUpdateErrors(newPod, oldPod));
  return errs.concat(podSpecUpdateErrors(newPod, oldPod));
}

/** An existing invalid deletion cost may stay (upstream's validation options from the old pod). */
function allowsInvalidDeletionCost(oldPod: any): boolean {
  const oldCost = oldPod?.metadata?.annotations?.[DELETION_COST];
  return oldCost !== undefined && validatePodSpecificAnnotations({ [DELETION_COST]: oldCost }, {}, '').length > 0;
}

/**
 * ValidatePodStatusUpdate: a pods/status write keeps the old spec (the strategy resets it), so only
 * metadata is checked, not the whole spec again: ObjectMeta update rules and the pod-specific
 * annotation rules.
 */
export function validatePodStatusUpdate(newPod: any, oldPod: any): FieldError[] {
  const errs = validateObjectMetaUpdate(newPod?.metadata, oldPod?.metadata);
  errs.push(...validatePodSpecificAnnotations(newPod?.metadata?.annotations, newPod?.spec, 'metadata.annotations', allowsInvalidDeletionCost(oldPod)));
  return errs.concat(podAnnotationUpdateErrors(newPod, oldPod));
}

/** AppArmor and mirror-pod annotations may not be added, removed or changed. */
function podAnnotationUpdateErrors(newPod: any, oldPod: any): FieldError[] {
  const errs: FieldError[] = [];
  const oldA = isObj(oldPod?.metadata?.annotations) ? oldPod.metadata.annotations : {};
  const newA = isObj(newPod?.metadata?.annotations) ? newPod.metadata.annotations : {};
  for (const [k, v] of Object.entries(oldA)) {
    if (k in newA && newA[k] === v) continue;
    if (k.startsWith(APPARMOR_PREFIX)) errs.push(forbidden(key('metadata.annotations', k), 'may not remove or update AppArmor annotations'));
    if (k === MIRROR) errs.push(forbidden(key('metadata.annotations', k), 'may not remove or update mirror pod annotation'));
  }
  for (const k of Object.keys(newA)) {
    if (k in oldA) continue;
    if (k.startsWith(APPARMOR_PREFIX)) errs.push(forbidden(key('metadata.annotations', k), 'may not add AppArmor annotations'));
    if (k === MIRROR) errs.push(forbidden(key('metadata.annotations', k), 'may not add mirror pod annotation'));
  }
  return errs;
}

function podSpecUpdateErrors(newPod: any, oldPod: any): FieldError[] {
  const errs: FieldError[] = [];
  const newSpec = isObj(newPod?.spec) ? newPod.spec : {};
  const oldSpec = isObj(oldPod?.spec) ? oldPod.spec : {};
  for (const kind of ['containers', 'initContainers']) {
    const nc = arr(newSpec[kind]);
    const oc = arr(oldSpec[kind]);
    if (nc.length !== oc.length) {
      errs.push(forbidden(`spec.${kind}`, 'pod updates may not add or remove containers'));
      return errs;
    }
    nc.forEach((c: any, i: number) => {
      const image = str(c?.image);
      if (!image) errs.push(required(`spec.${kind}[${i}].image`));
      if (image.trim().length !== image.length) errs.push(invalid(`spec.${kind}[${i}].image`, image, 'must not have leading or trailing whitespace'));
    });
  }
  if (typeof newSpec.activeDeadlineSeconds === 'number') {
    const v = newSpec.activeDeadlineSeconds;
    if (v < 0 || v > MAX_INT32) {
      errs.push(invalid('spec.activeDeadlineSeconds', v, inclusiveRangeError(0, MAX_INT32)));
      return errs;
    }
    if (typeof oldSpec.activeDeadlineSeconds === 'number' && oldSpec.activeDeadlineSeconds < v) {
      errs.push(invalid('spec.activeDeadlineSeconds', v, 'must be less than or equal to previous value'));
      return errs;
    }
  } else if (typeof oldSpec.activeDeadlineSeconds === 'number') {
    errs.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  // Tolerations may only be added (tolerationSeconds of existing ones may change).
  const newTol = arr(newSpec.tolerations);
  const modified = arr(oldSpec.tolerations).some(
    (old: any) => !newTol.some((t: any) => semanticEqual({ ...old, tolerationSeconds: undefined }, { ...t, tolerationSeconds: undefined })),
  );
  if (modified) errs.push(forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
  else errs.push(...validateTolerations(newSpec.tolerations, 'spec.tolerations'));
  // Scheduling gates may only be removed.
  const oldGates = new Set(arr(oldSpec.schedulingGates).map((g: any) => str(g?.name)));
  arr(newSpec.schedulingGates).forEach((g: any, i: number) => {
    if (!oldGates.has(str(g?.name))) errs.push(forbidden(`spec.schedulingGates[${i}].name`, `only deletion is allowed, but found new scheduling gate '${str(g?.name)}'`));
  });
  if (semanticEqual(newSpec, oldSpec)) return errs;

  const munged = clone(newSpec);
  for (const kind of ['containers', 'initContainers']) {
    arr(munged[kind]).forEach((c: any, i: number) => {
      c.image = oldSpec[kind][i]?.image;
    });
  }
  munged.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  munged.schedulingGates = oldSpec.schedulingGates;
  munged.tolerations = oldSpec.tolerations;
  if (typeof oldSpec.terminationGracePeriodSeconds === 'number' && oldSpec.terminationGracePeriodSeconds < 0 && munged.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  }
  if (arr(oldSpec.schedulingGates).length > 0) {
    // Gated pods may gain nodeSelector entries and node affinity terms.
    const oldNS = isObj(oldSpec.nodeSelector) ? oldSpec.nodeSelector : {};
    const newNS = isObj(munged.nodeSelector) ? munged.nodeSelector : {};
    if (!semanticEqual(oldNS, newNS)) {
      if (Object.entries(oldNS).some(([k, v]) => newNS[k] !== v)) {
        errs.push(invalid('spec.nodeSelector', goStringMap(newNS), 'only additions to spec.nodeSelector are allowed (no mutations or deletions)'));
      }
      munged.nodeSelector = oldSpec.nodeSelector;
    }
    if (!semanticEqual(oldSpec.affinity?.nodeAffinity, munged.affinity?.nodeAffinity)) {
      if (isObj(munged.affinity)) munged.affinity.nodeAffinity = oldSpec.affinity?.nodeAffinity;
      else munged.affinity = oldSpec.affinity;
    }
  }
  if (!semanticEqual(munged, oldSpec)) {
    errs.push(forbidden('spec', `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}\n${specDiff(oldSpec, munged)}`));
  }
  return errs;
}

/**
 * ValidatePodEphemeralContainersUpdate (the pods/ephemeralcontainers subresource): the new pod must
 * be valid as a whole, and existing ephemeral containers may be neither removed nor changed (matched
 * by name, since a patch need not keep their order). Static pods get none.
 */
export function validatePodEphemeralContainersUpdate(newPod: any, oldPod: any): FieldError[] {
  const errs = validateObjectMetaUpdate(newPod?.metadata, oldPod?.metadata);
  errs.push(...validatePodMetadataAndSpec(newPod, allowsInvalidDeletionCost(oldPod)));
  errs.push(...podAnnotationUpdateErrors(newPod, oldPod));
  if (isObj(oldPod?.metadata?.annotations) && MIRROR in oldPod.metadata.annotations) {
    return [forbidden('', 'static pods do not support ephemeral containers')];
  }
  const byName = new Map<string, any>();
  for (const ec of arr(newPod?.spec?.ephemeralContainers)) byName.set(str(ec?.name), ec);
  for (const old of arr(oldPod?.spec?.ephemeralContainers)) {
    const name = str(old?.name);
    const cur = byName.get(name);
    if (cur === undefined) errs.push(forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(name)} may not be removed\n`));
    else if (!semanticEqual(old, cur)) {
      errs.push(forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(name)} may not be changed\n${structDiff('core.EphemeralContainer', old, cur)}`));
    }
  }
  return errs;
}

/** ValidatePodTemplate (the PodTemplate resource). */
export function validatePodTemplateObject(obj: any): FieldError[] {
  return validateObjectMeta(obj?.metadata, true, nameIsDNSSubdomain).concat(validatePodTemplateSpec(obj?.template, 'template'));
}
