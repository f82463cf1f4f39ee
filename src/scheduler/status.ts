/** Result codes of plugins, as upstream's framework.Code. */
export const enum Code {
  Success = 0,
  Error = 1,
  Unschedulable = 2,
  UnschedulableAndUnresolvable = 3,
  Wait = 4,
  Skip = 5,
  Pending = 6,
}

/**
 * What a plugin says about a pod (and node). Success is `null` on hot paths so a passing filter
 * allocates nothing.
 */
export class Status {
  plugin = '';
  constructor(
    readonly code: Code,
    readonly reasons: string[] = [],
  ) {}

  static unschedulable(...reasons: string[]): Status {
    return new Status(Code.Unschedulable, reasons);
  }
  static unresolvable(...reasons: string[]): Status {
    return new Status(Code.UnschedulableAndUnresolvable, reasons);
  }
  static error(msg: string): Status {
    return new Status(Code.Error, [msg]);
  }
  static skip(): Status {
    return SKIP;
  }

  get message(): string {
    return this.reasons.join(', ');
  }

  /** Unschedulable or UnschedulableAndUnresolvable: the pod does not fit, as opposed to an error. */
  get isRejected(): boolean {
    return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable || this.code === Code.Pending;
  }

  withPlugin(name: string): this {
    this.plugin = name;
    return this;
  }
}

const SKIP = new Status(Code.Skip);

export type MaybeStatus = Status | null;

/**
 * "N reason" for each reason over the statuses, sorted, as upstream's FitError message. Counts by
 * status object first: thousands of nodes usually share a few statuses.
 */
export function reasonHistogram(statuses: Iterable<Status>): string[] {
  const byStatus = new Map<Status, number>();
  for (const s of statuses) byStatus.set(s, (byStatus.get(s) ?? 0) + 1);
  const hist = new Map<string, number>();
  for (const [s, n] of byStatus) for (const r of s.reasons) hist.set(r, (hist.get(r) ?? 0) + n);
  return [...hist].map(([r, n]) => `${n} ${r}`).sort();
}

export function isSuccess(s: MaybeStatus | undefined): boolean {
  return !s || s.code === Code.Success;
}
