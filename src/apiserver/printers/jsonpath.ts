/**
 * The part of client-go's JSONPath that CRD additionalPrinterColumns use: `.a.b`, `['a.b']`,
 * `[0]`, `[-1]`, `[*]`, `.*`, `..a` and filters like `[?(@.type=="Ready")]`. Missing keys give
 * no result rather than an error, as the CRD table convertor allows.
 */

type Segment =
  | { kind: 'field'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'recursive' }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start?: number; end?: number }
  | { kind: 'filter'; path: Segment[]; op?: string; value?: unknown };

export class JsonPathError extends Error {}

/** Parses a path such as `.status.conditions[?(@.type=="Ready")].status` (no surrounding braces). */
export function parseJsonPath(path: string): Segment[] {
  const p = new Parser(path.trim());
  const segs = p.segments(false);
  if (!p.done()) throw new JsonPathError(`unrecognized JSONPath ${path}`);
  return segs;
}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  done(): boolean {
    return this.i >= this.s.length;
  }

  /** Segments until the end, or (inside a filter) until an operator or ')'. */
  segments(inFilter: boolean): Segment[] {
    const out: Segment[] = [];
    if (!inFilter && this.s[this.i] === '$') this.i++;
    if (inFilter) {
      if (this.s[this.i] !== '@') throw new JsonPathError('filter must start with @');
      this.i++;
    }
    while (!this.done()) {
      const c = this.s[this.i];
      if (c === '.') {
        if (this.s[this.i + 1] === '.') {
          this.i += 2;
          out.push({ kind: 'recursive' });
          if (this.s[this.i] !== '[') out.push(this.field());
          continue;
        }
        this.i++;
        // A lone "." (the whole object) has no field after it.
        if (this.done() || this.s[this.i] === '[') continue;
        out.push(this.field());
      } else if (c === '[') {
        out.push(this.bracket());
      } else if (inFilter) {
        break;
      } else {
        throw new JsonPathError(`unexpected ${c} at ${this.i}`);
      }
    }
    return out;
  }

  private field(): Segment {
    if (this.s[this.i] === '*') {
      this.i++;
      return { kind: 'wildcard' };
    }
    const m = /^[^.[\]()\s=!<>]+/.exec(this.s.slice(this.i));
    if (!m) throw new JsonPathError(`expected a field name at ${this.i}`);
    this.i += m[0].length;
    return { kind: 'field', name: m[0] };
  }

  private bracket(): Segment {
    const rest = this.s.slice(this.i);
    let m: RegExpExecArray | null;
    if ((m = /^\[\s*\*\s*\]/.exec(rest))) {
      this.i += m[0].length;
      return { kind: 'wildcard' };
    }
    if ((m = /^\[\s*(['"])(.*?)\1\s*\]/.exec(rest))) {
      this.i += m[0].length;
      return { kind: 'field', name: m[2]! };
    }
    if ((m = /^\[\s*(-?\d+)\s*\]/.exec(rest))) {
      this.i += m[0].length;
      return { kind: 'index', index: Number(m[1]) };
    }
    if ((m = /^\[\s*(-?\d*)\s*:\s*(-?\d*)\s*\]/.exec(rest))) {
      this.i += m[0].length;
      return { kind: 'slice', start: m[1] ? Number(m[1]) : undefined, end: m[2] ? Number(m[2]) : undefined };
    }
    if (rest.startsWith('[?(')) {
      this.i += 3;
      const path = this.segments(true);
      this.skipSpace();
      let op: string | undefined;
      let value: unknown;
      const opm = /^(==|!=|<=|>=|<|>)/.exec(this.s.slice(this.i));
      if (opm) {
        op = opm[1];
        this.i += opm[0].length;
        this.skipSpace();
        value = this.literal();
        this.skipSpace();
      }
      if (!this.s.startsWith(')]', this.i)) throw new JsonPathError(`unterminated filter at ${this.i}`);
      this.i += 2;
      return { kind: 'filter', path, op, value };
    }
    throw new JsonPathError(`unrecognized bracket at ${this.i}`);
  }

  private literal(): unknown {
    const rest = this.s.slice(this.i);
    let m: RegExpExecArray | null;
    if ((m = /^(['"])(.*?)\1/.exec(rest))) {
      this.i += m[0].length;
      return m[2];
    }
    if ((m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(rest))) {
      this.i += m[0].length;
      return Number(m[0]);
    }
    if ((m = /^(true|false)\b/.exec(rest))) {
      this.i += m[0].length;
      return m[0] === 'true';
    }
    throw new JsonPathError(`expected a literal at ${this.i}`);
  }

  private skipSpace(): void {
    while (this.s[this.i] === ' ') this.i++;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function descendants(v: unknown, out: unknown[]): void {
  out.push(v);
  if (Array.isArray(v)) for (const x of v) descendants(x, out);
  else if (isObject(v)) for (const k of Object.keys(v).sort()) descendants(v[k], out);
}

function compare(left: unknown, op: string, right: unknown): boolean {
  if (typeof left === 'number' && typeof right === 'number') {
    switch (op) {
      case '==':
        return left === right;
      case '!=':
        return left !== right;
      case '<':
        return left < right;
      case '>':
        return left > right;
      case '<=':
        return left <= right;
      case '>=':
        return left >= right;
    }
  }
  if (op === '==') return left === right;
  if (op === '!=') return left !== right;
  return false;
}

function step(nodes: unknown[], seg: Segment): unknown[] {
  const out: unknown[] = [];
  for (const n of nodes) {
    switch (seg.kind) {
      case 'field':
        if (isObject(n) && Object.prototype.hasOwnProperty.call(n, seg.name)) out.push(n[seg.name]);
        break;
      case 'wildcard':
        if (Array.isArray(n)) out.push(...n);
        else if (isObject(n)) for (const k of Object.keys(n).sort()) out.push(n[k]);
        break;
      case 'recursive':
        descendants(n, out);
        break;
      case 'index':
        if (Array.isArray(n)) {
          const i = seg.index < 0 ? seg.index + n.length : seg.index;
          if (i >= 0 && i < n.length) out.push(n[i]);
        }
        break;
      case 'slice':
        if (Array.isArray(n)) out.push(...n.slice(seg.start, seg.end));
        break;
      case 'filter':
        if (Array.isArray(n)) {
          for (const el of n) {
            const found = evaluate(el, seg.path);
            if (seg.op === undefined ? found.length > 0 : found.some((f) => compare(f, seg.op!, seg.value))) out.push(el);
          }
        }
        break;
    }
  }
  return out;
}

/** All values the path selects, in document order. */
export function evaluate(root: unknown, segments: Segment[]): unknown[] {
  let nodes: unknown[] = [root];
  for (const seg of segments) nodes = step(nodes, seg);
  return nodes;
}
