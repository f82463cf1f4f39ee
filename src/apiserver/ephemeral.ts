/**
 * The pods/ephemeralcontainers subresource (what `kubectl debug` writes): GET returns the Pod; PUT
 * and PATCH (JSON, merge and strategic merge patches of the whole Pod) may add ephemeral
 * containers and change nothing else, as upstream's EphemeralContainersREST with its strategy and
 * ValidatePodEphemeralContainersUpdate.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceRequest } from './request.js';
import type { HandlerContext } from './handler.js';
import { StatusError, badRequest, conflict, invalid, methodNotAllowed, OPTIMISTIC_LOCK_MESSAGE } from './status.js';
import { readBody, decodeBody } from './body.js';
import { checkFields, checkTypeMeta, duplicatesOf, patchTypeOf } from './input.js';
import { dryRunParam, fieldManagerParam, fieldValidationParam, type Query } from './params.js';
import { send, JSON_TYPE } from './respond.js';
import { patchStatus, writtenJsonOf } from './registry.js';
import { applyJsonPatch } from './patch/json.js';
import { applyMergePatch } from './patch/merge.js';
import { applyStrategicMergePatch, PatchError } from './patch/strategic.js';
import { patchMetaFor } from './openapi/schemas.js';
import { applyDefaults } from './defaults/index.js';
import { podEphemeralContainersStrategy } from './strategy.js';
import { formatInvalidMessage } from './validation/index.js';
import { validatePodEphemeralContainersUpdate } from './validation/pod.js';
import { deepCopy } from './clone.js';
import { runAdmission, type AdmissionPlugin } from './admission/index.js';
import type { UserInfo } from './auth/types.js';

export const EPHEMERAL_SUBRESOURCE = 'ephemeralcontainers';

/** The written Pod (a PUT's body, or the stored pod with the patch applied) → the Pod to store, or a 422. */
export function ephemeralContainersUpdate(written: any, old: any): any {
  if (written === null || typeof written !== 'object' || Array.isArray(written)) throw badRequest('the body must be an object');
  const next = podEphemeralContainersStrategy.prepareForUpdate(written, old);
  applyDefaults('pods', next);
  const errs = validatePodEphemeralContainersUpdate(next, old);
  const name = old.metadata?.name ?? '';
  if (errs.length) throw invalid('', 'Pod', name, errs, formatInvalidMessage('Pod', name, errs, ''));
  return next;
}

export async function serveEphemeralContainers(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, r: ResourceRequest, q: Query, user?: UserInfo): Promise<void> {
  const reg = ctx.registry;
  const { info } = r;
  const ns = r.namespace;
  const name = r.name!;
  const method = req.method ?? 'GET';
  if (method === 'GET') {
    send(res, 200, reg.outputRaw(info, await reg.get(info, ns, name)));
    return;
  }
  if (method !== 'PUT' && method !== 'PATCH') throw methodNotAllowed();
  const warnings: string[] = [];
  const mode = fieldValidationParam(q);
  const buf = await readBody(req);
  let change: (cur: any) => any;
  if (method === 'PUT') {
    const body = decodeBody(buf, req.headers['content-type']) as any;
    checkTypeMeta(body, info);
    const obj = checkFields(info, body, mode, warnings, () => duplicatesOf(buf, req.headers['content-type']));
    if (obj?.metadata?.name && obj.metadata.name !== name) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    if (obj?.metadata?.namespace && obj.metadata.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    change = (cur) => {
      const wanted = obj?.metadata?.resourceVersion;
      if (wanted && wanted !== cur.metadata.resourceVersion) throw conflict('', 'pods', name, OPTIMISTIC_LOCK_MESSAGE);
      // Identity fields the client left out are the stored ones (as the generic update's).
      const written = deepCopy(obj);
      written.metadata = { ...written.metadata };
      for (const k of ['name', 'namespace', 'uid', 'resourceVersion']) written.metadata[k] ??= cur.metadata[k];
      return written;
    };
  } else {
    const type = patchTypeOf(req.headers['content-type']);
    if (type === 'apply') {
      throw new StatusError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json');
    }
    const patch = decodeBody(buf, 'application/json', 'the patch');
    if (type === 'json' ? !Array.isArray(patch) : patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
      throw badRequest(type === 'json' ? 'json patch must be an array of operations' : 'the patch must be a JSON object');
    }
    change = (cur) => {
      let patched: any;
      try {
        if (type === 'json') patched = applyJsonPatch(cur, patch);
        else if (type === 'merge') patched = applyMergePatch(cur, patch);
        else patched = applyStrategicMergePatch(cur, patch, patchMetaFor(info.group, info.version, info.kind));
      } catch (e) {
        if (e instanceof PatchError) throw patchStatus(e);
        throw e;
      }
      if (patched === null || typeof patched !== 'object' || Array.isArray(patched)) throw badRequest('the patch must produce an object');
      const rv = patched.metadata?.resourceVersion;
      if (rv && rv !== cur.metadata.resourceVersion) throw conflict('', 'pods', name, OPTIMISTIC_LOCK_MESSAGE);
      return checkFields(info, patched, mode, warnings);
    };
  }
  const fieldManager = fieldManagerParam(q, req.headers['user-agent']);
  const dryRun = dryRunParam(q);
  // Admission (webhooks may mutate) runs on the candidate computed from one version of the pod;
  // the write then applies only over that same version, else it starts again from the new one.
  for (let attempt = 0; ; attempt++) {
    const cur = reg.output(info, await reg.get(info, ns, name));
    // As upstream's update path: mutating admission on the written object, then the strategy and
    // validation, then validating admission.
    const admission = { info, operation: 'UPDATE' as const, oldObject: cur, namespace: ns, subresource: EPHEMERAL_SUBRESOURCE, dryRun, registry: reg, user, warnings };
    const written = change(deepCopy(cur));
    await runAdmission(mutating(reg.admission), { ...admission, object: written });
    const admitted = ephemeralContainersUpdate(written, cur);
    await runAdmission(validating(reg.admission), { ...admission, object: admitted });
    if (dryRun) {
      send(res, 200, admitted, JSON_TYPE, warnings);
      return;
    }
    const updated = await reg.mutate(
      info,
      ns,
      name,
      (now) => {
        if (now.metadata.resourceVersion !== cur.metadata.resourceVersion) throw STALE;
        return admitted;
      },
      { fieldManager, subresource: EPHEMERAL_SUBRESOURCE },
      { forResponse: true },
    ).catch((e) => {
      if (e === STALE && attempt < 10) return undefined;
      if (e === STALE) throw conflict('', 'pods', name, OPTIMISTIC_LOCK_MESSAGE);
      throw e;
    });
    if (updated === undefined) continue;
    send(res, 200, writtenJsonOf(updated) ?? updated, JSON_TYPE, warnings);
    return;
  }
}

const STALE = new Error('the pod changed since admission');

/** The admit (mutating) or validate halves of the plugins, to run at their places in an update. */
function mutating(plugins: AdmissionPlugin[]): AdmissionPlugin[] {
  return plugins.filter((p) => p.admit).map((p) => ({ name: p.name, handles: (r) => p.handles(r), admit: (r) => p.admit!(r) }));
}
function validating(plugins: AdmissionPlugin[]): AdmissionPlugin[] {
  return plugins.filter((p) => p.validate).map((p) => ({ name: p.name, handles: (r) => p.handles(r), validate: (r) => p.validate!(r) }));
}
