import type { IncomingMessage } from 'node:http';
import type { DeleteOptions, ListOptions } from './registry.js';
import { badRequest, StatusError } from './status.js';
import { readBody, decodeBody } from './body.js';
import { JSON_TYPE } from './respond.js';
import type { FieldError } from './validation/types.js';
import { forbidden, notSupported } from './validation/errors.js';
import { formatInvalidMessage } from './validation/format.js';

/** Query parameters and DeleteOptions as upstream parses them. */
export type Query = URLSearchParams;

export function boolParam(q: Query, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (v === 'true' || v === '1' || v === '') return true;
  if (v === 'false' || v === '0') return false;
  throw badRequest(`invalid boolean value for ${name}: ${v}`);
}

export function intParam(q: Query, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`invalid value for ${name}: ${v}: must be an integer`);
  return Number(v);
}

export function dryRunParam(q: Query): boolean {
  const all = q.getAll('dryRun');
  for (const v of all) if (v !== 'All') throw badRequest(`Invalid dryRun value: "${v}": supported value is "All"`);
  return all.length > 0;
}

/** The manager of a write: `fieldManager`, else the user agent up to its first `/`, as upstream. */
export function fieldManagerParam(q: Query, userAgent: string | undefined): string {
  const v = q.get('fieldManager');
  if (v !== null && v !== '') {
    if (v.length > 128) throw badRequest(`fieldManager: Too long: may not be more than 128 bytes`);
    if (/[^\x20-\x7e]/.test(v)) throw badRequest(`fieldManager: Invalid value: "${v}": must be printable ASCII`);
    return v;
  }
  return (userAgent ?? '').split('/')[0].slice(0, 128) || 'unknown';
}

export function fieldValidationParam(q: Query): 'Strict' | 'Warn' | 'Ignore' {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation parameter unsupported: ${v}. Supported values: Strict, Warn, Ignore`);
}

export function listOptions(q: Query, watch = false): ListOptions {
  const limit = intParam(q, 'limit');
  if (limit !== undefined && limit < 0) throw badRequest('limit must be a non-negative integer');
  const rvm = q.get('resourceVersionMatch') || undefined;
  const errs = validateListOptions(q, rvm, watch);
  if (errs.length) throw new StatusError(422, 'Invalid', formatInvalidMessage('ListOptions', '', errs, 'meta.k8s.io'), { group: 'meta.k8s.io', kind: 'ListOptions', causes: errs.map((e) => ({ reason: e.type, message: e.message, field: e.field })) });
  return {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    limit,
    continue: q.get('continue') || undefined,
    resourceVersion: q.get('resourceVersion') ?? undefined,
    resourceVersionMatch: rvm,
  };
}

/**
 * Upstream's ValidateListOptions (metainternalversion/validation), whose failures are a 422 on
 * ListOptions.meta.k8s.io: resourceVersionMatch needs a resourceVersion and no continue token, and
 * on a watch it goes only with sendInitialEvents, which in turn needs NotOlderThan.
 */
function validateListOptions(q: Query, rvm: string | undefined, watch: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const rv = q.get('resourceVersion') ?? '';
  const cont = q.get('continue') ?? '';
  const sendInitialEvents = q.has('sendInitialEvents');
  if (watch) {
    if (sendInitialEvents && rvm !== 'NotOlderThan') errs.push(forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
    if (rvm) {
      if (!sendInitialEvents) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
      if (rvm !== 'NotOlderThan') errs.push(notSupported('resourceVersionMatch', rvm, ['NotOlderThan']));
      if (cont) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    }
    return errs;
  }
  if (rvm) {
    if (!rv) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
    if (cont) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    if (rvm !== 'Exact' && rvm !== 'NotOlderThan') errs.push(notSupported('resourceVersionMatch', rvm, ['Exact', 'NotOlderThan', '']));
    if (rvm === 'Exact' && rv === '0') errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
  }
  if (sendInitialEvents) errs.push(forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  return errs;
}

export async function deleteOptions(req: IncomingMessage, q: Query): Promise<DeleteOptions> {
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
