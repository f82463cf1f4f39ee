import type { ResourceInfo } from './resources.js';
import type { PatchType } from './registry.js';
import { badRequest, StatusError } from './status.js';
import { findUnknownFields, dropUnknownFields, findTypeError } from './openapi/schemas.js';
import { normalizeTimes, TimeParseError } from './openapi/times.js';
import { findDuplicateKeys } from './jsondup.js';
import { checkCustomFields } from './crd/custom.js';

/** Checks apiVersion/kind of a body against the endpoint, as upstream's decoder. */
export function checkTypeMeta(obj: any, info: ResourceInfo, expectKind = info.kind, expectApiVersion = info.apiVersion): void {
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

/**
 * Strict/Warn/Ignore handling of fields the schema does not know; unknown fields are never stored.
 * `findDuplicates` scans the raw body, so it runs only when duplicates would be reported (not for Ignore).
 */
export function checkFields(info: ResourceInfo, obj: any, mode: 'Strict' | 'Warn' | 'Ignore', warnings: string[], findDuplicates: () => string[] = () => []): any {
  if (info.custom) return checkCustomFields(info, obj, mode, warnings, findDuplicates);
  // A value of the wrong JSON type is refused whatever fieldValidation says, as upstream's typed decoding.
  const typeError = findTypeError(info.group, info.version, info.kind, obj);
  if (typeError) throw badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: ${typeError}`);
  // Times decode through metav1.Time/MicroTime: refused when Go cannot parse them, stored in their canonical form.
  try {
    obj = normalizeTimes(info.group, info.version, info.kind, obj);
  } catch (e) {
    if (e instanceof TimeParseError) throw badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: ${e.message}`);
    throw e;
  }
  if (mode === 'Ignore') return dropUnknownFields(info.group, info.version, info.kind, obj);
  const unknown = findUnknownFields(info.group, info.version, info.kind, obj);
  const duplicates = findDuplicates();
  if (!unknown.length && !duplicates.length) return obj;
  const problems = [...duplicates.map((f) => `duplicate field "${f}"`), ...unknown.map((f: string) => `unknown field "${f}"`)];
  if (mode === 'Strict') {
    throw badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: strict decoding error: ${problems.join(', ')}`);
  }
  warnings.push(...problems);
  return unknown.length ? dropUnknownFields(info.group, info.version, info.kind, obj) : obj;
}

/**
 * Whether a JSON merge patch can bring in a field the schema does not know, or a value of the wrong type. Its keys land at the
 * same paths in the result (lists are replaced whole), and the object it applies to was checked
 * when it was stored, so when the patch has no unknown field the result has none either, and the
 * whole result need not be walked again (upstream decodes the stored object typed, so it cannot
 * carry unknown fields either). Custom resources keep their own checks.
 */
export function mergePatchMayAddUnknown(info: ResourceInfo, patch: unknown): boolean {
  return !!info.custom || findUnknownFields(info.group, info.version, info.kind, patch).length > 0 || findTypeError(info.group, info.version, info.kind, patch) !== undefined || !timesCanonical(info, patch);
}

/** Whether every time in a merge patch is already in stored form (else the result is checked whole). */
function timesCanonical(info: ResourceInfo, patch: unknown): boolean {
  try {
    return normalizeTimes(info.group, info.version, info.kind, patch) === patch;
  } catch {
    return false;
  }
}

/** Duplicate keys in a JSON body (JSON.parse keeps the last one silently). */
export function duplicatesOf(buf: Buffer, contentType: string | undefined): string[] {
  const t = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  return t === 'application/json' ? findDuplicateKeys(buf.toString('utf8')) : [];
}

export function patchTypeOf(contentType: string | undefined): PatchType {
  const t = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (t === 'application/json-patch+json') return 'json';
  if (t === 'application/merge-patch+json') return 'merge';
  if (t === 'application/strategic-merge-patch+json') return 'strategic';
  if (t === 'application/apply-patch+yaml') return 'apply';
  throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml`);
}
