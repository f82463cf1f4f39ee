/**
 * Prometheus text exposition (format 0.0.4), written by hand: no client library, and nothing here
 * depends on the API server, so the kubelet uses it too. Families are rendered on scrape from
 * plain numbers the callers keep; nothing is allocated per observation.
 */
import { readFileSync, readdirSync } from 'node:fs';
import v8 from 'node:v8';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** `{a="x",b="y"}`, or '' without labels; keys in the order given. */
export function labelString(labels: Labels | undefined): string {
  if (!labels) return '';
  let s = '';
  for (const k in labels) s += (s ? ',' : '') + k + '="' + escapeLabelValue(labels[k]) + '"';
  return s ? `{${s}}` : '';
}

/** Go's strconv.FormatFloat(v, 'g'-ish): integers plainly, +Inf/-Inf/NaN as Prometheus spells them. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Builds one exposition page: each family's HELP and TYPE once, then its samples. */
export class TextWriter {
  private readonly out: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram' | 'untyped', help: string): this {
    this.out.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    return this;
  }

  /** A sample; `timestampMs` as upstream's kubelet /metrics/resource writes it (milliseconds since the epoch). */
  sample(name: string, labels: Labels | string | undefined, value: number, timestampMs?: number): this {
    const l = typeof labels === 'string' ? labels : labelString(labels);
    this.out.push(`${name}${l} ${formatValue(value)}${timestampMs !== undefined ? ' ' + Math.round(timestampMs) : ''}`);
    return this;
  }

  /**
   * A histogram's _bucket/_sum/_count lines. `counts[i]` is the number of observations in bucket i
   * alone (not cumulative; the last slot is above the highest bound): cheaper to keep, summed here.
   * `labels` is the inside of the braces, already escaped ('' for none).
   */
  histogram(name: string, labels: string, bounds: readonly number[], counts: ArrayLike<number>, sum: number): this {
    const sep = labels ? labels + ',' : '';
    let acc = 0;
    for (let i = 0; i < bounds.length; i++) {
      acc += counts[i];
      this.out.push(`${name}_bucket{${sep}le="${formatValue(bounds[i])}"} ${acc}`);
    }
    acc += counts[bounds.length] ?? 0;
    this.out.push(`${name}_bucket{${sep}le="+Inf"} ${acc}`, `${name}_sum${labels ? `{${labels}}` : ''} ${formatValue(sum)}`, `${name}_count${labels ? `{${labels}}` : ''} ${acc}`);
    return this;
  }

  text(): string {
    return this.out.length ? this.out.join('\n') + '\n' : '';
  }
}

/** A histogram series: per-bucket counts (see TextWriter.histogram), sum and the bucket search. */
export class Histogram {
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

  get count(): number {
    let n = 0;
    for (let i = 0; i < this.counts.length; i++) n += this.counts[i];
    return n;
  }
}

/** Parsed samples of an exposition page: enough for the metrics API and tests. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

const SAMPLE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?\s*$/;
const LABEL_RE = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/g;

/** Parses the text format; throws on a line that is neither a comment, blank nor a sample. */
export function parseText(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  let n = 0;
  for (const line of text.split('\n')) {
    n++;
    if (!line.trim()) continue;
    if (line.startsWith('#')) {
      const t = /^# TYPE (\S+) (\S+)/.exec(line);
      if (t) types.set(t[1], t[2]);
      continue;
    }
    const m = SAMPLE_RE.exec(line);
    if (!m) throw new Error(`line ${n}: not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL_RE.lastIndex = 0;
      let consumed = 0;
      for (let l: RegExpExecArray | null; (l = LABEL_RE.exec(m[2])); ) {
        labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        consumed += l[0].length;
      }
      if (consumed !== m[2].length) throw new Error(`line ${n}: bad labels: ${line}`);
    }
    const raw = m[3];
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`line ${n}: bad value: ${line}`);
    samples.push({ name: m[1], labels, value, ...(m[4] !== undefined ? { timestampMs: Number(m[4]) } : {}) });
  }
  return { samples, types };
}

let maxFds: number | undefined;

/**
 * The process_* family of client_golang's process collector and prom-client's nodejs_* defaults
 * (the ones that cost nothing to read on scrape).
 */
export function writeProcessMetrics(w: TextWriter): void {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  w.family('process_cpu_user_seconds_total', 'counter', 'Total user CPU time spent in seconds.').sample('process_cpu_user_seconds_total', undefined, cpu.user / 1e6);
  w.family('process_cpu_system_seconds_total', 'counter', 'Total system CPU time spent in seconds.').sample('process_cpu_system_seconds_total', undefined, cpu.system / 1e6);
  w.family('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.').sample('process_cpu_seconds_total', undefined, (cpu.user + cpu.system) / 1e6);
  w.family('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.').sample('process_start_time_seconds', undefined, Math.round(Date.now() / 1000 - process.uptime()));
  w.family('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.').sample('process_resident_memory_bytes', undefined, mem.rss);
  try {
    // /proc/self/stat: vsize is field 23 (after the parenthesised command name).
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    w.family('process_virtual_memory_bytes', 'gauge', 'Virtual memory size in bytes.').sample('process_virtual_memory_bytes', undefined, Number(f[20]));
  } catch {
    // not Linux
  }
  try {
    const fds = readdirSync('/proc/self/fd').length;
    w.family('process_open_fds', 'gauge', 'Number of open file descriptors.').sample('process_open_fds', undefined, fds);
    maxFds ??= Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? NaN);
    if (Number.isFinite(maxFds)) w.family('process_max_fds', 'gauge', 'Maximum number of open file descriptors.').sample('process_max_fds', undefined, maxFds);
  } catch {
    // not Linux
  }
  const heap = v8.getHeapStatistics();
  w.family('nodejs_heap_size_total_bytes', 'gauge', 'Process heap size from Node.js in bytes.').sample('nodejs_heap_size_total_bytes', undefined, mem.heapTotal);
  w.family('nodejs_heap_size_used_bytes', 'gauge', 'Process heap size used from Node.js in bytes.').sample('nodejs_heap_size_used_bytes', undefined, mem.heapUsed);
  w.family('nodejs_external_memory_bytes', 'gauge', 'Node.js external memory size in bytes.').sample('nodejs_external_memory_bytes', undefined, mem.external);
  w.family('nodejs_heap_space_limit_bytes', 'gauge', 'The V8 heap size limit in bytes.').sample('nodejs_heap_space_limit_bytes', undefined, heap.heap_size_limit);
  const [major, minor, patch] = process.versions.node.split('.');
  w.family('nodejs_version_info', 'gauge', 'Node.js version info.').sample('nodejs_version_info', { version: `v${process.versions.node}`, major, minor, patch }, 1);
}
