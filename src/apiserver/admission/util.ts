import { StatusError } from '../status.js';
import type { AdmissionRequest } from './types.js';

/** Upstream's admission.NewForbidden: `<resource> "<name>" is forbidden: <why>`. */
export function forbidden(req: AdmissionRequest, why: string): StatusError {
  const name = req.object?.metadata?.name ?? req.oldObject?.metadata?.name ?? '';
  const qualified = req.info.group ? `${req.info.resource}.${req.info.group}` : req.info.resource;
  return new StatusError(403, 'Forbidden', `${qualified} "${name}" is forbidden: ${why}`, { name, group: req.info.group || undefined, kind: req.info.resource });
}

/** utilerrors.NewAggregate's text: one error as is, several as `[a, b]`. */
export function aggregate(errs: string[]): string {
  return errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`;
}

export function isPodCreate(req: AdmissionRequest): boolean {
  return req.info.key === 'pods' && req.operation === 'CREATE' && !req.subresource;
}

/** Every container of a pod spec: init, regular, ephemeral. */
export function allContainers(spec: any): any[] {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])];
}

export function addWarning(req: AdmissionRequest, w: string): void {
  req.warnings?.push(w);
}
