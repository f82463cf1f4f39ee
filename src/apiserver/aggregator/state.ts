/**
 * The aggregation table: the group/versions a service-backed APIService claims, whether each is
 * Available, and the resources its server lists (for discovery). The controller writes it; the
 * handler (routing) and discovery read it. Process-wide, like the custom resource table.
 */
import type { ServiceRef } from './apiservice.js';

export interface AggregatedAPI {
  /** The APIService's name ("v1beta1.metrics.k8s.io"). */
  name: string;
  group: string;
  version: string;
  service: ServiceRef;
  /** PEM to verify the server's certificate with (spec.caBundle, decoded). */
  caPem?: string;
  insecureSkipTLSVerify: boolean;
  groupPriorityMinimum: number;
  versionPriority: number;
  available: boolean;
  /** The APIResourceList `resources` its server answered the last discovery check with. */
  resources: any[];
}

const byGV = new Map<string, AggregatedAPI>();
let generation = 0;

const gvKey = (group: string, version: string) => `${group}/${version}`;

export function setAggregatedAPI(api: AggregatedAPI): void {
  for (const [k, v] of byGV) if (v.name === api.name && k !== gvKey(api.group, api.version)) byGV.delete(k);
  byGV.set(gvKey(api.group, api.version), api);
  generation++;
}

/** Forgets the APIService of that name (deleted, or turned local). */
export function removeAggregatedAPI(name: string): void {
  for (const [k, v] of byGV) {
    if (v.name === name) {
      byGV.delete(k);
      generation++;
    }
  }
}

/** The service-backed APIService for exactly this group/version, if any. */
export function aggregatedAPI(group: string, version: string): AggregatedAPI | undefined {
  return byGV.size ? byGV.get(gvKey(group, version)) : undefined;
}

/** Every service-backed APIService, groups by descending priority, versions likewise (upstream's discovery order). */
export function aggregatedAPIs(): AggregatedAPI[] {
  return [...byGV.values()].sort(
    (a, b) => b.groupPriorityMinimum - a.groupPriorityMinimum || a.group.localeCompare(b.group) || b.versionPriority - a.versionPriority || a.version.localeCompare(b.version),
  );
}

/** Whether any service-backed APIService is known (the handler's fast path skips routing otherwise). */
export function hasAggregatedAPIs(): boolean {
  return byGV.size > 0;
}

/** Changes whenever the table does. */
export function aggregationGeneration(): number {
  return generation;
}

/** Tests: forget everything. */
export function resetAggregation(): void {
  byGV.clear();
  generation++;
}
