/**
 * The HorizontalPodAutoscaler controller, as upstream's pkg/controller/podautoscaler/horizontal.go:
 * every sync period, per HPA (autoscaling/v2), read the target's scale subresource (any kind that
 * has one: discovery maps kind → resource), list its pods by the scale's selector from the pod
 * informer, read their PodMetrics from metrics.k8s.io, compute the desired count for each metric
 * (replicas.ts), stabilize and rate-limit it (behavior.ts), write the scale, then the status with
 * upstream's conditions and events. Pods / Object / External metrics need custom.metrics.k8s.io or
 * external.metrics.k8s.io, which Skiff does not serve: they report what upstream reports then.
 */
import type { Informer } from '../../client/informer.js';
import { R } from '../../client/factory.js';
import { refOf, type EventRecorder, type InvolvedObject } from '../../client/events.js';
import { resourcePath } from '../../client/rest.js';
import { parseLabelSelector, type LabelSelector } from '../../apiserver/selectors/labels.js';
import { QueueController, isConflict, type ControllerContext } from '../controller.js';
import * as b from './behavior.js';
import { formatMilli, milliValue } from './quantity.js';
import {
  DEFAULT_CPU_INITIALIZATION_PERIOD_MS,
  DEFAULT_INITIAL_READINESS_DELAY_MS,
  DEFAULT_TOLERANCE,
  podMetricsFromList,
  rawResourceReplicas,
  resourceReplicas,
  type CalcOptions,
} from './replicas.js';
import { buildStatus, goLabelSelector, sameStatus, setCondition, type ConditionType } from './status.js';

export const HPA_RESOURCE = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' } as const;

export interface HpaOptions {
  /** --horizontal-pod-autoscaler-sync-period (default 15 s). */
  syncPeriodMs?: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (default 5 min). */
  downscaleStabilizationWindowMs?: number;
  /** --horizontal-pod-autoscaler-tolerance (default 0.1). */
  tolerance?: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period (default 5 min). */
  cpuInitializationPeriodMs?: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (default 30 s). */
  initialReadinessDelayMs?: number;
  /** --concurrent-horizontal-pod-autoscaler-syncs (default 5). */
  workers?: number;
}

/** An error whose message is upstream's, carrying the condition upstream would set for it. */
class MetricError extends Error {
  constructor(
    message: string,
    readonly condition?: { type: ConditionType; status: 'True' | 'False'; reason: string; message: string },
  ) {
    super(message);
  }
}

interface MetricResult {
  replicas: number;
  name: string;
  timestamp: number;
  status: any;
}

/** Lazily fetched PodMetrics for one sync: every resource metric of an HPA reads the same list. */
type PodMetricsFetch = () => Promise<any[]>;

/** spec.metrics, or what the API server's v2 defaulting puts there when empty: cpu at 80% of requests. */
export function metricSpecs(spec: any): any[] {
  if (spec?.metrics?.length) return spec.metrics;
  return [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
}

export class HorizontalController extends QueueController {
  private readonly hpas: Informer;
  private readonly pods: Informer;
  private readonly recorder: EventRecorder;
  private readonly history = new Map<string, b.ScalingHistory>();
  /** Each HPA's last target selector, to find pods claimed by more than one HPA. */
  private readonly selectors = new Map<string, LabelSelector>();
  private readonly discovery = new Map<string, { at: number; resources: any[] | undefined }>();
  private readonly o: Required<HpaOptions>;

  constructor(ctx: ControllerContext, opts: HpaOptions = {}) {
    const o: Required<HpaOptions> = {
      syncPeriodMs: opts.syncPeriodMs ?? 15_000,
      downscaleStabilizationWindowMs: opts.downscaleStabilizationWindowMs ?? 5 * 60_000,
      tolerance: opts.tolerance ?? DEFAULT_TOLERANCE,
      cpuInitializationPeriodMs: opts.cpuInitializationPeriodMs ?? DEFAULT_CPU_INITIALIZATION_PERIOD_MS,
      initialReadinessDelayMs: opts.initialReadinessDelayMs ?? DEFAULT_INITIAL_READINESS_DELAY_MS,
      workers: opts.workers ?? 5,
    };
    super(ctx, 'horizontal-pod-autoscaler', o.workers);
    this.o = o;
    this.hpas = ctx.informers.for(HPA_RESOURCE);
    this.pods = ctx.informers.for(R.pods);
    this.recorder = ctx.recorder('horizontal-pod-autoscaler');
    this.hpas.addHandlers({
      add: (h) => this.enqueue(h),
      // Our own status writes come back as updates: only a spec change is worth an early sync;
      // everything else waits for the sync period, as upstream's rate-limited queue does.
      update: (old, h) => {
        if (old.metadata?.generation !== h.metadata?.generation) this.enqueue(h);
      },
      delete: (h) => this.enqueue(h),
    });
  }

  protected async reconcile(key: string): Promise<void> {
    const cached = this.hpas.get(key);
    if (!cached) {
      this.history.delete(key);
      this.selectors.delete(key);
      return;
    }
    try {
      await this.reconcileAutoscaler(structuredClone(cached), key);
    } catch (e) {
      if (!isConflict(e)) this.ctx.log(`horizontal-pod-autoscaler: ${key}: ${(e as Error).message}`);
    } finally {
      // Every HPA is looked at once per sync period, whatever happened.
      this.enqueueAfter(key, this.o.syncPeriodMs);
    }
  }

  private now(): number {
    return this.ctx.clock.now();
  }

  private ref(hpa: any): InvolvedObject {
    return refOf(hpa, 'HorizontalPodAutoscaler', 'autoscaling/v2');
  }

  private async reconcileAutoscaler(hpa: any, key: string): Promise<void> {
    const original = structuredClone(hpa.status ?? {});
    const status: any = structuredClone(hpa.status ?? {});
    hpa.status = status;
    const spec = hpa.spec ?? {};
    const target = spec.scaleTargetRef ?? {};
    const reference = `${target.kind}/${hpa.metadata.namespace}/${target.name}`;
    const now = this.now();

    const failScale = async (msg: string): Promise<void> => {
      this.recorder.event(this.ref(hpa), 'Warning', 'FailedGetScale', msg);
      setCondition(status, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${msg}`, now);
      await this.updateStatusIfNeeded(hpa, original);
    };

    const [group, version] = String(target.apiVersion ?? '').includes('/') ? String(target.apiVersion).split('/', 2) : ['', String(target.apiVersion ?? '')];
    const resource = await this.resourceForKind(group, version, target.kind);
    if (!resource) {
      await failScale(`no matches for kind "${target.kind}" in group "${group}"`);
      throw new Error(`unable to determine resource for scale target reference: no matches for kind "${target.kind}" in group "${group}"`);
    }
    const scalePath = resourcePath(group, version, resource, hpa.metadata.namespace, target.name, 'scale');
    let scale: any;
    try {
      scale = await this.ctx.client.get(scalePath);
    } catch (e) {
      await failScale((e as Error).message);
      throw new Error(`failed to query scale subresource for ${reference}: ${(e as Error).message}`);
    }
    setCondition(status, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale", now);

    const currentReplicas: number = scale.spec?.replicas ?? 0;
    let h = this.history.get(key);
    if (!h) this.history.set(key, (h = b.newHistory()));
    b.recordInitialRecommendation(h, currentReplicas, now);

    const minReplicas: number = spec.minReplicas ?? 1;
    const maxReplicas: number = spec.maxReplicas;
    let desiredReplicas = 0;
    let rescaleReason = '';
    let metricStatuses: any[] | undefined;
    let rescale = true;
    let retErr: Error | undefined;

    if (currentReplicas === 0 && minReplicas !== 0) {
      // A target scaled to zero by hand is left alone.
      desiredReplicas = 0;
      rescale = false;
      setCondition(status, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero', now);
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      const r = await this.computeReplicasForMetrics(hpa, key, scale, metricSpecs(spec), now);
      metricStatuses = r.statuses;
      if (r.error && r.replicas === -1) {
        hpa.status = buildStatus(status, currentReplicas, status.desiredReplicas ?? 0, metricStatuses, false, now);
        await this.updateStatusIfNeeded(hpa, original);
        this.recorder.event(this.ref(hpa), 'Warning', 'FailedComputeMetricsReplicas', r.error.message);
        throw new Error(`failed to compute desired number of replicas based on listed metrics for ${reference}: ${r.error.message}`);
      }
      if (r.error) retErr = r.error; // some metrics still work: scale on them, report the rest
      let rescaleMetric = '';
      if (r.replicas > desiredReplicas) {
        desiredReplicas = r.replicas;
        rescaleMetric = r.metric;
      }
      if (desiredReplicas > currentReplicas) rescaleReason = `${rescaleMetric} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      const n = spec.behavior
        ? b.normalizeWithBehavior(h, spec.behavior, currentReplicas, desiredReplicas, minReplicas, maxReplicas, Math.trunc(this.o.downscaleStabilizationWindowMs / 1000), now)
        : b.normalizeWithoutBehavior(h, currentReplicas, desiredReplicas, minReplicas, maxReplicas, this.o.downscaleStabilizationWindowMs, now);
      setCondition(status, 'AbleToScale', n.ableToScale.status, n.ableToScale.reason, n.ableToScale.message, now);
      setCondition(status, 'ScalingLimited', n.scalingLimited.status, n.scalingLimited.reason, n.scalingLimited.message, now);
      desiredReplicas = n.desiredReplicas;
      rescale = desiredReplicas !== currentReplicas;
    }

    if (rescale) {
      try {
        await this.ctx.client.update(scalePath, { ...scale, spec: { ...scale.spec, replicas: desiredReplicas } });
      } catch (e) {
        const msg = (e as Error).message;
        this.recorder.event(this.ref(hpa), 'Warning', 'FailedRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${msg}`);
        setCondition(status, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${msg}`, now);
        hpa.status = buildStatus(status, currentReplicas, status.desiredReplicas ?? 0, metricStatuses, false, now);
        await this.updateStatusIfNeeded(hpa, original);
        throw new Error(`failed to rescale ${reference}: ${msg}`);
      }
      setCondition(status, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desiredReplicas}`, now);
      this.recorder.event(this.ref(hpa), 'Normal', 'SuccessfulRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}`);
      b.storeScaleEvent(h, spec.behavior, currentReplicas, desiredReplicas, Math.trunc(this.o.downscaleStabilizationWindowMs / 1000), now);
    } else {
      desiredReplicas = currentReplicas;
    }
    hpa.status = buildStatus(status, currentReplicas, desiredReplicas, metricStatuses, rescale, now);
    await this.updateStatusIfNeeded(hpa, original);
    if (retErr) throw retErr;
  }

  private async updateStatusIfNeeded(hpa: any, original: any): Promise<void> {
    if (sameStatus(original, hpa.status)) return;
    const path = resourcePath(HPA_RESOURCE.group, HPA_RESOURCE.version, HPA_RESOURCE.resource, hpa.metadata.namespace, hpa.metadata.name, 'status');
    try {
      await this.ctx.client.update(path, { ...hpa, apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' });
    } catch (e) {
      if (isConflict(e)) throw e;
      this.recorder.event(this.ref(hpa), 'Warning', 'FailedUpdateStatus', (e as Error).message);
      throw new Error(`failed to update status for ${hpa.metadata.name}: ${(e as Error).message}`);
    }
  }

  /** The resource serving `kind` in group/version (the RESTMapper's job); whether it has a scale, its GET tells. */
  private async resourceForKind(group: string, version: string, kind: string): Promise<string | undefined> {
    const gv = group ? `${group}/${version}` : version;
    let d = this.discovery.get(gv);
    if (!d || this.now() - d.at > 30_000) {
      let resources: any[] | undefined;
      try {
        resources = (await this.ctx.client.get(group ? `/apis/${group}/${version}` : `/api/${version}`)).resources ?? [];
      } catch {
        resources = undefined;
      }
      this.discovery.set(gv, (d = { at: this.now(), resources }));
    }
    const r = (d.resources ?? []).find((x: any) => x.kind === kind && !String(x.name).includes('/'));
    return r?.name;
  }

  /**
   * Every metric's proposal; the highest wins. As upstream: if all metrics fail, or some fail and
   * the rest would scale down, nothing is scaled (-1) and the first failure's condition is set.
   */
  private async computeReplicasForMetrics(hpa: any, key: string, scale: any, specs: any[], now: number): Promise<{ replicas: number; metric: string; statuses: any[] | undefined; error?: Error }> {
    const status = hpa.status;
    const selStr: string = scale.status?.selector ?? '';
    if (!selStr) {
      const msg = 'selector is required';
      this.recorder.event(this.ref(hpa), 'Warning', 'SelectorRequired', msg);
      setCondition(status, 'ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector", now);
      return { replicas: -1, metric: '', statuses: undefined, error: new Error(msg) };
    }
    let selector: LabelSelector;
    try {
      selector = parseLabelSelector(selStr);
    } catch (e) {
      const msg = `couldn't convert selector into a corresponding internal selector object: ${(e as Error).message}`;
      this.recorder.event(this.ref(hpa), 'Warning', 'InvalidSelector', msg);
      setCondition(status, 'ScalingActive', 'False', 'InvalidSelector', msg, now);
      return { replicas: -1, metric: '', statuses: undefined, error: new Error(msg) };
    }
    const ns = hpa.metadata.namespace;
    const pods = this.pods.list().filter((p) => p.metadata?.namespace === ns && selector.matches(p.metadata?.labels));
    this.selectors.set(key, selector);
    // Two HPAs scaling the same pods would fight: upstream refuses to act on either.
    const selecting = [...this.selectors]
      .filter(([k, sel]) => k.startsWith(`${ns}/`) && this.hpas.get(k) && pods.some((p) => sel.matches(p.metadata?.labels)))
      .map(([k]) => k)
      .sort();
    if (selecting.length > 1) {
      const msg = `pods by selector ${selStr} are controlled by multiple HPAs: [${selecting.join(' ')}]`;
      this.recorder.event(this.ref(hpa), 'Warning', 'AmbiguousSelector', msg);
      setCondition(status, 'ScalingActive', 'False', 'AmbiguousSelector', msg, now);
      return { replicas: -1, metric: '', statuses: undefined, error: new Error(msg) };
    }
    let fetched: Promise<any[]> | undefined;
    const fetchMetrics: PodMetricsFetch = () =>
      (fetched ??= this.ctx.client
        .get(`/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods`, { labelSelector: selStr })
        .then((l) => l.items ?? [])
        .catch((e) => {
          throw new MetricError(`unable to fetch metrics from resource metrics API: ${(e as Error).message}`);
        }));

    const specReplicas: number = scale.spec?.replicas ?? 0;
    const statuses: any[] = [];
    let replicas = 0;
    let metric = '';
    let invalid = 0;
    let firstError: MetricError | undefined;
    for (const ms of specs) {
      try {
        const r = await this.computeReplicasForMetric(hpa, ms, specReplicas, pods, fetchMetrics, now);
        statuses.push(r.status);
        if (replicas === 0 || r.replicas > replicas) {
          replicas = r.replicas;
          metric = r.name;
        }
      } catch (e) {
        const err = e instanceof MetricError ? e : new MetricError((e as Error).message);
        statuses.push({ type: '' }); // upstream leaves a zero MetricStatus for a failed metric
        if (!firstError) firstError = err;
        invalid++;
      }
    }
    if (firstError && (invalid >= specs.length || replicas < specReplicas)) {
      const c = firstError.condition;
      if (c) setCondition(status, c.type, c.status, c.reason, c.message, now);
      return { replicas: -1, metric: '', statuses, error: new Error(`invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${firstError.message}`) };
    }
    setCondition(status, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metric}`, now);
    const error = firstError ? new Error(`invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${firstError.message}`) : undefined;
    return { replicas, metric, statuses, error };
  }

  /** Records the Warning event upstream's getUnableComputeReplicaCountCondition does, and builds its condition. */
  private unable(hpa: any, reason: string, inner: string, outer = inner): MetricError {
    this.recorder.event(this.ref(hpa), 'Warning', reason, inner);
    return new MetricError(outer, { type: 'ScalingActive', status: 'False', reason, message: `the HPA was unable to compute the replica count: ${inner}` });
  }

  private calcOptions(now: number): CalcOptions {
    return { tolerance: this.o.tolerance, cpuInitializationPeriodMs: this.o.cpuInitializationPeriodMs, delayOfInitialReadinessStatusMs: this.o.initialReadinessDelayMs, now };
  }

  private async computeReplicasForMetric(hpa: any, ms: any, specReplicas: number, pods: any[], fetchMetrics: PodMetricsFetch, now: number): Promise<MetricResult> {
    switch (ms.type) {
      case 'Resource':
      case 'ContainerResource': {
        const container = ms.type === 'ContainerResource';
        const src = container ? ms.containerResource : ms.resource;
        const reason = container ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric';
        try {
          const r = await this.resourceMetric(specReplicas, src?.target ?? {}, src?.name, container ? src?.container : undefined, pods, fetchMetrics, now);
          const status = container
            ? { type: 'ContainerResource', containerResource: { name: src.name, container: src.container, current: r.current } }
            : { type: 'Resource', resource: { name: src.name, current: r.current } };
          return { replicas: r.replicas, name: r.name, timestamp: r.timestamp, status };
        } catch (e) {
          const inner = (e as Error).message;
          throw this.unable(hpa, reason, inner, container ? `failed to get ${src?.container} container metric value: ${inner}` : `failed to get ${src?.name} resource metric value: ${inner}`);
        }
      }
      case 'Pods': {
        const name = ms.pods?.metric?.name;
        const inner = `unable to get metric ${name}: unable to fetch metrics from custom metrics API: ${await this.customMetricsError()}`;
        throw this.unable(hpa, 'FailedGetPodsMetric', inner, `failed to get pods metric value: ${inner}`);
      }
      case 'Object': {
        const name = ms.object?.metric?.name;
        const obj = ms.object?.describedObject ?? {};
        const target = ms.object?.target ?? {};
        const fetchError = `unable to fetch metrics from custom metrics API: ${await this.customMetricsError()}`;
        if (target.type === 'Value' && target.value != null) {
          // Upstream's format string swaps its arguments; its message reads exactly so.
          const inner = `unable to get metric ${name}: ${obj.kind} on ${hpa.metadata.namespace} ${obj.name}/${fetchError}`;
          throw this.unable(hpa, 'FailedGetObjectMetric', inner, `failed to get object metric value: ${inner}`);
        }
        if (target.type === 'AverageValue' && target.averageValue != null) {
          const inner = `unable to get metric ${name}: ${obj.kind} on ${hpa.metadata.namespace} ${obj.name}/${fetchError}`;
          throw this.unable(hpa, 'FailedGetObjectMetric', inner, `failed to get object metric value: failed to get ${name} object metric: ${inner}`);
        }
        const inner = 'invalid object metric source: neither a value target nor an average value target was set';
        throw this.unable(hpa, 'FailedGetObjectMetric', inner, `failed to get object metric value: ${inner}`);
      }
      case 'External': {
        const name = ms.external?.metric?.name;
        const target = ms.external?.target ?? {};
        const outer = `failed to get ${name} external metric value: `;
        if (target.averageValue == null && target.value == null) {
          const inner = 'invalid external metric source: neither a value target nor an average value target was set';
          throw this.unable(hpa, 'FailedGetExternalMetric', inner, outer + inner);
        }
        const inner = `unable to get external metric ${hpa.metadata.namespace}/${name}/${goLabelSelector(ms.external?.metric?.selector)}: unable to fetch metrics from external metrics API: ${await this.externalMetricsError(hpa.metadata.namespace, name)}`;
        const middle = target.averageValue != null ? `failed to get ${name} external metric: ` : `failed to get external metric ${name}: `;
        throw this.unable(hpa, 'FailedGetExternalMetric', inner, outer + middle + inner);
      }
      default: {
        const msg = `unknown metric source type "${ms.type ?? ''}"`;
        throw this.unable(hpa, 'InvalidMetricSourceType', msg);
      }
    }
  }

  /** computeStatusForResourceMetricGeneric: AverageValue (raw usage) or AverageUtilization (percent of requests). */
  private async resourceMetric(
    specReplicas: number,
    target: any,
    resource: string,
    container: string | undefined,
    pods: any[],
    fetchMetrics: PodMetricsFetch,
    now: number,
  ): Promise<{ replicas: number; name: string; timestamp: number; current: any }> {
    const load = async () => {
      try {
        return podMetricsFromList(await fetchMetrics(), resource, container);
      } catch (e) {
        throw new Error(`unable to get metrics for resource ${resource}: ${(e as Error).message}`);
      }
    };
    if (target.averageValue !== undefined && target.averageValue !== null) {
      try {
        const { metrics, timestamp } = await load();
        const r = rawResourceReplicas(specReplicas, milliValue(target.averageValue), resource, pods, metrics, this.calcOptions(now));
        return { replicas: r.replicas, name: `${resource} resource`, timestamp, current: { averageValue: formatMilli(r.usage) } };
      } catch (e) {
        throw new Error(`failed to get ${resource} usage: ${(e as Error).message}`);
      }
    }
    if (target.averageUtilization === undefined || target.averageUtilization === null) {
      throw new Error('invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
    }
    try {
      const { metrics, timestamp } = await load();
      const r = resourceReplicas(specReplicas, target.averageUtilization, resource, pods, metrics, container, this.calcOptions(now));
      const name = container ? `${resource} container resource utilization (percentage of request)` : `${resource} resource utilization (percentage of request)`;
      return { replicas: r.replicas, name, timestamp, current: { averageUtilization: r.utilization, averageValue: formatMilli(r.rawUtilization) } };
    } catch (e) {
      throw new Error(`failed to get ${resource} utilization: ${(e as Error).message}`);
    }
  }

  /** What the custom metrics client says when the API is not served (its discovery finds no version). */
  private async customMetricsError(): Promise<string> {
    try {
      const g = await this.ctx.client.get('/apis/custom.metrics.k8s.io');
      if (!g?.versions?.length) return 'no known available metric versions found';
      return 'custom metrics are not supported by this controller';
    } catch {
      return 'no known available metric versions found';
    }
  }

  private async externalMetricsError(ns: string, name: string): Promise<string> {
    try {
      await this.ctx.client.get(`/apis/external.metrics.k8s.io/v1beta1/namespaces/${ns}/${name}`);
      return 'external metrics are not supported by this controller';
    } catch (e) {
      return (e as Error).message;
    }
  }
}
