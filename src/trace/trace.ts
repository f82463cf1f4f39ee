/**
 * `skiff trace pod/NAME [-n NS]`: the pod's journey as a text timeline, from what the cluster
 * already records: creationTimestamp (admitted/persisted), the scheduler's Scheduled event and the
 * PodScheduled condition (scheduled/bound), the kubelet's `skiff.dev/journey` annotation
 * (millisecond steps: seen, volumes, sandbox/IP, each init container, containers started, Ready),
 * the remaining conditions, and every Event of the pod, merged and sorted by time.
 */
import type { RestClient } from '../client/rest.js';

export interface TraceOptions {
  name: string;
  namespace?: string;
}

interface Row {
  at: number;
  what: string;
  source: string;
  /** Sub-second precision of the source (second-precision rows sort before same-second ms rows). */
  precise: boolean;
}

const STEP_LABEL: Record<string, string> = {
  seen: 'seen by kubelet',
  volumes: 'volumes ready',
  sandbox: 'sandbox ready, pod IP',
  initialized: 'init containers done',
  started: 'all containers started',
  ready: 'Ready (probes passed)',
  completed: 'completed',
};

function label(step: string, detail?: string): string {
  let s = STEP_LABEL[step];
  if (!s) {
    if (step.startsWith('init:')) s = `init container ${step.slice(5)} started`;
    else if (step.startsWith('container:')) s = `container ${step.slice(10)} started`;
    else s = step;
  }
  return detail ? `${s} ${detail}` : s;
}

function ms(t: string | undefined): number | undefined {
  if (!t) return undefined;
  const v = Date.parse(t);
  return Number.isNaN(v) ? undefined : v;
}

/** Parses `pod/NAME`, `pods/NAME` or `NAME`. */
export function parseTarget(target: string): string {
  const m = /^(?:pods?|po)\/(.+)$/.exec(target);
  return m ? m[1] : target;
}

export async function collectTrace(client: RestClient, o: TraceOptions): Promise<{ pod: any; rows: Row[] }> {
  const ns = o.namespace ?? 'default';
  const pod = await client.get(`/api/v1/namespaces/${ns}/pods/${o.name}`);
  const events = await client.get(`/api/v1/namespaces/${ns}/events`, { fieldSelector: `involvedObject.name=${o.name},involvedObject.kind=Pod` });
  const rows: Row[] = [];
  const add = (t: string | undefined, what: string, source: string, precise = false) => {
    const at = ms(t);
    if (at !== undefined) rows.push({ at, what, source, precise });
  };
  add(pod.metadata.creationTimestamp, 'admitted and persisted', 'apiserver');
  const scheduled = (pod.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled');
  for (const e of events.items ?? []) {
    if (e.involvedObject?.uid && e.involvedObject.uid !== pod.metadata.uid) continue;
    const when = e.eventTime ?? e.firstTimestamp ?? e.lastTimestamp;
    const count = e.count > 1 ? ` (x${e.count})` : '';
    const where = e.involvedObject?.fieldPath ? ` [${e.involvedObject.fieldPath}]` : '';
    add(when, `${e.type === 'Warning' ? '⚠ ' : ''}${e.reason}: ${e.message}${where}${count}`, e.source?.component ?? e.reportingComponent ?? 'event', !!e.eventTime);
  }
  if (scheduled?.status === 'True') add(scheduled.lastTransitionTime, `bound to ${pod.spec?.nodeName}`, 'PodScheduled');
  const j = pod.metadata.annotations?.['skiff.dev/journey'];
  if (j) {
    try {
      for (const s of JSON.parse(j).steps ?? []) add(s.at, label(s.step, s.detail), 'kubelet', true);
    } catch {
      // a malformed annotation only loses those rows
    }
  }
  for (const c of pod.status?.conditions ?? []) {
    if (c.type === 'PodScheduled') continue;
    if (c.status === 'True') add(c.lastTransitionTime, `condition ${c.type}=True`, 'status');
  }
  rows.sort((a, b) => a.at - b.at || Number(a.precise) - Number(b.precise));
  return { pod, rows };
}

function fmtDelta(d: number): string {
  if (d < 1000) return `+${d}ms`;
  if (d < 60_000) return `+${(d / 1000).toFixed(d < 10_000 ? 2 : 1)}s`;
  return `+${Math.floor(d / 60_000)}m${Math.round((d % 60_000) / 1000)}s`;
}

export async function renderTrace(client: RestClient, o: TraceOptions): Promise<string> {
  const { pod, rows } = await collectTrace(client, o);
  const t0 = rows[0]?.at ?? 0;
  const lines = [`pod/${pod.metadata.name} in ${pod.metadata.namespace} on ${pod.spec?.nodeName ?? '(unscheduled)'}: ${pod.status?.phase ?? 'Unknown'}`, ''];
  lines.push(`${'TIME'.padEnd(24)} ${'SINCE START'.padStart(11)} ${'STEP'.padStart(9)}  ${'SOURCE'.padEnd(18)} WHAT`);
  let prev = t0;
  for (const r of rows) {
    const time = new Date(r.at).toISOString().replace('T', ' ').replace('Z', '');
    lines.push(`${time.padEnd(24)} ${fmtDelta(r.at - t0).padStart(11)} ${fmtDelta(r.at - prev).padStart(9)}  ${r.source.padEnd(18)} ${r.what}`);
    prev = r.at;
  }
  const ready = rows.find((r) => r.what.startsWith('Ready (probes passed)'));
  if (ready) lines.push('', `created → Ready: ${fmtDelta(ready.at - t0).slice(1)} (creationTimestamp has 1 s precision; kubelet steps have ms)`);
  return lines.join('\n') + '\n';
}

/** The CLI action: `skiff trace pod/NAME [-n NS]`. */
export async function traceCommand(client: RestClient, target: string, opts: { namespace?: string }, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<void> {
  out(await renderTrace(client, { name: parseTarget(target), namespace: opts.namespace }));
}
