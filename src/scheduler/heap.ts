/** A binary heap keyed by string, with O(log n) update and delete by key. */
export class KeyedHeap<T> {
  private items: T[] = [];
  private readonly index = new Map<string, number>();

  constructor(
    private readonly key: (t: T) => string,
    private readonly less: (a: T, b: T) => boolean,
  ) {}

  get size(): number {
    return this.items.length;
  }

  has(k: string): boolean {
    return this.index.has(k);
  }

  get(k: string): T | undefined {
    const i = this.index.get(k);
    return i === undefined ? undefined : this.items[i];
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds, or replaces the item with the same key. */
  push(t: T): void {
    const k = this.key(t);
    const i = this.index.get(k);
    if (i !== undefined) {
      this.items[i] = t;
      this.fix(i);
      return;
    }
    this.items.push(t);
    this.index.set(k, this.items.length - 1);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    if (!this.items.length) return undefined;
    const top = this.items[0];
    this.removeAt(0);
    return top;
  }

  delete(k: string): T | undefined {
    const i = this.index.get(k);
    if (i === undefined) return undefined;
    const t = this.items[i];
    this.removeAt(i);
    return t;
  }

  values(): T[] {
    return this.items.slice();
  }

  private removeAt(i: number): void {
    const last = this.items.pop()!;
    this.index.delete(this.key(i === this.items.length ? last : this.items[i]));
    if (i < this.items.length) {
      this.items[i] = last;
      this.index.set(this.key(last), i);
      this.fix(i);
    }
  }

  private fix(i: number): void {
    if (!this.up(i)) this.down(i);
  }

  private up(i: number): boolean {
    const a = this.items;
    let moved = false;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i], a[p])) break;
      this.swap(i, p);
      i = p;
      moved = true;
    }
    return moved;
  }

  private down(i: number): void {
    const a = this.items;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let m = l;
      if (l + 1 < n && this.less(a[l + 1], a[l])) m = l + 1;
      if (!this.less(a[m], a[i])) break;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.items;
    [a[i], a[j]] = [a[j], a[i]];
    this.index.set(this.key(a[i]), i);
    this.index.set(this.key(a[j]), j);
  }
}
