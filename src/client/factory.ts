import { Informer, type ResourceRef } from './informer.js';
import type { RestClient } from './rest.js';

/**
 * One informer per resource (and selector) shared by every controller in a process, as client-go's
 * SharedInformerFactory: the API server sees one list+watch per resource, not one per controller.
 */
export class SharedInformerFactory {
  private readonly informers = new Map<string, Informer>();

  constructor(readonly client: RestClient) {}

  for<T extends { metadata?: any } = any>(ref: ResourceRef): Informer<T> {
    const key = [ref.group, ref.version, ref.resource, ref.namespace ?? '', ref.labelSelector ?? '', ref.fieldSelector ?? ''].join('|');
    let inf = this.informers.get(key);
    if (!inf) this.informers.set(key, (inf = new Informer(this.client, ref)));
    return inf as Informer<T>;
  }

  /** Starts every informer created so far and resolves when all have synced. */
  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  stop(): void {
    for (const i of this.informers.values()) i.stop();
  }
}

/** Well-known resources, so callers don't spell group/version/resource each time. */
export const R = {
  pods: { group: '', version: 'v1', resource: 'pods' },
  nodes: { group: '', version: 'v1', resource: 'nodes' },
  namespaces: { group: '', version: 'v1', resource: 'namespaces' },
  services: { group: '', version: 'v1', resource: 'services' },
  endpoints: { group: '', version: 'v1', resource: 'endpoints' },
  configmaps: { group: '', version: 'v1', resource: 'configmaps' },
  secrets: { group: '', version: 'v1', resource: 'secrets' },
  serviceaccounts: { group: '', version: 'v1', resource: 'serviceaccounts' },
  events: { group: '', version: 'v1', resource: 'events' },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments' },
  replicasets: { group: 'apps', version: 'v1', resource: 'replicasets' },
  daemonsets: { group: 'apps', version: 'v1', resource: 'daemonsets' },
  statefulsets: { group: 'apps', version: 'v1', resource: 'statefulsets' },
  controllerrevisions: { group: 'apps', version: 'v1', resource: 'controllerrevisions' },
  jobs: { group: 'batch', version: 'v1', resource: 'jobs' },
  cronjobs: { group: 'batch', version: 'v1', resource: 'cronjobs' },
  leases: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' },
  priorityclasses: { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' },
  poddisruptionbudgets: { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' },
} as const satisfies Record<string, ResourceRef>;
