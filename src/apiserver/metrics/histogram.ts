/**
 * Histogram families for the API server's hot paths (every request, every storage operation).
 * prom-client's labelled observe() validates and hashes the label object on every call, and its
 * labels() children do the same (measured: ~2 µs per request for the counter and the histogram,
 * against ~0.05 µs here). Here a caller resolves its series once and keeps it; observe() is a bucket
 * scan and two adds. prom-client still writes the page: a family is registered in the Registry as a
 * metric whose get() lists buckets, _sum and _count as prom-client's own Histogram does.
 */
import type { Metric, MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client';

export class HistogramSeries {
  /** Observations per bucket alone (not cumulative); the last slot is above the highest bound. */
  readonly counts: Float64Array;
  sum = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    // Most observations fall in the first buckets: a forward scan beats a binary search there.
    while (i < b.length && v > b[i]) i++;
    this.counts[i]++;
    this.sum += v;
  }
}

export class HistogramFamily {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, { labels: Record<string, string>; s: HistogramSeries }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of a label set (created on first use; `key` identifies it); callers keep it. */
  child(key: string, labels: Record<string, string>): HistogramSeries {
    let e = this.series.get(key);
    if (!e) this.series.set(key, (e = { labels, s: new HistogramSeries(this.bounds) }));
    return e.s;
  }

  async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: MetricValueWithName<string>[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, s } of this.series.values()) {
      // A series with nothing observed yet (a watch still open) is not written, as upstream.
      if (!s.counts.some((n) => n > 0)) continue;
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i];
        values.push({ metricName: bucket, labels: { ...labels, le: this.bounds[i] }, value: acc });
      }
      acc += s.counts[this.bounds.length];
      values.push({ metricName: bucket, labels: { ...labels, le: '+Inf' }, value: acc });
      values.push({ metricName: `${this.name}_sum`, labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: acc });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values } as unknown as MetricObjectWithValues<MetricValueWithName<string>>;
  }
}
