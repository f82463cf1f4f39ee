import type { ResourceInfo } from './resources.js';
import { customStrategy } from './crd/custom.js';
import { deepCopy } from './clone.js';
import { ConversionError, hpaV1ToV2, hpaV2ToV1 } from './hpa/conversion.js';
import { badRequest } from './status.js';
import type { UserInfo } from './auth/types.js';
import { defaultAPIService, localAvailableCondition } from './aggregator/apiservice.js';
import { defaultCSIDriver } from './validation/csi.js';
import { defaultFlowSchema, defaultPriorityLevelConfiguration } from './validation/flowcontrol.js';

const customStrategies = new WeakMap<ResourceInfo, Strategy>();
function customStrategyOf(info: ResourceInfo): Strategy {
  let s = customStrategies.get(info);
  if (!s) customStrategies.set(info, (s = customStrategy(info)));
  return s;
}

/**
 * Per-resource behaviour of the generic store, as upstream's registry strategies: what the server
 * sets on create, what an update may change, and how deletion proceeds.
 */
export interface Strategy {
  /** Called on create after metadata is set and before defaulting/validation; `user` made the request. */
  prepareForCreate?(obj: any, user?: UserInfo): void;
  /** Runs again after mutating admission on create: what no webhook may change (a CSR's requester). */
  afterCreateAdmission?(obj: any, user?: UserInfo): void;
  /** Main-resource update: the caller may not change status here (reset from old when the resource has a status subresource). */
  prepareForUpdate?(obj: any, old: any): void;
  /**
   * Status-subresource update of a resource whose status writes may also change metadata (pods, as
   * upstream): given the written object with the server-owned metadata already carried over, reset
   * what the status endpoint may not change. Without it a status write changes status only.
   */
  prepareForStatusUpdate?(obj: any, old: any): void;
  /**
   * Writes through a subresource with rules of its own (namespace finalize, CSR status and approval):
   * the next object, built from the stored one and the written one. Takes precedence over the generic
   * status rule; such a subresource is served as an update of the object.
   */
  subresourceUpdates?: Record<string, (obj: any, old: any) => any>;
  /** Grace period for a delete without an explicit one (undefined: delete at once). */
  defaultGracePeriod?(obj: any): number | undefined;
  /** Something other than metadata.finalizers holds deletion back (namespace spec.finalizers). */
  blocksDeletion?(obj: any): boolean;
  /** Called when deletion is recorded but not yet complete. */
  markDeleting?(obj: any): void;
  /** Convert from the shared storage shape to this resource's version, and back. */
  fromStorage?(obj: any): any;
  toStorage?(obj: any): any;
}

function podQOSClass(pod: any): string {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let anyReq = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) anyReq = true;
      const l = lim[r];
      const q = req[r] ?? l;
      if (l === undefined || String(q) !== String(l)) guaranteed = false;
    }
  }
  if (!anyReq) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

const podStrategy: Strategy = {
  prepareForCreate(pod) {
    // Upstream turns a negative grace period into the minimum, rather than refusing it.
    if (pod.spec?.terminationGracePeriodSeconds < 0) pod.spec.terminationGracePeriodSeconds = 1;
    pod.status = { phase: 'Pending', qosClass: podQOSClass(pod) };
  },
  prepareForStatusUpdate(pod, old) {
    // Upstream's podStatusStrategy: the spec and ownerReferences stay (old kubelets corrupted the
    // latter), the deletion timestamp too; labels, annotations and finalizers may change; the QoS
    // class is backfilled when a status leaves it out.
    // Shared with the stored pod, not copied: nothing after this changes them (cached objects are
    // read-only; the test suite checks that no write changes the object it started from).
    if (old.spec === undefined) delete pod.spec;
    else pod.spec = old.spec;
    if (old.metadata.ownerReferences === undefined) delete pod.metadata.ownerReferences;
    else pod.metadata.ownerReferences = old.metadata.ownerReferences;
    const qos = old.status?.qosClass;
    const status = pod.status !== null && typeof pod.status === 'object' && !Array.isArray(pod.status) ? pod.status : undefined;
    if (qos && !status?.qosClass) pod.status = { ...status, qosClass: qos };
  },
  defaultGracePeriod(pod) {
    // An unscheduled or finished pod has no kubelet to wait for: it goes at once, as upstream.
    if (!pod.spec?.nodeName) return 0;
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 0;
    return pod.spec?.terminationGracePeriodSeconds ?? 30;
  },
};

/**
 * Upstream's podEphemeralContainersStrategy: a write through pods/ephemeralcontainers changes
 * spec.ephemeralContainers only; everything else comes from the stored pod (identity fields are
 * kept from the write so that validation can refuse a change of them).
 */
export const podEphemeralContainersStrategy = {
  prepareForUpdate(pod: any, old: any): any {
    const next = deepCopy(old);
    next.metadata ??= {};
    for (const k of ['name', 'namespace', 'uid', 'resourceVersion']) {
      if (pod?.metadata?.[k] !== undefined) next.metadata[k] = pod.metadata[k];
    }
    next.spec ??= {};
    const ecs = pod?.spec?.ephemeralContainers;
    if (ecs === undefined || ecs === null) delete next.spec.ephemeralContainers;
    else next.spec.ephemeralContainers = ecs;
    return next;
  },
};

/** Every namespace carries its own name as a label, so selectors can pick namespaces by name. */
function labelNamespaceName(ns: any): void {
  ns.metadata.labels = { ...ns.metadata.labels, 'kubernetes.io/metadata.name': ns.metadata.name };
}

const namespaceStrategy: Strategy = {
  prepareForCreate(ns) {
    ns.status = { phase: 'Active' };
    ns.spec ??= {};
    ns.spec.finalizers ??= ['kubernetes'];
    labelNamespaceName(ns);
  },
  prepareForUpdate(ns, old) {
    ns.metadata.name = old.metadata.name;
    // The content finalizers are changed through /finalize only, as upstream.
    ns.spec = { ...ns.spec, finalizers: old.spec?.finalizers };
    if (ns.spec.finalizers === undefined) delete ns.spec.finalizers;
    labelNamespaceName(ns);
  },
  subresourceUpdates: {
    // /finalize changes spec.finalizers only.
    finalize(ns, old) {
      const next = deepCopy(old);
      next.spec = { ...next.spec, finalizers: ns.spec?.finalizers ?? [] };
      return next;
    },
  },
  blocksDeletion: (ns) => (ns.spec?.finalizers?.length ?? 0) > 0,
  markDeleting(ns) {
    ns.status = { ...ns.status, phase: 'Terminating' };
  },
};

const serviceStrategy: Strategy = {
  prepareForCreate(svc) {
    svc.status = { loadBalancer: {} };
  },
};

/** Resets status on create, as upstream does for resources whose status only controllers write. */
const resetStatus: Strategy = {
  prepareForCreate(obj) {
    obj.status = {};
  },
};

const rfc3339Now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * Upstream's PV strategy: a new volume starts Pending, and every phase change is stamped in
 * status.lastPhaseTransitionTime (PersistentVolumeLastPhaseTransitionTime, GA in 1.31) unless the
 * writer set a new time itself.
 */
export const persistentVolumeStrategy: Strategy = {
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending', lastPhaseTransitionTime: rfc3339Now() };
  },
  prepareForStatusUpdate(pv, old) {
    // Otherwise a status write changes status only, as for the other resources.
    const status = pv.status;
    for (const k of Object.keys(pv)) delete pv[k];
    Object.assign(pv, deepCopy(old));
    if (status === undefined) delete pv.status;
    else pv.status = status;
    if (status === null || typeof status !== 'object' || Array.isArray(status)) return;
    const before = old.status ?? {};
    if (status.phase !== before.phase && (!status.lastPhaseTransitionTime || status.lastPhaseTransitionTime === before.lastPhaseTransitionTime)) {
      status.lastPhaseTransitionTime = rfc3339Now();
    }
  },
};

const eventsV1Strategy: Strategy = {
  fromStorage: coreEventToEventsV1,
  toStorage: eventsV1ToCoreEvent,
};

/**
 * Upstream's HPA strategy: create starts with an empty status (the main resource's update keeps
 * the old one, as for every resource with a status subresource); behavior.*.tolerance is dropped
 * unless already in use (HPAConfigurableTolerance is off).
 */
const hpaStrategy: Strategy = {
  prepareForCreate(hpa) {
    hpa.status = {};
    dropTolerance(hpa, undefined);
  },
  prepareForUpdate(hpa, old) {
    dropTolerance(hpa, old);
  },
};

function dropTolerance(hpa: any, old: any): void {
  const rules = (o: any) => [o?.spec?.behavior?.scaleUp, o?.spec?.behavior?.scaleDown];
  if (rules(old).some((r) => r?.tolerance !== undefined && r?.tolerance !== null)) return;
  for (const r of rules(hpa)) if (r && typeof r === 'object') delete r.tolerance;
}

/** autoscaling/v1 is served from the v2 storage shape. */
const hpaV1Strategy: Strategy = {
  fromStorage: hpaV2ToV1,
  toStorage(obj) {
    try {
      const out = hpaV1ToV2(obj);
      // The store keeps working on the request's metadata object (managedFields on create): keep it.
      const meta = obj?.metadata;
      if (meta !== null && typeof meta === 'object' && !Array.isArray(meta)) {
        for (const k of Object.keys(meta)) delete meta[k];
        out.metadata = Object.assign(meta, out.metadata);
      }
      return out;
    } catch (e) {
      // Upstream fails the decode: the request is bad, not the server.
      if (e instanceof ConversionError) throw badRequest(e.message);
      throw e;
    }
  },
};

/** Upstream's CRD strategy: fresh status with the stored version, and the cleanup finalizer. */
const crdStrategy: Strategy = {
  prepareForCreate(crd) {
    const storage = (crd.spec?.versions ?? []).find((v: any) => v?.storage)?.name;
    crd.status = { acceptedNames: { plural: '', kind: '' }, conditions: [], storedVersions: storage ? [storage] : [] };
    const f: string[] = crd.metadata.finalizers ?? [];
    if (!f.includes(CRD_CLEANUP_FINALIZER)) crd.metadata.finalizers = [...f, CRD_CLEANUP_FINALIZER];
  },
  prepareForUpdate(crd) {
    // (A main-resource update already carries the old status over.)
    const storage = (crd.spec?.versions ?? []).find((v: any) => v?.storage)?.name;
    if (storage && crd.status && !crd.status.storedVersions?.includes(storage)) crd.status.storedVersions = [...(crd.status.storedVersions ?? []), storage];
  },
};

/**
 * Upstream's CSR strategies: the requester's identity comes from the request, never the body; the
 * spec is immutable; approval conditions change through /approval only, the certificate and other
 * conditions through /status only.
 */
const csrStrategy: Strategy = {
  prepareForCreate(csr, user) {
    const spec = csr.spec !== null && typeof csr.spec === 'object' && !Array.isArray(csr.spec) ? csr.spec : (csr.spec = {});
    for (const k of ['username', 'uid', 'groups', 'extra']) delete spec[k];
    if (user) {
      if (user.name) spec.username = user.name;
      if (user.uid) spec.uid = user.uid;
      if (user.groups?.length) spec.groups = [...user.groups];
      if (user.extra && Object.keys(user.extra).length) spec.extra = deepCopy(user.extra);
    }
    csr.status = {};
  },
  afterCreateAdmission(csr, user) {
    csrStrategy.prepareForCreate!(csr, user);
  },
  prepareForUpdate(csr, old) {
    if (old.spec === undefined) delete csr.spec;
    else csr.spec = deepCopy(old.spec);
  },
  subresourceUpdates: {
    status(csr, old) {
      const next = deepCopy(old);
      next.status = statusObject(csr.status);
      // Approved/Denied stay as stored when their count is unchanged (validation refuses other changes).
      for (const t of ['Approved', 'Denied']) preserveConditionInstances(next, old, t);
      stampConditions(next, old);
      return next;
    },
    approval(csr, old) {
      const next = deepCopy(old);
      const conditions = statusObject(csr.status).conditions;
      next.status = { ...next.status };
      if (conditions === undefined) delete next.status.conditions;
      else next.status.conditions = conditions;
      stampConditions(next, old);
      return next;
    },
  },
};

function statusObject(s: any): any {
  return s !== null && typeof s === 'object' && !Array.isArray(s) ? deepCopy(s) : {};
}

function conditionIndices(csr: any, type: string): number[] {
  const out: number[] = [];
  const conds = Array.isArray(csr?.status?.conditions) ? csr.status.conditions : [];
  conds.forEach((c: any, i: number) => c?.type === type && out.push(i));
  return out;
}

function preserveConditionInstances(next: any, old: any, type: string): void {
  const was = conditionIndices(old, type);
  const now = conditionIndices(next, type);
  if (was.length !== now.length) return;
  now.forEach((ni, i) => (next.status.conditions[ni] = deepCopy(old.status.conditions[was[i]!])));
}

/** Conditions without times get now; a transition time is kept when type and status are unchanged. */
function stampConditions(next: any, old: any): void {
  const conds = next.status?.conditions;
  if (!Array.isArray(conds)) return;
  const now = rfc3339Now();
  const before: any[] = Array.isArray(old?.status?.conditions) ? old.status.conditions : [];
  for (const c of conds) {
    if (c === null || typeof c !== 'object') continue;
    if (!c.lastUpdateTime) c.lastUpdateTime = now;
    if (!c.lastTransitionTime) c.lastTransitionTime = before.find((o) => o?.type === c.type && o?.status === c.status && o?.lastTransitionTime)?.lastTransitionTime ?? now;
  }
}

/**
 * kube-aggregator's APIService strategy: status starts empty, and a local APIService (no
 * spec.service) is Available at once; the port defaults to 443 (v1 defaulting).
 */
const apiServiceStrategy: Strategy = {
  prepareForCreate(obj) {
    defaultAPIService(obj);
    obj.status = {};
    const svc = obj.spec?.service;
    if (svc === undefined || svc === null) obj.status = { conditions: [localAvailableCondition()] };
  },
  prepareForUpdate(obj) {
    defaultAPIService(obj);
  },
};

/** Strategies that start with an empty status and apply v1 defaults on every write of the spec. */
function withDefaults(apply: (obj: any) => void, resetStatusOnCreate: boolean): Strategy {
  return {
    prepareForCreate(obj) {
      if (resetStatusOnCreate) obj.status = {};
      apply(obj);
    },
    prepareForUpdate(obj) {
      apply(obj);
    },
  };
}

const csiDriverStrategy = withDefaults(defaultCSIDriver, false);
const flowSchemaStrategy = withDefaults(defaultFlowSchema, true);
const priorityLevelStrategy = withDefaults(defaultPriorityLevelConfiguration, true);

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

export function strategyFor(info: ResourceInfo): Strategy {
  if (info.custom) return customStrategyOf(info);
  switch (info.key) {
    case 'pods':
      return podStrategy;
    case 'namespaces':
      return namespaceStrategy;
    case 'services':
      return serviceStrategy;
    case 'events.k8s.io/events':
      return eventsV1Strategy;
    case 'apps/deployments':
    case 'apps/replicasets':
    case 'apps/daemonsets':
    case 'apps/statefulsets':
    case 'batch/jobs':
    case 'batch/cronjobs':
    case 'networking.k8s.io/ingresses':
    case 'resourcequotas':
    case 'persistentvolumeclaims':
    case 'storage.k8s.io/volumeattachments':
      return resetStatus;
    case 'apiregistration.k8s.io/apiservices':
      return apiServiceStrategy;
    case 'storage.k8s.io/csidrivers':
      return csiDriverStrategy;
    case 'flowcontrol.apiserver.k8s.io/flowschemas':
      return flowSchemaStrategy;
    case 'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations':
      return priorityLevelStrategy;
    case 'persistentvolumes':
      return persistentVolumeStrategy;
    case 'autoscaling/horizontalpodautoscalers':
      return hpaStrategy;
    case 'autoscaling/v1/horizontalpodautoscalers':
      return hpaV1Strategy;
    case 'apiextensions.k8s.io/customresourcedefinitions':
      return crdStrategy;
    case 'certificates.k8s.io/certificatesigningrequests':
      return csrStrategy;
    default:
      return {};
  }
}

/** core/v1 Event (the storage shape) → events.k8s.io/v1 Event, field for field as upstream's conversion. */
export function coreEventToEventsV1(e: any): any {
  const out: any = {
    kind: 'Event',
    apiVersion: 'events.k8s.io/v1',
    metadata: e.metadata,
    eventTime: e.eventTime ?? null,
    reportingController: e.reportingComponent || e.source?.component || undefined,
    reportingInstance: e.reportingInstance || e.source?.host || undefined,
    action: e.action,
    reason: e.reason,
    regarding: e.involvedObject,
    related: e.related,
    note: e.message,
    type: e.type,
    deprecatedSource: e.source,
    deprecatedFirstTimestamp: e.firstTimestamp,
    deprecatedLastTimestamp: e.lastTimestamp,
    deprecatedCount: e.count,
  };
  if (e.series) out.series = { count: e.series.count, lastObservedTime: e.series.lastObservedTime };
  return dropUndefined(out);
}

export function eventsV1ToCoreEvent(e: any): any {
  const out: any = {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: e.metadata,
    involvedObject: e.regarding ?? {},
    reason: e.reason,
    message: e.note,
    source: e.deprecatedSource,
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
    count: e.deprecatedCount,
    type: e.type,
    eventTime: e.eventTime,
    series: e.series,
    action: e.action,
    related: e.related,
    reportingComponent: e.reportingController ?? '',
    reportingInstance: e.reportingInstance ?? '',
  };
  return dropUndefined(out);
}

function dropUndefined(o: any): any {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
