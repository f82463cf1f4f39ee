import { refOf } from '../../client/events.js';
import { R } from '../../client/factory.js';
import { splitKey, type Informer } from '../../client/informer.js';
import { resourcePath } from '../../client/rest.js';
import { QueueController, isNotFound, nowTime, type ControllerContext } from '../controller.js';
import { evictionTime } from './health.js';

/**
 * The taint eviction controller (upstream's NoExecuteTaintManager): a pod on a node with NoExecute
 * taints it does not tolerate is deleted at once; one tolerating them for tolerationSeconds is
 * deleted that long after the taint appeared (DefaultTolerationSeconds admission gives every pod
 * 300 s for not-ready/unreachable), unless the taint goes first.
 */
export class TaintEvictionController extends QueueController {
  private readonly nodes: Informer;
  private readonly pods: Informer;
  private readonly recorder;
  private readonly scheduled = new Set<string>();

  constructor(ctx: ControllerContext) {
    super(ctx, 'taint-eviction-controller', 4);
    this.recorder = ctx.recorder('taint-eviction-controller');
    this.nodes = ctx.informers.for(R.nodes);
    this.pods = ctx.informers.for(R.pods);
    this.pods.addHandlers({
      add: (p) => p.spec?.nodeName && this.enqueue(p),
      update: (o, p) => p.spec?.nodeName && (o.spec?.nodeName !== p.spec.nodeName || JSON.stringify(o.spec?.tolerations) !== JSON.stringify(p.spec?.tolerations) || this.scheduled.has(`${p.metadata.namespace}/${p.metadata.name}`)) && this.enqueue(p),
      delete: (p) => this.scheduled.delete(`${p.metadata.namespace}/${p.metadata.name}`),
    });
    const onNode = (n: any) => {
      for (const p of this.pods.list()) if (p.spec?.nodeName === n.metadata.name) this.enqueue(p);
    };
    this.nodes.addHandlers({ add: onNode, update: (o, n) => JSON.stringify(o.spec?.taints) !== JSON.stringify(n.spec?.taints) && onNode(n) });
  }

  protected async reconcile(key: string): Promise<void> {
    const pod = this.pods.get(key);
    const wasScheduled = this.scheduled.has(key);
    if (!pod || pod.metadata.deletionTimestamp || !pod.spec?.nodeName) {
      this.scheduled.delete(key);
      return;
    }
    const node = this.nodes.get(pod.spec.nodeName);
    const now = this.ctx.clock.now();
    const at = node ? evictionTime(node.spec?.taints, pod.spec.tolerations, now) : undefined;
    if (at === undefined || at === 'never') {
      if (wasScheduled) {
        this.scheduled.delete(key);
        this.recorder.event(refOf(pod, 'Pod', 'v1'), 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
      }
      return;
    }
    if (at > now) {
      if (!wasScheduled) {
        this.scheduled.add(key);
        this.recorder.event(refOf(pod, 'Pod', 'v1'), 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
      }
      this.enqueueAfter(key, at - now);
      return;
    }
    this.scheduled.delete(key);
    if (!wasScheduled) this.recorder.event(refOf(pod, 'Pod', 'v1'), 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    const { namespace, name } = splitKey(key);
    const t = nowTime(this.ctx.clock);
    try {
      // Say why before deleting, as upstream's AddConditionAndDeletePod.
      const conditions = [...(pod.status?.conditions ?? []).filter((c: any) => c.type !== 'DisruptionTarget'), { type: 'DisruptionTarget', status: 'True', lastTransitionTime: t, reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' }];
      await this.ctx.client.patch(resourcePath('', 'v1', 'pods', namespace, name, 'status'), { status: { conditions } }, 'strategic');
      await this.ctx.client.delete(resourcePath('', 'v1', 'pods', namespace, name), { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: pod.metadata.uid } });
    } catch (e) {
      if (!isNotFound(e) && (e as any)?.status !== 409) throw e;
    }
  }
}
