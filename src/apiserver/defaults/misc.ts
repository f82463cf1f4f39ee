/** Defaulting of the remaining kinds: Secret, Namespace, Endpoints, EndpointSlice, networking, RBAC, storage, quota. */
import { Buffer } from 'node:buffer';
import { defaultResourceList } from './quantities.js';
import { defaultPVCSpec } from './pod.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const unset = (v: unknown): boolean => v === undefined || v === null;

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** SetDefaults_Secret; stringData is write-only and folds into data, as conversion does. */
export function defaultSecret(s: any): void {
  if (!isObj(s)) return;
  if (!s.type) s.type = 'Opaque';
  if (isObj(s.stringData)) {
    const data = (s.data = isObj(s.data) ? s.data : {});
    for (const [k, v] of Object.entries(s.stringData)) data[k] = Buffer.from(String(v ?? ''), 'utf8').toString('base64');
    delete s.stringData;
  }
}

export function defaultNamespace(ns: any): void {
  if (!isObj(ns)) return;
  const meta = (ns.metadata ??= {});
  // Every named namespace carries its own name as a label.
  if (meta.name) meta.labels = { ...(isObj(meta.labels) ? meta.labels : {}), 'kubernetes.io/metadata.name': meta.name };
  const spec = (ns.spec = isObj(ns.spec) ? ns.spec : {});
  // A namespace being deleted may have had its finalizers cleared already; never bring them back.
  if (unset(spec.finalizers) && !meta.deletionTimestamp) spec.finalizers = ['kubernetes'];
  const status = (ns.status = isObj(ns.status) ? ns.status : {});
  if (!status.phase) status.phase = 'Active';
}

export function defaultEndpoints(ep: any): void {
  for (const ss of arr(ep?.subsets)) for (const p of arr(ss?.ports)) if (isObj(p) && !p.protocol) p.protocol = 'TCP';
}

export function defaultEndpointSlice(es: any): void {
  for (const p of arr(es?.ports)) {
    if (!isObj(p)) continue;
    if (unset(p.name)) p.name = '';
    if (unset(p.protocol)) p.protocol = 'TCP';
  }
}

export function defaultNetworkPolicy(np: any): void {
  if (!isObj(np)) return;
  const spec = (np.spec ??= {});
  for (const rule of [...arr(spec.ingress), ...arr(spec.egress)]) {
    for (const p of arr(rule?.ports)) if (isObj(p) && unset(p.protocol)) p.protocol = 'TCP';
  }
  if (arr(spec.policyTypes).length === 0) {
    // A policy without policyTypes is at least an Ingress policy.
    spec.policyTypes = ['Ingress'];
    if (arr(spec.egress).length !== 0) spec.policyTypes.push('Egress');
  }
}

export function defaultIngressClass(ic: any): void {
  const params = ic?.spec?.parameters;
  if (isObj(params) && unset(params.scope)) params.scope = 'Cluster';
}

export function defaultBinding(b: any): void {
  if (!isObj(b)) return;
  if (isObj(b.roleRef) && !b.roleRef.apiGroup) b.roleRef.apiGroup = RBAC_GROUP;
  for (const s of arr(b.subjects)) {
    if (!isObj(s) || s.apiGroup) continue;
    if (s.kind === 'ServiceAccount') s.apiGroup = '';
    else if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = RBAC_GROUP;
  }
}

export function defaultLimitRange(lr: any): void {
  for (const item of arr(lr?.spec?.limits)) {
    if (!isObj(item)) continue;
    for (const k of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) defaultResourceList(item[k]);
    if (item.type !== 'Container') continue;
    // Container limits: default from max, defaultRequest from default, then from min.
    const def = (item.default = isObj(item.default) ? item.default : {});
    const defReq = (item.defaultRequest = isObj(item.defaultRequest) ? item.defaultRequest : {});
    for (const [k, v] of Object.entries(isObj(item.max) ? item.max : {})) if (!(k in def)) def[k] = v;
    for (const [k, v] of Object.entries(def)) if (!(k in defReq)) defReq[k] = v;
    for (const [k, v] of Object.entries(isObj(item.min) ? item.min : {})) if (!(k in defReq)) defReq[k] = v;
  }
}

export function defaultResourceQuota(rq: any): void {
  defaultResourceList(rq?.spec?.hard);
  defaultResourceList(rq?.status?.hard);
  defaultResourceList(rq?.status?.used);
}

export function defaultPVC(pvc: any): void {
  if (!isObj(pvc)) return;
  defaultPVCSpec((pvc.spec ??= {}));
  const status = (pvc.status = isObj(pvc.status) ? pvc.status : {});
  if (!status.phase) status.phase = 'Pending';
}

export function defaultPV(pv: any): void {
  if (!isObj(pv)) return;
  const spec = (pv.spec ??= {});
  if (!spec.persistentVolumeReclaimPolicy) spec.persistentVolumeReclaimPolicy = 'Retain';
  if (unset(spec.volumeMode)) spec.volumeMode = 'Filesystem';
  defaultResourceList(spec.capacity);
  const status = (pv.status = isObj(pv.status) ? pv.status : {});
  if (!status.phase) status.phase = 'Pending';
}

/** SetDefaults_StorageClass (storage.k8s.io/v1). */
export function defaultStorageClass(sc: any): void {
  if (!isObj(sc)) return;
  if (unset(sc.reclaimPolicy)) sc.reclaimPolicy = 'Delete';
  if (unset(sc.volumeBindingMode)) sc.volumeBindingMode = 'Immediate';
}

export function defaultNode(node: any): void {
  const status = node?.status;
  if (!isObj(status)) return;
  defaultResourceList(status.capacity);
  defaultResourceList(status.allocatable);
  if (unset(status.allocatable) && isObj(status.capacity)) status.allocatable = { ...status.capacity };
}
