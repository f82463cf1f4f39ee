/** apiregistration.k8s.io/v1 APIService validation (kube-aggregator's apis/apiregistration/validation). */
import type { FieldError } from './types.js';
import { invalid, notSupported, required } from './errors.js';
import { isDNS1035Label, isDNS1123Subdomain, isValidPathSegmentName } from './names.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';

const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);
const strOf = (v: unknown): string => (typeof v === 'string' ? v : '');
const intOf = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Bytes of a []byte field as JSON carries it (base64). */
function byteLength(v: unknown): number {
  return typeof v === 'string' && v ? Buffer.from(v, 'base64').length : 0;
}

export function validateAPIService(obj: any): FieldError[] {
  const spec = isObj(obj?.spec) ? obj.spec : {};
  const group = strOf(spec.group);
  const version = strOf(spec.version);
  const requiredName = `${version}.${group}`;
  // The name is the group/version it serves, so two APIServices cannot claim the same one.
  const errs = validateObjectMeta(obj?.metadata, false, (name) => {
    const minimal = isValidPathSegmentName(name);
    if (minimal.length) return minimal;
    return name === requiredName ? [] : [`must be \`spec.version+"."+spec.group\`: "${requiredName}"`];
  });
  // Only the legacy core API may have the empty group.
  if (!group && version !== 'v1') errs.push(required('spec.group', 'only v1 may have an empty group and it better be legacy kube'));
  if (group) for (const m of isDNS1123Subdomain(group)) errs.push(invalid('spec.group', group, m));
  for (const m of isDNS1035Label(version)) errs.push(invalid('spec.version', version, m));
  const gpm = intOf(spec.groupPriorityMinimum);
  if (gpm <= 0 || gpm > 20000) errs.push(invalid('spec.groupPriorityMinimum', gpm, 'must be positive and less than 20000'));
  const vp = intOf(spec.versionPriority);
  if (vp <= 0 || vp > 1000) errs.push(invalid('spec.versionPriority', vp, 'must be positive and less than 1000'));
  const insecure = spec.insecureSkipTLSVerify === true;
  const caBytes = byteLength(spec.caBundle);
  if (!isObj(spec.service)) {
    if (caBytes) errs.push(invalid('spec.caBundle', `${caBytes} bytes`, 'local APIServices may not have a caBundle'));
    if (insecure) errs.push(invalid('spec.insecureSkipTLSVerify', true, 'local APIServices may not have insecureSkipTLSVerify'));
    return errs;
  }
  if (!strOf(spec.service.namespace)) errs.push(required('spec.service.namespace'));
  if (!strOf(spec.service.name)) errs.push(required('spec.service.name'));
  // Defaulted to 443 when absent; anything given must be a port number, as upstream checks it.
  const port = spec.service.port;
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) errs.push(invalid('spec.service.port', port, 'port is not valid: must be between 1 and 65535, inclusive'));
  if (insecure && caBytes) errs.push(invalid('spec.insecureSkipTLSVerify', true, 'may not be true if caBundle is present'));
  return errs;
}

export function validateAPIServiceUpdate(obj: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(obj?.metadata, old?.metadata).concat(validateAPIService(obj));
}

const CONDITION_STATUSES = ['True', 'False', 'Unknown'];

/** A status write: only the condition statuses are checked, as upstream. */
export function validateAPIServiceStatusUpdate(obj: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(obj?.metadata, old?.metadata);
  const conds = Array.isArray(obj?.status?.conditions) ? obj.status.conditions : [];
  conds.forEach((c: any, i: number) => {
    if (!CONDITION_STATUSES.includes(c?.status)) errs.push(notSupported(`status.conditions[${i}].status`, strOf(c?.status), CONDITION_STATUSES));
  });
  return errs;
}
