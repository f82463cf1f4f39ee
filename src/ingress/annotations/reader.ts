/**
 * Reading one Ingress's annotations under the configurable prefix. Invalid values are reported
 * (the controller turns them into Warning events) and the default is kept, as ingress-nginx logs
 * and ignores them.
 */
export interface AnnotationProblem {
  reason: string;
  message: string;
}

export class Reader {
  readonly problems: AnnotationProblem[] = [];
  constructor(
    private readonly anns: Readonly<Record<string, string>>,
    readonly prefix: string,
  ) {}

  has(name: string): boolean {
    return this.anns[`${this.prefix}/${name}`] !== undefined;
  }

  /** The value trimmed; undefined when absent or empty. */
  str(name: string): string | undefined {
    const v = this.anns[`${this.prefix}/${name}`];
    if (v === undefined) return undefined;
    const t = v.trim();
    return t === '' ? undefined : t;
  }

  invalid(name: string, value: string, why: string): void {
    this.problems.push({ reason: 'InvalidAnnotation', message: `annotation ${this.prefix}/${name}=${JSON.stringify(value)}: ${why}; using the default` });
  }

  bool(name: string, def: boolean): boolean {
    const v = this.str(name);
    if (v === undefined) return def;
    // Go's strconv.ParseBool, which ingress-nginx's parser uses.
    if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
    if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
    this.invalid(name, v, 'not a boolean');
    return def;
  }

  int(name: string, def: number, min = -Infinity, max = Infinity): number {
    const v = this.str(name);
    if (v === undefined) return def;
    if (!/^[+-]?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      this.invalid(name, v, min === -Infinity ? 'not an integer' : `not an integer in [${min}, ${max}]`);
      return def;
    }
    return Number(v);
  }

  /** One of `choices` (case-insensitive), returned as written in `choices`. */
  oneOf<T extends string>(name: string, choices: readonly T[], def: T): T {
    const v = this.str(name);
    if (v === undefined) return def;
    const hit = choices.find((c) => c.toLowerCase() === v.toLowerCase());
    if (hit) return hit;
    this.invalid(name, v, `not one of ${choices.join(', ')}`);
    return def;
  }
}

/** nginx's size syntax (`1m`, `8k`, `512`, `1g`); null when invalid. 0 means unlimited where nginx says so. */
export function parseSize(v: string): number | null {
  const m = /^(\d+)([kKmMgG]?)$/.exec(v.trim());
  if (!m) return null;
  const mult = { '': 1, k: 1024, m: 1024 * 1024, g: 1024 * 1024 * 1024 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

/** Seconds as ingress-nginx's timeout annotations take them (an integer), or nginx time syntax (`30s`, `500ms`, `1m`); milliseconds, null when invalid. */
export function parseSeconds(v: string): number | null {
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const m = /^(\d+)(ms|s|m|h)$/.exec(t);
  if (!m) return null;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}
