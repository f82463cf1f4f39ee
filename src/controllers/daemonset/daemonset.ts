import { refOf } from '../../client/events.js';
import { R } from '../../client/factory.js';
import { splitKey, type Informer } from '../../client/informer.js';
import { resourcePath } from '../../client/rest.js';
import {
  Expectations, QueueController, controllerRefOf, inParallel, isNotFound, isPodAvailable, isPodReady, newControllerRef, podFromTemplate,
  type ControllerContext,
} from '../controller.js';
import { CONTROLLER_REVISION_HASH_LABEL, ensureRevision, ownedRevisions, truncateHistory } from '../controllerrevision.js';
import { daemonPodTolerations, nodeShouldRunDaemonPod, pinToNode, scaledValue, targetNodeOf } from './eligibility.js';

const DS_GVK = { apiVersion: 'apps/v1', kind: 'DaemonSet' };
const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

/**
 * The DaemonSet controller (upstream's pkg/controller/daemon): one pod per eligible node, pinned by
 * required node affinity on metadata.name so the scheduler places it; pods removed from nodes that
 * stop qualifying; RollingUpdate (maxUnavailable, maxSurge) and OnDelete over ControllerRevisions.
 */
export class DaemonSetController extends QueueController {
  private readonly dss: Informer;
  private readonly nodes: Informer;
  private readonly pods: Informer;
  private readonly revisions: Informer;
  private readonly recorder;
  private readonly expectations: Expectations;

  constructor(ctx: ControllerContext) {
    super(ctx, 'daemonset-controller', 3);
    this.recorder = ctx.recorder('daemonset-controller');
    this.expectations = new Expectations(ctx.clock);
    this.dss = ctx.informers.for(R.daemonsets);
    this.nodes = ctx.informers.for(R.nodes);
    this.pods = ctx.informers.for(R.pods);
    this.revisions = ctx.informers.for(R.controllerrevisions);
    this.dss.addHandlers({ add: (d) => this.enqueue(d), update: (_o, d) => this.enqueue(d), delete: (d) => this.enqueue(d) });
    const all = () => this.dss.list().forEach((d) => this.enqueue(d));
    this.nodes.addHandlers({
      add: all,
      delete: all,
      update: (o, n) => {
        // Only what eligibility reads matters; heartbeats don't.
        if (JSON.stringify([o.metadata.labels, o.spec?.taints, o.spec?.unschedulable]) !== JSON.stringify([n.metadata.labels, n.spec?.taints, n.spec?.unschedulable])) all();
      },
    });
    const onPod = (p: any, kind: 'add' | 'update' | 'delete') => {
      const ref = controllerRefOf(p);
      if (ref?.kind !== 'DaemonSet') return;
      const key = `${p.metadata.namespace}/${ref.name}`;
      if (kind === 'add') this.expectations.creationObserved(key);
      if (kind === 'delete') this.expectations.deletionObserved(key, `${p.metadata.namespace}/${p.metadata.name}`);
      this.enqueue(key);
    };
    this.pods.addHandlers({ add: (p) => onPod(p, 'add'), update: (_o, p) => onPod(p, 'update'), delete: (p) => onPod(p, 'delete') });
  }

  private event(ds: any, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.recorder.event(refOf(ds, 'DaemonSet', 'apps/v1'), type, reason, message);
  }

  protected async reconcile(key: string): Promise<void> {
    const cached = this.dss.get(key);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const ds = structuredClone(cached);
    if (ds.metadata.deletionTimestamp) return;
    const ns = splitKey(key).namespace!;
    const { revision, collisionCount } = await ensureRevision(this.ctx.client, this.revisions, ds, DS_GVK, { collisionCount: ds.status?.collisionCount });
    if (collisionCount !== undefined) {
      ds.status = { ...(ds.status ?? {}), collisionCount };
      await this.ctx.client.update(resourcePath('apps', 'v1', 'daemonsets', ns, ds.metadata.name, 'status'), ds);
      return;
    }
    const hash: string = revision.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? revision.metadata.name.slice(ds.metadata.name.length + 1);
    const pods = this.pods.list().filter((p) => p.metadata.namespace === ns && controllerRefOf(p)?.uid === ds.metadata.uid);
    const byNode = new Map<string, any[]>();
    for (const p of pods) {
      const n = targetNodeOf(p) ?? '';
      let l = byNode.get(n);
      if (!l) byNode.set(n, (l = []));
      l.push(p);
    }
    const nodes = this.nodes.list();
    const now = this.ctx.clock.now();
    const minReady = ds.spec.minReadySeconds ?? 0;
    const isNew = (p: any) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash;

    if (this.expectations.satisfied(key)) {
      const create: string[] = [];
      const del: any[] = [];
      for (const node of nodes) {
        const name = node.metadata.name;
        const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
        const here = (byNode.get(name) ?? []).filter((p) => !p.metadata.deletionTimestamp);
        if (!shouldContinueRunning) {
          del.push(...here);
          continue;
        }
        const failed = here.filter((p) => p.status?.phase === 'Failed');
        for (const p of failed) {
          this.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${ns}/${p.metadata.name} on node ${name}, will try to kill it`);
          del.push(p);
        }
        const live = here.filter((p) => p.status?.phase !== 'Failed');
        if (!live.length) {
          if (shouldRun && !(byNode.get(name) ?? []).some((p) => p.metadata.deletionTimestamp)) create.push(name);
          continue;
        }
        // More than one: keep the new revision's oldest pod (or the oldest), unless a surge is in progress.
        if (live.length > 1) {
          const surge = live.some(isNew) && live.some((p) => !isNew(p));
          if (!surge) {
            const keep = [...live].sort((a, b) => Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp))[0];
            del.push(...live.filter((p) => p !== keep));
          }
        }
      }
      // Pods meant for nodes that no longer exist.
      for (const [n, ps] of byNode) if (n && !nodes.some((x) => x.metadata.name === n)) del.push(...ps.filter((p) => !p.metadata.deletionTimestamp));
      if (!create.length && !del.length && (ds.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
        this.rollingUpdate(ds, nodes, byNode, isNew, now, minReady, create, del);
      }
      await this.apply(key, ds, hash, create, del);
    }

    await this.updateStatus(ds, nodes, byNode, isNew, now, minReady);
    const revs = ownedRevisions(this.revisions, ds);
    const live = new Set<string>([revision.metadata.name]);
    for (const p of pods) {
      const h = p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
      if (h) live.add(`${ds.metadata.name}-${h}`);
    }
    await truncateHistory(this.ctx.client, revs, live, ds.spec.revisionHistoryLimit ?? 10);
    if (minReady > 0) this.enqueueAfter(key, minReady * 1000);
  }

  /** Upstream's rollingUpdate: which old pods to replace now, within maxUnavailable/maxSurge. */
  private rollingUpdate(ds: any, nodes: any[], byNode: Map<string, any[]>, isNew: (p: any) => boolean, now: number, minReady: number, create: string[], del: any[]): void {
    const eligible = nodes.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldRun);
    const desired = eligible.length;
    const ru = ds.spec.updateStrategy?.rollingUpdate ?? {};
    const maxSurge = scaledValue(ru.maxSurge, desired, true);
    let maxUnavailable = scaledValue(ru.maxUnavailable ?? 1, desired, true);
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    const available = (p: any) => isPodAvailable(p, minReady, now);
    if (maxSurge === 0) {
      let unavailable = 0;
      const candidates: any[] = [];
      for (const n of eligible) {
        const ps = (byNode.get(n.metadata.name) ?? []).filter((p) => !p.metadata.deletionTimestamp);
        const old = ps.filter((p) => !isNew(p));
        const anyAvailable = ps.some(available);
        if (!anyAvailable) unavailable++;
        for (const p of old) {
          // An old pod that is not available anyway can go at once.
          if (!available(p)) del.push(p);
          else candidates.push(p);
        }
      }
      for (const p of candidates) {
        if (unavailable >= maxUnavailable) break;
        del.push(p);
        unavailable++;
      }
      return;
    }
    let surging = 0;
    const toSurge: string[] = [];
    for (const n of eligible) {
      const ps = (byNode.get(n.metadata.name) ?? []).filter((p) => !p.metadata.deletionTimestamp);
      const old = ps.filter((p) => !isNew(p));
      const fresh = ps.filter(isNew);
      if (!old.length) continue;
      if (fresh.length) {
        surging++;
        // The replacement is up: the old pod can go.
        if (fresh.some(available)) del.push(...old);
      } else if (!old.some(available)) {
        del.push(...old);
      } else toSurge.push(n.metadata.name);
    }
    for (const n of toSurge) {
      if (surging >= maxSurge) break;
      create.push(n);
      surging++;
    }
  }

  private podFor(ds: any, hash: string, node: string): any {
    const pod = podFromTemplate(ds.spec.template, ds, newControllerRef(ds, DS_GVK));
    pod.metadata.labels[CONTROLLER_REVISION_HASH_LABEL] = hash;
    pod.metadata.labels[TEMPLATE_GENERATION_LABEL] = String(ds.metadata.generation ?? 1);
    pod.spec.tolerations = daemonPodTolerations(pod.spec);
    pinToNode(pod.spec, node);
    return pod;
  }

  private async apply(key: string, ds: any, hash: string, create: string[], del: any[]): Promise<void> {
    if (!create.length && !del.length) return;
    const ns = ds.metadata.namespace;
    // One expectation entry covers both; deletions first (as upstream's syncNodes).
    if (del.length) {
      this.expectations.expectDeletions(key, del.map((p) => `${ns}/${p.metadata.name}`));
      await inParallel(del, 16, async (p) => {
        try {
          await this.ctx.client.delete(resourcePath('', 'v1', 'pods', ns, p.metadata.name), { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: p.metadata.uid } });
          this.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
        } catch (e) {
          this.expectations.deletionObserved(key, `${ns}/${p.metadata.name}`);
          if (!isNotFound(e) && (e as any)?.status !== 409) {
            this.event(ds, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
            throw e;
          }
        }
      });
      return;
    }
    this.expectations.expectCreations(key, create.length);
    await inParallel(create, 16, async (node) => {
      try {
        const p = await this.ctx.client.create(resourcePath('', 'v1', 'pods', ns), this.podFor(ds, hash, node));
        this.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${p.metadata.name}`);
      } catch (e) {
        this.expectations.creationFailed(key);
        if (!((e as any)?.status === 403 && /terminat/i.test((e as Error).message))) this.event(ds, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
        throw e;
      }
    });
  }

  private async updateStatus(ds: any, nodes: any[], byNode: Map<string, any[]>, isNew: (p: any) => boolean, now: number, minReady: number): Promise<void> {
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    for (const n of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(n, ds);
      const ps = (byNode.get(n.metadata.name) ?? []).filter((p) => !p.metadata.deletionTimestamp);
      if (shouldRun) {
        desired++;
        if (ps.length) {
          current++;
          // The pod that counts: the new revision's if any, else the oldest.
          const p = ps.find(isNew) ?? ps[0];
          if (isPodReady(p)) {
            ready++;
            if (isPodAvailable(p, minReady, now)) available++;
          }
          if (isNew(p)) updated++;
        }
      } else if (ps.length) misscheduled++;
    }
    const status = {
      ...(ds.status ?? {}),
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: ds.metadata.generation,
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: desired - available,
    };
    if (!status.numberAvailable) delete (status as any).numberAvailable;
    if (!status.numberUnavailable) delete (status as any).numberUnavailable;
    if (!status.updatedNumberScheduled) delete (status as any).updatedNumberScheduled;
    if (JSON.stringify(canonStatus(status)) === JSON.stringify(canonStatus(ds.status ?? {}))) return;
    try {
      await this.ctx.client.update(resourcePath('apps', 'v1', 'daemonsets', ds.metadata.namespace, ds.metadata.name, 'status'), { ...ds, status });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

function canonStatus(s: any): any {
  return Object.fromEntries(Object.keys(s).sort().map((k) => [k, s[k]]));
}

