/** Event validation for core/v1 (legacy rules) and events.k8s.io/v1. */
import type { FieldError } from './types.js';
import { invalid, required } from './errors.js';
import { isDNS1123Subdomain, isQualifiedName, nameIsDNSSubdomain } from './names.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const LIMIT = { reportingInstance: 128, action: 128, reason: 128, note: 1024 };

/** legacyValidateEvent; `coreV1` picks the field names of the core/v1 wire form. */
function legacyValidateEvent(ev: any, coreV1: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ns = str(ev?.metadata?.namespace);
  const involvedNs = str(ev?.involvedObject?.namespace ?? ev?.regarding?.namespace);
  const involvedPath = coreV1 ? 'involvedObject.namespace' : 'involvedObject.namespace';
  const controllerField = coreV1 ? 'source' : 'reportingController';
  if (!str(ev?.eventTime)) {
    // Old-style events: the namespace must agree with the involved object's.
    if (!involvedNs) {
      if (ns !== '' && ns !== 'default') errs.push(invalid(involvedPath, involvedNs, 'does not match event.namespace'));
    } else if (ns !== involvedNs) errs.push(invalid(involvedPath, involvedNs, 'does not match event.namespace'));
  } else {
    if (!involvedNs && ns !== 'default' && ns !== 'kube-system') errs.push(invalid(involvedPath, involvedNs, 'does not match event.namespace'));
    const controller = str(ev?.reportingController ?? ev?.reportingComponent);
    if (!controller) errs.push(required(controllerField));
    errs.push(...isQualifiedName(controller).map((m) => invalid(controllerField, controller, m)));
    const instance = str(ev?.reportingInstance);
    if (!instance) errs.push(required('reportingInstance'));
    if (instance.length > LIMIT.reportingInstance) errs.push(invalid('reportingInstance', '', `can have at most ${LIMIT.reportingInstance} characters`));
    if (!str(ev?.action)) errs.push(required('action'));
    if (str(ev?.action).length > LIMIT.action) errs.push(invalid('action', '', `can have at most ${LIMIT.action} characters`));
    if (!str(ev?.reason)) errs.push(required('reason'));
    if (str(ev?.reason).length > LIMIT.reason) errs.push(invalid('reason', '', `can have at most ${LIMIT.reason} characters`));
    const note = str(ev?.message ?? ev?.note);
    if (note.length > LIMIT.note) errs.push(invalid('message', '', `can have at most ${LIMIT.note} characters`));
  }
  errs.push(...isDNS1123Subdomain(ns).map((m) => invalid('namespace', ns, m)));
  return errs;
}

/** core/v1 Events keep only the legacy checks, for compatibility. */
export function validateCoreEvent(ev: any): FieldError[] {
  return legacyValidateEvent(ev, true);
}

export function validateCoreEventUpdate(ev: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(ev?.metadata, old?.metadata).concat(legacyValidateEvent(ev, true));
}

/** events.k8s.io/v1 adds ObjectMeta, eventTime, type and reporting checks. */
export function validateEventsV1(ev: any): FieldError[] {
  const errs = legacyValidateEvent(ev, false);
  errs.push(...validateObjectMeta(ev?.metadata, true, nameIsDNSSubdomain));
  if (!str(ev?.eventTime)) errs.push(required('eventTime'));
  if (ev?.type !== 'Normal' && ev?.type !== 'Warning') errs.push(invalid('type', '', `has invalid value: ${str(ev?.type)}`));
  if (str(ev?.deprecatedFirstTimestamp)) errs.push(invalid('deprecatedFirstTimestamp', '', 'needs to be unset'));
  if (str(ev?.deprecatedLastTimestamp)) errs.push(invalid('deprecatedLastTimestamp', '', 'needs to be unset'));
  if (ev?.deprecatedCount) errs.push(invalid('deprecatedCount', '', 'needs to be unset'));
  return errs;
}

export function validateEventsV1Update(ev: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(ev?.metadata, old?.metadata).concat(validateEventsV1(ev));
}
