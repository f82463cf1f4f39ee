import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { URL } from 'node:url';
import type { Registry } from './registry.js';
import { nowRFC3339 } from './registry.js';
import { parseResourcePath, type ResourceRequest } from './request.js';
import { findResource } from './resources.js';
import { StatusError, badRequest, internalError, methodNotAllowed, success } from './status.js';
import { readBody, decodeBody } from './body.js';
import { evictPod } from './eviction.js';
import { proxyPodLog, proxyPodExec, proxyNode, kubeletAddress, type KubeletClientTLS } from '../kubelet/apiproxy.js';
import { applyJsonPatch } from './patch/json.js';
import { applyMergePatch } from './patch/merge.js';
import type { UserInfo } from './auth/types.js';
import { authenticate, authorize, forbiddenMessage, impersonate } from './auth/chain.js';
import { send } from './respond.js';
import { dryRunParam, fieldManagerParam, type Query } from './params.js';
import { checkTypeMeta, patchTypeOf } from './input.js';
import { requestAttributes, type HandlerContext } from './handler.js';
import { jsonPathValue } from './crd/custom.js';
import { serveEphemeralContainers, EPHEMERAL_SUBRESOURCE } from './ephemeral.js';
import { nodeOf, splitNodeNamePort, tunnel, tunnelWorkloadProxy } from './proxy.js';

/**
 * Subresources other than status: pods/binding, pods/eviction, pods/ephemeralcontainers,
 * pods/log (proxied to the kubelet), serviceaccounts/token, and scale.
 */
export async function serveSubresource(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, r: ResourceRequest, q: Query, user?: UserInfo): Promise<void> {
  const reg = ctx.registry;
  const { info } = r;
  const method = req.method ?? 'GET';
  const ns = r.namespace;
  if (r.subresource === 'scale') return serveScale(ctx, req, res, r);
  if (r.subresource === EPHEMERAL_SUBRESOURCE && info.key === 'pods') return serveEphemeralContainers(ctx, req, res, r, q, user);
  if (r.subresource === 'binding') {
    if (method !== 'POST') throw methodNotAllowed();
    const binding = decodeBody(await readBody(req), req.headers['content-type']) as any;
    checkTypeMeta(binding, info, 'Binding', 'v1');
    const target = binding.target;
    if (!target?.name) throw badRequest('Binding target must name a node');
    if (binding.metadata?.name && binding.metadata.name !== r.name) throw badRequest(`the name of the object (${binding.metadata.name}) does not match the name on the URL (${r.name})`);
    // The cached pod is shared: copy only what the binding changes.
    await reg.mutateShared(info, ns, r.name!, (pod) => {
      if (pod.spec.nodeName) throw new StatusError(409, 'Conflict', `pod ${r.name} is already assigned to node "${pod.spec.nodeName}"`, { name: r.name, kind: 'pods' });
      if (pod.metadata.deletionTimestamp) throw new StatusError(409, 'Conflict', `pod ${r.name} is being deleted, cannot be assigned to a host`, { name: r.name, kind: 'pods' });
      if (binding.metadata?.uid && binding.metadata.uid !== pod.metadata.uid) {
        throw new StatusError(409, 'Conflict', `Precondition failed: UID in precondition: ${binding.metadata.uid}, UID in object meta: ${pod.metadata.uid}`);
      }
      const cond = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowRFC3339() };
      const conds: any[] = pod.status?.conditions ?? [];
      const i = conds.findIndex((x) => x.type === 'PodScheduled');
      const annotations = binding.metadata?.annotations;
      return {
        ...pod,
        metadata: annotations && Object.keys(annotations).length ? { ...pod.metadata, annotations: { ...pod.metadata.annotations, ...annotations } } : pod.metadata,
        spec: { ...pod.spec, nodeName: target.name },
        // The condition is replaced whole, as upstream's UpdatePodCondition: no Unschedulable reason or message left behind.
        status: { ...pod.status, conditions: i < 0 ? [...conds, cond] : conds.map((c, j) => (j === i ? cond : c)) },
      };
    }, { forResponse: true });
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
  if (r.subresource === 'exec' || r.subresource === 'attach') {
    throw new StatusError(400, 'BadRequest', `${r.subresource} needs a WebSocket upgrade (v5.channel.k8s.io)`);
  }
  if (r.subresource === 'portforward') {
    throw new StatusError(400, 'BadRequest', 'port-forward needs an upgrade to SPDY/3.1 (or a WebSocket with SPDY/3.1+portforward.k8s.io)');
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
  throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
}

/**
 * `nodes/NAME[:PORT]/proxy/<path>`: any method, to the node's kubelet (upstream's node
 * ResourceLocation: https, port from the name or else the kubelet endpoint).
 */
export async function serveNodeProxy(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, r: ResourceRequest): Promise<void> {
  const { node, port, client } = await nodeProxyTarget(ctx, r);
  proxyNode(req, res, node, port, r.proxyPath ?? '/', client);
}

/** The node a nodes/NAME[:PORT]/proxy request names, its port, and this server's kubelet credentials. */
async function nodeProxyTarget(ctx: HandlerContext, r: ResourceRequest): Promise<{ node: any; port?: number; client: KubeletClientTLS }> {
  const id = splitNodeNamePort(r.name ?? '');
  const node = ctx.registry.output(r.info, await ctx.registry.get(r.info, undefined, id.name));
  if (!ctx.kubeletClient) throw new StatusError(503, 'ServiceUnavailable', 'this API server has no kubelet client credentials');
  return { node, port: id.port, client: ctx.kubeletClient };
}

/** A Scale's status: `selector` is omitempty upstream, so a custom resource without labelSelectorPath has none. */
export function withSelector(replicas: number, selector: string): { replicas: number; selector?: string } {
  return selector ? { replicas, selector } : { replicas };
}

/** autoscaling/v1 Scale for deployments, replicasets and statefulsets. */
async function serveScale(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, r: ResourceRequest): Promise<void> {
  const reg = ctx.registry;
  const { info } = r;
  const cs = info.custom?.scale;
  const toScale = (o: any) => ({
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
    spec: { replicas: cs ? numberOr0(jsonPathValue(o, cs.specReplicasPath)) : (o.spec?.replicas ?? 0) },
    status: withSelector(
      cs ? numberOr0(jsonPathValue(o, cs.statusReplicasPath)) : (o.status?.replicas ?? 0),
      cs ? (cs.labelSelectorPath ? String(jsonPathValue(o, cs.labelSelectorPath) ?? '') : '') : selectorString(o.spec?.selector),
    ),
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
    if (cs) setJsonPath(obj, cs.specReplicasPath, replicas);
    else obj.spec.replicas = replicas;
    return obj;
  }, { fieldManager: fieldManagerParam(new URL(req.url ?? '/', 'http://x').searchParams, req.headers['user-agent']), subresource: 'scale' });
  send(res, 200, toScale(updated));
}

function numberOr0(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** Sets a simple dotted path (`.spec.replicas`), creating objects on the way. */
function setJsonPath(obj: any, path: string, value: unknown): void {
  const parts = path.replace(/^\./, '').split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (cur[p] === null || typeof cur[p] !== 'object') cur[p] = {};
    cur = cur[p];
  }
  cur[parts[parts.length - 1]!] = value;
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




/**
 * Upgrades (WebSocket, SPDY): `pods/NAME/exec`, `attach` and `portforward` go to the pod's kubelet
 * after the same authentication and authorization as any request (upstream checks `create` on the
 * subresource).
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
      user = await impersonate(ctx.authorizers, req, user);
      // pods/proxy and services/proxy carry a path of their own: parse the URL as given.
      const proxied = parseResourcePath(url.pathname);
      if (proxied.type === 'resource' && proxied.req.subresource === 'proxy' && proxied.req.name && (proxied.req.info.key === 'nodes' || ((proxied.req.info.key === 'pods' || proxied.req.info.key === 'services') && proxied.req.namespace !== undefined))) {
        const attrs = requestAttributes(req.method ?? 'GET', url.pathname, proxied, url.searchParams, user);
        const decision = await authorize(ctx.authorizers, attrs);
        if (decision.decision !== 'allow') throw new StatusError(403, 'Forbidden', forbiddenMessage(attrs, decision.reason), { name: attrs.name, kind: proxied.req.info.resource });
        if (proxied.req.info.key !== 'nodes') return await tunnelWorkloadProxy(ctx, req, socket, head, proxied.req);
        // To the kubelet, as nodes/proxy's plain requests go (serveNodeProxy).
        const { node, port, client } = await nodeProxyTarget(ctx, proxied.req);
        let addr: { host: string; port: number };
        try {
          addr = kubeletAddress(node, port);
        } catch (e) {
          throw new StatusError(500, 'InternalError', (e as Error).message);
        }
        tunnel(req, socket, head, { scheme: 'https', host: addr.host, port: addr.port }, proxied.req.proxyPath ?? '/', client);
        return;
      }
      const parsed = parseResourcePath(path);
      const sub = parsed.type === 'resource' ? parsed.req.subresource : undefined;
      if (parsed.type !== 'resource' || parsed.req.info.key !== 'pods' || (sub !== 'exec' && sub !== 'attach' && sub !== 'portforward') || !parsed.req.name) {
        throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      }
      const attrs = { ...requestAttributes('POST', path, parsed, url.searchParams, user), verb: 'create' };
      const decision = await authorize(ctx.authorizers, attrs);
      if (decision.decision !== 'allow') throw new StatusError(403, 'Forbidden', forbiddenMessage(attrs, decision.reason), { name: attrs.name, kind: 'pods' });
      if (!ctx.kubeletClient) throw new StatusError(503, 'ServiceUnavailable', 'this API server has no kubelet client credentials');
      const r = parsed.req;
      const pod = ctx.registry.output(r.info, await ctx.registry.get(r.info, r.namespace, r.name!));
      const node = pod.spec?.nodeName ? await nodeOf(ctx.registry, pod.spec.nodeName) : undefined;
      proxyPodExec(req, socket, head, pod, node, ctx.kubeletClient, sub as 'exec' | 'attach' | 'portforward');
    } catch (err) {
      fail(err instanceof StatusError ? err : internalError(err));
    }
  };
}
