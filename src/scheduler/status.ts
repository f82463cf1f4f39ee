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

/** Read access to node → status, as upstream's NodeToStatusReader (a Map is one). */
export interface NodeStatusReader {
  get(name: string): Status | undefined;
  values(): Iterable<Status>;
  forEach(fn: (s: Status, name: string) => void): void;
  readonly size: number;
}

/**
 * Node → status as two arrays: a failed cycle records a status for every node (thousands), and a
 * Map insert per node cost more than the filters themselves. Lookups scan until asked often, then
 * index.
 */
export class NodeStatuses implements NodeStatusReader {
  private names: string[] = [];
  private list: Status[] = [];
  private index?: Map<string, number>;
  private lookups = 0;
  /** The arrays are someone else's: copy before the first change. */
  private shared = false;

  /** Statuses over the given names, sharing the arrays (copied on the first set). */
  static fromArrays(names: string[], list: Status[]): NodeStatuses {
    const s = new NodeStatuses();
    s.names = names;
    s.list = list;
    s.shared = true;
    return s;
  }

  set(name: string, s: Status): this {
    if (this.shared) {
      this.names = this.names.slice();
      this.list = this.list.slice();
      this.shared = false;
    }
    const i = this.index ? this.index.get(name) : undefined;
    if (i !== undefined) this.list[i] = s;
    else {
      this.index?.set(name, this.names.length);
      this.names.push(name);
      this.list.push(s);
    }
    return this;
  }

  get(name: string): Status | undefined {
    if (!this.index && ++this.lookups > 4) {
      this.index = new Map();
      for (let i = 0; i < this.names.length; i++) this.index.set(this.names[i], i);
    }
    const i = this.index ? this.index.get(name) : this.names.indexOf(name);
    return i === undefined || i < 0 ? undefined : this.list[i];
  }

  get size(): number {
    return this.names.length;
  }

  values(): Iterable<Status> {
    return this.list;
  }

  forEach(fn: (s: Status, name: string) => void): void {
    for (let i = 0; i < this.names.length; i++) fn(this.list[i], this.names[i]);
  }
}

/**
 * "N reason" for each reason over the statuses, sorted, as upstream's FitError message. Counts by
 * status object first: thousands of nodes usually share a few statuses.
 */
export function reasonHistogram(statuses: Iterable<Status>): string[] {
  const byStatus = new Map<Status, number>();
  for (const s of statuses) byStatus.set(s, (byStatus.get(s) ?? 0) + 1);
  return histogramOf(byStatus);
}

/** reasonHistogram from counts per status object (kept up to date by a caller that knows what changed). */
export function histogramOf(byStatus: ReadonlyMap<Status, number>): string[] {
  const hist = new Map<string, number>();
  for (const [s, n] of byStatus) for (const r of s.reasons) hist.set(r, (hist.get(r) ?? 0) + n);
  return [...hist].map(([r, n]) => `${n} ${r}`).sort();
}

export function isSuccess(s: MaybeStatus | undefined): boolean {
  return !s || s.code === Code.Success;
}
