/**
 * Dev-time generator for schema.ts (not run by the build or the server).
 *
 * Source of truth: the FileDescriptorProtos that gogo-protobuf compiles into every client-go binary
 * (gzipped `fileDescriptor_…` byte arrays, registered with proto.RegisterFile). Reading them out of a
 * real kubectl gives exactly the field numbers and types that kubectl puts on the wire; they match
 * kubernetes/api's generated.proto files, and also carry gogo's Go-side options we need:
 * nullable=false (65001) tells value fields from pointers, i.e. whether presence on the wire matters.
 *
 * The JSON side comes from kubernetes-types (.d.ts generated from upstream OpenAPI): a property
 * without `?` is required (json tag without omitempty), so a zero value is still written to JSON;
 * a proto field whose name is not a JSON property but whose message's fields are is a Go embedded
 * struct with `json:",inline"` (Probe.handler, Volume.volumeSource, …). Anything neither rule
 * explains is printed for review; INLINE_EXTRA below records reviewed cases newer than the types.
 *
 * Usage: node gen-schema.js [path/to/kubectl] > src/apiserver/protobuf/schema.ts
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { inflateRawSync, constants as zc } from 'node:zlib';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Reader, WIRE_LEN } from './wire.js';

/** Proto packages we serve, with their short id (used in schema.ts) and apiVersion. */
const PACKAGES: [proto: string, short: string, apiVersion: string][] = [
  ['k8s.io.apimachinery.pkg.apis.meta.v1', 'meta.v1', 'meta.k8s.io/v1'],
  ['k8s.io.api.core.v1', 'core.v1', 'v1'],
  ['k8s.io.api.apps.v1', 'apps.v1', 'apps/v1'],
  ['k8s.io.api.batch.v1', 'batch.v1', 'batch/v1'],
  ['k8s.io.api.autoscaling.v1', 'autoscaling.v1', 'autoscaling/v1'],
  ['k8s.io.api.autoscaling.v2', 'autoscaling.v2', 'autoscaling/v2'],
  ['k8s.io.api.networking.v1', 'networking.v1', 'networking.k8s.io/v1'],
  ['k8s.io.api.rbac.v1', 'rbac.v1', 'rbac.authorization.k8s.io/v1'],
  ['k8s.io.api.policy.v1', 'policy.v1', 'policy/v1'],
  ['k8s.io.api.scheduling.v1', 'scheduling.v1', 'scheduling.k8s.io/v1'],
  ['k8s.io.api.authorization.v1', 'authorization.v1', 'authorization.k8s.io/v1'],
  ['k8s.io.api.authentication.v1', 'authentication.v1', 'authentication.k8s.io/v1'],
  ['k8s.io.api.coordination.v1', 'coordination.v1', 'coordination.k8s.io/v1'],
  ['k8s.io.api.discovery.v1', 'discovery.v1', 'discovery.k8s.io/v1'],
  ['k8s.io.api.events.v1', 'events.v1', 'events.k8s.io/v1'],
  ['k8s.io.api.storage.v1', 'storage.v1', 'storage.k8s.io/v1'],
  ['k8s.io.api.certificates.v1', 'certificates.v1', 'certificates.k8s.io/v1'],
  ['k8s.io.api.admissionregistration.v1', 'admissionregistration.v1', 'admissionregistration.k8s.io/v1'],
  ['k8s.io.api.flowcontrol.v1', 'flowcontrol.v1', 'flowcontrol.apiserver.k8s.io/v1'],
  ['k8s.io.api.node.v1', 'node.v1', 'node.k8s.io/v1'],
];

/** apimachinery messages with their own JSON form (see decode.ts). */
const SPECIAL: Record<string, string> = {
  'k8s.io.apimachinery.pkg.api.resource.Quantity': 'quantity',
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': 'intstr',
  'k8s.io.apimachinery.pkg.apis.meta.v1.Time': 'time',
  'k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime': 'microtime',
  'k8s.io.apimachinery.pkg.apis.meta.v1.Duration': 'duration',
  'k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1': 'fieldsv1',
  'k8s.io.apimachinery.pkg.runtime.RawExtension': 'rawext',
  // Go slice types (type ExtraValue []string): the message wraps `repeated string items`.
  'k8s.io.apimachinery.pkg.apis.meta.v1.Verbs': 'strlist',
  'k8s.io.api.authentication.v1.ExtraValue': 'strlist',
  'k8s.io.api.authorization.v1.ExtraValue': 'strlist',
  'k8s.io.api.certificates.v1.ExtraValue': 'strlist',
};

/** Kinds with no metadata field that are still sent as request bodies. */
const EXTRA_KINDS: Record<string, string[]> = {
  'meta.v1': ['DeleteOptions', 'CreateOptions', 'UpdateOptions', 'PatchOptions', 'ListOptions', 'GetOptions', 'Status', 'WatchEvent'],
};

/** Reviewed `json:",inline"` embeds whose message kubernetes-types (1.30) does not know yet. */
const INLINE_EXTRA = new Set<string>([]);

const SCALARS: Record<number, string> = {
  1: 'double', 2: 'float', 3: 'int64', 4: 'uint64', 5: 'int32', 6: 'fixed64', 7: 'fixed32', 8: 'bool',
  9: 'string', 12: 'bytes', 13: 'uint32', 15: 'sfixed32', 16: 'sfixed64', 17: 'sint32', 18: 'sint64',
};

interface FieldDesc {
  name: string;
  number: number;
  repeated: boolean;
  type: number;
  typeName: string;
  nonNullable: boolean;
}
interface MsgDesc {
  name: string;
  fields: FieldDesc[];
  mapEntry: boolean;
  nested: MsgDesc[];
}

function parseField(r: Reader): FieldDesc {
  const f: FieldDesc = { name: '', number: 0, repeated: false, type: 0, typeName: '', nonNullable: false };
  while (!r.done()) {
    const tag = r.uint32();
    const no = tag >>> 3;
    if (no === 1) f.name = r.string();
    else if (no === 3) f.number = r.int32();
    else if (no === 4) f.repeated = r.int32() === 3;
    else if (no === 5) f.type = r.int32();
    else if (no === 6) f.typeName = r.string();
    else if (no === 8) {
      const o = r.sub();
      while (!o.done()) {
        const t = o.uint32();
        if (t >>> 3 === 65001 && (t & 7) === 0) f.nonNullable = !o.bool();
        else o.skip(t & 7, t >>> 3);
      }
    } else r.skip(tag & 7, no);
  }
  return f;
}

function parseMessage(r: Reader): MsgDesc {
  const m: MsgDesc = { name: '', fields: [], mapEntry: false, nested: [] };
  while (!r.done()) {
    const tag = r.uint32();
    const no = tag >>> 3;
    if (no === 1) m.name = r.string();
    else if (no === 2) m.fields.push(parseField(r.sub()));
    else if (no === 3) m.nested.push(parseMessage(r.sub()));
    else if (no === 7) {
      const o = r.sub();
      while (!o.done()) {
        const t = o.uint32();
        if (t >>> 3 === 7) m.mapEntry = o.bool();
        else o.skip(t & 7, t >>> 3);
      }
    } else r.skip(tag & 7, no);
  }
  return m;
}

function parseFile(buf: Buffer): { name: string; pkg: string; messages: MsgDesc[] } {
  const r = new Reader(buf);
  const out = { name: '', pkg: '', messages: [] as MsgDesc[] };
  while (!r.done()) {
    const tag = r.uint32();
    const no = tag >>> 3;
    if (no === 1) out.name = r.string();
    else if (no === 2) out.pkg = r.string();
    else if (no === 4) out.messages.push(parseMessage(r.sub()));
    else r.skip(tag & 7, no);
  }
  return out;
}

/** Every gzipped FileDescriptorProto in a Go binary (Go's gzip writer: no mtime, best compression). */
function descriptorsFromBinary(path: string): Map<string, ReturnType<typeof parseFile>> {
  const bin = readFileSync(path);
  const magic = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff]);
  const files = new Map<string, ReturnType<typeof parseFile>>();
  for (let i = bin.indexOf(magic); i >= 0; i = bin.indexOf(magic, i + 1)) {
    let raw: Buffer;
    try {
      // Raw inflate of one member: gunzip would run on into an adjacent descriptor's gzip member.
      raw = inflateRawSync(bin.subarray(i + magic.length, i + 4_000_000), { finishFlush: zc.Z_SYNC_FLUSH });
    } catch {
      continue;
    }
    if (raw[0] !== 0x0a) continue;
    try {
      const f = parseFile(raw);
      if (f.name.startsWith('k8s.io/')) files.set(f.pkg, f);
    } catch {
      /* not a descriptor */
    }
  }
  return files;
}

/** kubernetes-types: interface name → property → required. */
function loadTypes(pkg: string): Map<string, Map<string, boolean>> | undefined {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('kubernetes-types/package.json'));
  const rel = pkg.startsWith('k8s.io.apimachinery.pkg.apis.') ? pkg.slice('k8s.io.apimachinery.pkg.apis.'.length) : pkg.slice('k8s.io.api.'.length);
  const file = join(root, rel.replace('.', '/') + '.d.ts');
  if (!existsSync(file)) return undefined;
  // Doc comments are left in: property lines are the only ones of the form `    name?: …`, and
  // stripping /* … */ is unsafe (comment text such as "pods/*" contains comment delimiters).
  const text = readFileSync(file, 'utf8');
  const out = new Map<string, Map<string, boolean>>();
  for (const m of text.matchAll(/export interface (\w+) \{([\s\S]*?)\n\}/g)) {
    const props = new Map<string, boolean>();
    for (const p of m[2].matchAll(/^ {4}(?:readonly )?"?([\w$-]+)"?(\??):/gm)) props.set(p[1], p[2] !== '?');
    out.set(m[1], props);
  }
  return out;
}

function main(): void {
  const kubectl =
    process.argv[2] ??
    (() => {
      const dir = '/usr/lib/google-cloud-sdk/bin';
      const versions = existsSync(dir) ? readdirSync(dir).filter((f) => /^kubectl\.1\.\d+$/.test(f)) : [];
      versions.sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));
      return versions.length ? join(dir, versions[versions.length - 1]) : execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim();
    })();
  const files = descriptorsFromBinary(kubectl);
  const shortOf = new Map(PACKAGES.map(([p, s]) => [p, s]));
  const warnings: string[] = [];
  const lines: string[] = [];

  for (const [pkg, short, apiVersion] of PACKAGES) {
    const file = files.get(pkg);
    if (!file) throw new Error(`${kubectl} has no descriptor for ${pkg}`);
    const types = loadTypes(pkg) ?? new Map<string, Map<string, boolean>>();
    const byName = new Map(file.messages.map((m) => [m.name, m]));
    const localTarget = (f: FieldDesc): MsgDesc | undefined =>
      f.type === 11 && f.typeName.replace(/^\./, '').startsWith(pkg + '.') ? byName.get(f.typeName.slice(pkg.length + 2)) : undefined;

    // Pass 1: the JSON name of every field, and which fields are inline embeds. A message that only
    // exists inline (ProbeHandler, VolumeSource, …) has no OpenAPI schema; it borrows its parent's.
    const jsonName = new Map<FieldDesc, string>();
    const inline = new Set<FieldDesc>();
    const tsOf = new Map<string, Map<string, boolean>>();
    const resolve = (msg: MsgDesc, ts: Map<string, boolean> | undefined, depth = 0): void => {
      if (ts) tsOf.set(msg.name, ts);
      const lower = new Map([...(ts?.keys() ?? [])].map((k) => [k.toLowerCase(), k]));
      for (const f of msg.fields) {
        const key = `${short}.${msg.name}.${f.name}`;
        const target = localTarget(f);
        if (!ts || ts.has(f.name)) jsonName.set(f, f.name);
        else if (lower.has(f.name.toLowerCase())) jsonName.set(f, lower.get(f.name.toLowerCase())!); // aPIGroup → apiGroup, uID → uid
        else if (target && !f.repeated && (INLINE_EXTRA.has(key) || target.fields.filter((x) => lower.has(x.name.toLowerCase())).length * 2 >= target.fields.length)) {
          inline.add(f);
          jsonName.set(f, f.name);
          if (depth < 5 && !types.has(target.name)) resolve(target, ts, depth + 1);
        } else {
          jsonName.set(f, f.name);
          warnings.push(`${key}: not a JSON property in kubernetes-types (new field?)`);
        }
        if (!ts && INLINE_EXTRA.has(key)) inline.add(f);
      }
    };
    for (const msg of file.messages) if (types.has(msg.name) && !SPECIAL[`${pkg}.${msg.name}`]) resolve(msg, types.get(msg.name));
    for (const msg of file.messages) {
      if (jsonName.has(msg.fields[0]) || SPECIAL[`${pkg}.${msg.name}`] || msg.fields.length === 0) continue;
      warnings.push(`${short}.${msg.name}: not in kubernetes-types (newer than 1.30?); JSON names = proto names, zero values dropped`);
      resolve(msg, undefined);
      for (const f of msg.fields) if (/^[A-Z]|^[a-z][A-Z]{2}/.test(f.name)) warnings.push(`${short}.${msg.name}.${f.name}: suspicious JSON name`);
    }

    // Pass 2: emit.
    lines.push(`@${short} ${apiVersion}`);
    for (const msg of file.messages) {
      if (SPECIAL[`${pkg}.${msg.name}`]) continue;
      const ts = tsOf.get(msg.name);
      const isKind =
        (msg.fields[0]?.number === 1 && msg.fields[0].name === 'metadata' && /\.(ObjectMeta|ListMeta)$/.test(msg.fields[0].typeName)) ||
        (EXTRA_KINDS[short] ?? []).includes(msg.name);
      const nestedByName = new Map(msg.nested.map((n) => [`${pkg}.${msg.name}.${n.name}`, n]));
      const typeToken = (type: number, typeName: string): string => {
        if (type !== 11) {
          const s = SCALARS[type];
          if (!s) throw new Error(`unsupported proto type ${type}`);
          return s;
        }
        const full = typeName.replace(/^\./, '');
        if (SPECIAL[full]) return SPECIAL[full];
        const dot = full.lastIndexOf('.');
        const p = full.slice(0, dot);
        const n = full.slice(dot + 1);
        if (p === pkg) return n;
        const s = shortOf.get(p);
        if (!s) throw new Error(`${short}.${msg.name} refers to ${full} outside the served packages`);
        return `${s}.${n}`;
      };
      const parts = [`${isKind ? '*' : ''}${msg.name}`];
      for (const f of msg.fields) {
        const name = jsonName.get(f) ?? f.name;
        let type: string;
        const entry = f.type === 11 ? nestedByName.get(f.typeName.replace(/^\./, '')) : undefined;
        if (entry?.mapEntry) {
          const k = entry.fields.find((x) => x.number === 1)!;
          const v = entry.fields.find((x) => x.number === 2)!;
          type = `map<${typeToken(k.type, k.typeName)},${typeToken(v.type, v.typeName)}>`;
        } else {
          type = typeToken(f.type, f.typeName);
          if (f.repeated) type = `[]${type}`;
        }
        let suffix = '';
        if (!f.repeated && !entry?.mapEntry && f.type !== 11) {
          // Scalars: a pointer (nullable) is written when set, so presence is kept even for 0/""/false;
          // a value field is always written by gogo, so JSON omitempty decides (required → keep zero).
          if (!f.nonNullable) suffix = '?';
          else if (ts?.get(name)) suffix = '!';
        }
        parts.push(`${f.number}:${name}:${inline.has(f) ? '^' : ''}${type}${suffix}`);
      }
      lines.push(parts.join(' '));
    }
  }
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);

  const body = lines.join('\n');
  process.stdout.write(`// Generated by gen-schema.ts from the protobuf descriptors in ${kubectl.split('/').pop()} (${files.size} k8s.io files) and
// kubernetes-types; do not edit by hand. Format (parsed lazily by decode.ts):
//   @<pkg> <apiVersion>                     starts a package; message names below are relative to it
//   [*]<Message> <no>:<jsonName>:<type> …   * marks a kind (a top-level object sent as a request body)
// <type>: scalar (string, int32, …) | special (quantity intstr time microtime duration fieldsv1 rawext
// strlist) | message (same package) | <pkg>.<Message>; prefixes: [] repeated, ^ inline (Go embedded
// struct with json:",inline"); map<K,V>; suffixes: ? pointer scalar (kept when present, even if zero),
// ! required value scalar (zero kept, no omitempty); other value scalars are dropped when zero.
export const SCHEMA = \`
${body}
\`;
`);
}

main();
