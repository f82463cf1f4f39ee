/** Pods: the NAME READY STATUS RESTARTS AGE table, with upstream's status summarisation. */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, findCondition, int, len, str, wide } from './common.js';
import { POD } from './descriptions.js';
import { formatAge, humanDuration, parseTime } from './duration.js';

/** The pod status reason the node lifecycle controller sets when a node stops responding. */
const NODE_UNREACHABLE_POD_REASON = 'NodeLost';

/** A sidecar: an init container with restartPolicy Always keeps running beside the app containers. */
function isRestartableInit(container: any): boolean {
  return container?.restartPolicy === 'Always';
}

function isPodPhaseTerminal(phase: string): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

function conditionTrue(conditions: unknown, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/** Keeps the latest lastState.terminated.finishedAt; undefined stands for Go's zero time. */
function laterRestart(current: number | undefined, status: any): number | undefined {
  const finished = parseTime(status?.lastState?.terminated?.finishedAt);
  if (finished === undefined) return current;
  return current === undefined || current < finished ? finished : current;
}

/** "Signal:9" / "ExitCode:1" for a terminated state without a reason. */
function terminatedWithoutReason(term: any, prefix: string): string {
  const signal = int(term.signal);
  return signal !== 0 ? `${prefix}Signal:${signal}` : `${prefix}ExitCode:${int(term.exitCode)}`;
}

export interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
}

/** The Ready, Status and Restarts cells, following printPod in printers.go. */
export function summarizePod(pod: any, now: Date): PodSummary {
  const spec = pod?.spec ?? {};
  const status = pod?.status ?? {};
  const initSpecs: any[] = Array.isArray(spec.initContainers) ? spec.initContainers : [];

  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = len(spec.containers);
  let readyContainers = 0;
  let lastRestart: number | undefined;
  let lastRestartableInitRestart: number | undefined;

  const phase = str(status.phase);
  let reason = str(status.reason) !== '' ? str(status.reason) : phase;

  // A pod held back by scheduling gates says so rather than "Pending".
  for (const c of Array.isArray(status.conditions) ? status.conditions : []) {
    if (c?.type === 'PodScheduled' && c?.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initByName = new Map<string, any>();
  for (const c of initSpecs) {
    initByName.set(str(c?.name), c);
    // Sidecars count towards READY like app containers.
    if (isRestartableInit(c)) totalContainers++;
  }

  let initializing = false;
  const initStatuses: any[] = Array.isArray(status.initContainerStatuses) ? status.initContainerStatuses : [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i] ?? {};
    const restartable = isRestartableInit(initByName.get(str(cs.name)));
    restarts += int(cs.restartCount);
    lastRestart = laterRestart(lastRestart, cs);
    if (restartable) {
      restartableInitRestarts += int(cs.restartCount);
      lastRestartableInitRestart = laterRestart(lastRestartableInitRestart, cs);
    }
    const term = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (term && int(term.exitCode) === 0) continue;
    if (restartable && cs.started === true) {
      if (cs.ready === true) readyContainers++;
      continue;
    }
    if (term) {
      // Initialization failed.
      reason = str(term.reason) === '' ? terminatedWithoutReason(term, 'Init:') : `Init:${term.reason}`;
    } else if (waiting && str(waiting.reason) !== '' && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    // Only the first init container that has not finished is reported.
    break;
  }

  if (!initializing || conditionTrue(status.conditions, 'Initialized')) {
    // Once initialized, only sidecar restarts carry over from the init phase.
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses: any[] = Array.isArray(status.containerStatuses) ? status.containerStatuses : [];
    // Walked backwards so the first container's state wins the Status cell.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i] ?? {};
      restarts += int(cs.restartCount);
      lastRestart = laterRestart(lastRestart, cs);
      const waiting = cs.state?.waiting;
      const term = cs.state?.terminated;
      if (waiting && str(waiting.reason) !== '') {
        reason = waiting.reason;
      } else if (term && str(term.reason) !== '') {
        reason = term.reason;
      } else if (term) {
        reason = terminatedWithoutReason(term, '');
      } else if (cs.ready === true && cs.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A container that exited cleanly while others still run does not make the pod "Completed".
    if (reason === 'Completed' && hasRunning) {
      reason = conditionTrue(status.conditions, 'Ready') ? 'Running' : 'NotReady';
    }
  }

  const deleting = parseTime(pod?.metadata?.deletionTimestamp) !== undefined;
  if (deleting && status.reason === NODE_UNREACHABLE_POD_REASON) {
    reason = 'Unknown';
  } else if (deleting && !isPodPhaseTerminal(phase)) {
    reason = 'Terminating';
  }

  let restartsStr = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) {
    restartsStr = `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)`;
  }

  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsStr };
}

/**
 * The pod IP as the internal type sees it: converting v1 to internal makes status.podIP
 * authoritative and falls back to podIPs[0].
 */
function podIP(status: any): string {
  const single = str(status?.podIP);
  if (single !== '') return single;
  return str(status?.podIPs?.[0]?.ip);
}

/** "<none>", or how many readiness gate conditions are True out of all gates. */
function readinessGates(pod: any): string {
  const gates: any[] = Array.isArray(pod?.spec?.readinessGates) ? pod.spec.readinessGates : [];
  if (gates.length === 0) return '<none>';
  let trueConditions = 0;
  for (const gate of gates) {
    if (findCondition(pod?.status?.conditions, gate?.conditionType)?.status === 'True') trueConditions++;
  }
  return `${trueConditions}/${gates.length}`;
}

function orNone(s: string): string {
  return s === '' ? '<none>' : s;
}

export const podPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 'The aggregate status of the containers in this pod.'),
    col(
      'Restarts',
      'string',
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    ),
    AGE_COLUMN,
    wide('IP', 'string', POD.podIP),
    wide('Node', 'string', POD.nodeName),
    wide('Nominated Node', 'string', POD.nominatedNodeName),
    wide('Readiness Gates', 'string', POD.readinessGates),
  ],
  cells(pod: any, now: Date): unknown[] {
    const s = summarizePod(pod, now);
    return [
      str(pod?.metadata?.name),
      s.ready,
      s.status,
      s.restarts,
      formatAge(pod?.metadata?.creationTimestamp, now),
      orNone(podIP(pod?.status)),
      orNone(str(pod?.spec?.nodeName)),
      orNone(str(pod?.status?.nominatedNodeName)),
      readinessGates(pod),
    ];
  },
};
