import type { IncomingMessage } from 'node:http';
import type { DeleteOptions, ListOptions } from './registry.js';
import { badRequest, StatusError } from './status.js';
import { readBody, decodeBody } from './body.js';
import { JSON_TYPE } from './respond.js';

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

export function listOptions(q: Query): ListOptions {
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
