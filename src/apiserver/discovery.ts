import { allResources, groupVersions, subresourceInfo, type ResourceInfo } from './resources.js';
import { aggregatedAPIs, type AggregatedAPI } from './aggregator/state.js';
import { localPriority } from './aggregator/apiservice.js';
import { METRICS_GROUP, METRICS_VERSION } from './metrics/api.js';

/**
 * Discovery documents: aggregated (apidiscovery.k8s.io v2 and v2beta1, what kubectl 1.32 asks for
 * first) and the legacy /api, /apis, /api/v1, /apis/G/V documents.
 */
export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-skiff',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-11-24T00:00:00Z',
  goVersion: `node${process.versions.node}`,
  compiler: 'tsc',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

function subresourceKind(info: ResourceInfo, sub: string): { group: string; version: string; kind: string } {
  const { group, version, kind } = subresourceInfo(info, sub);
  return { group, version, kind };
}

function subresourceVerbs(info: ResourceInfo, sub: string): string[] {
  return subresourceInfo(info, sub).verbs;
}

function aggregatedResource(info: ResourceInfo) {
  const r: Record<string, unknown> = {
    resource: info.resource,
    responseKind: { group: info.group, version: info.version, kind: info.kind },
    scope: info.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: info.singular,
    verbs: info.verbs,
  };
  if (info.shortNames.length) r.shortNames = info.shortNames;
  if (info.categories.length) r.categories = info.categories;
  if (info.subresources.length) {
    r.subresources = info.subresources.map((s) => ({ subresource: s, responseKind: subresourceKind(info, s), verbs: subresourceVerbs(info, s) }));
  }
  return r;
}

/**
 * Available service-backed APIServices whose group/version this server does not serve itself
 * (those are listed once, as served here; the metrics API is added by its own handler).
 */
function aggregatedOnly(): AggregatedAPI[] {
  const apis = aggregatedAPIs();
  if (!apis.length) return apis;
  const local = new Set(groupVersions().map((gv) => `${gv.group}/${gv.version}`));
  local.add(`${METRICS_GROUP}/${METRICS_VERSION}`);
  return apis.filter((a) => a.available && a.group && !local.has(`${a.group}/${a.version}`));
}

function groupsInOrder(): { group: string; versions: string[] }[] {
  const out: { group: string; versions: string[]; priority: number }[] = [];
  const add = (group: string, version: string, priority: number) => {
    const g = out.find((x) => x.group === group);
    if (g) {
      g.versions.push(version);
      g.priority = Math.max(g.priority, priority);
    } else out.push({ group, versions: [version], priority });
  };
  for (const gv of groupVersions()) add(gv.group, gv.version, localPriority(gv.group, gv.version)[0]);
  const aggregated = aggregatedOnly();
  if (!aggregated.length) return out;
  // An aggregated group takes its place by groupPriorityMinimum among the served ones, as
  // upstream orders every group (kubectl resolves a resource name to the first group that has it).
  for (const a of aggregated) {
    const g = out.find((x) => x.group === a.group);
    if (g) {
      g.versions.push(a.version);
      continue;
    }
    const at = out.findIndex((x) => x.priority < a.groupPriorityMinimum || (x.priority === a.groupPriorityMinimum && x.group > a.group));
    out.splice(at < 0 ? out.length : at, 0, { group: a.group, versions: [a.version], priority: a.groupPriorityMinimum });
  }
  return out;
}

/** An aggregated server's APIResourceList entries as aggregated discovery resources (subresources folded in). */
export function aggregatedServerResources(group: string, version: string, list: any[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const byName = new Map<string, Record<string, unknown>>();
  for (const r of list) {
    const name = String(r?.name ?? '');
    if (!name || name.includes('/')) continue;
    const d: Record<string, unknown> = {
      resource: name,
      responseKind: { group: r.group ?? group, version: r.version ?? version, kind: String(r.kind ?? '') },
      scope: r.namespaced ? 'Namespaced' : 'Cluster',
      singularResource: String(r.singularName ?? ''),
      verbs: Array.isArray(r.verbs) ? r.verbs : [],
    };
    if (Array.isArray(r.shortNames) && r.shortNames.length) d.shortNames = r.shortNames;
    if (Array.isArray(r.categories) && r.categories.length) d.categories = r.categories;
    byName.set(name, d);
    out.push(d);
  }
  for (const r of list) {
    const [parent, sub] = String(r?.name ?? '').split('/');
    const d = sub ? byName.get(parent!) : undefined;
    if (!d) continue;
    const subs = (d.subresources as unknown[] | undefined) ?? (d.subresources = []);
    (subs as unknown[]).push({ subresource: sub, responseKind: { group: r.group ?? group, version: r.version ?? version, kind: String(r.kind ?? '') }, verbs: Array.isArray(r.verbs) ? r.verbs : [] });
  }
  return out;
}

function versionResources(group: string, version: string): Record<string, unknown>[] {
  const local = allResources().filter((r) => r.group === group && r.version === version);
  if (local.length) return local.map(aggregatedResource);
  const a = aggregatedOnly().find((x) => x.group === group && x.version === version);
  return a ? aggregatedServerResources(group, version, a.resources) : [];
}

/** The aggregated document for /api (core only) or /apis (every named group). */
export function aggregatedDiscovery(which: 'api' | 'apis', version: 'v2' | 'v2beta1') {
  const groups = groupsInOrder().filter((g) => (which === 'api' ? g.group === '' : g.group !== ''));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g.group, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: versionResources(g.group, v),
        freshness: 'Current',
      })),
    })),
  };
}

export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(g: { group: string; versions: string[] }) {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.group}/${v}`, version: v }));
  return { name: g.group, versions, preferredVersion: versions[0] };
}

export function apiGroupList() {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groupsInOrder().filter((g) => g.group !== '').map(apiGroup) };
}

export function apiGroupDoc(group: string) {
  const g = groupsInOrder().find((x) => x.group === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g) } : undefined;
}

export function apiResourceList(group: string, version: string) {
  const rs = allResources().filter((r) => r.group === group && r.version === version);
  if (!rs.length) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const r of rs) {
    const base: Record<string, unknown> = {
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
    };
    if (r.shortNames.length) base.shortNames = r.shortNames;
    if (r.categories.length) base.categories = r.categories;
    resources.push(base);
    for (const s of r.subresources) {
      const k = subresourceKind(r, s);
      const sub: Record<string, unknown> = { name: `${r.resource}/${s}`, singularName: '', namespaced: r.namespaced, kind: k.kind, verbs: subresourceVerbs(r, s) };
      if (k.group !== r.group) sub.group = k.group;
      if (k.version !== r.version || k.group !== r.group) sub.version = k.version;
      resources.push(sub);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}
