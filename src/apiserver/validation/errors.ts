/**
 * Field error constructors that print exactly like upstream's field.Error
 * (k8s.io/apimachinery/pkg/util/validation/field/errors.go, ErrorBody), plus path helpers.
 */
import type { FieldError } from './types.js';

/**
 * `FieldValueNotFound` is a real upstream cause reason (volumeMounts naming an unknown volume)
 * that types.ts does not list; we still emit it so the Status matches kube-apiserver.
 */
export type ErrorType = FieldError['type'] | 'FieldValueNotFound';

/** A value already rendered the way Go's fmt prints it (`%#v` of a struct, a map, a slice…). */
export class GoLiteral {
  constructor(readonly text: string) {}
}

/** Go's strconv.Quote, which upstream uses (`%q`) for string values in messages. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (cp) {
      case 0x22: out += '\\"'; continue;
      case 0x5c: out += '\\\\'; continue;
      case 0x07: out += '\\a'; continue;
      case 0x08: out += '\\b'; continue;
      case 0x0c: out += '\\f'; continue;
      case 0x0a: out += '\\n'; continue;
      case 0x0d: out += '\\r'; continue;
      case 0x09: out += '\\t'; continue;
      case 0x0b: out += '\\v'; continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp >= 0x80 && cp < 0xa0) out += '\\u' + cp.toString(16).padStart(4, '0');
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd'; // lone surrogate: Go sees invalid UTF-8
    else out += ch;
  }
  return out + '"';
}

/** Renders a bad value as ErrorBody does: %q for strings, %v for numbers/bools, "null" for nil. */
export function renderValue(v: unknown): string {
  if (v instanceof GoLiteral) return v.text;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  // Callers pass GoLiteral for structured values; this is only a readable fallback.
  return JSON.stringify(v);
}

const TYPE_TEXT: Record<ErrorType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueNotFound: 'Not found',
};

const OMIT = Symbol('omit');

function make(type: ErrorType, field: string, value: unknown, detail: string): FieldError {
  // Required, Forbidden and TooLong never print the value (ErrorBody).
  const showValue = type !== 'FieldValueRequired' && type !== 'FieldValueForbidden' && type !== 'FieldValueTooLong' && value !== OMIT;
  let message = TYPE_TEXT[type];
  if (showValue) message += ': ' + renderValue(value);
  if (detail) message += ': ' + detail;
  return { type: type as FieldError['type'], field, message };
}

export const required = (field: string, detail = ''): FieldError => make('FieldValueRequired', field, '', detail);
export const invalid = (field: string, value: unknown, detail: string): FieldError => make('FieldValueInvalid', field, value, detail);
export const forbidden = (field: string, detail: string): FieldError => make('FieldValueForbidden', field, '', detail);
export const duplicate = (field: string, value: unknown, detail = ''): FieldError => make('FieldValueDuplicate', field, value, detail);
export const notFound = (field: string, value: unknown, detail = ''): FieldError => make('FieldValueNotFound', field, value, detail);
/** Invalid with no value printed (upstream field.OmitValueType). */
export const invalidNoValue = (field: string, detail: string): FieldError => make('FieldValueInvalid', field, OMIT, detail);

export function notSupported(field: string, value: unknown, valid: readonly string[]): FieldError {
  const detail = valid.length ? 'supported values: ' + valid.map(goQuote).join(', ') : '';
  return make('FieldValueNotSupported', field, value, detail);
}

/** field.TooLong: "must have at most N bytes". */
export const tooLong = (field: string, max: number): FieldError => make('FieldValueTooLong', field, '', `must have at most ${max} bytes`);
/** field.TooLongMaxLength: "may not be longer than N". */
export const tooLongMaxLength = (field: string, max: number): FieldError => make('FieldValueTooLong', field, '', `may not be longer than ${max}`);

export function tooMany(field: string, actual: number, max: number): FieldError {
  return make('FieldValueTooMany', field, actual >= 0 ? actual : OMIT, max >= 0 ? `must have at most ${max} items` : 'has too many items');
}

/** field.Path.Child: "a.b". */
export function child(path: string, ...names: string[]): string {
  let p = path;
  for (const n of names) p = p ? `${p}.${n}` : n;
  return p;
}

/** field.Path.Index: "a[0]". */
export const index = (path: string, i: number): string => `${path}[${i}]`;

/** field.Path.Key: "a[key]" (keys are not quoted upstream). */
export const key = (path: string, k: string): string => `${path}[${k}]`;

/** `Error()` of a field error, as it appears inside the aggregate message. */
export const errorString = (e: FieldError): string => `${e.field}: ${e.message}`;
