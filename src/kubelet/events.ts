/**
 * The kubelet's Events: recorded with the time the step happened, sent later through the
 * low-priority lane (lanes.ts) so they never delay a pod's status. Aggregated as client-go's
 * recorder does: the same (object, reason, message) again bumps `count` and `lastTimestamp` of
 * the existing Event; repeats that arrive while the first is still waiting are folded into it.
 */
import { randomBytes } from 'node:crypto';
import { ApiError, type RestClient } from '../client/rest.js';
import type { EventSource, InvolvedObject } from '../client/events.js';
import type { WriteLanes } from './lanes.js';

interface Pending {
  obj: InvolvedObject;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  first: string;
  last: string;
  eventTime: string;
  /** Occurrences not yet sent. */
  count: number;
}

interface Sent {
  name: string;
  namespace: string;
  count: number;
}

/** Seconds precision, as Event timestamps (metav1.Time). */
function secs(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** Microsecond precision (metav1.MicroTime), which lets `skiff trace` order steps finer than seconds. */
function micros(): string {
  const ms = Date.now();
  const micro = Math.floor((performance.timeOrigin * 1000 + performance.now() * 1000) % 1000);
  return `${new Date(ms).toISOString().slice(0, 23)}${String(micro).padStart(3, '0')}Z`;
}

export class KubeletEvents {
  private readonly pending = new Map<string, Pending>();
  private readonly sent = new Map<string, Sent>();

  constructor(
    private readonly client: RestClient,
    private readonly source: EventSource,
    private readonly lanes: WriteLanes,
  ) {}

  event(obj: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const key = [obj.kind, obj.namespace, obj.name, obj.uid, obj.fieldPath, reason, message, type].join('\u0000');
    const now = Date.now();
    const p = this.pending.get(key);
    if (p) {
      p.count++;
      p.last = secs(now);
      return;
    }
    const at = secs(now);
    const item: Pending = { obj, type, reason, message, first: at, last: at, eventTime: micros(), count: 1 };
    // Pending before it is queued: an idle lane runs send() at once, which takes it off again (set
    // after, a sent item stayed pending and swallowed every later repeat of the event).
    this.pending.set(key, item);
    if (!this.lanes.low(() => this.send(key, item))) this.pending.delete(key);
  }

  private async send(key: string, p: Pending): Promise<void> {
    this.pending.delete(key);
    const namespace = p.obj.namespace || 'default';
    const prev = this.sent.get(key);
    if (prev) {
      prev.count += p.count;
      try {
        await this.client.patch(`/api/v1/namespaces/${prev.namespace}/events/${prev.name}`, { count: prev.count, lastTimestamp: p.last }, 'merge');
        return;
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404)) throw e;
        this.sent.delete(key);
      }
    }
    // Upstream names events "<object>.<hex timestamp>"; a random suffix keeps names unique across processes.
    const name = `${p.obj.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`;
    await this.client.create(`/api/v1/namespaces/${namespace}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: p.eventTime,
      action: p.reason,
      involvedObject: p.obj,
      reason: p.reason,
      message: p.message,
      type: p.type,
      source: { component: this.source.component, host: this.source.host },
      firstTimestamp: p.first,
      lastTimestamp: p.last,
      count: p.count,
      reportingComponent: this.source.component,
      reportingInstance: this.source.host ?? '',
    });
    if (this.sent.size > 4096) this.sent.clear();
    this.sent.set(key, { name, namespace, count: p.count });
  }
}
