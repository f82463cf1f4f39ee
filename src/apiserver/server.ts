import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Backend } from '../storage/backend.js';
import { RESOURCES } from './resources.js';
import { WatchCache } from './watchcache.js';
import { CRDController } from './crd/controller.js';
import { Registry } from './registry.js';
import { createHandler, createUpgradeHandler, type HandlerContext, type ReviewHandler } from './handler.js';
import type { ServiceAccountTokens } from './auth/tokens/serviceaccount.js';
import type { KubeletClientTLS } from '../kubelet/apiproxy.js';
import { auditedHandler, type AuditLogger } from './audit/log.js';
import { bootstrap, primaryIPv4, reconcileKubernetesEndpoints } from './bootstrap.js';
import type { Authenticator, Authorizer } from './auth/types.js';
import { x509Authenticator, authenticatedAllowAuthorizer } from './auth/defaults.js';
import { accessReviews } from './auth/reviews.js';
import type { AdmissionPlugin } from './admission/index.js';
import { DEFAULT_PLUGINS } from './admission/index.js';
import { attachMetrics, type ApiServerMetrics } from './metrics/index.js';
import { StorageMetrics, typeOfKey } from './metrics/storage.js';
import { startAggregator, stopAggregator, type AggregatorOptions } from './aggregator/index.js';
import { FlowSchemaStatusController } from './flowcontrol/dangling.js';

export interface ApiServerOptions {
  backend: Backend;
  port: number;
  host?: string;
  tls: { cert: string; key: string; ca: string };
  /** Address published as the `kubernetes` Service's endpoint (default: this host's first non-loopback IPv4). */
  endpointIP?: string;
  /** Address clients use (for /api serverAddressByClientCIDRs). */
  advertiseAddress?: string;
  /** Compact history older than this interval (upstream: 5 minutes). */
  compactionIntervalMs?: number;
  /** The authentication chain (default: client certificates). */
  authenticators?: Authenticator[];
  /** The authorization chain (default: authenticated users may do anything). */
  authorizers?: Authorizer[];
  admission?: AdmissionPlugin[];
  /** Handlers of create-only review resources by resource key (e.g. "authorization.k8s.io/selfsubjectaccessreviews"). */
  reviews?: Map<string, ReviewHandler>;
  serviceAccounts?: ServiceAccountTokens;
  /** Client certificate presented to kubelets for logs and exec. */
  kubeletClient?: KubeletClientTLS;
  /** Audit logging of every request (upstream --audit-policy-file / --audit-log-path). */
  audit?: AuditLogger;
  /** API aggregation: the proxy client certificate and what aggregated servers are told to trust. */
  aggregator?: AggregatorOptions;
}

/**
 * The API server: HTTPS front end, generic registry over the watch cache, bootstrap objects, and
 * periodic compaction of the backend's history.
 */
export class ApiServer {
  readonly cache: WatchCache;
  readonly registry: Registry;
  private server?: https.Server;
  private ready = false;
  /** Set by stop(): /readyz fails its `shutdown` check from then on, as upstream's does while draining. */
  private stopping = false;
  private compactTimer?: NodeJS.Timeout;
  private crds?: CRDController;
  private flowSchemas?: FlowSchemaStatusController;
  /** GET /metrics and the metrics.k8s.io API (src/apiserver/metrics). */
  readonly metrics: ApiServerMetrics;

  constructor(private readonly opts: ApiServerOptions) {
    // Reads and writes are timed for /metrics (etcd_request_duration_seconds).
    const storage = new StorageMetrics();
    const backend = storage.instrument(opts.backend, typeOfKey((key) => this.cache.storageKeyOf(key)));
    this.cache = new WatchCache(backend, new Set(RESOURCES.map((r) => r.storageKey)));
    this.registry = new Registry(backend, this.cache, opts.admission ?? DEFAULT_PLUGINS);
    this.metrics = attachMetrics(this.registry, opts.kubeletClient, storage);
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.opts.port;
  }

  async start(): Promise<void> {
    const authorizers = this.opts.authorizers ?? [authenticatedAllowAuthorizer];
    const authenticators = this.opts.authenticators ?? [x509Authenticator];
    const ctx: HandlerContext = {
      registry: this.registry,
      ready: () => this.ready,
      stopping: () => this.stopping,
      serverAddress: this.opts.advertiseAddress ?? `127.0.0.1:${this.opts.port}`,
      authenticators,
      authorizers,
      reviews: new Map([...accessReviews(authorizers), ...(this.opts.reviews ?? [])]),
      serviceAccounts: this.opts.serviceAccounts,
      kubeletClient: this.opts.kubeletClient,
    };
    const handler = createHandler(ctx);
    const listener = this.metrics.requests.instrument(this.opts.audit ? await auditedHandler(this.opts.audit, handler, { authenticators, authorizers }) : handler);
    const upgrade = this.metrics.requests.instrumentUpgrade(createUpgradeHandler(ctx));
    this.server = https.createServer(
      {
        cert: this.opts.tls.cert,
        key: this.opts.tls.key,
        ca: this.opts.tls.ca,
        requestCert: true,
        rejectUnauthorized: false,
        // Watches are long-lived: no server-side request timeout.
        requestTimeout: 0,
      },
      (req, res) => void listener(req, res),
    );
    this.server.on('upgrade', (req, socket, head) => void upgrade(req, socket, head));
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
    const listening = new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port, this.opts.host ?? '0.0.0.0', () => resolve());
    });
    // Storage and the cache come up while the socket binds; /readyz says when both are done.
    await Promise.all([listening, this.cache.start()]);
    await bootstrap(this.registry);
    this.crds = new CRDController(this.registry);
    this.crds.start();
    // After the CRDs are installed, so their APIServices are not taken for stale ones.
    await startAggregator(this.registry, this.opts.aggregator);
    this.flowSchemas = new FlowSchemaStatusController(this.registry);
    this.flowSchemas.start();
    const ip = this.opts.endpointIP ?? primaryIPv4();
    if (ip) await reconcileKubernetesEndpoints(this.registry, ip, this.port);
    this.ready = true;
    this.scheduleCompaction();
  }

  private scheduleCompaction(): void {
    const interval = this.opts.compactionIntervalMs ?? 5 * 60_000;
    let last = 0;
    this.compactTimer = setInterval(() => {
      // Compact to the revision seen one interval ago, so anything younger stays watchable.
      const target = last;
      last = this.cache.revision;
      if (target > 0) this.opts.backend.compact(target).catch(() => undefined);
    }, interval);
    this.compactTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.compactTimer) clearInterval(this.compactTimer);
    this.crds?.stop();
    stopAggregator(this.registry);
    this.flowSchemas?.stop();
    this.cache.stop();
    await this.opts.audit?.close();
    if (this.server) {
      const s = this.server;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    }
  }
}
