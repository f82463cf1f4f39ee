import type { Informer } from '../../client/informer.js';
import { resourcePath } from '../../client/rest.js';
import { QueueController, isNotFound, type ControllerContext, type OwnerReference } from '../controller.js';
import { discoverResources, parseApiVersion, type ServedResource } from './discovery.js';

const ORPHAN = 'orphan';
const FOREGROUND = 'foregroundDeletion';
/** Not watched: events are many, short-lived and never owners (as upstream's ignored resources). */
const IGNORED = new Set(['/events', 'events.k8s.io/events']);

interface GraphNode {
  uid: string;
  res: ServedResource;
  namespace?: string;
  name: string;
  owners: OwnerReference[];
}

/**
 * The garbage collector, as upstream's: a graph of ownerReferences built from informers on every
 * served resource. An object whose owners are all gone is deleted (Background cascading); an owner
 * deleted with the `orphan` finalizer has the reference removed from its dependents first; one
 * deleted with `foregroundDeletion` has its dependents deleted first and goes once no dependent
 * with blockOwnerDeletion remains. Queue keys are object uids.
 */
export class GarbageCollector extends QueueController {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly informers = new Map<ServedResource, Informer>();
  private readonly byKind = new Map<string, ServedResource>();

  constructor(ctx: ControllerContext, resources: ServedResource[]) {
    super(ctx, 'garbage-collector', 5);
    for (const res of resources) {
      this.byKind.set(`${res.group}/${res.kind}`, res);
      if (IGNORED.has(`${res.group}/${res.resource}`)) continue;
      if (!['list', 'watch', 'delete'].every((v) => res.verbs.includes(v))) continue;
      const inf = ctx.informers.for({ group: res.group, version: res.version, resource: res.resource });
      this.informers.set(res, inf);
      inf.addHandlers({ add: (o) => this.observe(res, undefined, o), update: (old, o) => this.observe(res, old, o), delete: (o) => this.forget(o) });
    }
  }

  static async create(ctx: ControllerContext): Promise<GarbageCollector> {
    return new GarbageCollector(ctx, await discoverResources(ctx.client));
  }

  private addQ(uid: string): void {
    this.queue.add(uid);
  }

  private observe(res: ServedResource, old: any, o: any): void {
    const m = o.metadata;
    const uid = m.uid;
    const prev = this.nodes.get(uid);
    const owners: OwnerReference[] = m.ownerReferences ?? [];
    for (const r of prev?.owners ?? []) {
      if (!owners.some((x) => x.uid === r.uid)) {
        this.dependents.get(r.uid)?.delete(uid);
        this.addQ(r.uid); // a foreground-deleting owner may be unblocked now
      }
    }
    for (const r of owners) {
      let s = this.dependents.get(r.uid);
      if (!s) this.dependents.set(r.uid, (s = new Set()));
      s.add(uid);
    }
    this.nodes.set(uid, { uid, res, namespace: m.namespace, name: m.name, owners });
    if (owners.length && (!old || JSON.stringify(old.metadata?.ownerReferences ?? []) !== JSON.stringify(owners))) this.addQ(uid);
    const f: string[] = m.finalizers ?? [];
    if (m.deletionTimestamp && (f.includes(ORPHAN) || f.includes(FOREGROUND))) {
      this.addQ(uid);
      if (f.includes(FOREGROUND)) for (const d of this.dependents.get(uid) ?? []) this.addQ(d);
    }
  }

  private forget(o: any): void {
    const uid = o.metadata.uid;
    const n = this.nodes.get(uid);
    this.nodes.delete(uid);
    for (const r of n?.owners ?? []) {
      this.dependents.get(r.uid)?.delete(uid);
      this.addQ(r.uid);
    }
    // Dependents of a deleted owner may now be garbage.
    for (const d of this.dependents.get(uid) ?? []) this.addQ(d);
    if (!this.nodes.has(uid) && !(this.dependents.get(uid)?.size ?? 0)) this.dependents.delete(uid);
  }

  private objectOf(n: GraphNode): any | undefined {
    const inf = this.informers.get(n.res);
    const o = inf?.get(n.namespace ? `${n.namespace}/${n.name}` : n.name);
    return o?.metadata.uid === n.uid ? o : undefined;
  }

  private pathOf(n: { res: ServedResource; namespace?: string; name: string }, sub?: string): string {
    return resourcePath(n.res.group, n.res.version, n.res.resource, n.res.namespaced ? n.namespace : undefined, n.name, sub);
  }

  protected async reconcile(uid: string): Promise<void> {
    const n = this.nodes.get(uid);
    if (!n) return;
    const o = this.objectOf(n);
    if (!o) return;
    const f: string[] = o.metadata.finalizers ?? [];
    if (o.metadata.deletionTimestamp && f.includes(ORPHAN)) return this.orphanDependents(n, o);
    if (o.metadata.deletionTimestamp && f.includes(FOREGROUND)) return this.processDeletingDependents(n, o);
    if (!n.owners.length) return;
    // Already going away on its own: nothing to add.
    if (o.metadata.deletionTimestamp) return;
    await this.attemptToDelete(n, o);
  }

  /** Owner state for one reference: from the graph, else read live (the cache may lag). */
  private async ownerState(n: GraphNode, ref: OwnerReference): Promise<'solid' | 'dangling' | 'waiting'> {
    const known = this.nodes.get(ref.uid);
    let owner = known ? this.objectOf(known) : undefined;
    if (!owner) {
      const { group } = parseApiVersion(ref.apiVersion);
      const res = this.byKind.get(`${group}/${ref.kind}`);
      // An owner kind this server does not serve: leave the dependent alone rather than guess.
      if (!res) return 'solid';
      try {
        owner = await this.ctx.client.get(this.pathOf({ res, namespace: n.namespace, name: ref.name }));
      } catch (e) {
        if (isNotFound(e)) return 'dangling';
        throw e;
      }
      if (owner.metadata.uid !== ref.uid) return 'dangling';
    }
    if (owner.metadata.deletionTimestamp && (owner.metadata.finalizers ?? []).includes(FOREGROUND)) return 'waiting';
    return 'solid';
  }

  private async attemptToDelete(n: GraphNode, o: any): Promise<void> {
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of n.owners) {
      const s = await this.ownerState(n, ref);
      (s === 'solid' ? solid : s === 'dangling' ? dangling : waiting).push(ref);
    }
    if (solid.length) {
      if (!dangling.length && !waiting.length) return;
      // Still owned: just drop the references to owners that are gone or going.
      const drop = new Set([...dangling, ...waiting].map((r) => r.uid));
      const rest = (o.metadata.ownerReferences ?? []).filter((r: OwnerReference) => !drop.has(r.uid));
      await this.patchMeta(n, { ownerReferences: rest.length ? rest : null, resourceVersion: o.metadata.resourceVersion });
      return;
    }
    const f: string[] = o.metadata.finalizers ?? [];
    let policy: 'Orphan' | 'Foreground' | 'Background';
    if (waiting.length && (this.dependents.get(n.uid)?.size ?? 0) > 0) policy = 'Foreground';
    else if (waiting.length) policy = 'Background';
    else policy = f.includes(ORPHAN) ? 'Orphan' : f.includes(FOREGROUND) ? 'Foreground' : 'Background';
    try {
      await this.ctx.client.delete(this.pathOf(n), { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: policy, preconditions: { uid: n.uid } });
    } catch (e) {
      if (isNotFound(e) || (e as any).status === 409) return;
      throw e;
    }
  }

  private async orphanDependents(n: GraphNode, o: any): Promise<void> {
    for (const d of [...(this.dependents.get(n.uid) ?? [])]) {
      const dn = this.nodes.get(d);
      const dep = dn && this.objectOf(dn);
      if (!dn || !dep) continue;
      const rest = (dep.metadata.ownerReferences ?? []).filter((r: OwnerReference) => r.uid !== n.uid);
      if (rest.length === (dep.metadata.ownerReferences ?? []).length) continue;
      await this.patchMeta(dn, { ownerReferences: rest.length ? rest : null, resourceVersion: dep.metadata.resourceVersion });
    }
    await this.removeFinalizer(n, o, ORPHAN);
  }

  private async processDeletingDependents(n: GraphNode, o: any): Promise<void> {
    let blocking = 0;
    for (const d of this.dependents.get(n.uid) ?? []) {
      const dn = this.nodes.get(d);
      if (!dn) continue;
      if (dn.owners.some((r) => r.uid === n.uid && r.blockOwnerDeletion)) blocking++;
      this.addQ(d);
    }
    if (blocking === 0) await this.removeFinalizer(n, o, FOREGROUND);
  }

  private async removeFinalizer(n: GraphNode, o: any, fin: string): Promise<void> {
    const rest = (o.metadata.finalizers ?? []).filter((x: string) => x !== fin);
    await this.patchMeta(n, { finalizers: rest.length ? rest : null, resourceVersion: o.metadata.resourceVersion });
  }

  private async patchMeta(n: GraphNode, metadata: any): Promise<void> {
    try {
      await this.ctx.client.patch(this.pathOf(n), { metadata }, 'merge');
    } catch (e) {
      if (isNotFound(e)) return;
      throw e; // a conflict retries with the newer object
    }
  }
}
