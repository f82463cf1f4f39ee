/**
 * Label selectors with the semantics of k8s.io/apimachinery pkg/labels (v0.32):
 * the string form accepted by `?labelSelector=` and the metav1.LabelSelector struct
 * used in specs (Deployment.spec.selector and friends).
 *
 * Error texts follow upstream, because kubectl prints whatever the server says and users
 * (and tests) compare them with a real cluster.
 */
import { SkiffError } from '../../util/errors.js';

/** A selector (label or field) that cannot be parsed or is invalid. Maps to 400 BadRequest. */
export class SelectorError extends SkiffError {
  constructor(message: string) {
    super('SelectorInvalid', message);
  }
}

export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /** Sorted, de-duplicated for string-parsed selectors (upstream uses a string set). */
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly requirements: readonly LabelRequirement[];
  /** True when the selector does not restrict anything (matches every object). */
  readonly empty: boolean;
  matches(labels: Record<string, string> | undefined | null): boolean;
  /** The single value a label must have, when the selector pins it (for index lookups). */
  requiresExactMatch(key: string): string | undefined;
  toString(): string;
}

// ---------------------------------------------------------------------------
// Validation of keys and values (k8s.io/apimachinery pkg/util/validation, v0.32 wording).

const QNAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QNAME_RE = new RegExp(`^${QNAME_FMT}$`);
const QNAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${QNAME_FMT})?`;
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/** Upstream's RegexError, including its double space before each " or ". */
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  const ex = examples.map((e) => `'${e}', `).join(' or ');
  return `${msg} (e.g. ${ex}regex used for validation is '${fmt}')`;
}
const maxLenError = (n: number) => `must be no more than ${n} characters`;

function dns1123SubdomainErrors(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push(maxLenError(253));
  if (!DNS1123_SUBDOMAIN_RE.test(v)) errs.push(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  return errs;
}

/** validation.IsQualifiedName: `[prefix/]name`, name ≤ 63 chars, prefix a DNS subdomain. */
export function qualifiedNameErrors(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123SubdomainErrors(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      'a qualified name ' +
        regexError(QNAME_MSG, QNAME_FMT, 'MyName', 'my.name', '123-abc') +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push(`name part ${maxLenError(63)}`);
  if (!QNAME_RE.test(name)) errs.push('name part ' + regexError(QNAME_MSG, QNAME_FMT, 'MyName', 'my.name', '123-abc'));
  return errs;
}

/** validation.IsValidLabelValue: empty, or a ≤ 63 char qualified-name-like token. */
export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!LABEL_VALUE_RE.test(value)) errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errs;
}

/** field.Invalid(...).Error(): `<path>: Invalid value: <value>: <detail>`; strings quoted, lists as JSON. */
function invalid(path: string, value: unknown, detail: string): string {
  return `${path}: Invalid value: ${JSON.stringify(value)}: ${detail}`;
}

/** utilerrors.Aggregate: one error prints bare, several print as `[a, b]`. */
function aggregate(errs: string[]): string | undefined {
  if (errs.length === 0) return undefined;
  return errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`;
}

// Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits, int64 range.
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/**
 * labels.NewRequirement: validates key, operator/value arity and every value. `opValues`
 * is what the error shows for the value list (upstream prints the Go slice as JSON).
 */
function newRequirement(key: string, op: LabelOperator, values: string[], opValues?: unknown): LabelRequirement {
  const errs: string[] = [];
  const keyErrs = qualifiedNameErrors(key);
  if (keyErrs.length) errs.push(invalid('key', key, keyErrs.join('; ')));
  // Upstream marshals the Go slice; an absent list prints as null.
  const shown = opValues ?? (values.length ? values : null);
  switch (op) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(invalid('values', shown, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(invalid('values', shown, 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(invalid('values', shown, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(invalid('values', shown, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined)
          errs.push(invalid(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  values.forEach((v, i) => {
    const vErrs = labelValueErrors(v);
    if (vErrs.length) errs.push(invalid(`values[${i}][${key}]`, v, vErrs.join('; ')));
  });
  const msg = aggregate(errs);
  if (msg !== undefined) throw new SelectorError(msg);
  return Object.freeze({ key, operator: op, values: Object.freeze([...values]) });
}

function requirementMatches(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(labels[r.key]!);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(labels[r.key]!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || r.values.length !== 1) return false;
      const have = parseInt64(labels[r.key]!);
      const want = parseInt64(r.values[0]!);
      if (have === undefined || want === undefined) return false;
      return r.operator === 'gt' ? have > want : have < want;
    }
  }
}

function requirementString(r: LabelRequirement): string {
  const vals = r.values.length === 1 ? r.values[0]! : [...r.values].sort().join(',');
  switch (r.operator) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'in':
      return `${r.key} in (${vals})`;
    case 'notin':
      return `${r.key} notin (${vals})`;
    case 'gt':
      return `${r.key}>${vals}`;
    case 'lt':
      return `${r.key}<${vals}`;
    default:
      return `${r.key}${r.operator}${vals}`;
  }
}

class RequirementsSelector implements LabelSelector {
  readonly requirements: readonly LabelRequirement[];
  constructor(reqs: LabelRequirement[]) {
    // Upstream sorts by key so that String() and comparisons are deterministic.
    this.requirements = Object.freeze([...reqs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));
  }
  get empty(): boolean {
    return this.requirements.length === 0;
  }
  matches(labels: Record<string, string> | undefined | null): boolean {
    const ls = labels ?? {};
    for (const r of this.requirements) if (!requirementMatches(r, ls)) return false;
    return true;
  }
  requiresExactMatch(key: string): string | undefined {
    for (const r of this.requirements) {
      if (r.key !== key) continue;
      if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
      return undefined;
    }
    return undefined;
  }
  toString(): string {
    return this.requirements.map(requirementString).join(',');
  }
}

/** labels.Nothing(): what a nil metav1.LabelSelector means — matches no object. */
class NothingSelector implements LabelSelector {
  readonly requirements: readonly LabelRequirement[] = Object.freeze([]);
  readonly empty = false;
  matches(): boolean {
    return false;
  }
  requiresExactMatch(): string | undefined {
    return undefined;
  }
  toString(): string {
    return '';
  }
}

export const everythingLabelSelector: LabelSelector = new RequirementsSelector([]);
export const nothingLabelSelector: LabelSelector = new NothingSelector();

// ---------------------------------------------------------------------------
// The string form: a lexer and a recursive-descent parser with upstream's tokens and
// error messages. `in`/`notin` are keywords only where an operator is expected; in
// value position they are ordinary identifiers (`a in (in)` is valid).

const enum Tok {
  Error,
  EOS,
  ClosedPar,
  Comma,
  DoesNotExist,
  DoubleEquals,
  Equals,
  GreaterThan,
  Identifier,
  In,
  LessThan,
  NotEquals,
  NotIn,
  OpenPar,
}

const LITERAL_TOKENS: ReadonlyMap<string, Tok> = new Map([
  [')', Tok.ClosedPar],
  [',', Tok.Comma],
  ['!', Tok.DoesNotExist],
  ['==', Tok.DoubleEquals],
  ['=', Tok.Equals],
  ['>', Tok.GreaterThan],
  ['in', Tok.In],
  ['<', Tok.LessThan],
  ['!=', Tok.NotEquals],
  ['notin', Tok.NotIn],
  ['(', Tok.OpenPar],
]);

const isWhitespace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isSpecial = (c: string) => '=!(),><'.includes(c);

interface Item {
  tok: Tok;
  lit: string;
}

function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos]!)) pos++;
    if (pos >= s.length) {
      items.push({ tok: Tok.EOS, lit: '' });
      return items;
    }
    if (isSpecial(s[pos]!)) {
      // Longest run of special characters that is still a known operator ("!=" but "=(" → "=").
      let buf = '';
      let last: Item | undefined;
      while (pos < s.length && isSpecial(s[pos]!)) {
        buf += s[pos];
        const t = LITERAL_TOKENS.get(buf);
        if (t !== undefined) last = { tok: t, lit: buf };
        else if (last) break;
        pos++;
      }
      items.push(last ?? { tok: Tok.Error, lit: `error expected: keyword found '${buf}'` });
    } else {
      const start = pos;
      while (pos < s.length && !isSpecial(s[pos]!) && !isWhitespace(s[pos]!)) pos++;
      const word = s.slice(start, pos);
      const t = LITERAL_TOKENS.get(word);
      items.push({ tok: t ?? Tok.Identifier, lit: word });
    }
  }
}

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';

class Parser {
  private pos = 0;
  constructor(private readonly items: Item[]) {}

  /** In value context the keywords `in`/`notin` are plain identifiers. */
  private view(i: Item, values: boolean): Item {
    if (values && (i.tok === Tok.In || i.tok === Tok.NotIn)) return { tok: Tok.Identifier, lit: i.lit };
    return i;
  }
  private peek(values = true): Item {
    return this.view(this.items[this.pos]!, values);
  }
  private next(values = true): Item {
    return this.view(this.items[this.pos++]!, values);
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const t = this.peek();
      if (t.tok === Tok.EOS) return reqs;
      if (t.tok !== Tok.Identifier && t.tok !== Tok.DoesNotExist)
        throw new SelectorError(`found '${t.lit}', expected: !, identifier, or 'end of string'`);
      try {
        reqs.push(this.requirement());
      } catch (e) {
        if (e instanceof SelectorError) throw new SelectorError(`unable to parse requirement: ${e.message}`);
        throw e;
      }
      const after = this.next();
      if (after.tok === Tok.EOS) return reqs;
      if (after.tok !== Tok.Comma) throw new SelectorError(`found '${after.lit}', expected: ',' or 'end of string'`);
      const n = this.peek();
      if (n.tok !== Tok.Identifier && n.tok !== Tok.DoesNotExist)
        throw new SelectorError(`found '${n.lit}', expected: identifier after ','`);
    }
  }

  private requirement(): LabelRequirement {
    let t = this.next();
    let negated = false;
    if (t.tok === Tok.DoesNotExist) {
      negated = true;
      t = this.next();
    }
    if (t.tok !== Tok.Identifier) throw new SelectorError(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    const keyErrs = qualifiedNameErrors(key);
    // The parser validates the key with a nil field path, which Go prints as "<nil>".
    if (keyErrs.length) throw new SelectorError(invalid('<nil>', key, keyErrs.join('; ')));
    const la = this.peek().tok;
    if (negated) return newRequirement(key, '!', []);
    if (la === Tok.EOS || la === Tok.Comma) return newRequirement(key, 'exists', []);

    const opTok = this.next(false);
    let op: LabelOperator;
    switch (opTok.tok) {
      case Tok.In: op = 'in'; break;
      case Tok.NotIn: op = 'notin'; break;
      case Tok.Equals: op = '='; break;
      case Tok.DoubleEquals: op = '=='; break;
      case Tok.NotEquals: op = '!='; break;
      case Tok.GreaterThan: op = 'gt'; break;
      case Tok.LessThan: op = 'lt'; break;
      default:
        throw new SelectorError(`found '${opTok.lit}', expected: ${BINARY_OPERATORS}`);
    }
    const values = op === 'in' || op === 'notin' ? this.setValues() : this.exactValue();
    return newRequirement(key, op, [...values].sort());
  }

  private setValues(): Set<string> {
    const open = this.next();
    if (open.tok !== Tok.OpenPar) throw new SelectorError(`found '${open.lit}' expected: '('`);
    const first = this.peek();
    if (first.tok === Tok.ClosedPar) {
      this.next();
      return new Set(['']); // "()" is the set holding the empty string
    }
    if (first.tok !== Tok.Identifier && first.tok !== Tok.Comma)
      throw new SelectorError(`found '${first.lit}', expected: ',', ')' or identifier`);
    const s = this.identifierList();
    if (this.next().tok !== Tok.ClosedPar) throw new SelectorError(`found '${first.lit}', expected: ')'`);
    return s;
  }

  /** Comma-separated, possibly empty identifiers: "(a,,b)" and "(,a)" include "". */
  private identifierList(): Set<string> {
    const s = new Set<string>();
    for (;;) {
      const t = this.next();
      if (t.tok === Tok.Identifier) {
        s.add(t.lit);
        const n = this.peek();
        if (n.tok === Tok.Comma) continue;
        if (n.tok === Tok.ClosedPar) return s;
        throw new SelectorError(`found '${n.lit}', expected: ',' or ')'`);
      } else if (t.tok === Tok.Comma) {
        if (s.size === 0) s.add('');
        const n = this.peek();
        if (n.tok === Tok.ClosedPar) {
          s.add('');
          return s;
        }
        if (n.tok === Tok.Comma) {
          this.next();
          s.add('');
        }
      } else {
        throw new SelectorError(`found '${t.lit}', expected: ',', or identifier`);
      }
    }
  }

  private exactValue(): Set<string> {
    const la = this.peek();
    if (la.tok === Tok.EOS || la.tok === Tok.Comma) return new Set(['']); // "a=" means a is ""
    const t = this.next();
    if (t.tok === Tok.Identifier) return new Set([t.lit]);
    throw new SelectorError(`found '${t.lit}', expected: identifier`);
  }
}

/**
 * Parses the string form (`?labelSelector=`): `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, comma-joined (AND). Throws SelectorError.
 */
export function parseLabelSelector(s: string): LabelSelector {
  return new RequirementsSelector(new Parser(lex(s)).parse());
}

export interface LabelSelectorRequirementStruct {
  key: string;
  operator: string;
  values?: string[] | null;
}
export interface LabelSelectorStruct {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: LabelSelectorRequirementStruct[] | null;
}

const STRUCT_OPS: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * metav1.LabelSelectorAsSelector: a missing selector matches nothing; an empty one
 * matches everything. Throws SelectorError for an unknown operator or invalid key/values.
 */
export function selectorFromLabelSelector(sel: LabelSelectorStruct | null | undefined): LabelSelector {
  if (sel == null) return nothingLabelSelector;
  const ml = sel.matchLabels ?? {};
  const me = sel.matchExpressions ?? [];
  if (Object.keys(ml).length + me.length === 0) return everythingLabelSelector;
  const reqs: LabelRequirement[] = [];
  for (const [k, v] of Object.entries(ml)) reqs.push(newRequirement(k, '=', [v]));
  for (const e of me) {
    const op = STRUCT_OPS[e.operator];
    if (!op) throw new SelectorError(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
    const vals = e.values ?? [];
    reqs.push(newRequirement(e.key, op, [...vals], vals.length ? vals : null));
  }
  return new RequirementsSelector(reqs);
}

/** labels.SelectorFromSet: equality on every entry, no validation (for spec.selector maps). */
export function selectorFromSet(set: Record<string, string> | null | undefined): LabelSelector {
  return new RequirementsSelector(
    Object.entries(set ?? {}).map(([key, v]) => Object.freeze({ key, operator: '=' as const, values: Object.freeze([v]) })),
  );
}
