/**
 * ControllerRevision history shared by the DaemonSet and StatefulSet controllers (upstream's
 * pkg/controller/history): a revision snapshots the pod template as a replace-patch, is named
 * `<owner>-<hash>`, numbered increasingly, and old ones are pruned to revisionHistoryLimit.
 */
import type { Informer } from '../client/informer.js';
import { resourcePath, type RestClient } from '../client/rest.js';
import { computeHash, controllerRefOf, isNotFound, newControllerRef } from './controller.js';

export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

/** The revision payload: a strategic-merge patch replacing spec.template, as upstream's getPatch. */
export function revisionData(template: any): any {
  return { spec: { template: { ...structuredClone(template ?? {}), $patch: 'replace' } } };
}

/** The template a revision snapshots. */
export function templateOf(rev: any): any {
  const t = structuredClone(rev?.data?.spec?.template ?? {});
  delete t.$patch;
  return t;
}

export function revisionHash(template: any, collisionCount?: number): string {
  return computeHash(revisionData(template), collisionCount);
}

/** Revisions the owner controls, oldest first. */
export function ownedRevisions(revisions: Informer, owner: any): any[] {
  return revisions
    .list()
    .filter((r) => r.metadata.namespace === owner.metadata.namespace && controllerRefOf(r)?.uid === owner.metadata.uid)
    .sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0) || a.metadata.name.localeCompare(b.metadata.name));
}

const sameData = (a: any, b: any) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));
function canon(v: any): any {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => [k, canon(v[k])]));
  return v;
}

export interface EnsureRevisionResult {
  revision: any;
  /** Set when a hash collision forced a new collisionCount, which the owner's status must record. */
  collisionCount?: number;
}

/**
 * Finds or creates the revision for the owner's current template, as upstream's
 * getStatefulSetRevisions/constructHistory: an existing revision with equal data is reused (and
 * renumbered to be the newest); a name taken by different data bumps collisionCount.
 */
export async function ensureRevision(
  client: RestClient,
  revisions: Informer,
  owner: any,
  gvk: { apiVersion: string; kind: string },
  opts: { labels?: Record<string, string>; collisionCount?: number },
): Promise<EnsureRevisionResult> {
  const template = owner.spec.template;
  const data = revisionData(template);
  const owned = ownedRevisions(revisions, owner);
  const maxRev = owned.reduce((m, r) => Math.max(m, r.revision ?? 0), 0);
  const equal = owned.filter((r) => sameData(r.data, data));
  if (equal.length) {
    const r = equal[equal.length - 1];
    if ((r.revision ?? 0) < maxRev) {
      // Rolling back to an old template: that revision becomes the newest, as upstream.
      const updated = await client.update(resourcePath('apps', 'v1', 'controllerrevisions', r.metadata.namespace, r.metadata.name), { ...r, revision: maxRev + 1 });
      return { revision: updated };
    }
    return { revision: r };
  }
  let collisionCount = opts.collisionCount ?? 0;
  for (let attempt = 0; attempt < 10; attempt++) {
    const hash = revisionHash(template, collisionCount || undefined);
    const name = `${owner.metadata.name}-${hash}`;
    const rev = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name,
        namespace: owner.metadata.namespace,
        labels: { ...(opts.labels ?? template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
        ownerReferences: [newControllerRef(owner, gvk)],
      },
      data,
      revision: maxRev + 1,
    };
    try {
      const created = await client.create(resourcePath('apps', 'v1', 'controllerrevisions', owner.metadata.namespace), rev);
      return { revision: created, collisionCount: collisionCount !== (opts.collisionCount ?? 0) ? collisionCount : undefined };
    } catch (e) {
      if ((e as any)?.status !== 409) throw e;
      const existing = await client.get(resourcePath('apps', 'v1', 'controllerrevisions', owner.metadata.namespace, name));
      if (controllerRefOf(existing)?.uid === owner.metadata.uid && sameData(existing.data, data)) return { revision: existing };
      collisionCount++;
    }
  }
  throw new Error(`cannot create a ControllerRevision for ${owner.metadata.namespace}/${owner.metadata.name}: too many hash collisions`);
}

/** Deletes the oldest revisions beyond `limit`, never one in `live` (names in use). */
export async function truncateHistory(client: RestClient, revisions: any[], live: Set<string>, limit: number): Promise<void> {
  const history = revisions.filter((r) => !live.has(r.metadata.name));
  const excess = history.length - Math.max(0, limit);
  for (const r of history.slice(0, Math.max(0, excess))) {
    try {
      await client.delete(resourcePath('apps', 'v1', 'controllerrevisions', r.metadata.namespace, r.metadata.name));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
