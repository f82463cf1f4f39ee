/** Prometheus text exposition for the data plane, written by hand (no client library). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** One Ingress/host/path series: requests by status and the latency histogram. */
export class LatencySeries {
  readonly statuses = new Map<number, number>();
  readonly counts = BUCKETS.map(() => 0);
  sum = 0;
  count = 0;

  constructor(readonly labels: string) {}

  observe(status: number, seconds: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    for (let i = BUCKETS.length - 1; i >= 0 && seconds <= BUCKETS[i]; i--) this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }
}

/** The counters as plain JSON, so workers can send theirs to the primary for one merged page. */
export interface MetricsSnapshot {
  series: { labels: string; statuses: [number, number][]; counts: number[]; sum: number; count: number }[];
  configReloads: number;
}

/** Where the data plane serves render()'s text (ingress-nginx: port 10254, same path). */
export const METRICS_PATH = '/metrics';

export class IngressMetrics {
  private readonly all = new Map<string, LatencySeries>();
  configReloads = 0;

  /** The series for these labels, created on first use; callers may keep it. */
  series(ingress: string, host: string, path: string): LatencySeries {
    const k = ingress + '\0' + host + '\0' + path;
    let s = this.all.get(k);
    if (!s) this.all.set(k, (s = new LatencySeries(`ingress="${esc(ingress)}",host="${esc(host)}",path="${esc(path)}"`)));
    return s;
  }

  observe(labels: { ingress: string; host: string; path: string; status: number }, seconds: number): void {
    this.series(labels.ingress, labels.host, labels.path).observe(labels.status, seconds);
  }

  snapshot(): MetricsSnapshot {
    return {
      series: [...this.all.values()].map((s) => ({ labels: s.labels, statuses: [...s.statuses], counts: [...s.counts], sum: s.sum, count: s.count })),
      configReloads: this.configReloads,
    };
  }

  /** Sums the workers' counters; every worker applies every configuration, so changes are the most any saw. */
  static merge(snaps: readonly MetricsSnapshot[]): IngressMetrics {
    const m = new IngressMetrics();
    for (const snap of snaps) {
      m.configReloads = Math.max(m.configReloads, snap.configReloads);
      for (const x of snap.series) {
        let s = m.all.get(x.labels);
        if (!s) m.all.set(x.labels, (s = new LatencySeries(x.labels)));
        for (const [status, n] of x.statuses) s.statuses.set(status, (s.statuses.get(status) ?? 0) + n);
        x.counts.forEach((c, i) => (s.counts[i] += c));
        s.sum += x.sum;
        s.count += x.count;
      }
    }
    return m;
  }

  render(): string {
    const out: string[] = [];
    out.push('# HELP skiff_ingress_requests_total Requests handled, by Ingress, host, path and status.', '# TYPE skiff_ingress_requests_total counter');
    for (const s of this.all.values()) for (const [status, v] of s.statuses) out.push(`skiff_ingress_requests_total{${s.labels},status="${status}"} ${v}`);
    out.push('# HELP skiff_ingress_request_duration_seconds Time from request to the end of the response.', '# TYPE skiff_ingress_request_duration_seconds histogram');
    for (const s of this.all.values()) {
      const k = s.labels;
      BUCKETS.forEach((b, i) => out.push(`skiff_ingress_request_duration_seconds_bucket{${k},le="${b}"} ${s.counts[i]}`));
      out.push(`skiff_ingress_request_duration_seconds_bucket{${k},le="+Inf"} ${s.count}`);
      out.push(`skiff_ingress_request_duration_seconds_sum{${k}} ${s.sum}`);
      out.push(`skiff_ingress_request_duration_seconds_count{${k}} ${s.count}`);
    }
    out.push('# HELP skiff_ingress_config_changes_total Configurations applied.', '# TYPE skiff_ingress_config_changes_total counter', `skiff_ingress_config_changes_total ${this.configReloads}`);
    return out.join('\n') + '\n';
  }
}
