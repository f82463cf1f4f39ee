import type { IncomingMessage, ServerResponse } from 'node:http';
import { URL } from 'node:url';
import type { Registry, DeleteOptions, ListOptions, PatchType } from './registry.js';
import { nowRFC3339, patchStatus } from './registry.js';
import { PatchError } from './patch/strategic.js';
import { parseResourcePath, type ResourceRequest } from './request.js';
import { RESOURCES, groupVersions, subresourceInfo, type ResourceInfo } from './resources.js';
import { StatusError, badRequest, internalError, methodNotAllowed, notFound, success } from './status.js';
import { readBody, decodeBody } from './body.js';
import { aggregatedDiscovery, apiGroupDoc, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.js';
import { negotiateForm, partialObjectMetadata, toTable } from './table.js';
import { serveWatch } from './watch.js';
import { evictPod } from './eviction.js';
import type { ServiceAccountTokens } from './auth/tokens/serviceaccount.js';
import { proxyPodLog, proxyPodExec, type KubeletClientTLS } from '../kubelet/apiproxy.js';
import type { Duplex } from 'node:stream';
import { findResource } from './resources.js';
import { openapiV3Index, openapiV3Serialized, type ResourceSpec } from './openapi/v3.js';
import { findUnknownFields, dropUnknownFields } from './openapi/schemas.js';
import { findDuplicateKeys } from './jsondup.js';
import { applyJsonPatch } from './patch/json.js';
import type { Attributes, Authenticator, Authorizer, UserInfo } from './auth/types.js';
import { authenticate, authorize, forbiddenMessage } from './auth/chain.js';
import { applyMergePatch } from './patch/merge.js';

/** Answers a create on a virtual resource (SubjectAccessReview, TokenReview, …). */
export type ReviewHandler = (body: any, ctx: { user: UserInfo; namespace?: string }) => Promise<any> | any;

export interface HandlerContext {
  registry: Registry;
  /** True once every component the API needs is up. */
  ready(): boolean;
  serverAddress: string;
  authenticators: Authenticator[];
  authorizers: Authorizer[];
  reviews: Map<string, ReviewHandler>;
  /** ServiceAccount tokens: TokenRequest and the issuer discovery documents. */
  serviceAccounts?: ServiceAccountTokens;
  /** Credentials the API server presents to kubelets (logs, exec). */
  kubeletClient?: KubeletClientTLS;
}

type Query = URLSearchParams;

const JSON_TYPE = 'application/json';

function send(res: ServerResponse, code: number, body: unknown, contentType = JSON_TYPE, warnings?: string[]): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string | string[]> = { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private' };
  if (warnings?.length) headers['Warning'] = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
}

function sendStatusError(res: ServerResponse, e: StatusError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  send(res, e.code, e.toStatus());
}

export function createHandler(ctx: HandlerContext) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'https://skiff');
      const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
      let user: UserInfo;
      try {
        user = await authenticate(ctx.authenticators, req);
      } catch (e) {
        if (e instanceof StatusError) throw e;
        throw new StatusError(401, 'Unauthorized', 'Unauthorized');
      }
      const parsed = parseResourcePath(path);
      const attrs = requestAttributes(req.method ?? 'GET', path, parsed, url.searchParams, user);
      const decision = await authorize(ctx.authorizers, attrs);
      if (decision.decision !== 'allow') {
        throw new StatusError(403, 'Forbidden', forbiddenMessage(attrs, decision.reason), attrs.resourceRequest ? { name: attrs.name, group: attrs.apiGroup, kind: attrs.resource } : undefined);
      }
      if (await serveNonResource(ctx, req, res, path)) return;
      if (parsed.type === 'other') throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      if (parsed.type === 'unknown-resource') {
        throw new StatusError(404, 'NotFound', 'the server could not find the requested resource', { group: parsed.group, kind: parsed.resource });
      }
      await serveResource(ctx, req, res, parsed.req, url.searchParams, user);
    } catch (err) {
      const e = err instanceof StatusError ? err : err instanceof PatchError ? patchStatus(err) : internalError(err);
      if (!(e.code < 500 || err instanceof StatusError)) console.error('skiff apiserver: internal error', err);
      sendStatusError(res, e);
    }
  };
}

/** The authorizer's view of a request, with upstream's verb mapping. */
export function requestAttributes(method: string, path: string, parsed: ReturnType<typeof parseResourcePath>, q: Query, user: UserInfo): Attributes {
  if (parsed.type !== 'resource') return { user, verb: method.toLowerCase(), resourceRequest: false, path };
  const r = parsed.req;
  let verb: string;
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = r.legacyWatch || q.get('watch') === 'true' || q.get('watch') === '1' ? 'watch' : r.name ? 'get' : 'list';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = r.name ? 'delete' : 'deletecollection';
      break;
    default:
      verb = method.toLowerCase();
  }
  return {
    user,
    verb,
    resourceRequest: true,
    path,
    namespace: r.info.namespaced ? r.namespace : undefined,
    apiGroup: r.group,
    apiVersion: r.version,
    resource: r.info.resource,
    subresource: r.subresource,
    name: r.name,
  };
}

async function serveNonResource(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  const accept = req.headers.accept ?? '';
  switch (path) {
    case '/livez':
    case '/healthz':
      send(res, 200, 'ok', 'text/plain; charset=utf-8');
      return true;
    case '/readyz':
      if (ctx.ready()) send(res, 200, 'ok', 'text/plain; charset=utf-8');
      else send(res, 500, '[-]informer-sync failed: not yet synced\nreadyz check failed', 'text/plain; charset=utf-8');
      return true;
    case '/version':
      send(res, 200, SERVER_VERSION);
      return true;
    case '/api':
    case '/apis': {
      const which = path === '/api' ? 'api' : 'apis';
      const agg = preferredDiscovery(accept);
      if (agg) send(res, 200, aggregatedDiscovery(which, agg), `application/json;g=apidiscovery.k8s.io;v=${agg};as=APIGroupDiscoveryList`);
      else send(res, 200, which === 'api' ? apiVersions(ctx.serverAddress) : apiGroupList());
      return true;
    }
    case '/openapi/v3':
      send(res, 200, openapiV3Index(groupVersionPaths(), resourceSpecs));
      return true;
    case '/.well-known/openid-configuration':
      if (!ctx.serviceAccounts) return false;
      send(res, 200, ctx.serviceAccounts.openidConfiguration());
      return true;
    case '/openid/v1/jwks':
      if (!ctx.serviceAccounts) return false;
      send(res, 200, ctx.serviceAccounts.jwks(), 'application/jwk-set+json');
      return true;
    case '/openapi/v2':
      throw new StatusError(404, 'NotFound', 'the server serves OpenAPI v3 only (/openapi/v3)');
  }
  if (path.startsWith('/livez/') || path.startsWith('/readyz/') || path.startsWith('/healthz/')) {
    send(res, 200, 'ok', 'text/plain; charset=utf-8');
    return true;
  }
  if (path.startsWith('/openapi/v3/')) {
    const gv = path.slice('/openapi/v3/'.length);
    const specs = resourceSpecs(gv);
    if (!specs) throw new StatusError(404, 'NotFound', `no OpenAPI document for ${gv}`);
    const { json, hash } = openapiV3Serialized(gv, specs);
    if (req.headers['if-none-match'] === `"${hash}"`) {
      res.writeHead(304, { ETag: `"${hash}"` });
      res.end();
      return true;
    }
    res.writeHead(200, { 'Content-Type': JSON_TYPE, ETag: `"${hash}"`, 'Cache-Control': 'public, immutable' });
    res.end(json);
    return true;
  }
  let m = /^\/api\/([^/]+)$/.exec(path);
  if (m) {
    const doc = apiResourceList('', m[1]);
    if (!doc) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    send(res, 200, doc);
    return true;
  }
  m = /^\/apis\/([^/]+)$/.exec(path);
  if (m) {
    const doc = apiGroupDoc(m[1]);
    if (!doc) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    send(res, 200, doc);
    return true;
  }
  m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  if (m) {
    const doc = apiResourceList(m[1], m[2]);
    if (!doc) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    send(res, 200, doc);
    return true;
  }
  return false;
}

function preferredDiscovery(accept: string): 'v2' | 'v2beta1' | undefined {
  for (const clause of accept.split(',')) {
    if (!clause.includes('g=apidiscovery.k8s.io') || !clause.includes('as=APIGroupDiscoveryList')) {
      if (clause.trim().startsWith('application/json') || clause.trim().startsWith('*/*')) return undefined;
      continue;
    }
    if (/v=v2beta1/.test(clause)) return 'v2beta1';
    if (/v=v2(;|$|\s)/.test(clause)) return 'v2';
  }
  return undefined;
}

export function groupVersionPaths(): string[] {
  return groupVersions().map((gv) => (gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`));
}

const specCache = new Map<string, ResourceSpec[] | undefined>();

function resourceSpecs(gvPath: string): ResourceSpec[] | undefined {
  if (!specCache.has(gvPath)) specCache.set(gvPath, buildResourceSpecs(gvPath));
  return specCache.get(gvPath);
}

function buildResourceSpecs(gvPath: string): ResourceSpec[] | undefined {
  const gv = groupVersions().find((g) => (g.group ? `apis/${g.group}/${g.version}` : `api/${g.version}`) === gvPath);
  if (!gv) return undefined;
  return RESOURCES.filter((r) => r.group === gv.group && r.version === gv.version).map((r) => ({
    group: r.group,
    version: r.version,
    resource: r.resource,
    kind: r.kind,
    namespaced: r.namespaced,
    verbs: r.verbs,
    subresources: r.subresources.map((s) => {
      const k = subresourceInfo(r, s);
      return { name: s, kind: k.kind, group: k.group, version: k.version, verbs: k.verbs };
    }),
  }));
}

function boolParam(q: Query, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (v === 'true' || v === '1' || v === '') return true;
  if (v === 'false' || v === '0') return false;
  throw badRequest(`invalid boolean value for ${name}: ${v}`);
}

function intParam(q: Query, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`invalid value for ${name}: ${v}: must be an integer`);
  return Number(v);
}

function dryRunParam(q: Query): boolean {
  const all = q.getAll('dryRun');
  for (const v of all) if (v !== 'All') throw badRequest(`Invalid dryRun value: "${v}": supported value is "All"`);
  return all.length > 0;
}

function fieldValidationParam(q: Query): 'Strict' | 'Warn' | 'Ignore' {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation parameter unsupported: ${v}. Supported values: Strict, Warn, Ignore`);
}

function listOptions(q: Query): ListOptions {
  const limit = intParam(q, 'limit');
  if (limit !== undefined && limit < 0) throw badRequest('limit must be a non-negative integer');
  const rvm = q.get('resourceVersionMatch') ?? undefined;
  if (rvm && rvm !== 'Exact' && rvm !== 'NotOlderThan') throw badRequest(`resourceVersionMatch: Unsupported value: "${rvm}": supported values: "Exact", "NotOlderThan"`);
  return {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    limit,
    continue: q.get('continue') || undefined,
    resourceVersion: q.get('resourceVersion') ?? undefined,
    resourceVersionMatch: rvm,
  };
}

/** Checks apiVersion/kind of a body against the endpoint, as upstream's decoder. */
function checkTypeMeta(obj: any, info: ResourceInfo, expectKind = info.kind, expectApiVersion = info.apiVersion): void {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw badRequest(`the body of the request must be a JSON or YAML object`);
  // As upstream's typed decoding: a body without apiVersion/kind takes the endpoint's.
  if (obj.apiVersion && obj.apiVersion !== expectApiVersion) {
    throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expectApiVersion})`);
  }
  if (obj.kind && obj.kind !== expectKind) throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${expectKind})`);
  if (obj.metadata !== undefined && (obj.metadata === null || typeof obj.metadata !== 'object' || Array.isArray(obj.metadata))) {
    throw badRequest(`${expectKind} in version "${info.version}" cannot be handled as a ${expectKind}: metadata must be an object`);
  }
}

/** Strict/Warn/Ignore handling of fields the schema does not know; unknown fields are never stored. */
function checkFields(info: ResourceInfo, obj: any, mode: 'Strict' | 'Warn' | 'Ignore', warnings: string[], duplicates: string[] = []): any {
  if (mode === 'Ignore') return dropUnknownFields(info.group, info.version, info.kind, obj);
  const unknown = findUnknownFields(info.group, info.version, info.kind, obj);
  if (!unknown.length && !duplicates.length) return obj;
  const problems = [...duplicates.map((f) => `duplicate field "${f}"`), ...unknown.map((f: string) => `unknown field "${f}"`)];
  if (mode === 'Strict') {
    throw badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: strict decoding error: ${problems.join(', ')}`);
  }
  warnings.push(...problems);
  return unknown.length ? dropUnknownFields(info.group, info.version, info.kind, obj) : obj;
}

/** Duplicate keys in a JSON body (JSON.parse keeps the last one silently). */
function duplicatesOf(buf: Buffer, contentType: string | undefined): string[] {
  const t = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  return t === 'application/json' ? findDuplicateKeys(buf.toString('utf8')) : [];
}

function patchTypeOf(contentType: string | undefined): PatchType {
  const t = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (t === 'application/json-patch+json') return 'json';
  if (t === 'application/merge-patch+json') return 'merge';
  if (t === 'application/strategic-merge-patch+json') return 'strategic';
  throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
}

async function serveResource(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, r: ResourceRequest, q: Query, user: UserInfo): Promise<void> {
  const reg = ctx.registry;
  const { info } = r;
  const method = req.method ?? 'GET';
  const form = negotiateForm(req.headers.accept);
  if (form === 'unacceptable') throw new StatusError(406, 'NotAcceptable', `only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io`);
  if (info.namespaced && r.namespace === undefined && r.name !== undefined) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  if (!info.namespaced && r.namespace !== undefined) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  if (r.subresource && !info.subresources.includes(r.subresource)) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  const ns = r.namespace;
  const warnings: string[] = [];
  const render = (obj: any) => (form === 'table' ? toTable(info, [obj], { includeObject: q.get('includeObject') ?? undefined }) : form === 'metadata' ? partialObjectMetadata(obj) : obj);

  if (info.virtual) {
    if (method !== 'POST' || r.name) throw methodNotAllowed();
    const review = ctx.reviews.get(info.key);
    if (!review) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    const body = decodeBody(await readBody(req), req.headers['content-type']) as any;
    checkTypeMeta(body, info);
    const answer = await review(body, { user, namespace: ns });
    send(res, 201, { apiVersion: info.apiVersion, kind: info.kind, ...answer });
    return;
  }
  if (r.subresource === 'scale') return serveScale(ctx, req, res, r, q);
  if (r.subresource === 'binding') {
    if (method !== 'POST') throw methodNotAllowed();
    const binding = decodeBody(await readBody(req), req.headers['content-type']) as any;
    checkTypeMeta(binding, info, 'Binding', 'v1');
    const target = binding.target;
    if (!target?.name) throw badRequest('Binding target must name a node');
    if (binding.metadata?.name && binding.metadata.name !== r.name) throw badRequest(`the name of the object (${binding.metadata.name}) does not match the name on the URL (${r.name})`);
    await reg.mutate(info, ns, r.name!, (pod) => {
      if (pod.spec.nodeName) throw new StatusError(409, 'Conflict', `pod ${r.name} is already assigned to node "${pod.spec.nodeName}"`, { name: r.name, kind: 'pods' });
      if (pod.metadata.deletionTimestamp) throw new StatusError(409, 'Conflict', `pod ${r.name} is being deleted, cannot be assigned to a host`, { name: r.name, kind: 'pods' });
      if (binding.metadata?.uid && binding.metadata.uid !== pod.metadata.uid) {
        throw new StatusError(409, 'Conflict', `Precondition failed: UID in precondition: ${binding.metadata.uid}, UID in object meta: ${pod.metadata.uid}`);
      }
      pod.spec.nodeName = target.name;
      pod.metadata.annotations = { ...pod.metadata.annotations, ...binding.metadata?.annotations };
      const conds: any[] = (pod.status.conditions ??= []);
      const c = conds.find((x) => x.type === 'PodScheduled');
      const cond = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowRFC3339() };
      if (c) Object.assign(c, cond);
      else conds.push(cond);
      return pod;
    });
    send(res, 201, success());
    return;
  }

  if (r.subresource === 'token') {
    if (method !== 'POST') throw methodNotAllowed();
    if (!ctx.serviceAccounts) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    const body = decodeBody(await readBody(req), req.headers['content-type']) as any;
    checkTypeMeta(body, info, 'TokenRequest', 'authentication.k8s.io/v1');
    send(res, 201, await ctx.serviceAccounts.createToken(reg, ns!, r.name!, body));
    return;
  }
  if (r.subresource === 'log') {
    if (method !== 'GET') throw methodNotAllowed();
    const pod = reg.output(info, await reg.get(info, ns, r.name!));
    const node = pod.spec?.nodeName ? await nodeOf(reg, pod.spec.nodeName) : undefined;
    if (!ctx.kubeletClient) throw new StatusError(503, 'ServiceUnavailable', 'this API server has no kubelet client credentials');
    proxyPodLog(req, res, pod, node, ctx.kubeletClient);
    return;
  }
  if (r.subresource === 'exec') {
    throw new StatusError(400, 'BadRequest', 'exec needs a WebSocket upgrade (v5.channel.k8s.io)');
  }
  if (r.subresource === 'eviction') {
    if (method !== 'POST') throw methodNotAllowed();
    const ev = decodeBody(await readBody(req), req.headers['content-type']) as any;
    checkTypeMeta(ev, info, 'Eviction', 'policy/v1');
    if (ev.metadata?.name && ev.metadata.name !== r.name) throw badRequest(`name in URL does not match name in Eviction object`);
    await evictPod(reg, info, ns!, r.name!, ev.deleteOptions ?? {}, dryRunParam(q));
    send(res, 201, success());
    return;
  }

  const subresource = r.subresource;
  switch (method) {
    case 'GET': {
      const watch = r.legacyWatch || boolParam(q, 'watch') === true;
      if (watch) {
        const opts = listOptions(q);
        let fieldSelector = opts.fieldSelector;
        if (r.name) fieldSelector = [`metadata.name=${r.name}`, fieldSelector].filter(Boolean).join(',');
        const filter = reg.compileFilter(info, ns, { labelSelector: opts.labelSelector, fieldSelector });
        const wantForm = form === 'table' ? 'table' : form === 'metadata' ? 'metadata' : 'object';
        await serveWatch(req, res, reg, info, filter, {
          resourceVersion: opts.resourceVersion,
          allowWatchBookmarks: boolParam(q, 'allowWatchBookmarks') === true,
          sendInitialEvents: boolParam(q, 'sendInitialEvents'),
          timeoutSeconds: intParam(q, 'timeoutSeconds'),
          form: wantForm,
          includeObject: q.get('includeObject') ?? undefined,
        });
        return;
      }
      if (r.name) {
        const c = await reg.get(info, ns, r.name, q.get('resourceVersion') ?? undefined);
        if (form === 'object') send(res, 200, reg.outputRaw(info, c));
        else send(res, 200, render(reg.output(info, c)));
        return;
      }
      const result = await reg.list(info, ns, listOptions(q));
      if (form === 'table') {
        send(res, 200, toTable(info, result.items.map((c) => reg.output(info, c)), { includeObject: q.get('includeObject') ?? undefined, resourceVersion: result.resourceVersion, continue: result.continue }));
        return;
      }
      const listMeta: any = { resourceVersion: result.resourceVersion };
      if (result.continue) listMeta.continue = result.continue;
      if (form === 'metadata') {
        send(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, items: result.items.map((c) => partialObjectMetadata(c.obj)) });
        return;
      }
      // Lists are assembled from the cached JSON of each item: no per-request serialisation of objects.
      const head = `{"kind":"${info.kind}List","apiVersion":"${info.apiVersion}","metadata":${JSON.stringify(listMeta)},"items":[`;
      send(res, 200, head + result.items.map((c) => reg.outputRaw(info, c)).join(',') + ']}');
      return;
    }
    case 'POST': {
      if (r.name) throw methodNotAllowed();
      if (info.namespaced && ns === undefined) throw methodNotAllowed();
      const buf = await readBody(req);
      const body = decodeBody(buf, req.headers['content-type']) as any;
      checkTypeMeta(body, info);
      const obj = checkFields(info, body, fieldValidationParam(q), warnings, duplicatesOf(buf, req.headers['content-type']));
      const created = await reg.create(info, ns, obj, { dryRun: dryRunParam(q), warnings, user });
      send(res, 201, render(created), JSON_TYPE, warnings);
      return;
    }
    case 'PUT': {
      if (!r.name) throw methodNotAllowed();
      const buf = await readBody(req);
      const body = decodeBody(buf, req.headers['content-type']) as any;
      checkTypeMeta(body, info);
      const obj = checkFields(info, body, fieldValidationParam(q), warnings, duplicatesOf(buf, req.headers['content-type']));
      const updated = await reg.update(info, ns, r.name, obj, { dryRun: dryRunParam(q), subresource, warnings, user });
      send(res, 200, render(updated), JSON_TYPE, warnings);
      return;
    }
    case 'PATCH': {
      if (!r.name) throw methodNotAllowed();
      const type = patchTypeOf(req.headers['content-type']);
      const patch = decodeBody(await readBody(req), 'application/json', 'the patch');
      if (type === 'json' ? !Array.isArray(patch) : patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
        throw badRequest(type === 'json' ? 'json patch must be an array of operations' : 'the patch must be a JSON object');
      }
      const mode = fieldValidationParam(q);
      const updated = await reg.patch(info, ns, r.name, type, patch, {
        dryRun: dryRunParam(q),
        subresource,
        warnings,
        user,
        check: (obj: any) => checkFields(info, obj, mode, warnings),
      });
      send(res, 200, render(updated), JSON_TYPE, warnings);
      return;
    }
    case 'DELETE': {
      if (subresource) throw methodNotAllowed();
      const opts = { ...(await deleteOptions(req, q)), user };
      if (!r.name) {
        const items = await reg.deleteCollection(info, ns, listOptions(q), opts);
        send(res, 200, { kind: `${info.kind}List`, apiVersion: info.apiVersion, metadata: {}, items });
        return;
      }
      const { obj, deleted } = await reg.delete(info, ns, r.name, opts);
      if (!deleted || info.key === 'pods') send(res, deleted ? 200 : 202, render(obj));
      else send(res, 200, success({ name: r.name, group: info.group, kind: info.resource, uid: obj.metadata?.uid }));
      return;
    }
    default:
      throw methodNotAllowed();
  }
}

async function deleteOptions(req: IncomingMessage, q: Query): Promise<DeleteOptions> {
  const buf = await readBody(req);
  let body: any = {};
  if (buf.length && buf.toString('utf8').trim()) body = decodeBody(buf, req.headers['content-type'] ?? JSON_TYPE, 'the DeleteOptions');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('DeleteOptions must be an object');
  const grace = intParam(q, 'gracePeriodSeconds') ?? body.gracePeriodSeconds;
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace))) throw badRequest('gracePeriodSeconds must be an integer');
  const policy = q.get('propagationPolicy') ?? body.propagationPolicy;
  if (policy !== undefined && policy !== null && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
    throw new StatusError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`);
  }
  const dryRun = dryRunParam(q) || (Array.isArray(body.dryRun) && body.dryRun.includes('All'));
  return {
    gracePeriodSeconds: grace === undefined ? undefined : Math.max(0, grace),
    propagationPolicy: policy ?? undefined,
    orphanDependents: boolParam(q, 'orphanDependents') ?? body.orphanDependents,
    preconditions: body.preconditions,
    dryRun,
  };
}

/** autoscaling/v1 Scale for deployments, replicasets and statefulsets. */
async function serveScale(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, r: ResourceRequest, q: Query): Promise<void> {
  const reg = ctx.registry;
  const { info } = r;
  const toScale = (o: any) => ({
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, selector: selectorString(o.spec?.selector) },
  });
  if (req.method === 'GET') {
    const c = await reg.get(info, r.namespace, r.name!);
    send(res, 200, toScale(reg.output(info, c)));
    return;
  }
  if (req.method !== 'PUT' && req.method !== 'PATCH') throw methodNotAllowed();
  const type = req.method === 'PATCH' ? patchTypeOf(req.headers['content-type']) : undefined;
  const body = decodeBody(await readBody(req), type ? 'application/json' : req.headers['content-type']) as any;
  const updated = await reg.mutate(info, r.namespace, r.name!, (obj) => {
    const cur = toScale(obj);
    let next: any;
    if (type === 'json') next = applyJsonPatch(cur, body);
    else if (type) next = applyMergePatch(cur, body);
    else {
      checkTypeMeta(body, info, 'Scale', 'autoscaling/v1');
      if (body.metadata?.resourceVersion && body.metadata.resourceVersion !== obj.metadata.resourceVersion) {
        throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${info.resource}.${info.group} "${r.name}": the object has been modified; please apply your changes to the latest version and try again`);
      }
      next = body;
    }
    const replicas = next?.spec?.replicas;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new StatusError(422, 'Invalid', `Scale.autoscaling "${r.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, {
        name: r.name,
        group: 'autoscaling',
        kind: 'Scale',
        causes: [{ reason: 'FieldValueInvalid', message: 'must be greater than or equal to 0', field: 'spec.replicas' }],
      });
    }
    obj.spec.replicas = replicas;
    return obj;
  });
  void q;
  send(res, 200, toScale(updated));
}

function selectorString(sel: any): string {
  if (!sel) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${e.values.join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${e.values.join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

export { notFound };

async function nodeOf(reg: Registry, name: string): Promise<any | undefined> {
  try {
    const nodes = findResource('', 'v1', 'nodes')!;
    return reg.output(nodes, await reg.get(nodes, undefined, name));
  } catch {
    return undefined;
  }
}

/**
 * WebSocket upgrades: `pods/NAME/exec` (and attach) go to the pod's kubelet after the same
 * authentication and authorization as any request (upstream checks `create` on pods/exec).
 */
export function createUpgradeHandler(ctx: HandlerContext) {
  return async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const fail = (e: StatusError) => {
      const body = JSON.stringify(e.toStatus());
      socket.end(`HTTP/1.1 ${e.code} ${e.reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    };
    try {
      const url = new URL(req.url ?? '/', 'https://skiff');
      const path = url.pathname.replace(/\/+$/, '');
      let user: UserInfo;
      try {
        user = await authenticate(ctx.authenticators, req);
      } catch {
        throw new StatusError(401, 'Unauthorized', 'Unauthorized');
      }
      const parsed = parseResourcePath(path);
      if (parsed.type !== 'resource' || parsed.req.info.key !== 'pods' || parsed.req.subresource !== 'exec' || !parsed.req.name) {
        throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      }
      const attrs = { ...requestAttributes('POST', path, parsed, url.searchParams, user), verb: 'create' };
      const decision = await authorize(ctx.authorizers, attrs);
      if (decision.decision !== 'allow') throw new StatusError(403, 'Forbidden', forbiddenMessage(attrs, decision.reason), { name: attrs.name, kind: 'pods' });
      if (!ctx.kubeletClient) throw new StatusError(503, 'ServiceUnavailable', 'this API server has no kubelet client credentials');
      const r = parsed.req;
      const pod = ctx.registry.output(r.info, await ctx.registry.get(r.info, r.namespace, r.name!));
      const node = pod.spec?.nodeName ? await nodeOf(ctx.registry, pod.spec.nodeName) : undefined;
      proxyPodExec(req, socket, head, pod, node, ctx.kubeletClient);
    } catch (err) {
      fail(err instanceof StatusError ? err : internalError(err));
    }
  };
}
