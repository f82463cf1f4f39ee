/**
 * Serves what CustomResourceDefinitions define, as upstream's apiextensions controllers do in one:
 * names are accepted (NamesAccepted) and the resource established (Established) and served; a CRD
 * being deleted has all its custom resources deleted before its cleanup finalizer is removed.
 * Runs inside the API server, on the watch cache's events.
 */
import type { Registry } from '../registry.js';
import { nowRFC3339 } from '../registry.js';
import { REGISTRY_PREFIX } from '../watchcache.js';
import { allResources, findResource, setCustomResources, type ResourceInfo } from '../resources.js';
import { CRD_CLEANUP_FINALIZER } from '../strategy.js';
import { StatusError } from '../status.js';
import { customInfos } from './custom.js';

const CRD_KEY = 'apiextensions.k8s.io/customresourcedefinitions';

export class CRDController {
  private unsubscribe?: () => void;
  /** One chain of work per CRD name, so its steps never interleave. */
  private chains = new Map<string, Promise<void>>();
  private retry = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly reg: Registry) {}

  /** Installs every stored CRD's resources (the cache must be loaded), then follows changes. */
  start(): void {
    this.unsubscribe = this.reg.cache.subscribe(CRD_KEY, {
      event: (ev) => {
        const name = ev.object.obj.metadata?.name;
        if (!name) return;
        if (ev.type === 'DELETED') this.enqueue(name, async () => setCustomResources(name, []));
        else this.enqueue(name, () => this.sync(name));
      },
      reset: () => {
        for (const c of this.reg.cache.list(CRD_KEY, `${REGISTRY_PREFIX}${CRD_KEY}/`)) this.enqueue(c.obj.metadata.name, () => this.sync(c.obj.metadata.name));
      },
    });
    for (const c of this.reg.cache.list(CRD_KEY, `${REGISTRY_PREFIX}${CRD_KEY}/`)) {
      this.install(c.obj);
      this.enqueue(c.obj.metadata.name, () => this.sync(c.obj.metadata.name));
    }
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const t of this.retry.values()) clearTimeout(t);
  }

  /** Resolves once the queued work is done (tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private enqueue(name: string, fn: () => Promise<void>): void {
    const prev = this.chains.get(name) ?? Promise.resolve();
    const next = prev.then(fn).catch((e) => {
      if (!this.stopped) console.error(`skiff apiserver: crd ${name}:`, e);
    });
    this.chains.set(name, next);
    void next.then(() => {
      if (this.chains.get(name) === next) this.chains.delete(name);
    });
  }

  private crdInfo(): ResourceInfo {
    return findResource('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
  }

  /** Names conflicting with another served resource (upstream NamesAccepted=False). */
  private conflict(crd: any): string | undefined {
    const { group } = crd.spec;
    const n = crd.spec.names;
    for (const r of allResources()) {
      if (r.group !== group || r.custom?.crdName === crd.metadata.name) continue;
      if (r.resource === n.plural) return `"${n.plural}" is already in use`;
      if (r.kind === n.kind) return `"${n.kind}" is already in use`;
      if (n.shortNames?.some((s: string) => r.shortNames.includes(s))) return `one of the short names is already in use`;
    }
    return undefined;
  }

  private install(crd: any): boolean {
    if (this.conflict(crd)) return false;
    setCustomResources(crd.metadata.name, customInfos(crd));
    return true;
  }

  private async sync(name: string): Promise<void> {
    if (this.stopped) return;
    const info = this.crdInfo();
    const c = this.reg.cache.get(this.reg.keyFor(info, undefined, name));
    if (!c) {
      setCustomResources(name, []);
      return;
    }
    const crd = c.obj;
    if (crd.metadata.deletionTimestamp) {
      await this.cleanup(crd);
      return;
    }
    const conflict = this.conflict(crd);
    if (!conflict) setCustomResources(name, customInfos(crd));
    const want = wantedStatus(crd, conflict);
    if (statusMatches(crd.status, want)) return;
    await this.reg.mutate(info, undefined, name, (obj) => {
      obj.status = { ...obj.status, ...mergeStatus(obj.status, want) };
      return obj;
    });
  }

  /** Deletes every custom resource of the CRD; when none is left, releases the CRD. */
  private async cleanup(crd: any): Promise<void> {
    const name = crd.metadata.name;
    if (!(crd.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) return;
    const infos = customInfos(crd);
    let remaining = 0;
    if (infos.length) {
      // Keep serving while the instances go, so their own finalizers can still be removed.
      setCustomResources(name, infos);
      const ri = infos[0]!;
      const { items } = await this.reg.list(ri, undefined, {});
      for (const it of items) {
        try {
          const r = await this.reg.delete(ri, it.obj.metadata.namespace, it.obj.metadata.name, {});
          if (!r.deleted) remaining++;
        } catch (e) {
          if (!(e instanceof StatusError && e.code === 404)) throw e;
        }
      }
    }
    if (remaining) {
      // Instances with finalizers of their own: look again shortly.
      clearTimeout(this.retry.get(name));
      const t = setTimeout(() => this.enqueue(name, () => this.sync(name)), 1000);
      t.unref();
      this.retry.set(name, t);
      return;
    }
    setCustomResources(name, []);
    await this.reg.mutate(this.crdInfo(), undefined, name, (obj) => {
      obj.metadata.finalizers = (obj.metadata.finalizers ?? []).filter((f: string) => f !== CRD_CLEANUP_FINALIZER);
      return obj;
    }).catch((e) => {
      if (!(e instanceof StatusError && e.code === 404)) throw e;
    });
  }
}

interface WantedStatus {
  acceptedNames: any;
  conditions: { type: string; status: string; reason: string; message: string }[];
}

function wantedStatus(crd: any, conflict: string | undefined): WantedStatus {
  const n = crd.spec.names;
  const accepted: any = { plural: n.plural, singular: n.singular, kind: n.kind, listKind: n.listKind };
  if (n.shortNames?.length) accepted.shortNames = n.shortNames;
  if (n.categories?.length) accepted.categories = n.categories;
  if (conflict) {
    return {
      acceptedNames: crd.status?.acceptedNames ?? { plural: '', kind: '' },
      conditions: [
        { type: 'NamesAccepted', status: 'False', reason: 'NameConflict', message: conflict },
        { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' },
      ],
    };
  }
  return {
    acceptedNames: accepted,
    conditions: [
      { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
      { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
    ],
  };
}

function statusMatches(status: any, want: WantedStatus): boolean {
  if (JSON.stringify(status?.acceptedNames ?? {}) !== JSON.stringify(want.acceptedNames)) return false;
  for (const w of want.conditions) {
    const c = (status?.conditions ?? []).find((x: any) => x.type === w.type);
    if (!c || c.status !== w.status || c.reason !== w.reason) return false;
  }
  return true;
}

function mergeStatus(status: any, want: WantedStatus): any {
  const now = nowRFC3339();
  const conditions: any[] = [...(status?.conditions ?? [])];
  for (const w of want.conditions) {
    const i = conditions.findIndex((x) => x.type === w.type);
    const prev = i >= 0 ? conditions[i] : undefined;
    const next = { type: w.type, status: w.status, lastTransitionTime: prev && prev.status === w.status ? prev.lastTransitionTime : now, reason: w.reason, message: w.message };
    if (i >= 0) conditions[i] = next;
    else conditions.push(next);
  }
  return { acceptedNames: want.acceptedNames, conditions };
}
