/**
 * CEL validation rules of CRD schemas (x-kubernetes-validations), as upstream's apiextensions
 * schema/cel: each rule is compiled once per schema (a CRD version's schema object, rebuilt when the
 * CRD changes), `self` is the value at the rule's node converted by its schema, transition rules
 * (oldSelf) run only on updates where the old value correlates, and errors on values unchanged since
 * the old object are ratcheted (CRDValidationRatcheting, on since 1.30). Messages as kube-apiserver
 * v1.32 (the bad value is the schema type, e.g. "object").
 *
 * Rules our library cannot run (a function or syntax @bufbuild/cel lacks) are skipped and reported
 * by celRuleProblems as warnings; genuine syntax errors are refused there as upstream does.
 */
import { celEnv, CelScalar, isCelError, parse, plan } from '@bufbuild/cel';
import type { FieldError } from '../validation/types.js';
import { duplicate, forbidden, GoLiteral, goQuote, index, invalid, key, notSupported, required } from '../validation/errors.js';
import { kubeCelFuncs, OPTIONAL_NONE, optionalSome } from './cel-lib.js';
import { isDeepStrictEqual } from 'node:util';

type Schema = Record<string, any>;
type Program = (ctx: Record<string, unknown>) => unknown;

const env = celEnv({ funcs: kubeCelFuncs, variables: { self: CelScalar.DYN, oldSelf: CelScalar.DYN } });
const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const childPath = (p: string, k: string): string => (p ? `${p}.${k}` : k);

interface Rule {
  src: Schema;
  program?: Program;
  message?: Program;
  usesOldSelf: boolean;
  optionalOldSelf: boolean;
  fieldPath: string;
  /** Why the rule is not evaluated (our library lacks something), or a genuine compile error. */
  unsupported?: string;
  compileError?: string;
}

interface Node {
  schema: Schema;
  rules: Rule[];
  props?: Map<string, Node>;
  addl?: Node;
  items?: Node;
}

// ---------------------------------------------------------------------------------------------
// Compilation

/** Identifiers and functions an expression uses; unknown ones mean our library cannot run it. */
function scan(expr: any, bound: Set<string>, out: { idents: Set<string>; funcs: Set<string> }): void {
  if (!expr?.exprKind) return;
  const { case: c, value: v } = expr.exprKind;
  switch (c) {
    case 'identExpr':
      if (!bound.has(v.name)) out.idents.add(v.name);
      return;
    case 'selectExpr':
      scan(v.operand, bound, out);
      return;
    case 'callExpr': {
      // A namespaced function (sets.contains, ip.isCanonical) parses as a call on an identifier.
      const ns = qualifiedName(v.target);
      if (ns && !bound.has(ns.split('.')[0]!) && env.funcs.find(`${ns}.${v.function}`)) out.funcs.add(`${ns}.${v.function}`);
      else {
        out.funcs.add(v.function);
        if (v.target) scan(v.target, bound, out);
      }
      for (const a of v.args) scan(a, bound, out);
      return;
    }
    case 'listExpr':
      for (const e of v.elements) scan(e, bound, out);
      return;
    case 'structExpr':
      for (const e of v.entries) {
        if (e.keyKind?.case === 'mapKey') scan(e.keyKind.value, bound, out);
        scan(e.value, bound, out);
      }
      return;
    case 'comprehensionExpr': {
      scan(v.iterRange, bound, out);
      scan(v.accuInit, bound, out);
      const inner = new Set([...bound, v.iterVar, v.iterVar2, v.accuVar].filter(Boolean));
      scan(v.loopCondition, inner, out);
      scan(v.loopStep, inner, out);
      scan(v.result, inner, out);
      return;
    }
  }
}

/** `a.b.c` of an identifier/select chain, or undefined. */
function qualifiedName(e: any): string | undefined {
  const k = e?.exprKind;
  if (k?.case === 'identExpr') return k.value.name;
  if (k?.case === 'selectExpr' && !k.value.testOnly) {
    const q = qualifiedName(k.value.operand);
    return q && `${q}.${k.value.field}`;
  }
  return undefined;
}

// Type names usable as values (`type(x) == int`).
const TYPE_IDENTS = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type']);

/** Compiles one expression, or says why it cannot be evaluated here / is invalid. */
function compileExpr(src: string, vars: string[]): { program?: Program; usesOldSelf: boolean; unsupported?: string; syntaxError?: string } {
  let parsed;
  try {
    parsed = parse(src);
  } catch (e) {
    const msg = (e as Error).message;
    // Optional syntax (`.?a`, `[?k]`, `{?k: v}`) is valid upstream but not parsed by @bufbuild/cel.
    if (/\.\?|\[\?|\{\s*\?|,\s*\?/.test(src)) return { usesOldSelf: false, unsupported: `unsupported syntax (${msg})` };
    return { usesOldSelf: false, syntaxError: msg };
  }
  const used = { idents: new Set<string>(), funcs: new Set<string>() };
  scan(parsed.expr, new Set(), used);
  const usesOldSelf = used.idents.has('oldSelf');
  for (const id of used.idents) {
    if (vars.includes(id) || TYPE_IDENTS.has(id)) continue;
    return { usesOldSelf, unsupported: `undeclared reference to '${id}'` };
  }
  for (const f of used.funcs) {
    // Operators (_+_, !_, @in, …) are the standard library's; named functions must be registered.
    if (!/^[_@!-]/.test(f) && !env.funcs.find(f)) {
      return { usesOldSelf, unsupported: `function ${f} is not supported by this server` };
    }
  }
  try {
    return { program: plan(env, parsed) as Program, usesOldSelf };
  } catch (e) {
    return { usesOldSelf, unsupported: (e as Error).message };
  }
}

/** `.a.b` / `['a.b']` as the field path upstream appends (a.b / [a.b]). */
function normalizeFieldPath(fp: string): string {
  return fp.replace(/\[['"]([^'"]*)['"]\]/g, '[$1]').replace(/^\./, '');
}

function compileRule(r: Schema): Rule {
  const rule: Rule = { src: r, usesOldSelf: false, optionalOldSelf: r.optionalOldSelf === true, fieldPath: normalizeFieldPath(String(r.fieldPath ?? '')) };
  const c = compileExpr(String(r.rule ?? ''), ['self', 'oldSelf']);
  rule.usesOldSelf = c.usesOldSelf;
  if (c.syntaxError) rule.compileError = `compilation failed: ERROR: ${c.syntaxError}`;
  else if (c.unsupported) rule.unsupported = c.unsupported;
  else rule.program = c.program;
  if (r.messageExpression) {
    const m = compileExpr(String(r.messageExpression), ['self', 'oldSelf']);
    if (m.syntaxError) rule.compileError ??= `messageExpression compilation failed: ERROR: ${m.syntaxError}`;
    else rule.message = m.program; // unsupported: the static message is used
  }
  return rule;
}

function build(s: Schema | undefined): Node | undefined {
  if (!isObj(s)) return undefined;
  const rules = Array.isArray(s['x-kubernetes-validations']) ? (s['x-kubernetes-validations'] as Schema[]).filter(isObj).map(compileRule) : [];
  const node: Node = { schema: s, rules };
  let any = rules.length > 0;
  if (isObj(s.properties)) {
    for (const [k, sub] of Object.entries(s.properties)) {
      const n = build(sub as Schema);
      if (n) (node.props ??= new Map()).set(k, n);
    }
    any ||= !!node.props;
  }
  if (isObj(s.additionalProperties)) any = !!(node.addl = build(s.additionalProperties)) || any;
  if (isObj(s.items)) any = !!(node.items = build(s.items)) || any;
  return any ? node : undefined;
}

const cache = new WeakMap<Schema, Node | null>();

/** The compiled rule tree of a version's schema; built once per schema object. */
function compiled(schema: Schema): Node | undefined {
  let n = cache.get(schema);
  if (n === undefined) {
    n = build(schema) ?? null;
    cache.set(schema, n);
  }
  return n ?? undefined;
}

// ---------------------------------------------------------------------------------------------
// CRD-time checks

function schemaPathOf(base: string, steps: string[]): string {
  return base + steps.join('');
}

/** %#v of the ValidationRule, which upstream prints as the bad value of a rule that fails to compile. */
function ruleLiteral(r: Schema): GoLiteral {
  const reason = r.reason ? '(*apiextensions.FieldValueErrorReason)(0xc000000000)' : '(*apiextensions.FieldValueErrorReason)(nil)';
  const opt = r.optionalOldSelf === undefined ? '(*bool)(nil)' : '(*bool)(0xc000000000)';
  return new GoLiteral(`apiextensions.ValidationRule{Rule:${goQuote(String(r.rule ?? ''))}, Message:${goQuote(String(r.message ?? ''))}, MessageExpression:${goQuote(String(r.messageExpression ?? ''))}, Reason:${reason}, FieldPath:${goQuote(String(r.fieldPath ?? ''))}, OptionalOldSelf:${opt}}`);
}

const REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];

/** Upstream's checks of a rule's fields before it is compiled. */
function ruleShapeErrors(r: Schema, p: string): FieldError[] {
  const errs: FieldError[] = [];
  const rule = String(r.rule ?? '').trim();
  const msg = typeof r.message === 'string' ? r.message : '';
  if (!rule) errs.push(required(`${p}.rule`, 'rule is not specified'));
  else if (msg && !msg.trim()) errs.push(invalid(`${p}.message`, msg, 'message must be non-empty if specified'));
  else if (/\n/.test(msg.trim())) errs.push(invalid(`${p}.message`, msg, 'message must not contain line breaks'));
  else if (/\n/.test(rule) && !msg.trim()) errs.push(required(`${p}.message`, 'message must be specified if rule contains line breaks'));
  if (typeof r.messageExpression === 'string' && r.messageExpression && !r.messageExpression.trim()) errs.push(required(`${p}.messageExpression`, 'messageExpression must be non-empty if specified'));
  if (r.reason !== undefined && r.reason !== null && !REASONS.includes(r.reason)) errs.push(notSupported(`${p}.reason`, r.reason, REASONS));
  return errs;
}

/**
 * Rules of a CRD version's schema that are invalid (errors, as upstream refuses the CRD) and those
 * this server does not evaluate (warnings naming the rule).
 */
export function celRuleProblems(schema: Schema | undefined, base: string): { errors: FieldError[]; warnings: string[] } {
  const errors: FieldError[] = [];
  const warnings: string[] = [];
  const walk = (s: Schema | undefined, steps: string[]): void => {
    if (!isObj(s)) return;
    const list = s['x-kubernetes-validations'];
    if (Array.isArray(list)) {
      list.forEach((r, i) => {
        if (!isObj(r)) return;
        const p = `${schemaPathOf(base, steps)}.x-kubernetes-validations[${i}]`;
        const shape = ruleShapeErrors(r, p);
        if (shape.length) {
          errors.push(...shape);
          return;
        }
        const c = compileRule(r);
        if (c.compileError) errors.push(invalid(`${p}.${c.compileError.startsWith('messageExpression') ? 'messageExpression' : 'rule'}`, ruleLiteral(r), c.compileError));
        else if (c.unsupported) warnings.push(`${p}: rule ${JSON.stringify(String(r.rule))} is not evaluated by this server: ${c.unsupported}`);
      });
    }
    if (isObj(s.properties)) for (const [k, sub] of Object.entries(s.properties)) walk(sub as Schema, [...steps, `.properties[${k}]`]);
    if (isObj(s.additionalProperties)) walk(s.additionalProperties, [...steps, '.additionalProperties']);
    if (isObj(s.items)) walk(s.items, [...steps, '.items']);
  };
  walk(schema, []);
  return { errors, warnings };
}

// ---------------------------------------------------------------------------------------------
// Values

const toTimestamp = plan(env, parse('timestamp(self)')) as Program;
const toDuration = plan(env, parse('duration(self)')) as Program;

// CEL's reserved words, which Kubernetes exposes as __word__ when they name a property.
const RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

/**
 * The name a declared property has in CEL (Kubernetes' escaping: `namespace` → `__namespace__`,
 * `a-b` → `a__dash__b`, `__` → `__underscores__`, `.` → `__dot__`, `/` → `__slash__`), or undefined
 * when it cannot be accessed.
 */
export function escapeProperty(k: string): string | undefined {
  if (RESERVED.has(k)) return `__${k}__`;
  if (!/^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$/.test(k)) return undefined;
  return k.replace(/__/g, '__underscores__').replace(/\./g, '__dot__').replace(/-/g, '__dash__').replace(/\//g, '__slash__');
}

/** A JSON value without schema as upstream's dyn: whole numbers are int, others double. */
function generic(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(generic);
  if (isObj(v)) return new Map(Object.entries(v).map(([k, x]) => [k, generic(x)]));
  return v;
}

/** The CEL value of a JSON value under its structural schema. */
export function toCel(v: unknown, s: Schema | undefined): unknown {
  if (v === null || v === undefined) return null;
  if (!isObj(s)) return generic(v);
  if (s['x-kubernetes-int-or-string']) return typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : generic(v);
  switch (s.type) {
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : generic(v);
    case 'number':
      return typeof v === 'number' ? v : generic(v);
    case 'string':
      // Formats with a CEL type of their own, as upstream's SchemaDeclType.
      if (typeof v === 'string' && (s.format === 'date-time' || s.format === 'date' || s.format === 'duration')) {
        const r = s.format === 'duration' ? toDuration({ self: v }) : toTimestamp({ self: s.format === 'date' ? `${v}T00:00:00Z` : v });
        return isCelError(r) ? v : r;
      }
      if (typeof v === 'string' && s.format === 'byte') return new Uint8Array(Buffer.from(v, 'base64'));
      return v;
    case 'array':
      return Array.isArray(v) ? v.map((x) => toCel(x, s.items)) : generic(v);
    case 'object': {
      if (!isObj(v)) return generic(v);
      const props = isObj(s.properties) ? s.properties : undefined;
      const addl = isObj(s.additionalProperties) ? s.additionalProperties : undefined;
      const m = new Map<string, unknown>();
      for (const [k, x] of Object.entries(v)) {
        if (props && Object.prototype.hasOwnProperty.call(props, k)) {
          const name = escapeProperty(k);
          if (name !== undefined) m.set(name, toCel(x, props[k]));
        } else m.set(k, toCel(x, addl));
      }
      return m;
    }
  }
  return generic(v);
}

/** self at the resource root also has apiVersion, kind and metadata.name/generateName. */
function rootSelf(obj: any, s: Schema): unknown {
  const m = toCel(obj, s) as Map<string, unknown>;
  if (!(m instanceof Map)) return m;
  if (typeof obj.apiVersion === 'string') m.set('apiVersion', obj.apiVersion);
  if (typeof obj.kind === 'string') m.set('kind', obj.kind);
  const meta = new Map<string, unknown>();
  if (typeof obj.metadata?.name === 'string') meta.set('name', obj.metadata.name);
  if (typeof obj.metadata?.generateName === 'string') meta.set('generateName', obj.metadata.generateName);
  m.set('metadata', meta);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

function ruleText(r: Schema): string {
  return r.message ? String(r.message).trim() : String(r.rule ?? '').trim();
}

function errorForReason(path: string, type: string, detail: string, reason: unknown): FieldError {
  switch (reason) {
    case 'FieldValueForbidden': return forbidden(path, detail);
    case 'FieldValueRequired': return required(path, detail);
    case 'FieldValueDuplicate': return duplicate(path, type);
    default: return invalid(path, type, detail);
  }
}

function evalError(e: Error, r: Schema): string {
  const msg = e.message;
  if (msg.startsWith('found no matching overload')) return `'no such overload': call arguments did not match a supported operator, function or macro signature for rule: ${ruleText(r)}`;
  const nf = /^field not found: (.*)$/.exec(msg);
  return `${nf ? `no such key: ${nf[1]}` : msg} evaluating rule: ${ruleText(r)}`;
}

function evaluateRules(node: Node, v: unknown, old: unknown, path: string, ratchet: () => boolean, root: boolean, errs: FieldError[]): void {
  const s = node.schema;
  const type = typeof s.type === 'string' ? s.type : '';
  // The root's field path is nil upstream, which prints as <nil>.
  const at = path || '<nil>';
  let self: unknown;
  let oldSelf: unknown;
  const bindings = (optional: boolean) => {
    if (self === undefined) {
      self = root ? rootSelf(v, s) : toCel(v, s);
      oldSelf = old === undefined ? undefined : root ? rootSelf(old, s) : toCel(old, s);
    }
    // optionalOldSelf: oldSelf is an optional, none on create or when the old value does not correlate.
    if (optional) return { self, oldSelf: oldSelf === undefined ? OPTIONAL_NONE : optionalSome(oldSelf) };
    return oldSelf === undefined ? { self } : { self, oldSelf };
  };
  for (const rule of node.rules) {
    const r = rule.src;
    if (rule.compileError) {
      errs.push(invalid(at, type, `rule compile error: ${rule.compileError}`));
      continue;
    }
    if (!rule.program) continue;
    if (rule.usesOldSelf && old === undefined && !rule.optionalOldSelf) continue;
    const ctx = bindings(rule.optionalOldSelf && rule.usesOldSelf);
    const res = rule.program(ctx);
    if (isCelError(res)) {
      errs.push(invalid(at, type, evalError(res, r)));
      continue;
    }
    if (res === true) continue;
    if (!rule.usesOldSelf && ratchet()) continue;
    let detail: string | undefined;
    if (rule.message) {
      const m = rule.message(ctx);
      if (typeof m === 'string' && m.trim() && !/\n/.test(m.trim())) detail = m.trim();
    }
    detail ??= r.message ? String(r.message).trim() : `failed rule: ${ruleText(r)}`;
    errs.push(errorForReason(rule.fieldPath ? childPath(path, rule.fieldPath) : at, type, detail, r.reason));
  }
}

function walk(node: Node, v: unknown, old: unknown, path: string, parentRatchet: () => boolean, root: boolean, errs: FieldError[]): void {
  // Only non-null values are validated (upstream): null and absent fields have no rules run.
  if (v === null || v === undefined) return;
  // A null old value is no old value (upstream's guard).
  if (old === null) old = undefined;
  let eq: boolean | undefined;
  const ratchet = old === undefined ? parentRatchet : () => (eq ??= isDeepStrictEqual(v, old));
  evaluateRules(node, v, old, path, ratchet, root, errs);
  if (Array.isArray(v)) {
    if (!node.items) return;
    const s = node.schema;
    const keys: string[] | undefined = s['x-kubernetes-list-type'] === 'map' && Array.isArray(s['x-kubernetes-list-map-keys']) ? s['x-kubernetes-list-map-keys'] : undefined;
    const oldList = Array.isArray(old) ? old : undefined;
    v.forEach((x, i) => {
      // Only items of map lists correlate with the old list (by their keys).
      const o = keys && oldList ? oldList.find((y) => isObj(y) && isObj(x) && keys.every((k) => isDeepStrictEqual(y[k], x[k]))) : undefined;
      walk(node.items!, x, o, index(path, i), ratchet, false, errs);
    });
    return;
  }
  if (!isObj(v)) return;
  const oldObj = isObj(old) ? old : undefined;
  if (node.props) {
    for (const [k, n] of node.props) if (Object.prototype.hasOwnProperty.call(v, k)) walk(n, v[k], oldObj && Object.prototype.hasOwnProperty.call(oldObj, k) ? oldObj[k] : undefined, childPath(path, k), ratchet, false, errs);
  }
  if (node.addl) {
    const props = node.schema.properties;
    for (const k of Object.keys(v)) {
      if (isObj(props) && Object.prototype.hasOwnProperty.call(props, k)) continue;
      walk(node.addl, v[k], oldObj && Object.prototype.hasOwnProperty.call(oldObj, k) ? oldObj[k] : undefined, key(path, k), ratchet, false, errs);
    }
  }
}

/**
 * Errors of the CEL rules of `schema` (a CRD version's openAPIV3Schema) on a custom object; `old`
 * is the stored object on updates (transition rules and ratcheting need it).
 */
export function celErrors(schema: Schema | undefined, obj: unknown, old?: unknown): FieldError[] {
  if (!schema) return [];
  const node = compiled(schema);
  if (!node) return [];
  const errs: FieldError[] = [];
  walk(node, obj, old ?? undefined, '', () => false, true, errs);
  return errs;
}
