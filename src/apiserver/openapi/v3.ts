/**
 * OpenAPI v3 documents as kubectl reads them: the index at /openapi/v3 and one document per
 * group-version at /openapi/v3/<api/v1|apis/G/V>. kubectl uses them to:
 *  - check that PATCH for a kind accepts `fieldValidation` (default strict validation),
 *  - pick strategic merge patch (the patch operation lists application/strategic-merge-patch+json),
 *  - read x-kubernetes-patch-* from component schemas (client-side apply),
 *  - explain kinds and fields (components with x-kubernetes-group-version-kind).
 */
import { createHash } from 'node:crypto';
import { REF_PREFIX, allSchemas, closure, refsOf, schemaForKind, type Schema } from './schemas.js';

export interface ResourceSpec {
  group: string;
  version: string;
  /** Plural, lower case: "pods". */
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  /**
   * Subresources: status, scale, binding, … `kind` (with group/version when they differ from the
   * resource's) is what the subresource takes and returns. `verbs` defaults by name.
   */
  subresources: { name: string; kind: string; group?: string; version?: string; verbs?: string[] }[];
  /** For kinds without a built-in schema (CRDs): the version's openAPIV3Schema, if any. */
  schema?: Record<string, unknown>;
}

interface GV {
  group: string;
  version: string;
  /** "api/v1" or "apis/apps/v1": the key in the index and the URL suffix. */
  path: string;
}

/** Accepts "api/v1", "apis/apps/v1", "v1" or "apps/v1". */
function parseGV(gv: string): GV {
  const s = gv.replace(/^\/+|\/+$/g, '');
  let parts = s.split('/');
  if (parts[0] === 'api' && parts.length === 2) return { group: '', version: parts[1]!, path: s };
  if (parts[0] === 'apis' && parts.length === 3) return { group: parts[1]!, version: parts[2]!, path: s };
  parts = s.split('/');
  if (parts.length === 1) return { group: '', version: parts[0]!, path: `api/${parts[0]}` };
  if (parts.length === 2) return { group: parts[0]!, version: parts[1]!, path: `apis/${parts[0]}/${parts[1]}` };
  throw new Error(`not a group-version: ${gv}`);
}

// ---------------------------------------------------------------------------------------------
// Names as upstream generates them: operation ids (createCoreV1NamespacedPod) and tags (core_v1).

function upperFirst(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

/** "" → Core, "rbac.authorization.k8s.io" → RbacAuthorization, "apps" → Apps. */
function groupWord(group: string): string {
  if (!group) return 'Core';
  return group
    .replace(/\.k8s\.io$/, '')
    .split(/[.-]/)
    .map(upperFirst)
    .join('');
}

function tagOf(gv: GV): string {
  const w = groupWord(gv.group);
  return `${w[0]!.toLowerCase()}${w.slice(1)}_${gv.version}`;
}

// ---------------------------------------------------------------------------------------------
// Parameters (upstream's descriptions, shortened where they are long prose)

function qp(name: string, type: string, description: string): Record<string, unknown> {
  return { description, in: 'query', name, schema: { type, uniqueItems: true } };
}

const P = {
  pretty: qp('pretty', 'string', "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."),
  dryRun: qp('dryRun', 'string', 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed'),
  fieldManager: qp('fieldManager', 'string', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.'),
  fieldManagerPatch: qp('fieldManager', 'string', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).'),
  fieldValidation: qp('fieldValidation', 'string', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.'),
  force: qp('force', 'boolean', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.'),
  allowWatchBookmarks: qp('allowWatchBookmarks', 'boolean', 'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server\'s discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.'),
  continue: qp('continue', 'string', 'The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize.'),
  fieldSelector: qp('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  labelSelector: qp('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  limit: qp('limit', 'integer', 'limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.'),
  resourceVersion: qp('resourceVersion', 'string', 'resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset'),
  resourceVersionMatch: qp('resourceVersionMatch', 'string', 'resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset'),
  sendInitialEvents: qp('sendInitialEvents', 'boolean', '`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic "Bookmark" event  will be sent.'),
  timeoutSeconds: qp('timeoutSeconds', 'integer', 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.'),
  watch: qp('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.'),
  gracePeriodSeconds: qp('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.'),
  ignoreStoreReadError: qp('ignoreStoreReadErrorWithClusterBreakingPotential', 'boolean', 'if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error. A resource is considered corrupt if it can not be retrieved from the underlying storage successfully because of a) its data can not be transformed e.g. decryption failure, or b) it fails to decode into an object. NOTE: unsafe deletion ignores finalizer constraints, skips precondition checks, and removes the object from the storage. WARNING: This may potentially break the cluster if the workload associated with the resource being unsafe-deleted relies on normal deletion flow. Use only if you REALLY know what you are doing. The default value is false, and the user must opt in to enable it'),
  orphanDependents: qp('orphanDependents', 'boolean', 'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the "orphan" finalizer will be added to/removed from the object\'s finalizers list. Either this field or PropagationPolicy may be set, but not both.'),
  propagationPolicy: qp('propagationPolicy', 'string', "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground."),
};

const LIST_PARAMS = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const PATCH_PARAMS = [P.dryRun, P.fieldManagerPatch, P.fieldValidation, P.force];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.ignoreStoreReadError, P.orphanDependents, P.propagationPolicy];
const DELETECOLLECTION_PARAMS = [P.continue, P.dryRun, P.fieldSelector, P.gracePeriodSeconds, P.ignoreStoreReadError, P.labelSelector, P.limit, P.orphanDependents, P.propagationPolicy, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds];

function pathParam(name: string, description: string): Record<string, unknown> {
  return { description, in: 'path', name, required: true, schema: { type: 'string', uniqueItems: true } };
}
const NAMESPACE_PARAM = pathParam('namespace', 'object name and auth scope, such as for teams and projects');

// ---------------------------------------------------------------------------------------------
// Bodies and responses

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const ref = (name: string) => ({ $ref: REF_PREFIX + name });

function content(schemaName: string, stream = false): Record<string, unknown> {
  const s = { schema: ref(schemaName) };
  const c: Record<string, unknown> = { 'application/json': s, 'application/vnd.kubernetes.protobuf': s, 'application/yaml': s };
  if (stream) {
    c['application/json;stream=watch'] = s;
    c['application/vnd.kubernetes.protobuf;stream=watch'] = s;
  }
  return c;
}

function responses(codes: Record<string, string>, schemaName: string, stream = false): Record<string, unknown> {
  const text: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted' };
  const r: Record<string, unknown> = {};
  for (const [code, name] of Object.entries(codes)) r[code] = { content: content(name || schemaName, stream), description: text[code] };
  r['401'] = { description: 'Unauthorized' };
  return r;
}

const PATCH_TYPES_BUILTIN = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
// Custom resources have no Go struct, hence no strategic merge patch (upstream omits it for CRDs).
const PATCH_TYPES_CUSTOM = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'];

function patchBody(builtin: boolean): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  for (const t of builtin ? PATCH_TYPES_BUILTIN : PATCH_TYPES_CUSTOM) c[t] = { schema: ref(META + 'Patch') };
  return { content: c, required: true };
}

function objectBody(schemaName: string): Record<string, unknown> {
  return { content: { '*/*': { schema: ref(schemaName) } }, required: true };
}

// ---------------------------------------------------------------------------------------------
// Per-resource operations

interface KindRef {
  group: string;
  version: string;
  kind: string;
  /** Component schema name. */
  schema: string;
  /** Whether it is a built-in kind (strategic merge patch applies). */
  builtin: boolean;
}

function defaultSubresourceVerbs(name: string, sameKind: boolean): string[] {
  switch (name) {
    case 'status':
    case 'scale':
    case 'ephemeralcontainers':
    case 'resize':
      return ['get', 'patch', 'update'];
    case 'binding':
    case 'eviction':
    case 'token':
      return ['create'];
    case 'log':
      return ['get'];
    case 'exec':
    case 'attach':
    case 'portforward':
    case 'proxy':
      return ['connect'];
  }
  return sameKind ? ['get', 'patch', 'update'] : ['create'];
}

/** Upstream's component name for a custom kind: reversed group, version, kind (com.example.v1.Widget). */
function customSchemaName(group: string, version: string, kind: string): string {
  return [...group.split('.').reverse(), version, kind].join('.');
}

interface Built {
  paths: Record<string, Record<string, unknown>>;
  /** Built-in component names to include (with their closure). */
  roots: Set<string>;
  /** Custom component schemas (CRDs). */
  custom: Record<string, Schema>;
}

function kindRef(b: Built, group: string, version: string, kind: string, crdSchema?: Record<string, unknown>): KindRef {
  const k = schemaForKind(group, version, kind);
  if (k) {
    b.roots.add(k.name);
    return { group, version, kind, schema: k.name, builtin: true };
  }
  const name = customSchemaName(group, version, kind);
  if (!b.custom[name]) b.custom[name] = customKindSchema(group, version, kind, crdSchema);
  return { group, version, kind, schema: name, builtin: false };
}

function listRef(b: Built, r: ResourceSpec, item: KindRef): string {
  if (item.builtin) {
    const k = schemaForKind(r.group, r.version, `${r.kind}List`);
    if (k) {
      b.roots.add(k.name);
      return k.name;
    }
  }
  const name = customSchemaName(r.group, r.version, `${r.kind}List`);
  if (!b.custom[name]) {
    b.roots.add(META + 'ListMeta');
    b.custom[name] = {
      description: `${r.kind}List is a list of ${r.kind}`,
      type: 'object',
      properties: {
        apiVersion: { description: API_VERSION_DESC, type: 'string' },
        items: { description: `List of ${r.resource}. More info: https://git.k8s.io/community/contributors/devel/api-conventions.md`, type: 'array', items: ref(item.schema) },
        kind: { description: KIND_DESC, type: 'string' },
        metadata: { allOf: [ref(META + 'ListMeta')], description: 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds' },
      },
      required: ['items'],
      'x-kubernetes-group-version-kind': [{ group: r.group, kind: `${r.kind}List`, version: r.version }],
    };
  }
  return name;
}

const API_VERSION_DESC =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const KIND_DESC =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

/** A CRD version's schema as upstream publishes it: apiVersion/kind/metadata filled in, GVK tagged. */
function customKindSchema(group: string, version: string, kind: string, crd?: Record<string, unknown>): Schema {
  const base: Schema = crd ? (structuredClone(crd) as Schema) : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  base.type ??= 'object';
  base.properties = {
    ...(base.properties ?? {}),
    apiVersion: { description: API_VERSION_DESC, type: 'string' },
    kind: { description: KIND_DESC, type: 'string' },
    metadata: { allOf: [ref(META + 'ObjectMeta')], description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata" },
  };
  base['x-kubernetes-group-version-kind'] = [{ group, kind, version }];
  return base;
}

function gvkExt(k: KindRef): { group: string; kind: string; version: string } {
  return { group: k.group, kind: k.kind, version: k.version };
}

function addResource(b: Built, gv: GV, r: ResourceSpec): void {
  const kind = kindRef(b, r.group, r.version, r.kind, r.schema);
  const verbs = new Set(r.verbs);
  const base = `/${gv.path}`;
  const gw = groupWord(gv.group) + upperFirst(gv.version);
  const tags = [tagOf(gv)];
  const ns = r.namespaced ? 'Namespaced' : '';
  const collection = r.namespaced ? `${base}/namespaces/{namespace}/${r.resource}` : `${base}/${r.resource}`;
  const item = `${collection}/{name}`;
  const scopeParams = r.namespaced ? [NAMESPACE_PARAM] : [];
  const nameParam = pathParam('name', `name of the ${r.kind}`);
  const listName = verbs.has('list') || verbs.has('watch') ? listRef(b, r, kind) : undefined;

  const op = (action: string, id: string, description: string, extra: Record<string, unknown>, k: KindRef = kind): Record<string, unknown> => ({
    description,
    operationId: id,
    ...extra,
    tags,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvkExt(k),
  });
  const at = (path: string, params: unknown[]): Record<string, unknown> => (b.paths[path] ??= { parameters: [...params, P.pretty] });

  // collection: list, create, deletecollection
  if (verbs.has('list') || verbs.has('create') || verbs.has('deletecollection')) {
    const c = at(collection, scopeParams);
    if (verbs.has('list')) {
      c.get = op('list', `list${gw}${ns}${r.kind}`, `list or watch objects of kind ${r.kind}`, { parameters: LIST_PARAMS, responses: responses({ '200': listName! }, listName!, true) });
    }
    if (verbs.has('create')) {
      c.post = op('post', `create${gw}${ns}${r.kind}`, `create a ${r.kind}`, {
        parameters: WRITE_PARAMS,
        requestBody: objectBody(kind.schema),
        responses: responses({ '200': '', '201': '', '202': '' }, kind.schema),
      });
    }
    if (verbs.has('deletecollection')) {
      b.roots.add(META + 'DeleteOptions').add(META + 'Status');
      c.delete = op('deletecollection', `delete${gw}Collection${ns}${r.kind}`, `delete collection of ${r.kind}`, {
        parameters: DELETECOLLECTION_PARAMS,
        requestBody: { content: { '*/*': { schema: ref(META + 'DeleteOptions') } } },
        responses: responses({ '200': META + 'Status' }, META + 'Status'),
      });
    }
  }
  // all-namespaces list
  if (r.namespaced && verbs.has('list')) {
    at(`${base}/${r.resource}`, [...LIST_PARAMS]).get = op('list', `list${gw}${r.kind}ForAllNamespaces`, `list or watch objects of kind ${r.kind}`, { responses: responses({ '200': listName! }, listName!, true) });
  }
  // item: get, update, patch, delete
  if (verbs.has('get') || verbs.has('update') || verbs.has('patch') || verbs.has('delete')) {
    const i = at(item, [nameParam, ...scopeParams]);
    if (verbs.has('get')) i.get = op('get', `read${gw}${ns}${r.kind}`, `read the specified ${r.kind}`, { responses: responses({ '200': '' }, kind.schema) });
    if (verbs.has('update')) {
      i.put = op('put', `replace${gw}${ns}${r.kind}`, `replace the specified ${r.kind}`, {
        parameters: WRITE_PARAMS,
        requestBody: objectBody(kind.schema),
        responses: responses({ '200': '', '201': '' }, kind.schema),
      });
    }
    if (verbs.has('patch')) {
      i.patch = op('patch', `patch${gw}${ns}${r.kind}`, `partially update the specified ${r.kind}`, {
        parameters: PATCH_PARAMS,
        requestBody: patchBody(kind.builtin),
        responses: responses({ '200': '', '201': '' }, kind.schema),
      });
    }
    if (verbs.has('delete')) {
      b.roots.add(META + 'DeleteOptions').add(META + 'Status');
      i.delete = op('delete', `delete${gw}${ns}${r.kind}`, `delete a ${r.kind}`, {
        parameters: DELETE_PARAMS,
        requestBody: { content: { '*/*': { schema: ref(META + 'DeleteOptions') } } },
        responses: responses({ '200': '', '202': '' }, kind.schema),
      });
    }
  }
  // deprecated watch paths (kubectl does not use them, upstream still publishes them)
  if (verbs.has('watch')) {
    b.roots.add(META + 'WatchEvent');
    const ev = META + 'WatchEvent';
    const watchBase = r.namespaced ? `${base}/watch/namespaces/{namespace}/${r.resource}` : `${base}/watch/${r.resource}`;
    at(watchBase, [...LIST_PARAMS, ...scopeParams]).get = op(
      'watchlist',
      `watch${gw}${ns}${r.kind}List`,
      `watch individual changes to a list of ${r.kind}. deprecated: use the 'watch' parameter with a list operation instead.`,
      { responses: responses({ '200': ev }, ev, true) },
    );
    at(`${watchBase}/{name}`, [...LIST_PARAMS, nameParam, ...scopeParams]).get = op(
      'watch',
      `watch${gw}${ns}${r.kind}`,
      `watch changes to an object of kind ${r.kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`,
      { responses: responses({ '200': ev }, ev, true) },
    );
    if (r.namespaced) {
      at(`${base}/watch/${r.resource}`, [...LIST_PARAMS]).get = op(
        'watchlist',
        `watch${gw}${r.kind}ListForAllNamespaces`,
        `watch individual changes to a list of ${r.kind}. deprecated: use the 'watch' parameter with a list operation instead.`,
        { responses: responses({ '200': ev }, ev, true) },
      );
    }
  }
  // subresources
  for (const sub of r.subresources) {
    const sk = kindRef(b, sub.group ?? r.group, sub.version ?? r.version, sub.kind);
    const sameKind = sk.group === kind.group && sk.version === kind.version && sk.kind === kind.kind;
    const sv = new Set(sub.verbs ?? defaultSubresourceVerbs(sub.name, sameKind));
    const word = upperFirst(sub.name);
    const p = at(`${item}/${sub.name}`, [pathParam('name', `name of the ${sk.kind}`), ...scopeParams]);
    const what = `${sub.name} of the specified ${r.kind}`;
    if (sv.has('get')) p.get = op('get', `read${gw}${ns}${r.kind}${word}`, `read ${what}`, { responses: responses({ '200': '' }, sk.schema) }, sk);
    if (sv.has('update')) {
      p.put = op('put', `replace${gw}${ns}${r.kind}${word}`, `replace ${what}`, { parameters: WRITE_PARAMS, requestBody: objectBody(sk.schema), responses: responses({ '200': '', '201': '' }, sk.schema) }, sk);
    }
    if (sv.has('patch')) {
      p.patch = op('patch', `patch${gw}${ns}${r.kind}${word}`, `partially update ${what}`, { parameters: PATCH_PARAMS, requestBody: patchBody(sk.builtin), responses: responses({ '200': '', '201': '' }, sk.schema) }, sk);
    }
    if (sv.has('create')) {
      p.post = op('post', `create${gw}${ns}${r.kind}${word}`, `create ${sub.name} of a ${r.kind}`, { parameters: WRITE_PARAMS, requestBody: objectBody(sk.schema), responses: responses({ '200': '', '201': '', '202': '' }, sk.schema) }, sk);
    }
    if (sv.has('connect')) {
      const text = { content: { '*/*': { schema: { type: 'string' } } }, description: 'OK' };
      for (const m of ['get', 'post']) {
        p[m] = op('connect', `connect${gw}${upperFirst(m)}${ns}${r.kind}${word}`, `connect ${m.toUpperCase()} requests to ${sub.name} of ${r.kind}`, { responses: { '200': text, '401': { description: 'Unauthorized' } } }, sk);
      }
    }
  }
}

function buildDocument(gv: GV, resources: ResourceSpec[]): Record<string, unknown> {
  const b: Built = { paths: {}, roots: new Set([META + 'APIResourceList', META + 'Patch', META + 'Status', META + 'DeleteOptions', META + 'WatchEvent']), custom: {} };
  b.paths[`/${gv.path}/`] = {
    get: {
      description: 'get available resources',
      operationId: `get${groupWord(gv.group)}${upperFirst(gv.version)}APIResources`,
      responses: responses({ '200': META + 'APIResourceList' }, META + 'APIResourceList'),
      tags: [tagOf(gv)],
    },
  };
  for (const r of resources) addResource(b, gv, r);

  const all = allSchemas();
  const names = closure([...b.roots, ...Object.values(b.custom).flatMap((s) => [...refsOf(s)])]);
  const schemas: Record<string, unknown> = {};
  for (const n of [...names].sort()) schemas[n] = all[n];
  for (const [n, s] of Object.entries(b.custom)) schemas[n] = s;
  const paths: Record<string, unknown> = {};
  for (const p of Object.keys(b.paths).sort()) paths[p] = b.paths[p];
  return {
    components: {
      schemas,
      securitySchemes: { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } },
    },
    info: { title: 'Kubernetes', version: 'unversioned' },
    openapi: '3.0.0',
    paths,
    security: [{ BearerToken: [] }],
  };
}

// ---------------------------------------------------------------------------------------------
// Cache and public API

interface Entry {
  fingerprint: string;
  doc: Record<string, unknown>;
  json: string;
  hash: string;
}
const cache = new Map<string, Entry>();

function hashOf(json: string): string {
  // upstream publishes a sha512 of the document, hex, upper case
  return createHash('sha512').update(json).digest('hex').toUpperCase();
}

function entry(gvText: string, resources: ResourceSpec[]): Entry {
  const gv = parseGV(gvText);
  const fingerprint = JSON.stringify(resources);
  const cached = cache.get(gv.path);
  if (cached && cached.fingerprint === fingerprint) return cached;
  const doc = buildDocument(gv, resources);
  const json = JSON.stringify(doc);
  const e: Entry = { fingerprint, doc, json, hash: hashOf(json) };
  cache.set(gv.path, e);
  return e;
}

/**
 * The OpenAPI v3 document of a group-version ("api/v1", "apis/apps/v1"; "v1" and "apps/v1" work
 * too). Built once per GV and cached; rebuilt only when `resources` change (CRDs).
 */
export function openapiV3Document(gv: string, resources: ResourceSpec[]): Record<string, unknown> {
  return entry(gv, resources).doc;
}

/** The same document serialized, with its hash (use it as ETag; it is the `hash` in the index). */
export function openapiV3Serialized(gv: string, resources: ResourceSpec[]): { json: string; hash: string } {
  const e = entry(gv, resources);
  return { json: e.json, hash: e.hash };
}

/** The hash of a group-version's document if it has been built, else undefined. */
export function openapiV3Hash(gv: string): string | undefined {
  return cache.get(parseGV(gv).path)?.hash;
}

/**
 * GET /openapi/v3: `{paths: {"api/v1": {serverRelativeURL: "/openapi/v3/api/v1?hash=…"}}}`.
 * Pass `resourcesFor` so the hash is the document's (builds documents not built yet); without
 * it, GVs whose document was not built yet get a provisional hash of the GV and schema set.
 */
export function openapiV3Index(groupVersions: string[], resourcesFor?: (gv: string) => ResourceSpec[] | undefined): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const text of groupVersions) {
    const gv = parseGV(text);
    const resources = resourcesFor?.(text);
    const hash = resources ? entry(text, resources).hash : (cache.get(gv.path)?.hash ?? provisionalHash(gv.path));
    paths[gv.path] = { serverRelativeURL: `/openapi/v3/${gv.path}?hash=${hash}` };
  }
  return { paths };
}

let schemasHash: string | undefined;
function provisionalHash(path: string): string {
  schemasHash ??= hashOf(JSON.stringify(Object.keys(allSchemas())));
  return hashOf(`${path}\n${schemasHash}`);
}
