/** Namespace validation: a DNS label name, cluster scope, and spec.finalizers names. */
import type { FieldError } from './types.js';
import { invalid } from './errors.js';
import { isQualifiedName, nameIsDNSLabel } from './names.js';
import { validateKubeFinalizerName, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

export function validateNamespace(ns: any): FieldError[] {
  const errs = validateObjectMeta(ns?.metadata, false, nameIsDNSLabel);
  const finalizers: unknown[] = Array.isArray(ns?.spec?.finalizers) ? ns.spec.finalizers : [];
  for (const f of finalizers) {
    // Upstream reports these on spec.finalizers without an index.
    errs.push(...isQualifiedName(str(f)).map((m) => invalid('spec.finalizers', str(f), m)));
    errs.push(...validateKubeFinalizerName(str(f), 'spec.finalizers'));
  }
  return errs;
}

export function validateNamespaceUpdate(ns: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(ns?.metadata, old?.metadata);
}
