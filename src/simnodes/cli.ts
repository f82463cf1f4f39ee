import type { Taint } from 'kubernetes-types/core/v1.js';
import { ApiError, RestClient, configFromKubeconfig } from '../client/rest.js';
import { SkiffError } from '../util/errors.js';
import { createSimulatedNodes, registerSimulatedNodes, SIMULATOR_LEASE, type SimulatedNodesOptions } from './simulator.js';

/** Flags shared by `skiff up --simulated-nodes N` and `skiff sim nodes add N`, as commander hands them over. */
export interface SimNodeFlags {
  namePrefix?: string;
  cpu?: string;
  memory?: string;
  pods?: string;
  /** "k=v,k2=v2" or repeated. */
  labels?: string | string[];
  /** "key=value:Effect" or "key:Effect", comma-separated or repeated. */
  taints?: string | string[];
  zones?: number | string;
}

function list(v: string | string[] | undefined): string[] {
  return (Array.isArray(v) ? v : v ? [v] : []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

export function parseLabels(v: string | string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of list(v)) {
    const i = s.indexOf('=');
    if (i <= 0) throw new SkiffError('BAD_FLAG', `label "${s}": expected key=value`);
    out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}

/** Taints in kubectl's notation: key=value:Effect or key:Effect. */
export function parseTaints(v: string | string[] | undefined): Taint[] {
  return list(v).map((s) => {
    const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(s);
    if (!m) throw new SkiffError('BAD_FLAG', `taint "${s}": expected key=value:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute`);
    return m[2] === undefined ? { key: m[1], effect: m[3] } : { key: m[1], value: m[2], effect: m[3] };
  });
}

/** SimulatedNodes options from CLI flags. */
export function simulatedNodesOptionsFromFlags(count: number, f: SimNodeFlags): SimulatedNodesOptions {
  if (!Number.isInteger(count) || count < 0) throw new SkiffError('BAD_FLAG', `node count must be a whole number ≥ 0, got ${count}`);
  const capacity: Record<string, string> = {};
  if (f.cpu) capacity.cpu = f.cpu;
  if (f.memory) capacity.memory = f.memory;
  if (f.pods) capacity.pods = f.pods;
  return {
    count,
    namePrefix: f.namePrefix,
    capacity,
    labels: parseLabels(f.labels),
    taints: parseTaints(f.taints),
    zones: f.zones === undefined ? undefined : Number(f.zones),
  };
}

export interface SimNodesAddOptions extends SimNodeFlags {
  count: number;
  kubeconfig: string;
  /** Keep simulating in this process even if another simulator is running (default: only when none is). */
  foreground?: boolean;
}

async function simulatorRunning(client: RestClient): Promise<string | undefined> {
  try {
    const lease: any = await client.get(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${SIMULATOR_LEASE}`);
    const holder = lease.spec?.holderIdentity;
    const renewed = Date.parse(lease.spec?.renewTime ?? '') || 0;
    if (holder && renewed + (lease.spec?.leaseDurationSeconds ?? 15) * 1000 > Date.now()) return holder;
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  }
  return undefined;
}

/**
 * `skiff sim nodes add N --kubeconfig FILE [--cpu 32 --memory 256Gi --pods 110 --labels k=v --taints k=v:NoSchedule --zones 3]`:
 * registers N more simulated nodes in a running cluster. If a simulator already runs there (e.g.
 * `skiff up --simulated-nodes`), it picks them up and this returns; otherwise this process keeps
 * them alive (Leases, Ready, pods) until interrupted, as `kwok` would.
 */
export async function simNodesAdd(o: SimNodesAddOptions, out: (line: string) => void = console.log): Promise<void> {
  const client = new RestClient(configFromKubeconfig(o.kubeconfig, 'skiff-sim'));
  const opts = simulatedNodesOptionsFromFlags(o.count, o);
  const names = await registerSimulatedNodes(client, opts);
  out(names.length ? `created ${names.length} simulated node(s): ${names.length > 3 ? `${names[0]} … ${names[names.length - 1]}` : names.join(', ')}` : 'no nodes created');
  const holder = await simulatorRunning(client);
  if (holder && !o.foreground) {
    out(`simulated by the running simulator (${holder})`);
    client.close();
    return;
  }
  out('simulating nodes in this process; Ctrl-C to stop');
  const sim = createSimulatedNodes(client, { ...opts, count: 0, log: (m) => out(m) });
  await sim.start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.stop();
  client.close();
}
