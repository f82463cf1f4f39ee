import { refOf } from '../../client/events.js';
import { R } from '../../client/factory.js';
import type { Informer } from '../../client/informer.js';
import { resourcePath } from '../../client/rest.js';
import { QueueController, controllerRefOf, isNotFound, nowTime, selectorIsEmpty, selectorMatches, type ControllerContext } from '../controller.js';
import { computeBudget, disruptionAllowedCondition } from './budget.js';

/**
 * The disruption controller: keeps each PodDisruptionBudget's status (expectedPods, currentHealthy,
 * desiredHealthy, disruptionsAllowed, observedGeneration, the DisruptionAllowed condition) current
 * and drops disruptedPods entries once their pods are deleted or the entry times out. The API
 * server's pods/eviction subresource enforces budgets from this status.
 */
export class DisruptionController extends QueueController {
  private readonly pdbs: Informer;
  private readonly pods: Informer;
  private readonly rss: Informer;
  private readonly deployments: Informer;
  private readonly sets: Informer;
  private readonly recorder;

  constructor(ctx: ControllerContext) {
    super(ctx, 'disruption-controller', 2);
    this.recorder = ctx.recorder('controllermanager');
    this.pdbs = ctx.informers.for(R.poddisruptionbudgets);
    this.pods = ctx.informers.for(R.pods);
    this.rss = ctx.informers.for(R.replicasets);
    this.deployments = ctx.informers.for(R.deployments);
    this.sets = ctx.informers.for(R.statefulsets);
    this.pdbs.addHandlers({ add: (b) => this.enqueue(b), update: (_o, b) => this.enqueue(b) });
    const onPod = (p: any) => {
      for (const b of this.pdbs.list()) if (b.metadata.namespace === p.metadata.namespace && selectorMatches(b.spec?.selector, p.metadata.labels)) this.enqueue(b);
    };
    this.pods.addHandlers({ add: onPod, update: (o, p) => (onPod(o), onPod(p)), delete: onPod });
    // A scale change alters expectedPods for percentage and maxUnavailable budgets.
    const onScale = (x: any) => {
      for (const b of this.pdbs.list()) if (b.metadata.namespace === x.metadata.namespace) this.enqueue(b);
    };
    for (const inf of [this.rss, this.deployments, this.sets]) inf.addHandlers({ update: (o, n) => o.spec?.replicas !== n.spec?.replicas && onScale(n) });
  }

  /**
   * The replicas of each distinct controller of the pods, as upstream's finders: a ReplicaSet's
   * Deployment if it has one, a StatefulSet, else any controller's /scale subresource.
   */
  private async expectedFromControllers(pods: any[]): Promise<number | undefined> {
    const seen = new Map<string, number>();
    for (const p of pods) {
      const ref = controllerRefOf(p);
      if (!ref) return undefined;
      const ns = p.metadata.namespace;
      if (seen.has(ref.uid)) continue;
      let replicas: number | undefined;
      let uid = ref.uid;
      if (ref.kind === 'ReplicaSet' && ref.apiVersion === 'apps/v1') {
        const rs = this.rss.get(`${ns}/${ref.name}`);
        if (!rs || rs.metadata.uid !== ref.uid) return undefined;
        const dref = controllerRefOf(rs);
        const d = dref?.kind === 'Deployment' ? this.deployments.get(`${ns}/${dref.name}`) : undefined;
        if (d && d.metadata.uid === dref!.uid) {
          uid = d.metadata.uid;
          replicas = d.spec?.replicas ?? 1;
        } else replicas = rs.spec?.replicas ?? 1;
      } else if (ref.kind === 'StatefulSet' && ref.apiVersion === 'apps/v1') {
        const s = this.sets.get(`${ns}/${ref.name}`);
        if (!s || s.metadata.uid !== ref.uid) return undefined;
        replicas = s.spec?.replicas ?? 1;
      } else {
        const [group, version] = ref.apiVersion.includes('/') ? ref.apiVersion.split('/') : ['', ref.apiVersion];
        const resource = `${ref.kind.toLowerCase()}s`;
        try {
          const scale = await this.ctx.client.get(resourcePath(group, version, resource, ns, ref.name, 'scale'));
          if (scale.metadata?.uid && scale.metadata.uid !== ref.uid) return undefined;
          replicas = scale.spec?.replicas ?? 0;
        } catch {
          return undefined; // no /scale: an unsupported controller, as upstream
        }
      }
      seen.set(uid, replicas ?? 1);
    }
    return [...seen.values()].reduce((a, b) => a + b, 0);
  }

  protected async reconcile(key: string): Promise<void> {
    const cached = this.pdbs.get(key);
    if (!cached || cached.metadata.deletionTimestamp) return;
    const pdb = structuredClone(cached);
    const ns = pdb.metadata.namespace;
    // An empty selector matches every pod in policy/v1; a missing one none.
    const pods = this.pods.list().filter((p) => p.metadata.namespace === ns && (selectorIsEmpty(pdb.spec?.selector) || selectorMatches(pdb.spec?.selector, p.metadata.labels)));
    const needsControllers = pdb.spec?.maxUnavailable != null || typeof pdb.spec?.minAvailable === 'string';
    const expected = needsControllers ? await this.expectedFromControllers(pods) : undefined;
    const now = this.ctx.clock.now();
    const r = computeBudget({ pdb, pods, expectedFromControllers: expected, now });
    if (r.error) {
      this.recorder.event(refOf(pdb, 'PodDisruptionBudget', 'policy/v1'), 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${r.error}`);
    }
    const status = r.status;
    status.conditions = [disruptionAllowedCondition(status, pdb.status?.conditions, nowTime(this.ctx.clock), r.error)];
    const prev = pdb.status ?? {};
    const changed = ['observedGeneration', 'disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods', 'disruptedPods', 'conditions'].some(
      (k) => JSON.stringify(prev[k] ?? null) !== JSON.stringify(status[k] ?? null),
    );
    if (changed) {
      try {
        await this.ctx.client.update(resourcePath('policy', 'v1', 'poddisruptionbudgets', ns, pdb.metadata.name, 'status'), { ...pdb, status });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    if (r.recheckAt !== undefined) this.enqueueAfter(key, Math.max(10, r.recheckAt - now));
  }
}
