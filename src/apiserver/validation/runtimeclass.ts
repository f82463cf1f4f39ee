/** node.k8s.io/v1 RuntimeClass validation (pkg/apis/node/validation). */
import type { FieldError } from './types.js';
import { invalid } from './errors.js';
import { nameIsDNSLabel, nameIsDNSSubdomain } from './names.js';
import { validateImmutableField, validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { validateContainerResources } from './resources.js';
import { validateTolerations } from './pod.js';

const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function validateRuntimeClass(rc: any): FieldError[] {
  const errs = validateObjectMeta(rc?.metadata, false, nameIsDNSSubdomain);
  const handler = typeof rc?.handler === 'string' ? rc.handler : '';
  for (const msg of nameIsDNSLabel(handler, false)) errs.push(invalid('handler', handler, msg));
  // The overhead is checked as a container's limits would be.
  if (isObj(rc?.overhead)) errs.push(...validateContainerResources({ limits: rc.overhead.podFixed }, 'overhead'));
  const s = rc?.scheduling;
  if (isObj(s)) {
    if (s.nodeSelector !== undefined && s.nodeSelector !== null) errs.push(...validateLabels(s.nodeSelector, 'scheduling.nodeSelector'));
    errs.push(...validateTolerations(s.tolerations, 'scheduling.tolerations'));
  }
  return errs;
}

/** Only ObjectMeta rules and the immutable handler: overhead and scheduling are checked at create only, as upstream. */
export function validateRuntimeClassUpdate(rc: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(rc?.metadata, old?.metadata).concat(validateImmutableField(rc?.handler, old?.handler, 'handler'));
}
