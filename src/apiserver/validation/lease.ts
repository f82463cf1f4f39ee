/** coordination.k8s.io/v1 Lease validation. */
import type { FieldError } from './types.js';
import { invalid, notSupported } from './errors.js';
import { nameIsDNSSubdomain } from './names.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';

function validateLeaseSpec(spec: any): FieldError[] {
  const errs: FieldError[] = [];
  if (typeof spec?.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0) {
    errs.push(invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  if (typeof spec?.leaseTransitions === 'number' && spec.leaseTransitions < 0) {
    errs.push(invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'));
  }
  if (spec?.strategy !== undefined && spec?.strategy !== null && spec.strategy !== 'OldestEmulationVersion') {
    errs.push(notSupported('spec.strategy', String(spec.strategy), ['OldestEmulationVersion']));
  }
  return errs;
}

export function validateLease(lease: any): FieldError[] {
  return validateObjectMeta(lease?.metadata, true, nameIsDNSSubdomain).concat(validateLeaseSpec(lease?.spec));
}

export function validateLeaseUpdate(lease: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(lease?.metadata, old?.metadata).concat(validateLeaseSpec(lease?.spec));
}
