import type { IncomingMessage, ServerResponse } from 'node:http';
import { URL } from 'node:url';
import { Readable } from 'node:stream';
import type { Registry } from './registry.js';
import { patchStatus, writtenJsonOf } from './registry.js';
import { PatchError } from './patch/strategic.js';
import { parseResourcePath, requestVerb, type ResourceRequest } from './request.js';
import { StatusError, badRequest, internalError, methodNotAllowed, success } from './status.js';
import { readBody, decodeBody } from './body.js';
import { negotiateForm, partialObjectMetadata, toTable } from './table.js';
import { serveWatch } from './watch.js';
import type { ServiceAccountTokens } from './auth/tokens/serviceaccount.js';
import type { KubeletClientTLS } from '../kubelet/apiproxy.js';
import type { Attributes, Authenticator, Authorizer, UserInfo } from './auth/types.js';
import { authenticate, authorize, forbiddenMessage, impersonate } from './auth/chain.js';
import { send, sendStatusError, JSON_TYPE } from './respond.js';
import { boolParam, intParam, dryRunParam, fieldManagerParam, fieldValidationParam, listOptions, deleteOptions, type Query } from './params.js';
import { checkTypeMeta, checkFields, duplicatesOf, mergePatchMayAddUnknown, patchTypeOf } from './input.js';
import { serveNonResource } from './nonresource.js';
import { serveSubresource, serveNodeProxy } from './subresources.js';
import { serveWorkloadProxy } from './proxy.js';
import { strategyFor } from './strategy.js';
import { COMPONENT_STATUS_WARNING, getComponentStatuses } from './componentstatus.js';
import { aggregatedAPI, aggregatedAttributes, hasAggregatedAPIs, aggregatorOf, forwardToAPIService, resolveBackend, serviceUnavailable, type AggregatedAPI } from './aggregator/index.js';
import { findByKey, groupVersions } from './resources.js';
import { METRICS_GROUP, METRICS_VERSION } from './metrics/api.js';

export { groupVersionPaths } from './nonresource.js';
export { createUpgradeHandler } from './subresources.js';

/** Answers a create on a virtual resource (SubjectAccessReview, TokenReview, …). */
export type ReviewHandler = (body: any, ctx: { user: UserInfo; namespace?: string }) => Promise<any> | any;

export interface HandlerContext {
  registry: Registry;
  /** True once every component the API needs is up (it stays so while the server stops). */
  ready(): boolean;
  /** The server is stopping (readyz's `shutdown` check fails). */
  stopping?(): boolean;
  serverAddress: string;
  authenticators: Authenticator[];
  authorizers: Authorizer[];
  reviews: Map<string, ReviewHandler>;
  /** ServiceAccount tokens: TokenRequest and the issuer discovery documents. */
  serviceAccounts?: ServiceAccountTokens;
  /** Credentials the API server presents to kubelets (logs, exec). */
  kubeletClient?: KubeletClientTLS;
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
      user = await impersonate(ctx.authorizers, req, user);
      const route = aggregatedRoute(path);
      if (route) return await serveAggregated(ctx, req, res, route, url, path, user);
      // The unstripped path: a proxy subresource keeps its trailing slash.
      const parsed = parseResourcePath(url.pathname);
      const attrs = requestAttributes(req.method ?? 'GET', path, parsed, url.searchParams, user);
      const decision = await authorize(ctx.authorizers, attrs);
      if (decision.decision !== 'allow') {
        throw new StatusError(403, 'Forbidden', forbiddenMessage(attrs, decision.reason), attrs.resourceRequest ? { name: attrs.name, group: attrs.apiGroup, kind: attrs.resource } : undefined);
      }
      if (await serveNonResource(ctx, req, res, path, user)) return;
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

/**
 * Where /apis/<group>/<version>… goes when a service-backed APIService claims that group/version:
 * to its server while it is Available. While it is not, a group/version this server serves itself
 * (the built-in metrics API replaced by metrics-server's) stays served here, so `kubectl top` keeps
 * working; any other answers 503, as upstream's aggregator does.
 */
export function aggregatedRoute(path: string): { api: AggregatedAPI; available: boolean } | undefined {
  if (!hasAggregatedAPIs()) return undefined;
  const m = /^\/apis\/([^/]+)\/([^/]+)(?:\/|$)/.exec(path);
  if (!m) return undefined;
  const api = aggregatedAPI(m[1]!, m[2]!);
  if (!api) return undefined;
  if (api.available) return { api, available: true };
  const local = (m[1] === METRICS_GROUP && m[2] === METRICS_VERSION) || groupVersions().some((gv) => gv.group === m[1] && gv.version === m[2]);
  return local ? undefined : { api, available: false };
}

async function serveAggregated(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, route: { api: AggregatedAPI; available: boolean }, url: URL, path: string, user: UserInfo): Promise<void> {
  // The server behind reads the decoded path split on '/': an encoded slash or an empty segment
  // would make it see another request than the one authorized here. Refused, never reinterpreted.
  if (/%2f|%00/i.test(url.pathname) || url.pathname.slice(1).replace(/\/+$/, '').includes('//')) {
    throw badRequest(`the path ${JSON.stringify(url.pathname)} may not contain encoded slashes or empty segments`);
  }
  // Authorized here, as kube-apiserver does before proxying: the URL alone says what is asked.
  const attrs = aggregatedAttributes(req.method ?? 'GET', path, url.searchParams, user);
  const decision = await authorize(ctx.authorizers, attrs);
  if (decision.decision !== 'allow') {
    throw new StatusError(403, 'Forbidden', forbiddenMessage(attrs, decision.reason), attrs.resourceRequest ? { name: attrs.name, group: attrs.apiGroup, kind: attrs.resource } : undefined);
  }
  if (!route.available) throw serviceUnavailable();
  const { api } = route;
  const backend = await resolveBackend(ctx.registry, api.service);
  // The server gets the URL that was authorized (dot segments resolved), not the raw one.
  const ctrl = aggregatorOf(ctx.registry);
  forwardToAPIService(req, res, api, backend, user, { path: url.pathname + url.search, clientCert: ctrl?.proxyClient, onUnreachable: () => ctrl?.recheck(api.name) });
}

/** The authorizer's view of a request, with upstream's verb mapping. */
export function requestAttributes(method: string, path: string, parsed: ReturnType<typeof parseResourcePath>, q: Query, user: UserInfo): Attributes {
  if (parsed.type !== 'resource') return { user, verb: method.toLowerCase(), resourceRequest: false, path };
  const r = parsed.req;
  const watchParam = q.get('watch') === 'true' || q.get('watch') === '1';
  // A proxied GET is a get, whatever its query says.
  const verb = r.subresource === 'proxy' && (method === 'GET' || method === 'HEAD') ? 'get' : requestVerb(method, { named: !!r.name, watch: !!r.legacyWatch || watchParam });
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

async function serveResource(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, r: ResourceRequest, q: Query, user: UserInfo): Promise<void> {
  const reg = ctx.registry;
  const { info } = r;
  const method = req.method ?? 'GET';
  // The kubelet, not this server, answers a node proxy request: whatever it accepts or returns.
  if (r.subresource === 'proxy' && info.key === 'nodes' && r.name) return serveNodeProxy(ctx, req, res, r);
  // A pod or a service endpoint answers, likewise.
  if (r.subresource === 'proxy' && (info.key === 'pods' || info.key === 'services') && r.name && r.namespace !== undefined) return serveWorkloadProxy(ctx, req, res, r);
  const form = negotiateForm(req.headers.accept);
  if (form === 'unacceptable') throw new StatusError(406, 'NotAcceptable', `only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io`);
  if (info.namespaced && r.namespace === undefined && r.name !== undefined) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  if (!info.namespaced && r.namespace !== undefined) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  if (r.subresource && !info.subresources.includes(r.subresource)) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  const ns = r.namespace;
  const warnings: string[] = [];
  // A write's result goes out as the JSON the watch cache holds for it, when the registry has it.
  const render = (obj: any) => (form === 'table' ? toTable(info, [obj], { includeObject: q.get('includeObject') ?? undefined }) : form === 'metadata' ? partialObjectMetadata(obj) : (writtenJsonOf(obj) ?? obj));

  if (info.key === 'componentstatuses') {
    if ((method !== 'GET' && method !== 'HEAD') || r.legacyWatch || boolParam(q, 'watch') === true) throw methodNotAllowed();
    const got = await getComponentStatuses(reg, r.name);
    const one = r.name !== undefined;
    const items = one ? [got] : got.items;
    let body = got;
    if (form === 'table') body = toTable(info, items, { includeObject: q.get('includeObject') ?? undefined });
    else if (form === 'metadata') body = one ? partialObjectMetadata(got) : { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: {}, items: items.map(partialObjectMetadata) };
    send(res, 200, body, undefined, [COMPONENT_STATUS_WARNING]);
    return;
  }
  if (info.virtual) {
    if (method !== 'POST' || r.name) throw methodNotAllowed();
    if (info.key === 'bindings') return serveLegacyBinding(ctx, req, res, r, q, user);
    const review = ctx.reviews.get(info.key);
    if (!review) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    const body = decodeBody(await readBody(req), req.headers['content-type']) as any;
    checkTypeMeta(body, info);
    const answer = await review(body, { user, namespace: ns });
    send(res, 201, { apiVersion: info.apiVersion, kind: info.kind, ...answer });
    return;
  }
  // status, and the subresources whose strategy builds the next object, are updates of the object itself.
  if (r.subresource && r.subresource !== 'status' && !strategyFor(info).subresourceUpdates?.[r.subresource]) {
    await serveSubresource(ctx, req, res, r, q, user);
    return;
  }

  const subresource = r.subresource;
  switch (method) {
    case 'GET': {
      const watch = r.legacyWatch || boolParam(q, 'watch') === true;
      if (watch) {
        const opts = listOptions(q, true);
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
        send(res, 200, toTable(info, result.items.map((c) => reg.output(info, c)), { includeObject: q.get('includeObject') ?? undefined, resourceVersion: result.resourceVersion, continue: result.continue, remainingItemCount: result.remainingItemCount }));
        return;
      }
      const listMeta: any = { resourceVersion: result.resourceVersion };
      if (result.continue) listMeta.continue = result.continue;
      if (result.remainingItemCount !== undefined) listMeta.remainingItemCount = result.remainingItemCount;
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
      const obj = checkFields(info, body, fieldValidationParam(q), warnings, () => duplicatesOf(buf, req.headers['content-type']));
      const created = await reg.create(info, ns, obj, { dryRun: dryRunParam(q), warnings, user, fieldManager: fieldManagerParam(q, req.headers['user-agent']), forResponse: true });
      send(res, 201, render(created), JSON_TYPE, warnings);
      return;
    }
    case 'PUT': {
      if (!r.name) throw methodNotAllowed();
      const buf = await readBody(req);
      const body = decodeBody(buf, req.headers['content-type']) as any;
      checkTypeMeta(body, info);
      const obj = checkFields(info, body, fieldValidationParam(q), warnings, () => duplicatesOf(buf, req.headers['content-type']));
      const updated = await reg.update(info, ns, r.name, obj, { dryRun: dryRunParam(q), subresource, warnings, user, fieldManager: fieldManagerParam(q, req.headers['user-agent']), forResponse: true });
      send(res, 200, render(updated), JSON_TYPE, warnings);
      return;
    }
    case 'PATCH': {
      if (!r.name) throw methodNotAllowed();
      const type = patchTypeOf(req.headers['content-type']);
      if (type === 'apply') {
        // Server-side apply: the body is the manager's whole intent for the fields it sets.
        const manager = q.get('fieldManager');
        if (!manager) throw badRequest('PATCH with an apply patch requires fieldManager (e.g. ?fieldManager=my-controller)');
        fieldManagerParam(q, undefined);
        const buf = await readBody(req);
        const body = decodeBody(buf, req.headers['content-type'], 'the apply patch') as any;
        if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the apply patch must be an object');
        checkTypeMeta(body, info);
        const cfg = checkFields(info, body, fieldValidationParam(q), warnings, () => duplicatesOf(buf, 'application/json'));
        if (cfg.metadata?.name !== undefined && cfg.metadata.name !== r.name) throw badRequest(`the name of the object (${cfg.metadata.name}) does not match the name on the URL (${r.name})`);
        const opts = { dryRun: dryRunParam(q), subresource, warnings, user, fieldManager: manager, apply: { force: boolParam(q, 'force') ?? false }, forResponse: true };
        try {
          send(res, 200, render(await reg.patch(info, ns, r.name, 'apply', cfg, opts)), JSON_TYPE, warnings);
        } catch (e) {
          // Applying to an object that does not exist creates it.
          if (!(e instanceof StatusError && e.code === 404) || subresource) throw e;
          const created = await reg.create(info, ns, { ...cfg, metadata: { ...cfg.metadata, name: r.name } }, opts);
          send(res, 201, render(created), JSON_TYPE, warnings);
        }
        return;
      }
      if (type === 'strategic' && info.custom) {
        throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
      }
      if (q.has('force')) throw badRequest('force flag must only be set for apply patches');
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
        check: type === 'merge' && !mergePatchMayAddUnknown(info, patch) ? undefined : (obj: any) => checkFields(info, obj, mode, warnings),
        fieldManager: fieldManagerParam(q, req.headers['user-agent']),
        forResponse: true,
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

/**
 * POST namespaces/NS/bindings, the older form of pods/NAME/binding that custom schedulers still use
 * (client libraries' createNamespacedBinding): the pod is the Binding's metadata.name, and the
 * request is then served as that pod's binding subresource, as upstream's LegacyBindingREST.
 */
async function serveLegacyBinding(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, r: ResourceRequest, q: Query, user: UserInfo): Promise<void> {
  const buf = await readBody(req);
  const binding = decodeBody(buf, req.headers['content-type']) as any;
  checkTypeMeta(binding, r.info);
  const name = binding.metadata?.name;
  if (!name) throw badRequest('Name parameter required.');
  if (binding.metadata.namespace && binding.metadata.namespace !== r.namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  const pods = findByKey('pods')!;
  // The subresource handler reads the body itself: it is given the bytes already read.
  const replay = Object.assign(Readable.from([buf]), { headers: req.headers, method: 'POST', url: req.url }) as unknown as IncomingMessage;
  await serveSubresource(ctx, replay, res, { ...r, info: pods, name, subresource: 'binding' }, q, user);
}
