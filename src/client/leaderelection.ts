import { ApiError, type RestClient } from './rest.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewIntervalMs?: number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

function microTime(d = new Date()): string {
  return d.toISOString().replace('Z', '000Z');
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection: acquire when the
 * lease is free or expired, renew while leading, and step down if a renewal fails for a whole lease
 * duration. Writes are guarded by resourceVersion, so two candidates never both win.
 */
export class LeaderElector {
  private timer?: NodeJS.Timeout;
  private leading = false;
  private lastRenew = 0;
  private stopped = false;

  constructor(
    private readonly client: RestClient,
    private readonly o: LeaderElectionOptions,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    const tick = async () => {
      if (this.stopped) return;
      try {
        await this.tryAcquireOrRenew();
      } catch {
        /* retried on the next tick */
      }
      const dur = (this.o.leaseDurationSeconds ?? 15) * 1000;
      if (this.leading && Date.now() - this.lastRenew > dur) this.setLeading(false);
      if (!this.stopped) this.timer = setTimeout(tick, this.o.renewIntervalMs ?? 2000);
    };
    void tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leading) {
      // Release so a successor need not wait for expiry.
      try {
        const p = this.path;
        const lease = await this.client.get(p);
        if (lease.spec?.holderIdentity === this.o.identity) {
          lease.spec.holderIdentity = '';
          lease.spec.leaseDurationSeconds = 1;
          await this.client.update(p, lease);
        }
      } catch {
        /* best effort */
      }
      this.setLeading(false);
    }
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.o.namespace}/leases/${this.o.name}`;
  }

  private setLeading(v: boolean): void {
    if (v === this.leading) return;
    this.leading = v;
    if (v) this.o.onStartedLeading();
    else this.o.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const dur = this.o.leaseDurationSeconds ?? 15;
    const now = new Date();
    let lease: any;
    try {
      lease = await this.client.get(this.path);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
      await this.client.create(`/apis/coordination.k8s.io/v1/namespaces/${this.o.namespace}/leases`, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.o.name, namespace: this.o.namespace },
        spec: { holderIdentity: this.o.identity, leaseDurationSeconds: dur, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
      });
      this.lastRenew = Date.now();
      this.setLeading(true);
      return;
    }
    const spec = lease.spec ?? {};
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? dur) * 1000 < now.getTime();
    const mine = spec.holderIdentity === this.o.identity;
    if (!mine && spec.holderIdentity && !expired) {
      this.setLeading(false);
      return;
    }
    lease.spec = {
      ...spec,
      holderIdentity: this.o.identity,
      leaseDurationSeconds: dur,
      renewTime: microTime(now),
      acquireTime: mine ? spec.acquireTime : microTime(now),
      leaseTransitions: mine ? spec.leaseTransitions ?? 0 : (spec.leaseTransitions ?? 0) + 1,
    };
    await this.client.update(this.path, lease);
    this.lastRenew = Date.now();
    this.setLeading(true);
  }
}
