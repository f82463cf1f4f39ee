/** Prometheus text exposition for the data plane, written by hand (no client library). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Hist {
  counts: number[];
  sum: number;
  count: number;
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class IngressMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Hist>();
  configReloads = 0;

  private readonly baseCache = new Map<string, string>();

  observe(labels: { ingress: string; host: string; path: string; status: number }, seconds: number): void {
    const ck = labels.ingress + '\0' + labels.host + '\0' + labels.path;
    let base = this.baseCache.get(ck);
    if (base === undefined) {
      base = `ingress="${esc(labels.ingress)}",host="${esc(labels.host)}",path="${esc(labels.path)}"`;
      if (this.baseCache.size < 10_000) this.baseCache.set(ck, base);
    }
    const k = `${base},status="${labels.status}"`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
    let h = this.latency.get(base);
    if (!h) this.latency.set(base, (h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) h.counts[i]++;
    h.sum += seconds;
    h.count++;
  }

  render(): string {
    const out: string[] = [];
    out.push('# HELP skiff_ingress_requests_total Requests handled, by Ingress, host, path and status.', '# TYPE skiff_ingress_requests_total counter');
    for (const [k, v] of this.requests) out.push(`skiff_ingress_requests_total{${k}} ${v}`);
    out.push('# HELP skiff_ingress_request_duration_seconds Time from request to the end of the response.', '# TYPE skiff_ingress_request_duration_seconds histogram');
    for (const [k, h] of this.latency) {
      BUCKETS.forEach((b, i) => out.push(`skiff_ingress_request_duration_seconds_bucket{${k},le="${b}"} ${h.counts[i]}`));
      out.push(`skiff_ingress_request_duration_seconds_bucket{${k},le="+Inf"} ${h.count}`);
      out.push(`skiff_ingress_request_duration_seconds_sum{${k}} ${h.sum}`);
      out.push(`skiff_ingress_request_duration_seconds_count{${k}} ${h.count}`);
    }
    out.push('# HELP skiff_ingress_config_changes_total Configurations applied.', '# TYPE skiff_ingress_config_changes_total counter', `skiff_ingress_config_changes_total ${this.configReloads}`);
    return out.join('\n') + '\n';
  }
}
