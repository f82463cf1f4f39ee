/**
 * The shared toolkit of Skiff's controllers (kube-controller-manager's), used by every controller
 * folder under src/controllers/:
 *
 * - `ControllerContext` / `Controller` / `ControllerFactory`: what a factory registered with
 *   `registerController(name, factory)` (manager.ts) receives and returns.
 * - `QueueController`: the informer → enqueue `namespace/name` → `runWorkers(reconcile)` loop.
 * - owner references (`controllerRefOf`, `isControlledBy`, `newControllerRef`), label selectors
 *   (`selectorMatches`), pod templates (`podFromTemplate`), pod state (`isPodActive`, `isPodReady`,
 *   `isPodAvailable`), `Expectations` and `computeHash`.
 */
import { EventRecorder } from '../client/events.js';
import type { SharedInformerFactory } from '../client/factory.js';
import { keyOf } from '../client/informer.js';
import type { RestClient } from '../client/rest.js';
import { WorkQueue, runWorkers, realClock, type Clock } from '../client/workqueue.js';

export interface ControllerContext {
  client: RestClient;
  /** Shared by every controller of the manager: ask it for informers in the factory, before run(). */
  informers: SharedInformerFactory;
  /** An event recorder reporting as `component` (e.g. "deployment-controller"). */
  recorder(component: string): EventRecorder;
  clock: Clock;
  /** The manager's leader-election identity. */
  identity: string;
  /** The cluster CA (PEM), for the root CA publisher. */
  caPem?: string;
  log(msg: string): void;
}

/**
 * A running controller. The manager creates it (the factory registers informers and handlers),
 * starts and syncs the shared informers, then calls run(); stop() ends it when leadership is lost.
 */
export interface Controller {
  run(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** May be async (e.g. to run discovery first); informers it asks for are started after it returns. */
export type ControllerFactory = (ctx: ControllerContext) => Controller | Promise<Controller>;

/**
 * The client-go controller loop: event handlers only `enqueue` keys; `workers` loops take keys from
 * a de-duplicating queue and call `reconcile(key)`, which reads current state from informer caches.
 * A thrown error requeues the key with per-key exponential backoff.
 */
export abstract class QueueController implements Controller {
  readonly queue: WorkQueue<string>;

  constructor(
    protected readonly ctx: ControllerContext,
    readonly name: string,
    protected readonly workers = 5,
  ) {
    this.queue = new WorkQueue<string>({ baseMs: 5, maxMs: 60_000 }, ctx.clock);
  }

  protected abstract reconcile(key: string): Promise<void>;

  enqueue(objOrKey: string | { metadata?: any }): void {
    this.queue.add(typeof objOrKey === 'string' ? objOrKey : keyOf(objOrKey));
  }

  enqueueAfter(objOrKey: string | { metadata?: any }, ms: number): void {
    this.queue.addAfter(typeof objOrKey === 'string' ? objOrKey : keyOf(objOrKey), ms);
  }

  run(): void {
    void runWorkers(this.queue, this.workers, (k) => this.reconcile(k), (k, err) => {
      const e = err as Error;
      // Conflicts are routine (a stale cache); say nothing about them.
      if ((e as any)?.status !== 409) this.ctx.log(`${this.name}: error syncing ${k}: ${e?.message ?? e}`);
    });
  }

  stop(): void {
    this.queue.shutDown();
  }
}

export const realControllerClock: Clock = realClock;

// ---------------------------------------------------------------------------------------------
// Owner references

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export function controllerRefOf(obj: { metadata?: any }): OwnerReference | undefined {
  return (obj.metadata?.ownerReferences ?? []).find((r: OwnerReference) => r.controller === true);
}

export function isControlledBy(obj: { metadata?: any }, owner: { metadata?: any }): boolean {
  return controllerRefOf(obj)?.uid === owner.metadata?.uid;
}

/** The ownerReference a controller puts on what it creates: controller and blockOwnerDeletion set, as upstream. */
export function newControllerRef(owner: { metadata?: any }, gvk: { apiVersion: string; kind: string }): OwnerReference {
  return { apiVersion: gvk.apiVersion, kind: gvk.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

// ---------------------------------------------------------------------------------------------
// Label selectors

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** metav1.LabelSelector semantics: an empty selector matches everything, a missing one nothing. */
export function selectorMatches(sel: LabelSelector | undefined | null, labels: Record<string, string> | undefined): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(l[e.key])) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(l[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function selectorIsEmpty(sel: LabelSelector | undefined | null): boolean {
  return !!sel && !Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length;
}

// ---------------------------------------------------------------------------------------------
// Pods

/** A pod built from a controller's template, named `<prefix>-<random>` by the API server. */
export function podFromTemplate(template: any, owner: { metadata?: any }, controllerRef: OwnerReference, generateNamePrefix?: string): any {
  const tm = template?.metadata ?? {};
  const metadata: any = {
    generateName: `${generateNamePrefix ?? owner.metadata.name}-`,
    namespace: owner.metadata.namespace,
    labels: { ...(tm.labels ?? {}) },
    ownerReferences: [controllerRef],
  };
  if (tm.annotations && Object.keys(tm.annotations).length) metadata.annotations = { ...tm.annotations };
  if (tm.finalizers?.length) metadata.finalizers = [...tm.finalizers];
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: structuredClone(template?.spec ?? {}) };
}

export function isPodActive(p: any): boolean {
  const phase = p.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !p.metadata?.deletionTimestamp;
}

export function podReadyCondition(p: any): any | undefined {
  return (p.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
}

export function isPodReady(p: any): boolean {
  return podReadyCondition(p)?.status === 'True';
}

/** Ready for at least minReadySeconds, as upstream's podutil.IsPodAvailable. */
export function isPodAvailable(p: any, minReadySeconds: number, now: number): boolean {
  const c = podReadyCondition(p);
  if (c?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return !Number.isNaN(t) && t + minReadySeconds * 1000 <= now;
}

// ---------------------------------------------------------------------------------------------
// Expectations

/**
 * client-go's ControllerExpectations: after issuing N creates (or deletes) for a key, the
 * controller does not act on that key again until its informer has observed them (or the
 * expectation expires after 5 minutes), so a lagging cache never causes over-creation.
 */
export class Expectations {
  private readonly m = new Map<string, { add: number; del: number; at: number; deleting: Set<string> }>();

  constructor(
    private readonly clock: Clock = realClock,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  private entry(key: string) {
    let e = this.m.get(key);
    if (!e) this.m.set(key, (e = { add: 0, del: 0, at: this.clock.now(), deleting: new Set() }));
    return e;
  }

  /** True when every expected create/delete was seen (or none is recorded, or they expired). */
  satisfied(key: string): boolean {
    const e = this.m.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.clock.now() - e.at > this.ttlMs;
  }

  expectCreations(key: string, n: number): void {
    const e = this.entry(key);
    e.add = n;
    e.del = 0;
    e.deleting.clear();
    e.at = this.clock.now();
  }

  /** Expect the deletion of these pod keys (`ns/name`); each is counted once when observed. */
  expectDeletions(key: string, podKeys: string[]): void {
    const e = this.entry(key);
    e.add = 0;
    e.deleting = new Set(podKeys);
    e.del = podKeys.length;
    e.at = this.clock.now();
  }

  creationObserved(key: string): void {
    const e = this.m.get(key);
    if (e && e.add > 0) e.add--;
  }

  /** A failed create will never be observed. */
  creationFailed(key: string): void {
    this.creationObserved(key);
  }

  deletionObserved(key: string, podKey: string): void {
    const e = this.m.get(key);
    if (e && e.deleting.delete(podKey)) e.del--;
  }

  delete(key: string): void {
    this.m.delete(key);
  }
}

// ---------------------------------------------------------------------------------------------
// Hashing

function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const keys = Object.keys(v as object)
    .filter((k) => (v as any)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((v as any)[k])}`).join(',')}}`;
}

function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** k8s.io/apimachinery's rand.SafeEncodeString: no vowels, so no accidental words. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHANUMS[s.charCodeAt(i) % SAFE_ALPHANUMS.length];
  return out;
}

/**
 * The pod-template-hash, as upstream's controller.ComputeHash: FNV-32a over the template (here its
 * canonical JSON, where upstream hashes Go's printed struct), then the collision count as four
 * little-endian bytes, printed in decimal and safe-encoded.
 */
export function computeHash(template: unknown, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(stableStringify(template ?? {})));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}

// ---------------------------------------------------------------------------------------------
// Misc

/** RFC 3339 with second precision, as metav1.Time. */
export function nowTime(clock: Clock = realClock): string {
  return new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function isNotFound(e: unknown): boolean {
  return (e as any)?.status === 404;
}

export function isConflict(e: unknown): boolean {
  return (e as any)?.status === 409;
}

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first error after all settle. */
export async function inParallel<T>(items: T[], limit: number, fn: (x: T) => Promise<void>): Promise<number> {
  let next = 0;
  let ok = 0;
  let firstErr: unknown;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const x = items[next++];
        try {
          await fn(x);
          ok++;
        } catch (e) {
          firstErr ??= e;
        }
      }
    }),
  );
  if (firstErr !== undefined) throw firstErr;
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Adoption and orphaning (upstream's ControllerRefManager)

export interface ClaimOptions {
  client: RestClient;
  owner: { metadata?: any };
  ownerGVK: { apiVersion: string; kind: string };
  selector: LabelSelector | undefined;
  /** Candidates: every object of the kind in the owner's namespace. */
  candidates: any[];
  /** API path of one candidate, for the ownerReferences patch. */
  pathOf(obj: any): string;
  /**
   * Checked once before the first adoption: upstream re-reads the owner uncached and refuses to
   * adopt if it is being deleted (or was replaced by a new uid).
   */
  canAdopt(): Promise<boolean>;
}

/**
 * Returns the candidates the owner controls after adopting matching orphans and releasing owned
 * objects that no longer match its selector; objects controlled by someone else are left alone.
 */
export async function claimObjects(o: ClaimOptions): Promise<any[]> {
  const uid = o.owner.metadata.uid;
  const deleting = !!o.owner.metadata.deletionTimestamp;
  const claimed: any[] = [];
  let adoptOK: boolean | undefined;
  for (const obj of o.candidates) {
    const ref = controllerRefOf(obj);
    const matches = selectorMatches(o.selector, obj.metadata?.labels);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches || deleting) {
        claimed.push(obj);
        continue;
      }
      const rest = (obj.metadata.ownerReferences ?? []).filter((r: OwnerReference) => r.uid !== uid);
      try {
        await o.client.patch(o.pathOf(obj), { metadata: { ownerReferences: rest.length ? rest : null, resourceVersion: obj.metadata.resourceVersion } }, 'merge');
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      continue;
    }
    if (!matches || deleting || obj.metadata?.deletionTimestamp) continue;
    adoptOK ??= await o.canAdopt();
    if (!adoptOK) continue;
    const refs = [...(obj.metadata.ownerReferences ?? []), newControllerRef(o.owner, o.ownerGVK)];
    try {
      const updated = await o.client.patch(o.pathOf(obj), { metadata: { ownerReferences: refs, resourceVersion: obj.metadata.resourceVersion } }, 'merge');
      claimed.push(updated);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  return claimed;
}

/** `canAdopt` for claimObjects: the owner, read uncached, still exists with this uid and is not being deleted. */
export function ownerStillCurrent(client: RestClient, path: string, uid: string): () => Promise<boolean> {
  return async () => {
    try {
      const fresh = await client.get(path);
      return fresh.metadata?.uid === uid && !fresh.metadata?.deletionTimestamp;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  };
}
