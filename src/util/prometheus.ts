/**
 * What the API server and the kubelet share about the Prometheus text format: its content type
 * (prom-client's) and reading a page back into samples (parse-prometheus-text-format), for the
 * metrics API's kubelet scrapes and for tests.
 */
import promClient from 'prom-client';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export const PROMETHEUS_CONTENT_TYPE: string = promClient.Registry.PROMETHEUS_CONTENT_TYPE;

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

const num = (s: string | undefined): number => (s === '+Inf' ? Infinity : s === '-Inf' ? -Infinity : !s ? NaN : Number(s));

/**
 * The samples of counters, gauges and untyped families, and every family's type (lower case, as
 * written). Histograms and summaries are left out: parse-prometheus-text-format 1.1 keeps one series
 * per histogram family and drops its labels, _sum and _count (it is right about the rest,
 * timestamps and escapes included, which is all the kubelet's /metrics/resource needs).
 * Lines that are not Prometheus text are skipped, not rejected: a sample that never appears is what
 * callers check for.
 */
export function parseSamples(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const f of parsePrometheusTextFormat(text)) {
    const type = f.type.toLowerCase();
    if (!types.has(f.name)) types.set(f.name, type);
    if (type === 'histogram' || type === 'summary') continue;
    for (const m of f.metrics) {
      const value = num(m.value);
      // An empty or malformed value is not a sample (the parser lets them through).
      if (Number.isNaN(value) && m.value !== 'NaN') continue;
      const ts = m.timestamp_ms !== undefined ? Number(m.timestamp_ms) : undefined;
      samples.push({ name: f.name, labels: { ...m.labels }, value, ...(ts !== undefined && Number.isFinite(ts) ? { timestampMs: ts } : {}) });
    }
  }
  return { samples, types };
}
