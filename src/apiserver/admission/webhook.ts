import https from 'node:https';
import { applyDefaults } from '../defaults/index.js';
import { randomUUID } from 'node:crypto';
import { REGISTRY_PREFIX } from '../watchcache.js';
import { StatusError } from '../status.js';
import { applyJsonPatch } from '../patch/json.js';
import { selectorFromLabelSelector } from '../selectors/labels.js';
import type { Registry } from '../registry.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';

export const MUTATING_KEY = 'admissionregistration.k8s.io/mutatingwebhookconfigurations';
export const VALIDATING_KEY = 'admissionregistration.k8s.io/validatingwebhookconfigurations';

/** Where webhook configurations come from: the watch cache by default; tests may inject them. */
export type WebhookSource = (reg: Registry, kind: 'mutating' | 'validating') => any[];

export const cacheWebhookSource: WebhookSource = (reg, kind) => {
  const key = kind === 'mutating' ? MUTATING_KEY : VALIDATING_KEY;
  return reg.cache.list(key, `${REGISTRY_PREFIX}${key}/`).map((c) => c.obj);
};

export interface WebhookOptions {
  source?: WebhookSource;
  /** Resolves a service reference to host and port (default: its endpoints, else its ClusterIP). */
  resolveService?: (reg: Registry, ns: string, name: string, port: number) => { host: string; port: number } | undefined;
}

const matchAny = (list: string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));

/** Upstream's rule matching: operations, groups, versions, resources (with `*` and `x/*`, `*\/sub`), scope. */
export function ruleMatches(rule: any, req: AdmissionRequest): boolean {
  if (!matchAny(rule.operations, req.operation)) return false;
  if (!matchAny(rule.apiGroups, req.info.group)) return false;
  if (!matchAny(rule.apiVersions, req.info.version)) return false;
  const res = req.info.resource;
  const sub = req.subresource ?? '';
  const ok = (rule.resources ?? []).some((r: string) => {
    if (r === '*/*') return true;
    const [rr, rs = ''] = r.split('/');
    if (rr !== '*' && rr !== res) return false;
    if (rs === '*') return true;
    return rs === sub;
  });
  if (!ok) return false;
  const scope = rule.scope ?? '*';
  if (scope === 'Cluster' && req.info.namespaced) return false;
  if (scope === 'Namespaced' && !req.info.namespaced) return false;
  return true;
}

function selectorMatches(sel: any, labels: Record<string, string> | undefined): boolean {
  if (!sel) return true;
  try {
    return selectorFromLabelSelector(sel).matches(labels ?? {});
  } catch {
    return false;
  }
}

function webhookApplies(w: any, req: AdmissionRequest): boolean {
  if (!(w.rules ?? []).some((r: any) => ruleMatches(r, req))) return false;
  const obj = req.object ?? req.oldObject;
  // The object selector matches when the new or the old object matches (absent ones are skipped).
  if (w.objectSelector) {
    const candidates = [req.object, req.oldObject].filter((o) => o);
    if (!candidates.some((o) => selectorMatches(w.objectSelector, o.metadata?.labels))) return false;
  }
  if (w.namespaceSelector && (req.info.namespaced || req.info.key === 'namespaces')) {
    const nsName = req.info.key === 'namespaces' ? obj?.metadata?.name : req.namespace;
    const labels = req.info.key === 'namespaces' ? obj?.metadata?.labels : req.registry.cache.get(`${REGISTRY_PREFIX}namespaces/${nsName}`)?.obj?.metadata?.labels;
    if (!selectorMatches(w.namespaceSelector, labels)) return false;
  }
  return true;
}

function defaultResolve(reg: Registry, ns: string, name: string, port: number): { host: string; port: number } | undefined {
  const svc = reg.cache.get(`${REGISTRY_PREFIX}services/${ns}/${name}`)?.obj;
  if (!svc) return undefined;
  const sp = (svc.spec?.ports ?? []).find((p: any) => p.port === port);
  const ep = reg.cache.get(`${REGISTRY_PREFIX}endpoints/${ns}/${name}`)?.obj;
  for (const s of ep?.subsets ?? []) {
    const addr = s.addresses?.[0]?.ip;
    const p = (s.ports ?? []).find((x: any) => !sp?.name || x.name === sp.name) ?? s.ports?.[0];
    if (addr && p) return { host: addr, port: p.port };
  }
  if (svc.spec?.clusterIP && svc.spec.clusterIP !== 'None') return { host: svc.spec.clusterIP, port };
  return undefined;
}

function reviewRequest(req: AdmissionRequest, uid: string): any {
  const u = req.user;
  const r: any = {
    uid,
    kind: { group: req.info.group, version: req.info.version, kind: req.info.kind },
    resource: { group: req.info.group, version: req.info.version, resource: req.info.resource },
    requestKind: { group: req.info.group, version: req.info.version, kind: req.info.kind },
    requestResource: { group: req.info.group, version: req.info.version, resource: req.info.resource },
    name: req.object?.metadata?.name ?? req.oldObject?.metadata?.name ?? '',
    operation: req.operation,
    userInfo: u ? { username: u.name, uid: u.uid, groups: u.groups, extra: u.extra } : { username: 'system:apiserver', groups: ['system:masters'] },
    object: req.operation === 'DELETE' ? null : req.object,
    oldObject: req.oldObject ?? null,
    dryRun: req.dryRun,
    options: { apiVersion: 'meta.k8s.io/v1', kind: req.operation === 'CREATE' ? 'CreateOptions' : req.operation === 'UPDATE' ? 'UpdateOptions' : 'DeleteOptions' },
  };
  if (req.subresource) {
    r.subResource = req.subresource;
    r.requestSubResource = req.subresource;
  }
  if (req.namespace) r.namespace = req.namespace;
  return r;
}

class CallError extends Error {}

/** POSTs an AdmissionReview and returns its response, with upstream's timeout semantics. */
function post(url: URL, body: string, ca: string | undefined, timeoutS: number, servername?: string, hostOverride?: { host: string; port: number }): Promise<any> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    target.searchParams.set('timeout', `${timeoutS}s`);
    const display = target.toString();
    const req = https.request(
      {
        host: hostOverride?.host ?? target.hostname,
        port: hostOverride?.port ?? (target.port || 443),
        path: target.pathname + target.search,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(body) },
        ca,
        servername: servername ?? target.hostname,
        timeout: timeoutS * 1000,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) return reject(new CallError(`failed to call webhook: the server responded with status ${res.statusCode}`));
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new CallError('received invalid webhook response: the response is not valid JSON'));
          }
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new CallError(`failed to call webhook: Post "${display}": context deadline exceeded`)), timeoutS * 1000);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (e) => reject(e instanceof CallError ? e : new CallError(`failed to call webhook: Post "${display}": ${(e as Error).message}`)));
    req.end(body);
  });
}

async function callWebhook(w: any, req: AdmissionRequest, opts: WebhookOptions): Promise<any> {
  const cc = w.clientConfig ?? {};
  const ca = cc.caBundle ? Buffer.from(cc.caBundle, 'base64').toString('utf8') : undefined;
  const timeoutS = w.timeoutSeconds ?? 10;
  let url: URL;
  let servername: string | undefined;
  let override: { host: string; port: number } | undefined;
  if (cc.url) url = new URL(cc.url);
  else if (cc.service) {
    const s = cc.service;
    const port = s.port ?? 443;
    servername = `${s.name}.${s.namespace}.svc`;
    url = new URL(`https://${servername}:${port}${s.path ?? ''}`);
    override = (opts.resolveService ?? defaultResolve)(req.registry, s.namespace, s.name, port);
    if (!override) throw new CallError(`failed to call webhook: service "${s.namespace}/${s.name}" not found or has no address`);
  } else throw new CallError('failed to call webhook: neither url nor service is set');
  const uid = randomUUID();
  const review = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: reviewRequest(req, uid) };
  const out = await post(url, JSON.stringify(review), ca, timeoutS, servername, override);
  const resp = out?.response;
  if (!resp) throw new CallError('received invalid webhook response: response is empty');
  if (resp.uid !== uid) throw new CallError(`received invalid webhook response: expected response.uid="${uid}", got "${resp.uid}"`);
  return resp;
}

/** Upstream's ToStatusErr: a webhook's refusal, with at least a 400 code. */
function denied(name: string, status: any): StatusError {
  const deniedBy = `admission webhook "${name}" denied the request`;
  const code = typeof status?.code === 'number' && status.code >= 400 ? status.code : 400;
  const reason = status?.reason || (code === 403 ? 'Forbidden' : code === 422 ? 'Invalid' : 'BadRequest');
  const msg = status?.message ? `${deniedBy}: ${status.message}` : status?.reason ? `${deniedBy}: ${status.reason}` : `${deniedBy} without explanation`;
  return new StatusError(code, reason, msg, status?.details);
}

async function runWebhooks(kind: 'mutating' | 'validating', req: AdmissionRequest, opts: WebhookOptions): Promise<void> {
  const configs = (opts.source ?? cacheWebhookSource)(req.registry, kind);
  if (!configs.length) return;
  const sorted = [...configs].sort((a, b) => (a.metadata?.name < b.metadata?.name ? -1 : 1));
  const hooks = sorted.flatMap((c) => c.webhooks ?? []).filter((w: any) => webhookApplies(w, req));
  const one = async (w: any) => {
    if (req.dryRun && !['None', 'NoneOnDryRun'].includes(w.sideEffects)) {
      throw new StatusError(400, 'BadRequest', `admission webhook "${w.name}" does not support dry run`);
    }
    let resp: any;
    try {
      resp = await callWebhook(w, req, opts);
    } catch (e) {
      if (!(e instanceof CallError)) throw e;
      if ((w.failurePolicy ?? 'Fail') === 'Ignore') return;
      throw new StatusError(500, 'InternalError', `Internal error occurred: failed calling webhook "${w.name}": ${e.message}`);
    }
    for (const warning of resp.warnings ?? []) req.warnings?.push(warning);
    for (const [k, v] of Object.entries(resp.auditAnnotations ?? {})) (req.auditAnnotations ??= {})[`${w.name}/${k}`] = String(v);
    if (!resp.allowed) throw denied(w.name, resp.status);
    if (resp.patch) {
      if (kind !== 'mutating') return;
      if (resp.patchType && resp.patchType !== 'JSONPatch') throw new StatusError(500, 'InternalError', `Internal error occurred: failed calling webhook "${w.name}": unsupported patch type "${resp.patchType}"`);
      let ops: unknown;
      try {
        ops = JSON.parse(Buffer.from(resp.patch, 'base64').toString('utf8'));
      } catch {
        throw new StatusError(500, 'InternalError', `Internal error occurred: failed calling webhook "${w.name}": the patch is not valid JSON`);
      }
      let patched: any;
      try {
        patched = applyJsonPatch(req.object, ops);
      } catch (e) {
        throw new StatusError(500, 'InternalError', `Internal error occurred: failed calling webhook "${w.name}": ${(e as Error).message}`);
      }
      // The plugin contract mutates in place: carry the result over into the same object.
      for (const k of Object.keys(req.object)) delete req.object[k];
      Object.assign(req.object, patched);
      // As upstream's dispatcher, the patched object is defaulted again: a sidecar a webhook injects
      // without imagePullPolicy or terminationMessagePath gets them, as any container would.
      applyDefaults(req.info.key, req.object);
    }
  };
  if (kind === 'mutating') for (const w of hooks) await one(w);
  else await Promise.all(hooks.map(one)); // validating webhooks run in parallel, as upstream
}

/** MutatingAdmissionWebhook and ValidatingAdmissionWebhook over admissionregistration.k8s.io/v1 configurations. */
export function webhookPlugins(opts: WebhookOptions = {}): { mutating: AdmissionPlugin; validating: AdmissionPlugin } {
  const anyConfigured = (req: AdmissionRequest, kind: 'mutating' | 'validating') => {
    if (opts.source) return true;
    return req.registry.cache.count(kind === 'mutating' ? MUTATING_KEY : VALIDATING_KEY) > 0;
  };
  // Webhook configurations themselves are never sent to webhooks, as upstream.
  const exempt = (req: AdmissionRequest) => req.info.group === 'admissionregistration.k8s.io';
  return {
    mutating: { name: 'MutatingAdmissionWebhook', handles: (req) => !exempt(req) && anyConfigured(req, 'mutating'), admit: (req) => runWebhooks('mutating', req, opts) },
    validating: { name: 'ValidatingAdmissionWebhook', handles: (req) => !exempt(req) && anyConfigured(req, 'validating'), validate: (req) => runWebhooks('validating', req, opts) },
  };
}
