/**
 * Sets of field paths, as server-side apply's managedFields record them (structured-merge-diff's
 * fieldpath.Set) and their FieldsV1 wire form: `f:name` for a field, `k:{"name":"c"}` for an item
 * of a keyed list, `v:"x"` for an item of a set, and `.` for "this container itself is owned".
 */
const NO_CHILDREN: ReadonlyMap<string, FieldSet> = new Map();

export class FieldSet {
  /** The path ending here is a member (not just a prefix of members). */
  self: boolean;
  /** Allocated with the first child: most nodes are leaves, and a Map per node was a visible share of a write's CPU. */
  private kids: Map<string, FieldSet> | undefined;

  constructor() {
    this.self = false;
    this.kids = undefined;
  }

  /** Children by path element; change them with child(), setChild() and deleteChild(). */
  get children(): ReadonlyMap<string, FieldSet> {
    return this.kids ?? NO_CHILDREN;
  }

  setChild(pe: string, c: FieldSet): void {
    (this.kids ??= new Map()).set(pe, c);
  }

  deleteChild(pe: string): void {
    this.kids?.delete(pe);
  }

  static fromFieldsV1(json: unknown): FieldSet {
    const out = new FieldSet();
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return out;
    const keys = Object.keys(json as object);
    for (const k of keys) {
      if (k === '.') {
        out.self = true;
        continue;
      }
      const v = (json as Record<string, unknown>)[k];
      const child = FieldSet.fromFieldsV1(v);
      // `"f:x": {}` is a leaf member.
      if (!child.children.size) child.self = true;
      out.setChild(k, child);
    }
    return out;
  }

  toFieldsV1(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (this.self && this.children.size) out['.'] = {};
    for (const k of [...this.children.keys()].sort()) out[k] = this.children.get(k)!.toFieldsV1();
    return out;
  }

  get empty(): boolean {
    return !this.self && this.children.size === 0;
  }

  /** The child node for a path element, created (empty) if missing. */
  child(pe: string): FieldSet {
    let c = this.kids?.get(pe);
    if (!c) this.setChild(pe, (c = new FieldSet()));
    return c;
  }

  insert(path: readonly string[]): void {
    let n: FieldSet = this;
    for (const pe of path) n = n.child(pe);
    n.self = true;
  }

  has(path: readonly string[]): boolean {
    let n: FieldSet | undefined = this;
    for (const pe of path) {
      n = n.children.get(pe);
      if (!n) return false;
    }
    return n.self;
  }

  /** The node at a path (members and prefixes alike). */
  at(path: readonly string[]): FieldSet | undefined {
    let n: FieldSet | undefined = this;
    for (const pe of path) {
      n = n?.children.get(pe);
      if (!n) return undefined;
    }
    return n;
  }

  clone(): FieldSet {
    const out = new FieldSet();
    out.self = this.self;
    for (const [k, c] of this.children) out.setChild(k, c.clone());
    return out;
  }

  union(o: FieldSet): FieldSet {
    const out = this.clone();
    out.addAll(o);
    return out;
  }

  addAll(o: FieldSet): void {
    if (o.self) this.self = true;
    for (const [k, c] of o.children) this.child(k).addAll(c);
  }

  /** Members of this set that are not members of `o`. */
  difference(o: FieldSet): FieldSet {
    const out = new FieldSet();
    out.self = this.self && !o.self;
    for (const [k, c] of this.children) {
      const oc = o.children.get(k);
      const d = oc ? c.difference(oc) : c.clone();
      if (!d.empty) out.setChild(k, d);
    }
    return out;
  }

  intersection(o: FieldSet): FieldSet {
    const out = new FieldSet();
    out.self = this.self && o.self;
    for (const [k, c] of this.children) {
      const oc = o.children.get(k);
      if (!oc) continue;
      const i = c.intersection(oc);
      if (!i.empty) out.setChild(k, i);
    }
    return out;
  }

  /** Every member path, parents before children. */
  members(prefix: string[] = [], out: string[][] = []): string[][] {
    if (this.self) out.push(prefix);
    for (const [k, c] of this.children) c.members([...prefix, k], out);
    return out;
  }

  /** Members with no member above them: the roots of what the set covers. */
  topMembers(prefix: string[] = [], out: string[][] = []): string[][] {
    if (this.self) {
      out.push(prefix);
      return out;
    }
    for (const [k, c] of this.children) c.topMembers([...prefix, k], out);
    return out;
  }
}

/** `.spec.containers[name="nginx"].image`, as upstream prints conflicting paths. */
export function formatPath(path: readonly string[]): string {
  let s = '';
  for (const pe of path) {
    const kind = pe.slice(0, 2);
    const rest = pe.slice(2);
    if (kind === 'f:') s += `.${rest}`;
    else if (kind === 'k:') {
      const keys = JSON.parse(rest) as Record<string, unknown>;
      s += `[${Object.entries(keys)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    } else if (kind === 'v:') s += `[=${rest}]`;
    else if (kind === 'i:') s += `[${rest}]`;
  }
  return s;
}
