import { isDeepStrictEqual } from 'node:util';
import type { Registry } from '../../registry.js';
import { findResource } from '../../resources.js';
import { REGISTRY_PREFIX } from '../../watchcache.js';
import { StatusError } from '../../status.js';
import { selectorFromLabelSelector } from '../../selectors/labels.js';
import type { PolicyRule } from './rules.js';
import { RBAC_KEYS } from './index.js';

/**
 * The rules an aggregated ClusterRole should hold: the union, in name order and without duplicates, of
 * the rules of every other ClusterRole some selector matches (upstream's clusterroleaggregation controller).
 */
export function aggregatedRules(role: any, all: readonly any[]): PolicyRule[] {
  const selectors = (role.aggregationRule?.clusterRoleSelectors ?? []).map((s: any) => {
    try {
      return selectorFromLabelSelector(s);
    } catch {
      return undefined;
    }
  });
  const out: PolicyRule[] = [];
  const sorted = [...all].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const sel of selectors) {
    if (!sel) continue;
    for (const other of sorted) {
      if (other.metadata.name === role.metadata.name || !sel.matches(other.metadata.labels ?? {})) continue;
      for (const r of other.rules ?? []) if (!out.some((x) => isDeepStrictEqual(x, r))) out.push(r);
    }
  }
  return out;
}

/**
 * Keeps aggregated ClusterRoles filled. Runs inside the API server, reacting to ClusterRole changes in
 * the watch cache; repeated changes collapse into one pass.
 */
export class ClusterRoleAggregator {
  private unsubscribe?: () => void;
  private pending = false;
  private running?: Promise<void>;

  constructor(private readonly reg: Registry) {}

  start(): void {
    const kick = () => this.schedule();
    this.unsubscribe = this.reg.cache.subscribe(RBAC_KEYS.clusterroles, { event: kick, reset: kick });
    this.schedule();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      this.running = (this.running ?? Promise.resolve()).then(async () => void (await this.syncAll())).catch(() => this.retryLater());
    });
  }

  private retryLater(): void {
    setTimeout(() => this.unsubscribe && this.schedule(), 1000).unref();
  }

  /** Passes until aggregated roles that feed each other (view → edit → admin) settle. */
  async settle(maxPasses = 5): Promise<void> {
    for (let i = 0; i < maxPasses; i++) {
      if (!(await this.syncAll())) return;
      await this.reg.cache.sync();
    }
  }

  /** One pass over every aggregated role; true when something was written. */
  async syncAll(): Promise<boolean> {
    let changed = false;
    const info = findResource('rbac.authorization.k8s.io', 'v1', 'clusterroles')!;
    const all = this.reg.cache.list(RBAC_KEYS.clusterroles, `${REGISTRY_PREFIX}${RBAC_KEYS.clusterroles}/`).map((c) => c.obj);
    for (const role of all) {
      if (!role.aggregationRule) continue;
      const want = aggregatedRules(role, all);
      if (isDeepStrictEqual(role.rules ?? [], want)) continue;
      const next = structuredClone(role);
      next.rules = want;
      try {
        await this.reg.update(info, undefined, role.metadata.name, next, {});
        changed = true;
      } catch (e) {
        if (!(e instanceof StatusError && (e.reason === 'Conflict' || e.reason === 'NotFound'))) throw e;
        this.schedule();
      }
    }
    return changed;
  }
}
