import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { SkiffError } from '../util/errors.js';

export const EXTENSION_POINTS = ['preEnqueue', 'queueSort', 'preFilter', 'filter', 'postFilter', 'preScore', 'score', 'reserve', 'permit', 'preBind', 'bind', 'postBind'] as const;
export type ExtensionPoint = (typeof EXTENSION_POINTS)[number];

export interface PluginRef {
  name: string;
  weight?: number;
}

export interface PluginSet {
  enabled?: PluginRef[];
  disabled?: { name: string }[];
}

/** A profile as written in KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1). */
export interface ProfileSpec {
  schedulerName?: string;
  percentageOfNodesToScore?: number;
  plugins?: Partial<Record<ExtensionPoint | 'multiPoint', PluginSet>>;
  pluginConfig?: { name: string; args?: any }[];
}

/** A profile with defaults merged and multiPoint expanded: the plugins each point runs, in order. */
export interface ProfileConfig {
  schedulerName: string;
  percentageOfNodesToScore?: number;
  points: Record<ExtensionPoint, PluginRef[]>;
  pluginConfig?: { name: string; args?: any }[];
}

export interface SchedulerConfig {
  profiles: ProfileConfig[];
  percentageOfNodesToScore?: number;
  podInitialBackoffSeconds: number;
  podMaxBackoffSeconds: number;
  leaderElection: { leaderElect: boolean; resourceNamespace: string; resourceName: string; leaseDurationSeconds: number };
}

/** Upstream's default plugins (v1 MultiPoint), with score weights; of the volume plugins only VolumeBinding (without its scoring) is built. */
export const DEFAULT_PLUGINS: PluginRef[] = [
  { name: 'SchedulingGates' },
  { name: 'PrioritySort' },
  { name: 'NodeUnschedulable' },
  { name: 'NodeName' },
  { name: 'TaintToleration', weight: 3 },
  { name: 'NodeAffinity', weight: 2 },
  { name: 'NodePorts' },
  { name: 'NodeResourcesFit', weight: 1 },
  { name: 'VolumeBinding' },
  { name: 'PodTopologySpread', weight: 2 },
  { name: 'InterPodAffinity', weight: 2 },
  { name: 'DefaultPreemption' },
  { name: 'NodeResourcesBalancedAllocation', weight: 1 },
  { name: 'ImageLocality', weight: 1 },
  { name: 'DefaultBinder' },
];

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/** Upstream's mergePluginSet: a re-enabled default keeps its place, disabled ones ("*" = all) go, new ones are appended. */
function mergeSet(defaults: PluginRef[], custom: PluginSet | undefined): PluginRef[] {
  const disabled = new Set((custom?.disabled ?? []).map((d) => d.name));
  const enabled = custom?.enabled ?? [];
  const byName = new Map(enabled.map((e, i) => [e.name, i]));
  const replaced = new Set<number>();
  const out: PluginRef[] = [];
  if (!disabled.has('*')) {
    for (const d of defaults) {
      if (disabled.has(d.name)) continue;
      const i = byName.get(d.name);
      if (i !== undefined) {
        replaced.add(i);
        out.push({ ...d, ...enabled[i] });
      } else out.push(d);
    }
  }
  enabled.forEach((e, i) => {
    if (!replaced.has(i)) out.push(e);
  });
  return out;
}

export function buildProfile(spec: ProfileSpec, globalPercentage?: number): ProfileConfig {
  const multi = mergeSet(DEFAULT_PLUGINS, spec.plugins?.multiPoint);
  const points = {} as Record<ExtensionPoint, PluginRef[]>;
  for (const p of EXTENSION_POINTS) {
    const specific = spec.plugins?.[p];
    const disabled = new Set((specific?.disabled ?? []).map((d) => d.name));
    const list: PluginRef[] = [...(specific?.enabled ?? [])];
    const seen = new Set(list.map((e) => e.name));
    if (!disabled.has('*')) for (const m of multi) if (!disabled.has(m.name) && !seen.has(m.name)) list.push(m);
    points[p] = list;
  }
  return {
    schedulerName: spec.schedulerName || DEFAULT_SCHEDULER_NAME,
    percentageOfNodesToScore: spec.percentageOfNodesToScore ?? globalPercentage,
    points,
    pluginConfig: spec.pluginConfig,
  };
}

export function defaultConfig(): SchedulerConfig {
  return parseConfig({});
}

/** Reads a KubeSchedulerConfiguration object (already parsed from YAML/JSON). */
export function parseConfig(doc: any): SchedulerConfig {
  if (doc.kind && doc.kind !== 'KubeSchedulerConfiguration') throw new SkiffError('BAD_SCHEDULER_CONFIG', `expected kind KubeSchedulerConfiguration, got ${doc.kind}`);
  const pct = doc.percentageOfNodesToScore;
  if (pct !== undefined && (pct < 0 || pct > 100)) throw new SkiffError('BAD_SCHEDULER_CONFIG', `percentageOfNodesToScore: Invalid value: ${pct}: not in valid range [0-100]`);
  const specs: ProfileSpec[] = doc.profiles?.length ? doc.profiles : [{}];
  const profiles = specs.map((s) => buildProfile(s, pct));
  const names = new Set<string>();
  for (const p of profiles) {
    if (names.has(p.schedulerName)) throw new SkiffError('BAD_SCHEDULER_CONFIG', `profiles: Duplicate value: "${p.schedulerName}"`);
    names.add(p.schedulerName);
  }
  const le = doc.leaderElection ?? {};
  return {
    profiles,
    percentageOfNodesToScore: pct,
    podInitialBackoffSeconds: doc.podInitialBackoffSeconds ?? 1,
    podMaxBackoffSeconds: doc.podMaxBackoffSeconds ?? 10,
    leaderElection: {
      leaderElect: le.leaderElect ?? true,
      resourceNamespace: le.resourceNamespace ?? 'kube-system',
      resourceName: le.resourceName ?? 'kube-scheduler',
      leaseDurationSeconds: parseDuration(le.leaseDuration) ?? 15,
    },
  };
}

function parseDuration(d: string | undefined): number | undefined {
  if (!d) return undefined;
  const m = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(d);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 's' ? 1 : m[2] === 'm' ? 60 : 3600);
}

export function loadConfigFile(path: string): SchedulerConfig {
  return parseConfig(YAML.parse(readFileSync(path, 'utf8')) ?? {});
}
