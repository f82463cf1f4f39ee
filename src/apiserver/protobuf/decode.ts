/**
 * Decodes Kubernetes protobuf request bodies (Content-Type: application/vnd.kubernetes.protobuf)
 * into the JSON form a JSON client would have sent.
 *
 * Wire format (k8s.io/apimachinery/pkg/runtime/serializer/protobuf): the 4-byte magic "k8s\0",
 * then a runtime.Unknown {typeMeta{apiVersion=1, kind=2}=1, raw=2, contentEncoding=3, contentType=4}
 * whose raw is the object's message as defined by k8s.io/api's generated.proto (see schema.ts).
 *
 * JSON conversions follow upstream's Go types: Quantity → string, IntOrString → number|string,
 * Time → RFC 3339 seconds, MicroTime → RFC 3339 microseconds, Duration → Go duration string,
 * bytes → base64, RawExtension/FieldsV1 → embedded JSON, ExtraValue/Verbs → string[], and Go
 * embedded `json:",inline"` structs (Probe.handler, Volume.volumeSource, …) flattened.
 * Presence follows gogo-protobuf: value fields are always on the wire, so zero scalars are dropped
 * unless the JSON tag has no omitempty; pointer fields keep an explicit 0/false/"".
 *
 * Use from the body decoder: if isProtobufContentType(ct), decodeKubeProtobuf(body).object is the
 * JSON body. ProtobufDecodeError is the client's fault (400; upstream answers 415 for kinds it has no
 * protobuf for, see hasProtobufSchema). Responses stay JSON: client-go decodes by response type.
 */
import { SCHEMA } from './schema.js';
import { ProtobufDecodeError, Reader, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './wire.js';

export { ProtobufDecodeError } from './wire.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"
/** Nesting limit for messages (a few hundred levels is far beyond any real object; keeps the stack safe). */
const MAX_DEPTH = 200;

/** True for application/vnd.kubernetes.protobuf, with or without parameters. */
export function isProtobufContentType(ct: string | undefined): boolean {
  if (!ct) return false;
  return ct.split(';')[0].trim().toLowerCase() === PROTOBUF_CONTENT_TYPE;
}

// ---------------------------------------------------------------------------------------------
// Schema (parsed on first use so server startup pays nothing)

type Scalar = 'string' | 'bytes' | 'bool' | 'int32' | 'int64' | 'uint32' | 'uint64' | 'sint32' | 'sint64' | 'fixed32' | 'fixed64' | 'sfixed32' | 'sfixed64' | 'float' | 'double';
type Special = 'quantity' | 'intstr' | 'time' | 'microtime' | 'duration' | 'fieldsv1' | 'rawext' | 'strlist';
type TypeRef = { t: 'scalar'; s: Scalar } | { t: 'special'; s: Special } | { t: 'msg'; m: MessageDef };

const SCALARS = new Set<string>(['string', 'bytes', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'float', 'double']);
const SPECIALS = new Set<string>(['quantity', 'intstr', 'time', 'microtime', 'duration', 'fieldsv1', 'rawext', 'strlist']);

interface FieldDef {
  no: number;
  name: string;
  type: TypeRef;
  repeated: boolean;
  /** map<key,value>: `type` is the value type. */
  mapKey?: TypeRef;
  inline: boolean;
  /** Scalars: 'ptr' keeps any present value, 'req' keeps zero values, 'omit' drops zero values. */
  presence: 'ptr' | 'req' | 'omit';
}

interface MessageDef {
  name: string;
  fields: Map<number, FieldDef>;
  /** JSON key order (Go struct order, inline fields expanded); computed lazily. */
  order?: string[];
}

interface Schema {
  messages: Map<string, MessageDef>;
  /** "apiVersion kind" → message. */
  kinds: Map<string, MessageDef>;
}

/** Options kinds registered in every group version (metav1.AddToGroupVersion). */
const EVERY_VERSION_KINDS = ['DeleteOptions', 'CreateOptions', 'UpdateOptions', 'PatchOptions', 'ListOptions', 'GetOptions', 'WatchEvent'];

let schema: Schema | undefined;

function loadSchema(): Schema {
  if (schema) return schema;
  const messages = new Map<string, MessageDef>();
  const kinds = new Map<string, MessageDef>();
  const pending: [MessageDef, string, string[]][] = [];
  let pkg = '';
  let apiVersion = '';
  for (const line of SCHEMA.split('\n')) {
    if (!line) continue;
    const parts = line.split(' ');
    if (line.startsWith('@')) {
      pkg = parts[0].slice(1);
      apiVersion = parts[1];
      continue;
    }
    const isKind = parts[0].startsWith('*');
    const name = isKind ? parts[0].slice(1) : parts[0];
    const def: MessageDef = { name: `${pkg}.${name}`, fields: new Map() };
    messages.set(def.name, def);
    if (isKind) kinds.set(`${apiVersion} ${name}`, def);
    pending.push([def, pkg, parts.slice(1)]);
  }
  const ref = (token: string, pkg: string): TypeRef => {
    if (SCALARS.has(token)) return { t: 'scalar', s: token as Scalar };
    if (SPECIALS.has(token)) return { t: 'special', s: token as Special };
    const full = token.includes('.') ? token : `${pkg}.${token}`;
    const m = messages.get(full);
    if (!m) throw new Error(`protobuf schema: unknown message ${full}`);
    return { t: 'msg', m };
  };
  for (const [def, pkg, fields] of pending) {
    for (const f of fields) {
      const [no, name, spec] = f.split(':');
      let type = spec;
      let presence: FieldDef['presence'] = 'omit';
      if (type.endsWith('?')) presence = 'ptr';
      else if (type.endsWith('!')) presence = 'req';
      if (presence !== 'omit') type = type.slice(0, -1);
      const inline = type.startsWith('^');
      if (inline) type = type.slice(1);
      const repeated = type.startsWith('[]');
      if (repeated) type = type.slice(2);
      const field: FieldDef = { no: Number(no), name, type: undefined as unknown as TypeRef, repeated, inline, presence };
      const map = /^map<([^,]+),(.+)>$/.exec(type);
      if (map) {
        field.mapKey = ref(map[1], pkg);
        field.type = ref(map[2], pkg);
      } else field.type = ref(type, pkg);
      def.fields.set(field.no, field);
    }
  }
  // Options kinds under every served apiVersion.
  const versions = new Set([...kinds.keys()].map((k) => k.split(' ')[0]));
  for (const kind of EVERY_VERSION_KINDS) {
    const m = messages.get(`meta.v1.${kind}`);
    if (!m) continue;
    for (const v of versions) if (!kinds.has(`${v} ${kind}`)) kinds.set(`${v} ${kind}`, m);
  }
  schema = { messages, kinds };
  return schema;
}

/** Whether a protobuf body of this apiVersion/kind can be decoded. */
export function hasProtobufSchema(apiVersion: string, kind: string): boolean {
  return loadSchema().kinds.has(`${apiVersion} ${kind}`);
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes a protobuf request body (with the "k8s\0" prefix) into its JSON form, apiVersion and kind
 * set from the envelope. Throws ProtobufDecodeError for anything malformed, truncated or unknown.
 */
export function decodeKubeProtobuf(buf: Buffer): { apiVersion: string; kind: string; object: any } {
  try {
    return decodeEnvelope(buf, 0);
  } catch (e) {
    if (e instanceof ProtobufDecodeError) throw e;
    // Anything else (a RangeError from a pathological input, …) is still the client's bad data.
    throw new ProtobufDecodeError(`invalid protobuf body: ${(e as Error).message}`);
  }
}

function decodeEnvelope(buf: Buffer, depth: number): { apiVersion: string; kind: string; object: any } {
  if (!Buffer.isBuffer(buf) || buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ProtobufDecodeError('provided data does not appear to be a protobuf message, expected prefix "k8s\\x00"');
  }
  const r = new Reader(buf, MAGIC.length);
  let apiVersion = '';
  let kind = '';
  let raw: Buffer | undefined;
  let contentEncoding = '';
  let contentType = '';
  while (!r.done()) {
    const tag = r.uint32();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 0) throw new ProtobufDecodeError('invalid field number 0 in runtime.Unknown');
    if (no >= 1 && no <= 4 && wt !== WIRE_LEN) throw wrongWireType('runtime.Unknown', no, wt);
    if (no === 1) {
      const t = r.sub();
      while (!t.done()) {
        const tt = t.uint32();
        const tno = tt >>> 3;
        if ((tno === 1 || tno === 2) && (tt & 7) !== WIRE_LEN) throw wrongWireType('runtime.TypeMeta', tno, tt & 7);
        if (tno === 1) apiVersion = t.string();
        else if (tno === 2) kind = t.string();
        else t.skip(tt & 7, tno);
      }
    } else if (no === 2) raw = r.bytes();
    else if (no === 3) contentEncoding = r.string();
    else if (no === 4) contentType = r.string();
    else r.skip(wt, no);
  }
  if (!kind) throw new ProtobufDecodeError('protobuf object has no kind in its type metadata');
  if (contentEncoding) throw new ProtobufDecodeError(`unsupported protobuf content encoding "${contentEncoding}"`);
  const body = raw ?? Buffer.alloc(0);
  if (contentType && !isProtobufContentType(contentType)) {
    // An Unknown may carry another encoding; JSON is the only other one clients send.
    if (!/json/i.test(contentType)) throw new ProtobufDecodeError(`unsupported content type "${contentType}" inside protobuf envelope`);
    const object = parseJson(body, 'embedded JSON object');
    if (typeof object !== 'object' || object === null || Array.isArray(object)) throw new ProtobufDecodeError('embedded JSON object is not an object');
    return { apiVersion, kind, object: { apiVersion, kind, ...object } };
  }
  const def = loadSchema().kinds.get(`${apiVersion} ${kind}`);
  if (!def) {
    throw new ProtobufDecodeError(
      `no protobuf schema for kind "${kind}" in version "${apiVersion || '(none)'}"; send this object as application/json`,
    );
  }
  const fields = decodeMessage(new Reader(body), def, depth + 1);
  const object: Record<string, unknown> = { apiVersion, kind };
  for (const [k, v] of Object.entries(fields)) if (k !== 'apiVersion' && k !== 'kind') object[k] = v;
  return { apiVersion, kind, object };
}

function wrongWireType(msg: string, no: number, wt: number): ProtobufDecodeError {
  return new ProtobufDecodeError(`${msg}: field ${no} has wrong wire type ${wt}`);
}

type Obj = Record<string, unknown>;

function decodeMessage(r: Reader, def: MessageDef, depth: number, into?: Obj): Obj {
  if (depth > MAX_DEPTH) throw new ProtobufDecodeError(`protobuf message nested deeper than ${MAX_DEPTH} levels`);
  const out: Obj = into ?? {};
  while (!r.done()) {
    const tag = r.uint32();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 0) throw new ProtobufDecodeError(`${def.name}: invalid field number 0`);
    const f = def.fields.get(no);
    if (!f) {
      r.skip(wt, no); // unknown field: ignored, as upstream's generated Unmarshal does
      continue;
    }
    if (f.mapKey) {
      if (wt !== WIRE_LEN) throw wrongWireType(def.name, no, wt);
      decodeMapEntry(r.sub(), f, def, out, depth);
    } else if (f.repeated) {
      let list = out[f.name] as unknown[] | undefined;
      if (!list) out[f.name] = list = [];
      if (f.type.t === 'scalar' && wt === WIRE_LEN && f.type.s !== 'string' && f.type.s !== 'bytes') {
        const p = r.sub(); // packed
        while (!p.done()) list.push(readScalar(p, f.type.s, scalarWireType(f.type.s), def, no));
      } else {
        const v = readValue(r, f.type, wt, def, no, depth);
        list.push(v === undefined ? null : v);
      }
    } else if (f.inline) {
      if (wt !== WIRE_LEN || f.type.t !== 'msg') throw wrongWireType(def.name, no, wt);
      decodeMessage(r.sub(), f.type.m, depth + 1, out);
    } else if (f.type.t === 'msg') {
      if (wt !== WIRE_LEN) throw wrongWireType(def.name, no, wt);
      // A repeated occurrence of a singular message merges into the first (protobuf semantics).
      const prev = out[f.name];
      out[f.name] = decodeMessage(r.sub(), f.type.m, depth + 1, isObj(prev) ? prev : undefined);
    } else {
      const v = readValue(r, f.type, wt, def, no, depth);
      // Only scalars follow omitempty: Go always writes struct values such as IntOrString 0.
      if (v === undefined || (f.presence === 'omit' && f.type.t === 'scalar' && isZero(v))) delete out[f.name];
      else out[f.name] = v;
    }
  }
  return into ? out : ordered(out, def);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

/** Rebuilds `o` with keys in Go struct (= JSON) order, so output reads like a JSON client's. */
function ordered(o: Obj, def: MessageDef): Obj {
  const keys = Object.keys(o);
  if (keys.length < 2) return o;
  const order = (def.order ??= jsonOrder(def, 0));
  const out: Obj = {};
  for (const k of order) if (k in o) out[k] = o[k];
  if (Object.keys(out).length !== keys.length) for (const k of keys) if (!(k in out)) out[k] = o[k];
  return out;
}

function jsonOrder(def: MessageDef, depth: number): string[] {
  const out: string[] = [];
  for (const f of def.fields.values()) {
    if (f.inline && f.type.t === 'msg' && depth < 10) out.push(...jsonOrder(f.type.m, depth + 1));
    else out.push(f.name);
  }
  return out;
}

function decodeMapEntry(r: Reader, f: FieldDef, def: MessageDef, out: Obj, depth: number): void {
  let key: unknown;
  let value: unknown;
  while (!r.done()) {
    const tag = r.uint32();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 1) key = readValue(r, f.mapKey!, wt, def, f.no, depth);
    else if (no === 2) value = readValue(r, f.type, wt, def, f.no, depth);
    else if (no === 0) throw new ProtobufDecodeError(`${def.name}.${f.name}: invalid field number 0 in map entry`);
    else r.skip(wt, no);
  }
  if (key === undefined) key = zeroOf(f.mapKey!);
  if (value === undefined) value = zeroOf(f.type);
  let map = out[f.name] as Obj | undefined;
  if (!map) out[f.name] = map = {};
  const k = String(key);
  // A "__proto__" key must become an own property, never the object's prototype.
  if (k === '__proto__') Object.defineProperty(map, k, { value, enumerable: true, writable: true, configurable: true });
  else map[k] = value;
}

/** JSON value of an absent map key/value. */
function zeroOf(t: TypeRef): unknown {
  if (t.t === 'msg') return {};
  if (t.t === 'special') return t.s === 'quantity' ? '0' : t.s === 'intstr' ? 0 : t.s === 'duration' ? '0s' : t.s === 'strlist' ? [] : null;
  return t.s === 'string' || t.s === 'bytes' ? '' : t.s === 'bool' ? false : 0;
}

function scalarWireType(s: Scalar): number {
  switch (s) {
    case 'string':
    case 'bytes':
      return WIRE_LEN;
    case 'fixed32':
    case 'sfixed32':
    case 'float':
      return WIRE_FIXED32;
    case 'fixed64':
    case 'sfixed64':
    case 'double':
      return WIRE_FIXED64;
    default:
      return WIRE_VARINT;
  }
}

/** One value of type t; undefined means "absent in JSON" (zero Time, empty RawExtension). */
function readValue(r: Reader, t: TypeRef, wt: number, def: MessageDef, no: number, depth: number): unknown {
  if (t.t === 'scalar') return readScalar(r, t.s, wt, def, no);
  if (wt !== WIRE_LEN) throw wrongWireType(def.name, no, wt);
  if (t.t === 'msg') return decodeMessage(r.sub(), t.m, depth + 1);
  return readSpecial(r.sub(), t.s, depth);
}

function readScalar(r: Reader, s: Scalar, wt: number, def: MessageDef, no: number): unknown {
  if (wt !== scalarWireType(s)) throw wrongWireType(def.name, no, wt);
  switch (s) {
    case 'string':
      return r.string();
    case 'bytes':
      return r.bytes().toString('base64');
    case 'bool':
      return r.bool();
    case 'int32':
      return r.int32();
    case 'int64':
      return r.int64();
    case 'uint32':
      return r.uint32();
    case 'uint64':
      return r.uint64();
    case 'sint32':
      return r.sint32();
    case 'sint64':
      return r.sint64();
    case 'fixed32':
      return r.fixed32();
    case 'sfixed32':
      return r.sfixed32();
    case 'fixed64':
      return r.fixed64();
    case 'sfixed64':
      return r.sfixed64();
    case 'float':
    case 'double': {
      const v = s === 'float' ? r.float() : r.double();
      if (!Number.isFinite(v)) throw new ProtobufDecodeError(`${def.name}: field ${no} is ${v}, which JSON cannot represent`);
      return v;
    }
  }
}

function readSpecial(r: Reader, s: Special, depth: number): unknown {
  switch (s) {
    case 'quantity': {
      // resource.Quantity {string = 1}; its JSON form is that string ("0" for the zero Quantity).
      let v = '0';
      checked(r, 'resource.Quantity', { 1: [WIRE_LEN, () => (v = r.string())] });
      return v;
    }
    case 'intstr': {
      // intstr.IntOrString {type = 1 (0 Int, 1 String), intVal = 2, strVal = 3}.
      let type = 0;
      let intVal = 0;
      let strVal = '';
      checked(r, 'intstr.IntOrString', {
        1: [WIRE_VARINT, () => (type = r.int64())],
        2: [WIRE_VARINT, () => (intVal = r.int32())],
        3: [WIRE_LEN, () => (strVal = r.string())],
      });
      return type === 1 ? strVal : intVal;
    }
    case 'time':
    case 'microtime': {
      // metav1.Time/MicroTime {seconds = 1, nanos = 2}; an empty message is the zero time (JSON null).
      let seconds = 0;
      let nanos = 0;
      let seen = false;
      checked(r, s === 'time' ? 'metav1.Time' : 'metav1.MicroTime', {
        1: [WIRE_VARINT, () => ((seconds = r.int64()), (seen = true))],
        2: [WIRE_VARINT, () => ((nanos = r.int32()), (seen = true))],
      });
      if (!seen) return undefined;
      return s === 'time' ? formatTime(seconds, 0, false) : formatTime(seconds, nanos, true);
    }
    case 'duration': {
      let ns = 0n;
      checked(r, 'metav1.Duration', { 1: [WIRE_VARINT, () => (ns = r.int64Big())] });
      return formatDuration(ns);
    }
    case 'fieldsv1':
    case 'rawext': {
      // FieldsV1 {Raw = 1} and RawExtension {raw = 1} carry JSON (or, for RawExtension, possibly
      // a nested protobuf object with its own "k8s\0" prefix).
      let raw: Buffer | undefined;
      checked(r, s === 'rawext' ? 'runtime.RawExtension' : 'metav1.FieldsV1', { 1: [WIRE_LEN, () => (raw = r.bytes())] });
      if (!raw || raw.length === 0) return undefined;
      if (s === 'rawext' && raw.length >= 4 && raw.subarray(0, 4).equals(MAGIC)) return decodeEnvelope(raw, depth + 1).object;
      return parseJson(raw, s === 'rawext' ? 'RawExtension' : 'FieldsV1');
    }
    case 'strlist': {
      // ExtraValue/Verbs are Go []string types, wrapped as {repeated string items = 1}.
      const items: string[] = [];
      checked(r, 'string list', { 1: [WIRE_LEN, () => items.push(r.string())] });
      return items;
    }
  }
}

function checked(r: Reader, what: string, readers: Record<number, [wire: number, read: () => unknown]>): void {
  while (!r.done()) {
    const tag = r.uint32();
    const no = tag >>> 3;
    const wt = tag & 7;
    const entry = readers[no];
    if (!entry) {
      if (no === 0) throw new ProtobufDecodeError(`${what}: invalid field number 0`);
      r.skip(wt, no);
    } else if (entry[0] !== wt) throw wrongWireType(what, no, wt);
    else entry[1]();
  }
}

function parseJson(raw: Buffer, what: string): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new ProtobufDecodeError(`${what} does not hold valid JSON: ${(e as Error).message}`);
  }
}

/** RFC 3339 in UTC as Go's metav1.Time (seconds) / MicroTime (6 fraction digits) marshal it. */
function formatTime(seconds: number, nanos: number, micro: boolean): string {
  // time.Unix normalises nanos outside [0, 1e9) into seconds.
  seconds += Math.floor(nanos / 1e9);
  nanos = ((nanos % 1e9) + 1e9) % 1e9;
  const d = new Date(seconds * 1000);
  const year = d.getUTCFullYear();
  if (!Number.isFinite(seconds) || Number.isNaN(d.getTime()) || year < 0 || year > 9999) {
    throw new ProtobufDecodeError(`timestamp ${seconds}s is outside the years 0-9999 that RFC 3339 can express`);
  }
  const base = d.toISOString().slice(0, 19);
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

/** Go's time.Duration.String(): "1h2m3.5s", "1.5ms", "0s". */
export function formatDuration(d: bigint): string {
  if (d === 0n) return '0s';
  const neg = d < 0n;
  let u = neg ? -d : d;
  let out: string;
  if (u < 1_000_000_000n) {
    let unit: string;
    let prec: number;
    if (u < 1_000n) [unit, prec] = ['ns', 0];
    else if (u < 1_000_000n) [unit, prec] = ['µs', 3];
    else [unit, prec] = ['ms', 6];
    out = frac(u, prec) + unit;
  } else {
    const secs = frac(u, 9).split('.');
    u /= 1_000_000_000n;
    out = `${u % 60n}${secs[1] ? '.' + secs[1] : ''}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** u / 10^prec with the fraction's trailing zeros (and a bare point) dropped, like Go's fmtFrac. */
function frac(u: bigint, prec: number): string {
  if (prec === 0) return String(u);
  const p = 10n ** BigInt(prec);
  const f = String(u % p).padStart(prec, '0').replace(/0+$/, '');
  return f ? `${u / p}.${f}` : String(u / p);
}
