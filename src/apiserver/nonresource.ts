import type { IncomingMessage, ServerResponse } from 'node:http';
import { allResources, groupVersions, resourcesGeneration, subresourceInfo } from './resources.js';
import { StatusError } from './status.js';
import { aggregatedDiscovery, apiGroupDoc, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.js';
import { openapiV3Index, openapiV3Serialized, type ResourceSpec } from './openapi/v3.js';
import { OPENAPI_V2_PROTOBUF_RESPONSE, openapiV2Json, openapiV2Protobuf, wantsOpenapiV2Protobuf, type CustomKind } from './openapi/v2.js';
import { send, JSON_TYPE } from './respond.js';
import { answerHealth, healthChecks, type HealthEndpoint } from './health.js';
import type { HandlerContext } from './handler.js';
import { metricsOf } from './metrics/index.js';
import { isMetricsApiPath, metricsApiGroup, metricsApiGroupEntry, serveMetricsApi } from './metrics/api.js';
import { PROMETHEUS_CONTENT_TYPE } from '../util/prometheus.js';
import { authorize, forbiddenMessage } from './auth/chain.js';
import type { UserInfo } from './auth/types.js';

/** Health, version, discovery, OpenAPI and issuer documents: everything that is not a resource. */
export async function serveNonResource(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, path: string, user: UserInfo): Promise<boolean> {
  const accept = req.headers.accept ?? '';
  switch (path) {
    case '/version':
      send(res, 200, SERVER_VERSION);
      return true;
    case '/api':
    case '/apis': {
      const which = path === '/api' ? 'api' : 'apis';
      const agg = preferredDiscovery(accept);
      // The metrics API is served here, not from the resource registry: its group is added to /apis.
      const metrics = which === 'apis' && metricsOf(ctx.registry) !== undefined;
      if (agg) {
        const doc = aggregatedDiscovery(which, agg);
        send(res, 200, metrics ? { ...doc, items: [...doc.items, metricsApiGroup()] } : doc, `application/json;g=apidiscovery.k8s.io;v=${agg};as=APIGroupDiscoveryList`);
      } else if (which === 'api') send(res, 200, apiVersions(ctx.serverAddress));
      else {
        const doc = apiGroupList();
        send(res, 200, metrics ? { ...doc, groups: [...doc.groups, metricsApiGroupEntry()] } : doc);
      }
      return true;
    }
    case '/metrics': {
      const m = metricsOf(ctx.registry);
      if (!m) return false;
      send(res, 200, await m.metrics(), PROMETHEUS_CONTENT_TYPE);
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
    case '/openapi/v2': {
      // kubectl's client-side validation (always used for `kind: List`) reads the protobuf form
      const custom = customKinds();
      const pb = wantsOpenapiV2Protobuf(accept);
      const out = pb ? openapiV2Protobuf(custom) : openapiV2Json(custom);
      const headers = { ETag: out.etag, Vary: 'Accept', 'Cache-Control': 'no-cache, private' };
      if (req.headers['if-none-match'] === out.etag) {
        res.writeHead(304, headers);
        res.end();
        return true;
      }
      res.writeHead(200, { ...headers, 'Content-Type': pb ? OPENAPI_V2_PROTOBUF_RESPONSE : JSON_TYPE });
      res.end(out.body);
      return true;
    }
  }
  const health = /^\/(livez|readyz|healthz)(?:\/(.+))?$/.exec(path);
  if (health) {
    const endpoint = health[1] as HealthEndpoint;
    const checks = healthChecks(endpoint, { storage: () => ctx.registry.backend.currentRevision(), ready: () => ctx.ready(), shuttingDown: () => ctx.stopping?.() ?? false });
    const answer = await answerHealth(endpoint, checks, health[2], new URL(req.url ?? '/', 'https://skiff').searchParams);
    if (!answer) return false;
    res.writeHead(answer.code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end(answer.body);
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
  if (isMetricsApiPath(path)) {
    const metrics = metricsOf(ctx.registry);
    // Reads are authorized as resource requests (get/list metrics.k8s.io pods|nodes), as upstream;
    // the handler checked only the path, which discovery rules (/apis/*) would let anyone read.
    const check = async (a: { verb: string; resource: string; namespace?: string; name?: string }) => {
      const attrs = { user, verb: a.verb, resourceRequest: true, path, namespace: a.namespace, apiGroup: 'metrics.k8s.io', apiVersion: 'v1beta1', resource: a.resource, name: a.name };
      const d = await authorize(ctx.authorizers, attrs);
      if (d.decision !== 'allow') throw new StatusError(403, 'Forbidden', forbiddenMessage(attrs, d.reason), { name: a.name, group: 'metrics.k8s.io', kind: a.resource });
    };
    if (metrics && (await serveMetricsApi(ctx.registry, metrics.scraper, req, res, path, check))) return true;
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
let specGeneration = 0;

let customKindsCache: { generation: number; kinds: CustomKind[] } | undefined;

/** The served custom kinds for /openapi/v2, one array per resources generation (its cache's key). */
function customKinds(): CustomKind[] {
  if (customKindsCache?.generation !== resourcesGeneration()) {
    const kinds = allResources().filter((r) => r.custom).map((r) => ({ group: r.group, version: r.version, kind: r.kind, schema: r.custom?.schema }));
    customKindsCache = { generation: resourcesGeneration(), kinds };
  }
  return customKindsCache.kinds;
}

function resourceSpecs(gvPath: string): ResourceSpec[] | undefined {
  if (specGeneration !== resourcesGeneration()) {
    specCache.clear();
    specGeneration = resourcesGeneration();
  }
  if (!specCache.has(gvPath)) specCache.set(gvPath, buildResourceSpecs(gvPath));
  return specCache.get(gvPath);
}

function buildResourceSpecs(gvPath: string): ResourceSpec[] | undefined {
  const gv = groupVersions().find((g) => (g.group ? `apis/${g.group}/${g.version}` : `api/${g.version}`) === gvPath);
  if (!gv) return undefined;
  return allResources().filter((r) => r.group === gv.group && r.version === gv.version).map((r) => ({
    schema: r.custom?.schema,
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
