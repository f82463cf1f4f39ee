/** Pod and PodSpec defaulting (pkg/apis/core/v1/defaults.go and the generated defaulters). */
import { canonicalize, defaultResourceList } from './quantities.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const unset = (v: unknown): boolean => v === undefined || v === null;

/** The tag of an image reference ("" when it is pinned by digest only, "latest" when absent). */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) return name.slice(colon + 1);
  return at >= 0 ? '' : 'latest';
}

function defaultHTTPGet(h: any): void {
  if (!isObj(h)) return;
  if (!h.path) h.path = '/';
  if (!h.scheme) h.scheme = 'HTTP';
}

function defaultProbe(p: any): void {
  if (!isObj(p)) return;
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
  defaultHTTPGet(p.httpGet);
}

function defaultContainer(c: any): void {
  if (!isObj(c)) return;
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(String(c.image ?? '')) === 'latest' ? 'Always' : 'IfNotPresent';
  if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log';
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  for (const p of arr(c.ports)) if (isObj(p) && !p.protocol) p.protocol = 'TCP';
  for (const e of arr(c.env)) {
    const fr = e?.valueFrom?.fieldRef;
    if (isObj(fr) && !fr.apiVersion) fr.apiVersion = 'v1';
    const rr = e?.valueFrom?.resourceFieldRef;
    if (isObj(rr) && !unset(rr.divisor)) rr.divisor = canonicalize(rr.divisor, false);
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isObj(c.lifecycle)) {
    defaultHTTPGet(c.lifecycle.postStart?.httpGet);
    defaultHTTPGet(c.lifecycle.preStop?.httpGet);
  }
  if (isObj(c.resources)) {
    defaultResourceList(c.resources.limits);
    defaultResourceList(c.resources.requests);
  }
}

const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap',
  'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos', 'csi',
  'ephemeral', 'image',
];

/** Files in secret/configMap/downwardAPI/projected volumes are 0644 unless set. */
const DEFAULT_MODE = 0o644;

export function defaultPVCSpec(spec: any): void {
  if (!isObj(spec)) return;
  if (unset(spec.volumeMode)) spec.volumeMode = 'Filesystem';
  if (isObj(spec.resources)) {
    defaultResourceList(spec.resources.requests);
    defaultResourceList(spec.resources.limits);
  }
}

function defaultVolume(v: any): void {
  if (!isObj(v)) return;
  // A volume with no source is an emptyDir.
  if (!VOLUME_SOURCES.some((k) => !unset(v[k]))) v.emptyDir = {};
  if (isObj(v.emptyDir) && !unset(v.emptyDir.sizeLimit)) v.emptyDir.sizeLimit = canonicalize(v.emptyDir.sizeLimit, false);
  for (const k of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    if (isObj(v[k]) && unset(v[k].defaultMode)) v[k].defaultMode = DEFAULT_MODE;
  }
  if (isObj(v.hostPath) && unset(v.hostPath.type)) v.hostPath.type = '';
  for (const item of arr(v.downwardAPI?.items)) if (isObj(item?.fieldRef) && !item.fieldRef.apiVersion) item.fieldRef.apiVersion = 'v1';
  for (const src of arr(v.projected?.sources)) {
    if (isObj(src?.serviceAccountToken) && unset(src.serviceAccountToken.expirationSeconds)) src.serviceAccountToken.expirationSeconds = 3600;
    for (const item of arr(src?.downwardAPI?.items)) if (isObj(item?.fieldRef) && !item.fieldRef.apiVersion) item.fieldRef.apiVersion = 'v1';
  }
  if (isObj(v.ephemeral?.volumeClaimTemplate)) defaultPVCSpec(v.ephemeral.volumeClaimTemplate.spec);
  if (isObj(v.image) && !v.image.pullPolicy) v.image.pullPolicy = imageTag(String(v.image.reference ?? '')) === 'latest' ? 'Always' : 'IfNotPresent';
}

/** SetDefaults_PodSpec and the defaults of everything a PodSpec contains. */
export function defaultPodSpec(spec: any): void {
  if (!isObj(spec)) return;
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  if (unset(spec.securityContext)) spec.securityContext = {};
  if (unset(spec.terminationGracePeriodSeconds)) spec.terminationGracePeriodSeconds = 30;
  if (!spec.schedulerName) spec.schedulerName = 'default-scheduler';
  for (const v of arr(spec.volumes)) defaultVolume(v);
  for (const kind of ['initContainers', 'containers', 'ephemeralContainers']) for (const c of arr(spec[kind])) defaultContainer(c);
  if (isObj(spec.overhead)) defaultResourceList(spec.overhead);
}

export function defaultPodTemplateSpec(tpl: any): void {
  if (isObj(tpl)) defaultPodSpec((tpl.spec ??= {}));
}

/** SetDefaults_Pod, plus what the Priority admission plugin fills in for a pod without a class. */
export function defaultPod(pod: any): void {
  if (!isObj(pod)) return;
  const spec = (pod.spec ??= {});
  defaultPodSpec(spec);
  // Requests default to limits, for pods only (not templates).
  for (const kind of ['containers', 'initContainers']) {
    for (const c of arr(spec[kind])) {
      const limits = c?.resources?.limits;
      if (!isObj(limits)) continue;
      const requests = (c.resources.requests = isObj(c.resources.requests) ? c.resources.requests : {});
      for (const [k, v] of Object.entries(limits)) if (!(k in requests)) requests[k] = v;
    }
  }
  if (unset(spec.enableServiceLinks)) spec.enableServiceLinks = true;
  if (spec.hostNetwork === true) {
    // With host networking every container port is also a host port.
    for (const kind of ['containers', 'initContainers']) {
      for (const c of arr(spec[kind])) for (const p of arr(c?.ports)) if (isObj(p) && !p.hostPort) p.hostPort = p.containerPort;
    }
  }
  if (unset(spec.priority) && !spec.priorityClassName) spec.priority = 0;
  if (unset(spec.preemptionPolicy)) spec.preemptionPolicy = 'PreemptLowerPriority';
}
