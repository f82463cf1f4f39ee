/**
 * Pure computation of a pod's API status from what the runtime reports and what the pod worker
 * remembers, with upstream's rules (kubelet_pods.go getPhase / generateAPIPodStatus and
 * status/generate.go): phase, the five conditions, container statuses with state, lastState,
 * restartCount, ready and started.
 */
import type { ContainerState as RtState } from '../../runtime/cri.js';

export interface RtContainer {
  id: string;
  name: string;
  attempt: number;
  state: RtState;
  exitCode: number;
  reason: string;
  message: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  image: string;
  imageRef: string;
}

/** The runtime's view of one pod: its sandbox and every container instance, newest first per name. */
export interface RtPod {
  sandbox?: { id: string; ready: boolean; ip?: string; createdAt: number };
  containers: Map<string, RtContainer[]>;
}

export interface Waiting {
  reason: string;
  message?: string;
}

export interface WorkerView {
  runtimeName: string;
  /** Waiting reasons set by the worker (CrashLoopBackOff, CreateContainerConfigError, …). */
  waiting: Map<string, Waiting>;
  initialized: boolean;
  /** Set once the pod is done (restart policy, deadline, deletion). */
  terminal?: { phase: 'Succeeded' | 'Failed'; reason?: string; message?: string; /** Kill grace override (eviction: 0). */ graceSec?: number };
  startTime?: string;
  podIP?: string;
  hostIP?: string;
  ready(name: string, containerId: string): boolean;
  started(name: string, containerId: string): boolean;
}

export const isSidecar = (c: any): boolean => c?.restartPolicy === 'Always';

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function terminatedOf(c: RtContainer, runtimeName: string): any {
  const t: any = {
    exitCode: c.exitCode,
    reason: c.reason || (c.exitCode === 0 ? 'Completed' : 'Error'),
    startedAt: c.startedAt ? rfc3339(c.startedAt) : null,
    finishedAt: rfc3339(c.finishedAt),
    containerID: `${runtimeName}://${c.id}`,
  };
  if (c.message) t.message = c.message;
  return t;
}

/** Whether an exited container will be started again under the pod's restart policy. */
export function willRestart(pod: any, spec: any, c: RtContainer | undefined, isInit: boolean): boolean {
  if (!c || c.state !== 'CONTAINER_EXITED') return false;
  if (isInit && isSidecar(spec)) return true;
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (isInit) return c.exitCode !== 0 && policy !== 'Never';
  return policy === 'Always' || (policy === 'OnFailure' && c.exitCode !== 0);
}

/**
 * One container's API status. Ephemeral containers never restart, are never ready, and carry no
 * `started` (upstream's prober sets it for app and init containers only).
 */
/** The container's status as last written to the API. */
function reportedStatus(pod: any, name: string, isInit: boolean, ephemeral: boolean): any {
  const list = ephemeral ? pod.status?.ephemeralContainerStatuses : isInit ? pod.status?.initContainerStatuses : pod.status?.containerStatuses;
  return Array.isArray(list) ? list.find((c: any) => c?.name === name) : undefined;
}

/**
 * The container's volume mounts as its status reports them (upstream since RecursiveReadOnlyMounts
 * went beta in 1.31): a read-only one says whether it is recursively read-only, which no runtime
 * here offers (IfPossible falls back to Disabled).
 */
export function volumeMountStatuses(spec: any): any[] | undefined {
  const vms: any[] = Array.isArray(spec?.volumeMounts) ? spec.volumeMounts : [];
  if (!vms.length) return undefined;
  return vms.map((vm) => {
    const m: any = { name: vm.name, mountPath: vm.mountPath };
    if (vm.readOnly) {
      m.readOnly = true;
      m.recursiveReadOnly = 'Disabled';
    }
    return m;
  });
}

export function containerStatus(pod: any, spec: any, rp: RtPod, v: WorkerView, isInit: boolean, ephemeral = false): any {
  const list = rp.containers.get(spec.name) ?? [];
  const latest = list[0];
  const prev = list[1];
  const defaultWaiting: Waiting = { reason: (pod.spec?.initContainers?.length ?? 0) > 0 ? 'PodInitializing' : 'ContainerCreating' };
  const cs: any = { name: spec.name, image: spec.image, imageID: '', ready: false, started: false, restartCount: latest ? latest.attempt : 0, state: {}, lastState: {} };
  if (ephemeral) delete cs.started;
  const mounts = volumeMountStatuses(spec);
  if (mounts) cs.volumeMounts = mounts;
  const waiting = v.waiting.get(spec.name);
  if (!latest) {
    // No runtime record (removed, or the agent restarted with a runtime that forgets): as upstream's
    // convertToAPIContainerStatuses, a terminated status already reported stands, and a waiting one
    // keeps the reported restart count and last state. Otherwise a finished Job's pod would go back
    // to ContainerCreating.
    const old = reportedStatus(pod, spec.name, isInit, ephemeral);
    if (old?.state?.terminated && !waiting) return { ...old };
    cs.state = { waiting: waiting ?? defaultWaiting };
    if (old) {
      cs.restartCount = old.restartCount ?? 0;
      cs.lastState = old.state?.terminated ? { terminated: old.state.terminated } : old.lastState ?? {};
    }
  } else {
    cs.containerID = `${v.runtimeName}://${latest.id}`;
    cs.imageID = latest.imageRef;
    if (latest.state === 'CONTAINER_RUNNING') {
      cs.state = { running: { startedAt: rfc3339(latest.startedAt) } };
      if (ephemeral) return cs;
      cs.started = v.started(spec.name, latest.id);
      cs.ready = cs.started && v.ready(spec.name, latest.id);
      if (isInit && !isSidecar(spec)) cs.ready = false;
    } else if (latest.state === 'CONTAINER_EXITED') {
      const term = terminatedOf(latest, v.runtimeName);
      if (!ephemeral && !v.terminal && willRestart(pod, spec, latest, isInit) && waiting) {
        cs.state = { waiting };
        cs.lastState = { terminated: term };
      } else {
        cs.state = { terminated: term };
        // An init container that succeeded is "ready" in upstream's status.
        if (isInit && !isSidecar(spec) && latest.exitCode === 0) cs.ready = true;
      }
    } else {
      cs.state = { waiting: waiting ?? { reason: 'ContainerCreating' } };
    }
    if (prev && prev.state === 'CONTAINER_EXITED' && !cs.lastState.terminated) cs.lastState = { terminated: terminatedOf(prev, v.runtimeName) };
  }
  return cs;
}

/** Upstream getPhase, plus the worker's terminal decision. */
export function podPhase(pod: any, rp: RtPod, v: WorkerView): string {
  if (v.terminal) return v.terminal.phase;
  const policy = pod.spec?.restartPolicy ?? 'Always';
  let pendingInit = 0;
  let failedInit = false;
  if (!v.initialized) {
    for (const ic of pod.spec?.initContainers ?? []) {
      const c = rp.containers.get(ic.name)?.[0];
      if (isSidecar(ic)) {
        if (!c || c.state !== 'CONTAINER_RUNNING') pendingInit++;
        continue;
      }
      if (c?.state === 'CONTAINER_EXITED' && c.exitCode === 0) continue;
      if (c?.state === 'CONTAINER_EXITED' && policy === 'Never') failedInit = true;
      pendingInit++;
    }
  }
  if (failedInit) return 'Failed';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const spec of pod.spec?.containers ?? []) {
    const list = rp.containers.get(spec.name) ?? [];
    const c = list[0];
    if (!c || c.state === 'CONTAINER_CREATED') {
      // A container waiting to restart after a termination counts as stopped, as upstream.
      if (list.some((x) => x.state === 'CONTAINER_EXITED')) stopped++;
      else waiting++;
    } else if (c.state === 'CONTAINER_RUNNING') running++;
    else if (c.state === 'CONTAINER_EXITED') {
      stopped++;
      if (c.exitCode === 0) succeeded++;
    }
  }
  if (pendingInit > 0 || waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, reason?: string, message?: string): any {
  const c: any = { type, status: ok ? 'True' : 'False', lastProbeTime: null };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

/** The API status the kubelet would write now. `old` keeps transition times and foreign conditions. */
export function generatePodStatus(pod: any, rp: RtPod, v: WorkerView, now: number): any {
  const old = pod.status ?? {};
  const initStatuses = (pod.spec?.initContainers ?? []).map((c: any) => containerStatus(pod, c, rp, v, true));
  const appStatuses = (pod.spec?.containers ?? []).map((c: any) => containerStatus(pod, c, rp, v, false));
  const phase = podPhase(pod, rp, v);
  const done = phase === 'Succeeded' || phase === 'Failed';

  const conds: any[] = [];
  conds.push(condition('PodReadyToStartContainers', !!(rp.sandbox?.ready && rp.sandbox.ip)));
  const incompleteInit = (pod.spec?.initContainers ?? [])
    .filter((ic: any, i: number) => {
      const s = initStatuses[i];
      return isSidecar(ic) ? !s.started && !v.initialized : !(s.state.terminated?.exitCode === 0);
    })
    .map((ic: any) => ic.name);
  // A Succeeded pod is Initialized with PodCompleted, init containers or not (upstream's GeneratePodInitializedCondition).
  if (phase === 'Succeeded') conds.push(condition('Initialized', true, 'PodCompleted'));
  else if (v.initialized || incompleteInit.length === 0) conds.push(condition('Initialized', true));
  else conds.push(condition('Initialized', false, 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInit.join(' ')}]`));

  const unready = [
    ...(pod.spec?.initContainers ?? []).filter((ic: any, i: number) => isSidecar(ic) && !initStatuses[i].ready).map((c: any) => c.name),
    ...(pod.spec?.containers ?? []).filter((_c: any, i: number) => !appStatuses[i].ready).map((c: any) => c.name),
  ];
  let containersReady: any;
  if (done) containersReady = condition('ContainersReady', false, phase === 'Failed' ? 'PodFailed' : 'PodCompleted');
  else if (unready.length) containersReady = condition('ContainersReady', false, 'ContainersNotReady', `containers with unready status: [${unready.join(' ')}]`);
  else containersReady = condition('ContainersReady', true);

  let ready: any;
  if (containersReady.status !== 'True') ready = { ...containersReady, type: 'Ready' };
  else {
    const gateMsgs: string[] = [];
    for (const g of pod.spec?.readinessGates ?? []) {
      const c = (old.conditions ?? []).find((x: any) => x.type === g.conditionType);
      if (!c) gateMsgs.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
      else if (c.status !== 'True') gateMsgs.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
    }
    ready = gateMsgs.length ? condition('Ready', false, 'ReadinessGatesNotReady', gateMsgs.join(', ')) : condition('Ready', true);
  }
  conds.push(ready, containersReady, condition('PodScheduled', true));

  const owned = new Set(conds.map((c) => c.type));
  const nowTs = rfc3339(now);
  for (const c of conds) {
    const prev = (old.conditions ?? []).find((x: any) => x.type === c.type);
    c.lastTransitionTime = prev && prev.status === c.status ? prev.lastTransitionTime ?? nowTs : nowTs;
  }
  const foreign = (old.conditions ?? []).filter((c: any) => !owned.has(c.type));

  const status: any = {
    phase,
    conditions: [...conds, ...foreign],
    hostIP: v.hostIP,
    hostIPs: v.hostIP ? [{ ip: v.hostIP }] : undefined,
    podIP: v.podIP,
    podIPs: v.podIP ? [{ ip: v.podIP }] : undefined,
    startTime: v.startTime,
    containerStatuses: appStatuses,
    qosClass: old.qosClass,
  };
  if (initStatuses.length) status.initContainerStatuses = initStatuses;
  const ephemeral = pod.spec?.ephemeralContainers ?? [];
  if (ephemeral.length) status.ephemeralContainerStatuses = ephemeral.map((c: any) => containerStatus(pod, c, rp, v, false, true));
  if (v.terminal?.reason) status.reason = v.terminal.reason;
  if (v.terminal?.message) status.message = v.terminal.message;
  for (const k of Object.keys(status)) if (status[k] === undefined) delete status[k];
  return status;
}
