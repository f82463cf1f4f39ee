/**
 * API aggregation (kube-aggregator's part of kube-apiserver): APIServices, the controller that
 * registers the local ones and judges availability, routing of /apis/<group>/<version> to the
 * server behind a service-backed APIService, and what discovery learns from it.
 */
import type { Registry } from '../registry.js';
import { AggregatorController, type AggregatorOptions } from './controller.js';
import { METRICS_GROUP, METRICS_VERSION } from '../metrics/api.js';

export { AggregatorController, type AggregatorOptions } from './controller.js';
export { aggregatedAPI, aggregatedAPIs, aggregationGeneration, hasAggregatedAPIs, type AggregatedAPI } from './state.js';
export { aggregatedAttributes } from './requestinfo.js';
export { forwardToAPIService, resolveBackend, serviceUnavailable, SERVICE_UNAVAILABLE, type ProxyClientCert } from './proxy.js';
export { AUTH_CONFIGMAP_NAME, AUTH_CONFIGMAP_NAMESPACE, extensionAuthenticationData, type ExtensionAuthentication } from './authconfig.js';

const running = new WeakMap<Registry, AggregatorController>();

/**
 * Starts the aggregator's controller for this registry (once: a second call returns the first).
 * The built-in metrics API gets its local APIService like every served group/version.
 */
export async function startAggregator(reg: Registry, opts: AggregatorOptions = {}): Promise<AggregatorController> {
  const existing = running.get(reg);
  if (existing) return existing;
  const c = new AggregatorController(reg, { extraLocal: [{ group: METRICS_GROUP, version: METRICS_VERSION }], ...opts });
  running.set(reg, c);
  await c.start();
  return c;
}

/** Stops it (the API server's stop). */
export function stopAggregator(reg: Registry): void {
  running.get(reg)?.stop();
  running.delete(reg);
}

/** The running controller of this registry, if any (the proxy asks it to re-check an unreachable server). */
export function aggregatorOf(reg: Registry): AggregatorController | undefined {
  return running.get(reg);
}
