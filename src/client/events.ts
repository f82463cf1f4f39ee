import { randomBytes } from 'node:crypto';
import { ApiError, type RestClient } from './rest.js';

export interface EventSource {
  /** e.g. "default-scheduler", "kubelet", "deployment-controller". */
  component: string;
  /** Node name for the kubelet; the instance identity for others. */
  host?: string;
}

export interface InvolvedObject {
  apiVersion?: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

function microTime(): string {
  const ms = Date.now();
  const micro = Math.floor((performance.timeOrigin * 1000 + performance.now() * 1000) % 1000);
  return new Date(ms).toISOString().replace('Z', `${String(micro).padStart(3, '0')}Z`);
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function refOf(obj: any, kind?: string, apiVersion?: string, fieldPath?: string): InvolvedObject {
  const r: InvolvedObject = {
    apiVersion: apiVersion ?? obj.apiVersion,
    kind: kind ?? obj.kind,
    name: obj.metadata.name,
    namespace: obj.metadata.namespace,
    uid: obj.metadata.uid,
    resourceVersion: obj.metadata.resourceVersion,
  };
  if (fieldPath) r.fieldPath = fieldPath;
  return r;
}

const MAX_EVENTS_IN_FLIGHT = 4;
const MAX_QUEUED_EVENTS = 1000;

/**
 * Records core/v1 Events the way client-go's recorder does: the same (object, reason, message) seen
 * again bumps `count` and `lastTimestamp` on the existing Event instead of creating a new one, so
 * `kubectl describe` shows "(x5 over 2m)". Recording never throws: events are best effort.
 */
export class EventRecorder {
  /** Events written (or being created) by key; `created` settles with whether the create succeeded. */
  private readonly seen = new Map<string, { name: string; namespace: string; count: number; written: number; created: Promise<boolean> }>();
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly client: RestClient,
    private readonly source: EventSource,
    /**
     * With a window, repeats of an event are counted locally and written at most once per window,
     * as events.k8s.io's EventSeries (the kube-scheduler's recorder refreshes series every 30
     * minutes): a pod retried thousands of times costs one write, not thousands.
     */
    private readonly o: { seriesWindowMs?: number } = {},
  ) {}

  /**
   * Fire and forget, a few at a time so events never crowd out a component's real writes (status
   * updates, bindings); beyond a backlog of 1,000 they are dropped, as client-go's broadcaster does.
   */
  event(obj: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.waiting.length >= MAX_QUEUED_EVENTS) return;
    void this.limited(() => this.record(obj, type, reason, message)).catch(() => undefined);
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inFlight >= MAX_EVENTS_IN_FLIGHT) await new Promise<void>((r) => this.waiting.push(r));
    this.inFlight++;
    try {
      return await fn();
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  async record(obj: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const namespace = obj.namespace || 'default';
    const key = [obj.kind, namespace, obj.name, obj.uid, obj.fieldPath, reason, message, type].join('\u0000');
    const ts = now();
    const prev = this.seen.get(key);
    // A repeat that arrives while the first is still being created waits for it and counts on it,
    // rather than creating a second Event of its own; if that create failed, this one creates.
    if (prev && (await prev.created)) {
      prev.count++;
      const t = performance.now();
      if (this.o.seriesWindowMs && t - prev.written < this.o.seriesWindowMs) return;
      prev.written = t;
      try {
        await this.client.patch(`/api/v1/namespaces/${prev.namespace}/events/${prev.name}`, { count: prev.count, lastTimestamp: ts }, 'merge');
        return;
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404)) throw e;
      }
    }
    // Upstream names events "<object>.<hex timestamp>"; a random suffix keeps names unique across processes.
    const name = `${obj.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`;
    let settle!: (ok: boolean) => void;
    const entry = { name, namespace, count: 1, written: performance.now(), created: new Promise<boolean>((r) => (settle = r)) };
    if (this.seen.size > 4096) this.seen.clear();
    this.seen.set(key, entry);
    try {
      await this.create(namespace, name, obj, type, reason, message, ts);
      settle(true);
    } catch (e) {
      settle(false);
      throw e;
    }
  }

  private async create(namespace: string, name: string, obj: InvolvedObject, type: string, reason: string, message: string, ts: string): Promise<void> {
    await this.client.create(`/api/v1/namespaces/${namespace}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      // eventTime (microseconds) is what lets `skiff trace` order a pod's steps finer than seconds.
      eventTime: microTime(),
      action: reason,
      involvedObject: obj,
      reason,
      message,
      type,
      source: { component: this.source.component, host: this.source.host },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      reportingComponent: this.source.component,
      reportingInstance: this.source.host ?? '',
    });
  }
}
