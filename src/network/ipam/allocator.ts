/**
 * The pure allocator behind every address pool of the network (pod IPs of a node, pod CIDRs of
 * the cluster): a range of integers, each owned by at most one owner. Like CNI's host-local it
 * hands out round-robin from after the last reservation, so a just-released address is not reused
 * at once (connections to the old owner die out first). State is a plain object, for persistence.
 */
import { SkiffError } from '../../util/errors.js';

export interface AllocatorState {
  /** value → owner */
  owners: Record<string, string>;
  /** The last value handed out (the cursor of the round-robin). */
  last?: number;
}

export class RangeFullError extends SkiffError {
  constructor(what: string) {
    super('RangeFull', `no free address left in ${what}`);
  }
}

export class AlreadyAllocatedError extends SkiffError {
  constructor(value: string, owner: string) {
    super('AlreadyAllocated', `${value} is already allocated to ${owner}`);
  }
}

export class RangeAllocator {
  private readonly owners = new Map<number, string>();
  private last: number;

  /** Values first..last inclusive; `label` names the range in errors. */
  constructor(
    readonly first: number,
    readonly lastValue: number,
    readonly label: string,
    state?: AllocatorState,
  ) {
    this.last = lastValue;
    if (state) {
      for (const [k, o] of Object.entries(state.owners)) {
        const v = Number(k);
        if (v >= first && v <= lastValue) this.owners.set(v, o);
      }
      if (state.last !== undefined && state.last >= first && state.last <= lastValue) this.last = state.last;
    }
  }

  get free(): number {
    return this.lastValue - this.first + 1 - this.owners.size;
  }

  ownerOf(v: number): string | undefined {
    return this.owners.get(v);
  }

  /** The value `owner` holds, if any. */
  find(owner: string): number | undefined {
    for (const [v, o] of this.owners) if (o === owner) return v;
    return undefined;
  }

  /** Takes a specific value; idempotent for the same owner. */
  claim(v: number, owner: string, show: (v: number) => string = String): void {
    if (v < this.first || v > this.lastValue) throw new SkiffError('OutOfRange', `${show(v)} is not in ${this.label}`);
    const cur = this.owners.get(v);
    if (cur !== undefined && cur !== owner) throw new AlreadyAllocatedError(show(v), cur);
    this.owners.set(v, owner);
  }

  /** The next free value after the cursor; the same owner asking again gets its value back. */
  allocate(owner: string): number {
    const had = this.find(owner);
    if (had !== undefined) return had;
    const span = this.lastValue - this.first + 1;
    for (let i = 1; i <= span; i++) {
      const v = this.first + ((this.last - this.first + i) % span);
      if (!this.owners.has(v)) {
        this.owners.set(v, owner);
        this.last = v;
        return v;
      }
    }
    throw new RangeFullError(this.label);
  }

  release(v: number): void {
    this.owners.delete(v);
  }

  releaseOwner(owner: string): number | undefined {
    const v = this.find(owner);
    if (v !== undefined) this.owners.delete(v);
    return v;
  }

  state(): AllocatorState {
    return { owners: Object.fromEntries([...this.owners].map(([v, o]) => [String(v), o])), last: this.last };
  }
}
