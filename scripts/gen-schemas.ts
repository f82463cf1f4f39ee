/**
 * Build-time generator: reads the kubernetes-types .d.ts files with the TypeScript compiler API and
 * writes OpenAPI v3 component schemas, keyed by upstream names, to `<outDir>/generated/schemas.json`.
 *
 * The .d.ts files were themselves generated from upstream OpenAPI, so they carry the structure
 * (properties, required, arrays, maps, refs) and the descriptions, but not the vendor extensions
 * that matter to us: patch strategies / merge keys, int-or-string, preserve-unknown-fields and
 * integer formats. Those come from the overlay tables below, which follow upstream's
 * api/openapi-spec (struct tags of k8s.io/api).
 *
 * Run after tsc: `node dist/scripts/gen-schemas.js`.
 */
import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

type Schema = Record<string, unknown>;

const REF_PREFIX = '#/components/schemas/';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

// ---------------------------------------------------------------------------------------------
// Overlay tables (upstream facts the .d.ts files do not carry).

/** `Type.field` → [strategy, mergeKey?]; Type is the short interface name (unique across the set). */
const PATCH: Record<string, [string, string?]> = {
  // meta/v1
  'ObjectMeta.ownerReferences': ['merge', 'uid'],
  'ObjectMeta.finalizers': ['merge'],
  // core/v1 PodSpec
  'PodSpec.containers': ['merge', 'name'],
  'PodSpec.initContainers': ['merge', 'name'],
  'PodSpec.ephemeralContainers': ['merge', 'name'],
  'PodSpec.imagePullSecrets': ['merge', 'name'],
  'PodSpec.volumes': ['merge,retainKeys', 'name'],
  'PodSpec.resourceClaims': ['merge,retainKeys', 'name'],
  'PodSpec.schedulingGates': ['merge', 'name'],
  'PodSpec.hostAliases': ['merge', 'ip'],
  'PodSpec.topologySpreadConstraints': ['merge', 'topologyKey'],
  // core/v1 containers (Container and EphemeralContainer have the same fields)
  'Container.ports': ['merge', 'containerPort'],
  'Container.env': ['merge', 'name'],
  'Container.volumeMounts': ['merge', 'mountPath'],
  'Container.volumeDevices': ['merge', 'devicePath'],
  'EphemeralContainer.ports': ['merge', 'containerPort'],
  'EphemeralContainer.env': ['merge', 'name'],
  'EphemeralContainer.volumeMounts': ['merge', 'mountPath'],
  'EphemeralContainer.volumeDevices': ['merge', 'devicePath'],
  'ContainerStatus.volumeMounts': ['merge', 'mountPath'],
  'ContainerStatus.allocatedResourcesStatus': ['merge', 'name'],
  // core/v1 status and others
  'PodStatus.podIPs': ['merge', 'ip'],
  'PodStatus.hostIPs': ['merge', 'ip'],
  'PodStatus.resourceClaimStatuses': ['merge,retainKeys', 'name'],
  'NodeSpec.podCIDRs': ['merge'],
  'NodeStatus.addresses': ['merge', 'type'],
  'ServiceSpec.ports': ['merge', 'port'],
  'ServiceAccount.secrets': ['merge', 'name'],
  // apps/v1
  'DeploymentSpec.strategy': ['retainKeys'],
  // storage/v1
  'CSINodeSpec.drivers': ['merge', 'name'],
  // admissionregistration
  'MutatingWebhookConfiguration.webhooks': ['merge', 'name'],
  'ValidatingWebhookConfiguration.webhooks': ['merge', 'name'],
  'MutatingWebhook.matchConditions': ['merge', 'name'],
  'ValidatingWebhook.matchConditions': ['merge', 'name'],
  'ValidatingAdmissionPolicySpec.matchConditions': ['merge', 'name'],
  'ValidatingAdmissionPolicySpec.variables': ['merge', 'name'],
  // resource/v1alpha2
  'ResourceClaimStatus.reservedFor': ['merge', 'uid'],
  // apiextensions (the x-kubernetes-validations property is added by EXTRA_PROPERTIES)
  'JSONSchemaProps.x-kubernetes-validations': ['merge', 'rule'],
};

/**
 * Status `conditions` lists merge by `type` (upstream tags every one of them except these,
 * which are listType=map without a patch strategy).
 */
const CONDITIONS_WITHOUT_PATCH = new Set([
  'CertificateSigningRequestStatus',
  'CustomResourceDefinitionStatus',
  'StorageVersionStatus',
  'ValidatingAdmissionPolicyStatus',
]);

/**
 * Number fields that are int64 upstream, by name or `Type.field` (kubernetes-types only says
 * `number`; everything else is int32 unless listed as double).
 */
const INT64_FIELDS = new Set([
  'generation',
  'observedGeneration',
  'deletionGracePeriodSeconds',
  'gracePeriodSeconds',
  'activeDeadlineSeconds',
  'terminationGracePeriodSeconds',
  'startingDeadlineSeconds',
  'runAsUser',
  'runAsGroup',
  'fsGroup',
  'supplementalGroups',
  'remainingItemCount',
  'sizeBytes',
  'revision',
  'maxItems',
  'maxLength',
  'maxProperties',
  'minItems',
  'minLength',
  'minProperties',
  'SleepAction.seconds',
  'TokenRequestSpec.expirationSeconds',
  'ServiceAccountTokenProjection.expirationSeconds',
  'TokenRequest.expirationSeconds',
]);
const DOUBLE_FIELDS = new Set(['JSONSchemaProps.maximum', 'JSONSchemaProps.minimum', 'JSONSchemaProps.multipleOf']);

/** Properties upstream has that kubernetes-types drops (it skips `x-` names). */
const EXTRA_PROPERTIES: Record<string, Record<string, Schema>> = {
  JSONSchemaProps: {
    'x-kubernetes-embedded-resource': {
      type: 'boolean',
      description:
        'x-kubernetes-embedded-resource defines that the value is an embedded Kubernetes runtime.Object, with TypeMeta and ObjectMeta. The type must be object. It is allowed to further restrict the embedded object. kind, apiVersion and metadata are validated automatically. x-kubernetes-preserve-unknown-fields is allowed to be true, but does not have to be if the object is fully specified (up to kind, apiVersion, metadata).',
    },
    'x-kubernetes-int-or-string': {
      type: 'boolean',
      description:
        'x-kubernetes-int-or-string specifies that this value is either an integer or a string. If this is true, an empty type is allowed and type as child of anyOf is permitted if following one of the following patterns:\n\n1) anyOf:\n   - type: integer\n   - type: string\n2) allOf:\n   - anyOf:\n     - type: integer\n     - type: string\n   - ... zero or more',
    },
    'x-kubernetes-list-map-keys': {
      type: 'array',
      items: { type: 'string' },
      description:
        'x-kubernetes-list-map-keys annotates an array with the x-kubernetes-list-type `map` by specifying the keys used as the index of the map.\n\nThis tag MUST only be used on lists that have the "x-kubernetes-list-type" extension set to "map". Also, the values specified for this attribute must be a scalar typed field of the child structure (no nesting is supported).\n\nThe properties specified must either be required or have a default value, to ensure those properties are present for all list items.',
    },
    'x-kubernetes-list-type': {
      type: 'string',
      description:
        'x-kubernetes-list-type annotates an array to further describe its topology. This extension must only be used on lists and may have 3 possible values:\n\n1) `atomic`: the list is treated as a single entity, like a scalar.\n     Atomic lists will be entirely replaced when updated. This extension\n     may be used on any type of list (struct, scalar, ...).\n2) `set`:\n     Sets are lists that must not have multiple items with the same value. Each\n     value must be a scalar, an object with x-kubernetes-map-type `atomic` or an\n     array with x-kubernetes-list-type `atomic`.\n3) `map`:\n     These lists are like maps in that their elements have a non-index key\n     used to identify them. Order is preserved upon merge. The map tag\n     must only be used on a list with elements of type object.\nDefaults to atomic for arrays.',
    },
    'x-kubernetes-map-type': {
      type: 'string',
      description:
        'x-kubernetes-map-type annotates an object to further describe its topology. This extension must only be used when type is object and may have 2 possible values:\n\n1) `granular`:\n     These maps are actual maps (key-value pairs) and each fields are independent\n     from each other (they can each be manipulated by separate actors). This is\n     the default behaviour for all maps.\n2) `atomic`: the list is treated as a single entity, like a scalar.\n     Atomic maps will be entirely replaced when updated.',
    },
    'x-kubernetes-preserve-unknown-fields': {
      type: 'boolean',
      description:
        'x-kubernetes-preserve-unknown-fields stops the API server decoding step from pruning fields which are not specified in the validation schema. This affects fields recursively, but switches back to normal pruning behaviour if nested properties or additionalProperties are specified in the schema. This can either be true or undefined. False is forbidden.',
    },
    'x-kubernetes-validations': {
      type: 'array',
      items: { $ref: REF_PREFIX + 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ValidationRule' },
      description: 'x-kubernetes-validations describes a list of validation rules written in the CEL expression language.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['rule'],
    },
  },
};

/** Free-form types: anything goes below them (upstream: preserve-unknown-fields / type object). */
const FREE_FORM = new Set(['RawExtension', 'JSON', 'FieldsV1', 'Patch']);

// ---------------------------------------------------------------------------------------------
// Module path → upstream name prefix.

function prefixFor(relPath: string): string {
  const p = relPath.split(sep).join('/').replace(/\.d\.ts$/, '');
  switch (p) {
    case 'meta/v1':
      return 'io.k8s.apimachinery.pkg.apis.meta.v1';
    case 'api/resource':
      return 'io.k8s.apimachinery.pkg.api.resource';
    case 'runtime':
      return 'io.k8s.apimachinery.pkg.runtime';
    case 'version':
      return 'io.k8s.apimachinery.pkg.version';
    case 'apiextensions/v1':
      return 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';
  }
  return 'io.k8s.api.' + p.replace('/', '.');
}

// ---------------------------------------------------------------------------------------------

interface Ctx {
  file: string;
  prefix: string;
  /** Imported name → upstream prefix of its module. */
  imports: Map<string, string>;
  /** Names declared in this module. */
  local: Set<string>;
}

/** The `/** … *\/` comment right before a node, as upstream's description (paragraphs kept). */
function docOf(node: ts.Node, text: string): string | undefined {
  const ranges = ts.getLeadingCommentRanges(text, node.getFullStart());
  if (!ranges?.length) return undefined;
  const r = ranges[ranges.length - 1]!;
  const raw = text.slice(r.pos, r.end);
  if (!raw.startsWith('/**')) return undefined;
  const body = raw.slice(3, -2);
  const lines = body.split('\n').map((l) => l.replace(/^\s*\* ?/, ''));
  if (lines.length === 1) return lines[0]!.trim() || undefined;
  while (lines.length && !lines[0]!.trim()) lines.shift();
  while (lines.length && !lines[lines.length - 1]!.trim()) lines.pop();
  const s = lines.map((l) => l.replace(/\s+$/, '')).join('\n');
  return s || undefined;
}

function refTo(name: string): Schema {
  return { $ref: REF_PREFIX + name };
}

function resolveName(ctx: Ctx, name: string): string {
  if (ctx.local.has(name)) return `${ctx.prefix}.${name}`;
  const p = ctx.imports.get(name);
  if (p) return `${p}.${name}`;
  throw new Error(`${ctx.file}: unresolved type ${name}`);
}

function numberSchema(typeName: string, field: string): Schema {
  const key = `${typeName}.${field}`;
  if (DOUBLE_FIELDS.has(key)) return { type: 'number', format: 'double' };
  if (INT64_FIELDS.has(key) || INT64_FIELDS.has(field)) return { type: 'integer', format: 'int64' };
  return { type: 'integer', format: 'int32' };
}

/** Schema of a type node (no description). */
function typeSchema(ctx: Ctx, node: ts.TypeNode, typeName: string, field: string): Schema {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { type: 'string' };
    case ts.SyntaxKind.NumberKeyword:
      return numberSchema(typeName, field);
    case ts.SyntaxKind.BooleanKeyword:
      return { type: 'boolean' };
    case ts.SyntaxKind.LiteralType:
      // apiVersion / kind literals are plain strings on the wire
      return { type: 'string' };
    case ts.SyntaxKind.ArrayType:
      return { type: 'array', items: typeSchema(ctx, (node as ts.ArrayTypeNode).elementType, typeName, field) };
    case ts.SyntaxKind.UnionType: {
      const u = node as ts.UnionTypeNode;
      const kinds = u.types.map((t) => t.kind).sort();
      if (kinds.length === 2 && kinds.includes(ts.SyntaxKind.NumberKeyword) && kinds.includes(ts.SyntaxKind.StringKeyword)) {
        return refTo(INT_OR_STRING);
      }
      throw new Error(`${ctx.file}: unsupported union in ${typeName}.${field}: ${node.getText()}`);
    }
    case ts.SyntaxKind.TypeLiteral: {
      const lit = node as ts.TypeLiteralNode;
      const idx = lit.members.find(ts.isIndexSignatureDeclaration);
      if (idx && lit.members.length === 1 && idx.type) {
        return { type: 'object', additionalProperties: typeSchema(ctx, idx.type, typeName, field) };
      }
      throw new Error(`${ctx.file}: unsupported type literal in ${typeName}.${field}`);
    }
    case ts.SyntaxKind.TypeReference: {
      const ref = node as ts.TypeReferenceNode;
      const name = ref.typeName.getText();
      if (name === 'Array' && ref.typeArguments?.length === 1) {
        return { type: 'array', items: typeSchema(ctx, ref.typeArguments[0]!, typeName, field) };
      }
      return refTo(resolveName(ctx, name));
    }
  }
  throw new Error(`${ctx.file}: unsupported type ${ts.SyntaxKind[node.kind]} in ${typeName}.${field}`);
}

/** Upstream wraps a property's $ref in allOf so that siblings (description) are not ignored. */
function withDescription(s: Schema, description: string | undefined): Schema {
  if (!description) return s;
  if (typeof s.$ref === 'string') return { allOf: [s], description };
  return { description, ...s };
}

function isConditionsWithType(typeName: string, field: string, node: ts.TypeNode | undefined, all: Map<string, ts.InterfaceDeclaration>): boolean {
  if (field !== 'conditions' || !node) return false;
  if (!(typeName.endsWith('Status') || typeName === 'ComponentStatus') || CONDITIONS_WITHOUT_PATCH.has(typeName)) return false;
  // Array<X> where X has a `type` property
  if (!ts.isTypeReferenceNode(node) || node.typeName.getText() !== 'Array') return false;
  const item = node.typeArguments?.[0];
  if (!item || !ts.isTypeReferenceNode(item)) return false;
  const decl = all.get(item.typeName.getText());
  return !!decl?.members.some((m) => ts.isPropertySignature(m) && m.name.getText() === 'type');
}

function main(): void {
  const here = dirname(fileURLToPath(import.meta.url));
  // Resolve kubernetes-types from this script, falling back to the working directory.
  let typesRoot: string;
  try {
    typesRoot = dirname(createRequire(import.meta.url).resolve('kubernetes-types/package.json'));
  } catch {
    typesRoot = dirname(createRequire(join(process.cwd(), 'package.json')).resolve('kubernetes-types/package.json'));
  }

  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.d.ts')) files.push(p);
    }
  };
  walk(typesRoot);

  const schemas: Record<string, Schema> = {};
  // Short interface name → declaration (for the conditions rule). Condition names are unique enough.
  const allDecls = new Map<string, ts.InterfaceDeclaration>();
  const parsed: { sf: ts.SourceFile; ctx: Ctx }[] = [];

  for (const file of files) {
    const rel = relative(typesRoot, file);
    const text = readFileSync(file, 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const ctx: Ctx = { file: rel, prefix: prefixFor(rel), imports: new Map(), local: new Set() };
    for (const st of sf.statements) {
      if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
        const target = resolve(dirname(file), st.moduleSpecifier.text) + '.d.ts';
        const p = prefixFor(relative(typesRoot, target));
        const named = st.importClause?.namedBindings;
        if (named && ts.isNamedImports(named)) for (const el of named.elements) ctx.imports.set(el.name.text, p);
      } else if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) {
        ctx.local.add(st.name.text);
        if (ts.isInterfaceDeclaration(st)) allDecls.set(st.name.text, st);
      }
    }
    parsed.push({ sf, ctx });
  }

  // Every apiVersion seen on a kind, for DeleteOptions/WatchEvent which upstream tags with all of them.
  const allGVs = new Set<string>();

  for (const { sf, ctx } of parsed) {
    const text = sf.getFullText();
    for (const st of sf.statements) {
      if (ts.isTypeAliasDeclaration(st)) {
        const name = `${ctx.prefix}.${st.name.text}`;
        const description = docOf(st, text);
        let s: Schema;
        if (st.name.text === 'Quantity') {
          s = { oneOf: [{ type: 'string' }, { type: 'number' }], 'x-kubernetes-int-or-string': true };
        } else if (st.name.text === 'Time' || st.name.text === 'MicroTime') {
          s = { type: 'string', format: 'date-time' };
        } else {
          // JSONSchemaPropsOr{Array,Bool,StringArray}: unions upstream leaves untyped
          s = { 'x-kubernetes-preserve-unknown-fields': true };
        }
        schemas[name] = description ? { description, ...s } : s;
        continue;
      }
      if (!ts.isInterfaceDeclaration(st)) continue;
      const typeName = st.name.text;
      const name = `${ctx.prefix}.${typeName}`;
      const schema: Schema = {};
      const description = docOf(st, text);
      if (description) schema.description = description;
      if (FREE_FORM.has(typeName)) {
        schema.type = 'object';
        schema['x-kubernetes-preserve-unknown-fields'] = true;
        schemas[name] = schema;
        continue;
      }
      const properties: Record<string, Schema> = {};
      const required: string[] = [];
      let apiVersion: string | undefined;
      let kind: string | undefined;
      for (const m of st.members) {
        if (!ts.isPropertySignature(m) || !m.type) continue;
        const field = m.name.getText().replace(/^["']|["']$/g, '');
        if (!m.questionToken) required.push(field);
        if (ts.isLiteralTypeNode(m.type) && ts.isStringLiteral(m.type.literal)) {
          if (field === 'apiVersion') apiVersion = m.type.literal.text;
          if (field === 'kind') kind = m.type.literal.text;
        }
        let ps = withDescription(typeSchema(ctx, m.type, typeName, field), docOf(m, text));
        const patch = PATCH[`${typeName}.${field}`] ?? (isConditionsWithType(typeName, field, m.type, allDecls) ? (['merge', 'type'] as [string, string]) : undefined);
        if (patch) {
          ps = { ...ps };
          if (patch[1]) ps['x-kubernetes-patch-merge-key'] = patch[1];
          ps['x-kubernetes-patch-strategy'] = patch[0];
        }
        properties[field] = ps;
      }
      for (const [field, ps] of Object.entries(EXTRA_PROPERTIES[typeName] ?? {})) {
        const patch = PATCH[`${typeName}.${field}`];
        properties[field] = patch ? { ...ps, 'x-kubernetes-patch-merge-key': patch[1], 'x-kubernetes-patch-strategy': patch[0] } : ps;
      }
      schema.type = 'object';
      if (Object.keys(properties).length) {
        schema.properties = Object.fromEntries(Object.entries(properties).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      }
      if (required.length) schema.required = required;
      if (apiVersion && kind) {
        const i = apiVersion.indexOf('/');
        const group = i < 0 ? '' : apiVersion.slice(0, i);
        const version = i < 0 ? apiVersion : apiVersion.slice(i + 1);
        schema['x-kubernetes-group-version-kind'] = [{ group, kind, version }];
        allGVs.add(apiVersion);
      }
      schemas[name] = schema;
    }
  }

  // Types that exist upstream but not as named types in kubernetes-types.
  schemas[INT_OR_STRING] = {
    description:
      'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
    format: 'int-or-string',
    oneOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
  };

  // kube-aggregator's apiregistration.k8s.io/v1 is not in kubernetes-types: its kinds are written here.
  for (const [name, schema] of Object.entries(apiregistrationSchemas())) schemas[name] = schema;
  allGVs.add('apiregistration.k8s.io/v1');

  // meta kinds whose apiVersion/kind are plain strings in kubernetes-types
  const meta = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
  const gvks = [...allGVs].sort().map((gv) => {
    const i = gv.indexOf('/');
    return i < 0 ? { group: '', version: gv } : { group: gv.slice(0, i), version: gv.slice(i + 1) };
  });
  const tag = (n: string, list: { group: string; version: string }[], kind: string): void => {
    const s = schemas[meta + n];
    if (s) s['x-kubernetes-group-version-kind'] = list.map((g) => ({ group: g.group, kind, version: g.version }));
  };
  tag('Status', [{ group: '', version: 'v1' }], 'Status');
  tag('DeleteOptions', gvks, 'DeleteOptions');
  tag('WatchEvent', gvks, 'WatchEvent');

  const sorted = Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const outDir = resolve(here, '..', 'generated');
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, 'schemas.json');
  const json = JSON.stringify(sorted);
  writeFileSync(out, json);
  console.log(`gen-schemas: ${Object.keys(sorted).length} schemas, ${(json.length / 1024).toFixed(0)} KiB → ${out}`);
}

/** apiregistration.k8s.io/v1 (APIService and its parts), with upstream's names, types and list/patch markers. */
function apiregistrationSchemas(): Record<string, Schema> {
  const P = 'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.';
  const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
  const ref = (n: string, description?: string): Schema => (description ? { allOf: [refTo(n)], description } : refTo(n));
  const str = (description: string): Schema => ({ type: 'string', description });
  const int32 = (description: string): Schema => ({ type: 'integer', format: 'int32', description });
  const gvk = [{ group: 'apiregistration.k8s.io', kind: 'APIService', version: 'v1' }];
  return {
    [P + 'APIService']: {
      description: 'APIService represents a server for a particular GroupVersion. Name must be "version.group".',
      type: 'object',
      properties: {
        apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
        kind: str('Kind is a string value representing the REST resource this object represents.'),
        metadata: ref(META + 'ObjectMeta', "Standard object's metadata."),
        spec: ref(P + 'APIServiceSpec', 'Spec contains information for locating and communicating with a server'),
        status: ref(P + 'APIServiceStatus', 'Status contains derived information about an API server'),
      },
      'x-kubernetes-group-version-kind': gvk,
    },
    [P + 'APIServiceList']: {
      description: 'APIServiceList is a list of APIService objects.',
      type: 'object',
      required: ['items'],
      properties: {
        apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
        items: { type: 'array', description: 'Items is the list of APIService', items: refTo(P + 'APIService') },
        kind: str('Kind is a string value representing the REST resource this object represents.'),
        metadata: ref(META + 'ListMeta', "Standard list metadata."),
      },
      'x-kubernetes-group-version-kind': [{ group: 'apiregistration.k8s.io', kind: 'APIServiceList', version: 'v1' }],
    },
    [P + 'APIServiceSpec']: {
      description: 'APIServiceSpec contains information for locating and communicating with a server. Only https is supported, though you are able to disable certificate verification.',
      type: 'object',
      required: ['groupPriorityMinimum', 'versionPriority'],
      properties: {
        caBundle: { type: 'string', format: 'byte', description: "CABundle is a PEM encoded CA bundle which will be used to validate an API server's serving certificate. If unspecified, system trust roots on the apiserver are used.", 'x-kubernetes-list-type': 'atomic' },
        group: str('Group is the API group name this server hosts'),
        groupPriorityMinimum: int32('GroupPriorityMinimum is the priority this group should have at least. Higher priority means that the group is preferred by clients over lower priority ones.'),
        insecureSkipTLSVerify: { type: 'boolean', description: 'InsecureSkipTLSVerify disables TLS certificate verification when communicating with this server. This is strongly discouraged. You should use the CABundle instead.' },
        service: ref(P + 'ServiceReference', 'Service is a reference to the service for this API server. It must communicate on port 443. If the Service is nil, that means the handling for the API groupversion is handled locally on this server.'),
        version: str('Version is the API version this server hosts. For example, "v1"'),
        versionPriority: int32('VersionPriority controls the ordering of this API version inside of its group. Must be greater than zero.'),
      },
    },
    [P + 'APIServiceStatus']: {
      description: 'APIServiceStatus contains derived information about an API server',
      type: 'object',
      properties: {
        conditions: {
          type: 'array',
          description: 'Current service state of apiService.',
          items: refTo(P + 'APIServiceCondition'),
          'x-kubernetes-list-map-keys': ['type'],
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-patch-merge-key': 'type',
          'x-kubernetes-patch-strategy': 'merge',
        },
      },
    },
    [P + 'APIServiceCondition']: {
      description: 'APIServiceCondition describes the state of an APIService at a particular point',
      type: 'object',
      required: ['type', 'status'],
      properties: {
        lastTransitionTime: ref(META + 'Time', 'Last time the condition transitioned from one status to another.'),
        message: str('Human-readable message indicating details about last transition.'),
        reason: str("Unique, one-word, CamelCase reason for the condition's last transition."),
        status: str('Status is the status of the condition. Can be True, False, Unknown.'),
        type: str('Type is the type of the condition.'),
      },
    },
    [P + 'ServiceReference']: {
      description: 'ServiceReference holds a reference to Service.legacy.k8s.io',
      type: 'object',
      properties: {
        name: str('Name is the name of the service'),
        namespace: str('Namespace is the namespace of the service'),
        port: int32('If specified, the port on the service that hosting webhook. Default to 443 for backward compatibility. `port` should be a valid port number (1-65535, inclusive).'),
      },
    },
  };
}

main();
