/**
 * The OpenAPI v2 (Swagger 2.0) document at /openapi/v2, as kubectl reads it: gnostic's
 * `openapi.v2.Document` protobuf (or JSON for curl). kubectl still needs it for client-side
 * schema validation, the fallback it takes whenever server-side field validation cannot be
 * verified for an object's kind — always for `kind: List` (kubectl get … -o yaml backups).
 * kubectl's validator (kube-openapi proto models) reads only `definitions`: each definition with
 * x-kubernetes-group-version-kind (YAML in a vendor extension) is the schema of that kind; kinds
 * without a definition are not validated. Paths are left empty: kubectl prefers v3 for patch
 * types and falls back to its compiled-in types when v2 names no PATCH operation.
 *
 * Definitions are the v3 component schemas converted the way upstream's v2 output looks:
 * `allOf: [{$ref}]` wrappers become sibling `$ref` + description, int-or-string kinds become
 * `type: string`, oneOf/anyOf/nullable are dropped; CRD schemas are converted as upstream's
 * ToStructuralOpenAPIV2 does (nullable, preserve-unknown-fields and embedded resources lose
 * type/items/properties, so kubectl accepts anything there).
 */
import { createHash } from 'node:crypto';
import { REF_PREFIX, allSchemas, type Schema } from './schemas.js';

const DEF_PREFIX = '#/definitions/';

/** A served custom resource version and its CRD's openAPIV3Schema, if any. */
export interface CustomKind {
  group: string;
  version: string;
  kind: string;
  schema?: Record<string, unknown>;
}

/** A Swagger 2.0 schema as we emit it (JSON form; the protobuf form encodes the same keys). */
export type V2Schema = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// v3 → v2 schema conversion

const DROPPED = new Set(['oneOf', 'anyOf', 'not', 'nullable', 'x-kubernetes-validations', 'allOf']);

const KNOWN_TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean']);

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{allOf: [X], description}` → X with the wrapper's own keys on top (upstream's v2 shape). */
function unwrapAllOf(s: Schema): Schema {
  let cur = s;
  while (Array.isArray(cur.allOf) && cur.allOf.length === 1 && !cur.properties && isObj(cur.allOf[0])) {
    const { allOf, ...rest } = cur;
    cur = { ...(allOf[0] as Schema), ...rest };
  }
  return cur;
}

/** Converts one schema (recursively). `crd` applies upstream's CRD-only rules. */
export function toV2Schema(input: Schema, crd: boolean): V2Schema {
  const s = unwrapAllOf(input);
  const out: V2Schema = {};
  if (typeof s.$ref === 'string') {
    // a reference carries only a description and extensions (kube-openapi rejects a typed $ref)
    out.$ref = s.$ref.startsWith(REF_PREFIX) ? DEF_PREFIX + s.$ref.slice(REF_PREFIX.length) : s.$ref;
    if (typeof s.description === 'string') out.description = s.description;
    for (const [k, v] of Object.entries(s)) if (k.startsWith('x-') && !DROPPED.has(k)) out[k] = v;
    return out;
  }
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  // CRDs: values that may be anything (or null) must not be typed or structured for kubectl
  const untyped = crd && (s.nullable === true || s['x-kubernetes-preserve-unknown-fields'] === true || s['x-kubernetes-embedded-resource'] === true);
  const freeForm = !crd && s['x-kubernetes-preserve-unknown-fields'] === true;
  for (const [k, v] of Object.entries(s)) {
    if (DROPPED.has(k)) continue;
    switch (k) {
      case 'type':
        if (untyped || (intOrString && crd)) break;
        out.type = v;
        break;
      case 'properties':
        if (untyped || freeForm || !isObj(v)) break;
        out.properties = Object.fromEntries(Object.entries(v).filter(([, p]) => isObj(p)).map(([n, p]) => [n, toV2Schema(p as Schema, crd)]));
        break;
      case 'items':
        if (untyped || freeForm) break;
        if (isObj(v)) out.items = toV2Schema(v as Schema, crd);
        break;
      case 'additionalProperties':
        if (untyped) break;
        out.additionalProperties = isObj(v) ? toV2Schema(v as Schema, crd) : v;
        break;
      default:
        out[k] = v;
    }
  }
  // built-in IntOrString and Quantity: upstream publishes them as strings (kubectl accepts numbers there)
  if (intOrString && !crd && out.type === undefined) out.type = 'string';
  // kube-openapi refuses the whole document over one definition it cannot parse (an array
  // without a single items schema, an unknown type): such a value is published untyped instead
  if (out.type !== undefined && (!KNOWN_TYPES.has(out.type as string) || (out.type === 'array' && !out.items))) delete out.type;
  return out;
}

const API_VERSION_DESC =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const KIND_DESC =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';

/** "io.example.v1.Foo": the definition name upstream gives a CRD kind. */
export function customDefinitionName(group: string, version: string, kind: string): string {
  return [...group.split('.').reverse(), version, kind].join('.');
}

function customKindDefinition(c: CustomKind): V2Schema {
  const base = c.schema ? toV2Schema(c.schema as Schema, true) : {};
  // a root that may hold anything stays untyped; otherwise type meta and ObjectMeta are declared
  if (c.schema && (base.properties || base.type === 'object')) {
    base.type = 'object';
    base.properties = {
      ...(isObj(base.properties) ? base.properties : {}),
      apiVersion: { description: API_VERSION_DESC, type: 'string' },
      kind: { description: KIND_DESC, type: 'string' },
      metadata: { $ref: DEF_PREFIX + META + 'ObjectMeta', description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata" },
    };
  }
  base['x-kubernetes-group-version-kind'] = [{ group: c.group, kind: c.kind, version: c.version }];
  return base;
}

function customListDefinition(c: CustomKind): V2Schema {
  return {
    description: `${c.kind}List is a list of ${c.kind}`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { description: API_VERSION_DESC, type: 'string' },
      items: { description: `List of ${c.kind.toLowerCase()}. More info: https://git.k8s.io/community/contributors/devel/api-conventions.md`, type: 'array', items: { $ref: DEF_PREFIX + customDefinitionName(c.group, c.version, c.kind) } },
      kind: { description: KIND_DESC, type: 'string' },
      metadata: { $ref: DEF_PREFIX + META + 'ListMeta', description: 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds' },
    },
    'x-kubernetes-group-version-kind': [{ group: c.group, kind: `${c.kind}List`, version: c.version }],
  };
}

/** The v2 document as JSON-shaped data: built-in definitions plus those of `custom` kinds. */
export function buildOpenapiV2(builtin: Readonly<Record<string, Schema>>, custom: CustomKind[]): Record<string, unknown> {
  const all: Record<string, V2Schema> = {};
  for (const name of Object.keys(builtin)) all[name] = toV2Schema(builtin[name]!, false);
  for (const c of custom) {
    const name = customDefinitionName(c.group, c.version, c.kind);
    // a CRD never replaces a built-in kind's schema
    if (!builtin[name]) all[name] = customKindDefinition(c);
    if (!builtin[`${name}List`]) all[`${name}List`] = customListDefinition(c);
  }
  // in name order, as upstream's document
  const definitions: Record<string, V2Schema> = {};
  for (const name of Object.keys(all).sort()) definitions[name] = all[name]!;
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths: {},
    definitions,
    securityDefinitions: { BearerToken: { description: 'Bearer Token authentication', type: 'apiKey', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
}

// ---------------------------------------------------------------------------------------------
// gnostic openapi.v2 protobuf (field numbers from google/gnostic openapiv2/OpenAPIv2.proto)

/** Accumulates one protobuf message; nested messages are encoded first and embedded as bytes. */
class Msg {
  private parts: Buffer[] = [];
  private len = 0;
  private scratch: number[] = [];

  private push(b: Buffer): void {
    this.parts.push(b);
    this.len += b.length;
  }

  private varint(n: number): void {
    const out = this.scratch;
    out.length = 0;
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    this.push(Buffer.from(out));
  }

  private key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  bytes(field: number, b: Buffer): this {
    this.key(field, 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  /** proto3: an empty string is the default and is not written. */
  string(field: number, s: unknown): this {
    if (typeof s === 'string' && s !== '') this.bytes(field, Buffer.from(s, 'utf8'));
    return this;
  }

  bool(field: number, v: unknown): this {
    if (v === true) {
      this.key(field, 0);
      this.varint(1);
    }
    return this;
  }

  /** A bool that is a oneof member: written even when false, so the choice is kept. */
  oneofBool(field: number, v: boolean): this {
    this.key(field, 0);
    this.varint(v ? 1 : 0);
    return this;
  }

  int64(field: number, v: unknown): this {
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) {
      this.key(field, 0);
      this.varint(v);
    }
    return this;
  }

  double(field: number, v: unknown): this {
    if (typeof v === 'number' && v !== 0) {
      this.key(field, 1);
      const b = Buffer.alloc(8);
      b.writeDoubleLE(v);
      this.push(b);
    }
    return this;
  }

  message(field: number, m: Msg): this {
    return this.bytes(field, m.finish());
  }

  finish(): Buffer {
    return this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.len);
  }
}

/**
 * gnostic `Any`: {yaml = 2}. kube-openapi YAML-unmarshals it; JSON is YAML whose strings are
 * always strings (a group named "on" or "yes" stays a string), so we write JSON.
 */
function anyOf(value: unknown): Msg {
  return new Msg().string(2, JSON.stringify(value));
}

function namedAny(name: string, value: unknown): Msg {
  return new Msg().string(1, name).message(2, anyOf(value));
}

function encodeSchema(s: V2Schema): Msg {
  const m = new Msg();
  m.string(1, s.$ref); // _ref
  m.string(2, s.format);
  m.string(3, s.title);
  m.string(4, s.description);
  if (s.default !== undefined) m.message(5, anyOf(s.default));
  m.double(6, s.multipleOf);
  m.double(7, s.maximum);
  m.bool(8, s.exclusiveMaximum);
  m.double(9, s.minimum);
  m.bool(10, s.exclusiveMinimum);
  m.int64(11, s.maxLength);
  m.int64(12, s.minLength);
  m.string(13, s.pattern);
  m.int64(14, s.maxItems);
  m.int64(15, s.minItems);
  m.bool(16, s.uniqueItems);
  m.int64(17, s.maxProperties);
  m.int64(18, s.minProperties);
  if (Array.isArray(s.required)) for (const r of s.required) m.string(19, r);
  if (Array.isArray(s.enum)) for (const e of s.enum) m.message(20, anyOf(e));
  if (isObj(s.additionalProperties)) m.message(21, new Msg().message(1, encodeSchema(s.additionalProperties)));
  else if (typeof s.additionalProperties === 'boolean') m.message(21, new Msg().oneofBool(2, s.additionalProperties));
  if (typeof s.type === 'string') m.message(22, new Msg().string(1, s.type));
  else if (Array.isArray(s.type)) {
    const t = new Msg();
    for (const v of s.type) t.string(1, v);
    m.message(22, t);
  }
  if (isObj(s.items)) m.message(23, new Msg().message(1, encodeSchema(s.items)));
  if (isObj(s.properties)) {
    const p = new Msg();
    for (const [name, v] of Object.entries(s.properties)) if (isObj(v)) p.message(1, new Msg().string(1, name).message(2, encodeSchema(v)));
    m.message(25, p);
  }
  m.bool(27, s.readOnly);
  for (const [k, v] of Object.entries(s)) if (k.startsWith('x-')) m.message(31, namedAny(k, v));
  return m;
}

/** The document (as built by buildOpenapiV2) as gnostic `openapi.v2.Document` bytes. */
export function encodeOpenapiV2(doc: Record<string, unknown>): Buffer {
  const d = new Msg();
  d.string(1, doc.swagger);
  if (isObj(doc.info)) d.message(2, new Msg().string(1, doc.info.title).string(2, doc.info.version));
  d.message(8, new Msg()); // Paths: none (see the file comment)
  if (isObj(doc.definitions)) {
    const defs = new Msg();
    for (const [name, s] of Object.entries(doc.definitions)) if (isObj(s)) defs.message(1, new Msg().string(1, name).message(2, encodeSchema(s)));
    d.message(9, defs);
  }
  if (Array.isArray(doc.security)) {
    for (const req of doc.security) {
      if (!isObj(req)) continue;
      const sr = new Msg();
      for (const [name, scopes] of Object.entries(req)) {
        const arr = new Msg();
        if (Array.isArray(scopes)) for (const v of scopes) arr.string(1, v);
        sr.message(1, new Msg().string(1, name).message(2, arr));
      }
      d.message(12, sr);
    }
  }
  if (isObj(doc.securityDefinitions)) {
    const sd = new Msg();
    for (const [name, v] of Object.entries(doc.securityDefinitions)) {
      if (!isObj(v) || v.type !== 'apiKey') continue;
      const key = new Msg().string(1, v.type).string(2, v.name).string(3, v.in).string(4, v.description);
      sd.message(1, new Msg().string(1, name).message(2, new Msg().message(2, key))); // SecurityDefinitionsItem.api_key_security = 2
    }
    d.message(13, sd);
  }
  return d.finish();
}

// ---------------------------------------------------------------------------------------------
// Cache and public API

export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/** What upstream answers protobuf requests with. */
export const OPENAPI_V2_PROTOBUF_RESPONSE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

interface Entry {
  fingerprint: string;
  /** The list it was built from: the same array again needs no fingerprint. */
  custom: CustomKind[];
  doc: Record<string, unknown>;
  pb?: Buffer;
  json?: string;
  etag?: string;
}
let cache: Entry | undefined;

function entry(custom: CustomKind[]): Entry {
  if (cache?.custom === custom) return cache;
  const fingerprint = JSON.stringify(custom);
  if (cache && cache.fingerprint === fingerprint) return (cache.custom = custom), cache;
  cache = { fingerprint, custom, doc: buildOpenapiV2(allSchemas(), custom) };
  return cache;
}

/**
 * The v2 document as protobuf and its ETag (a hash of the JSON form, as upstream's). Built on
 * first use and cached; rebuilt only when `custom` (the served CRD versions) changes.
 */
export function openapiV2Protobuf(custom: CustomKind[]): { body: Buffer; etag: string } {
  const e = entry(custom);
  e.pb ??= encodeOpenapiV2(e.doc);
  return { body: e.pb, etag: etagOf(e) };
}

/** The same document as JSON, with the same ETag. */
export function openapiV2Json(custom: CustomKind[]): { body: string; etag: string } {
  const e = entry(custom);
  return { body: (e.json ??= JSON.stringify(e.doc)), etag: etagOf(e) };
}

function etagOf(e: Entry): string {
  e.json ??= JSON.stringify(e.doc);
  return (e.etag ??= `"${createHash('sha512').update(e.json).digest('hex').toUpperCase()}"`);
}

/** Whether an Accept header asks for the protobuf form (anything else gets JSON). */
export function wantsOpenapiV2Protobuf(accept: string): boolean {
  return accept.split(',').some((c) => c.trim().startsWith('application/com.github.proto-openapi.spec.v2'));
}
