/**
 * CustomResourceDefinition (apiextensions.k8s.io/v1) defaulting and validation, after upstream's
 * apiextensions validation: names, group, scope, versions (exactly one storage version), and
 * structural schemas.
 */
import type { FieldError } from '../validation/types.js';
import { invalid, notSupported, required, forbidden, GoLiteral } from '../validation/errors.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validation/meta.js';
import { nameIsDNSSubdomain } from '../validation/names.js';
import { structuralErrors } from './schema.js';
import { celRuleProblems } from './cel.js';

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_MSG = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUB = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_SUB_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const KIND_RE = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/** Upstream's v1 defaults: singular and listKind from kind, conversion None, served/storage flags. */
export function defaultCRD(crd: any): void {
  const spec = crd?.spec;
  if (!spec || typeof spec !== 'object') return;
  const n = spec.names;
  if (n && typeof n === 'object') {
    if (!n.singular && typeof n.kind === 'string') n.singular = n.kind.toLowerCase();
    if (!n.listKind && typeof n.kind === 'string' && n.kind) n.listKind = `${n.kind}List`;
  }
  spec.conversion ??= { strategy: 'None' };
  if (Array.isArray(spec.versions)) {
    for (const v of spec.versions) {
      if (v && typeof v === 'object') {
        v.served ??= false;
        v.storage ??= false;
      }
    }
  }
}

function validateNames(n: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!n || typeof n !== 'object') return [required(path, '')];
  const label = (field: string, v: any, req: boolean) => {
    const p = `${path}.${field}`;
    if (!v) {
      if (req) errs.push(required(p, ''));
      return;
    }
    if (!DNS1035.test(v)) errs.push(invalid(p, v, DNS1035_MSG));
  };
  label('plural', n.plural, true);
  label('singular', n.singular, false);
  for (const [i, s] of (n.shortNames ?? []).entries()) if (!DNS1035.test(s)) errs.push(invalid(`${path}.shortNames[${i}]`, s, DNS1035_MSG));
  for (const [i, c] of (n.categories ?? []).entries()) if (!DNS1035.test(c)) errs.push(invalid(`${path}.categories[${i}]`, c, DNS1035_MSG));
  if (!n.kind) errs.push(required(`${path}.kind`, ''));
  else if (!KIND_RE.test(n.kind)) errs.push(invalid(`${path}.kind`, n.kind, 'may have mixed case, but should otherwise match: ' + DNS1035_MSG.replace('lower case ', '')));
  if (!n.listKind) errs.push(required(`${path}.listKind`, ''));
  else if (!KIND_RE.test(n.listKind)) errs.push(invalid(`${path}.listKind`, n.listKind, 'may have mixed case, but should otherwise match: ' + DNS1035_MSG.replace('lower case ', '')));
  if (n.kind && n.kind === n.listKind) errs.push(invalid(`${path}.listKind`, n.listKind, 'kind and listKind must be different'));
  return errs;
}

function validateSpec(spec: any): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec || typeof spec !== 'object') return [required('spec', '')];
  const group = spec.group;
  if (!group) errs.push(required('spec.group', ''));
  else {
    if (!DNS1123_SUB.test(group)) errs.push(invalid('spec.group', group, DNS1123_SUB_MSG));
    if (group.split('.').length < 2) errs.push(invalid('spec.group', group, 'should be a domain with at least one dot'));
  }
  if (!spec.scope) errs.push(required('spec.scope', ''));
  else if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') errs.push(notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  errs.push(...validateNames(spec.names, 'spec.names'));
  const versions: any[] = Array.isArray(spec.versions) ? spec.versions : [];
  if (!versions.length) errs.push(required('spec.versions', 'must have exactly one version marked as storage version'));
  const seen = new Set<string>();
  let storage = 0;
  let served = 0;
  versions.forEach((v, i) => {
    const p = `spec.versions[${i}]`;
    if (!v?.name) errs.push(required(`${p}.name`, ''));
    else if (!DNS1123_LABEL.test(v.name)) errs.push(invalid(`${p}.name`, v.name, DNS1123_LABEL_MSG));
    else if (seen.has(v.name)) errs.push({ type: 'FieldValueDuplicate', field: `${p}.name`, message: `Duplicate value: ${JSON.stringify(v.name)}` });
    if (v?.name) seen.add(v.name);
    if (v?.storage) storage++;
    if (v?.served) served++;
    const schema = v?.schema?.openAPIV3Schema;
    if (!schema) errs.push(required(`${p}.schema.openAPIV3Schema`, 'schemas are required'));
    else {
      const structural = structuralErrors(schema, `${p}.schema.openAPIV3Schema`);
      errs.push(...structural);
      // Rules are compiled only for structural schemas (upstream); a rule that does not parse is refused.
      if (!structural.length) errs.push(...celRuleProblems(schema, `${p}.schema.openAPIV3Schema`).errors);
    }
    const sub = v?.subresources?.scale;
    if (sub) {
      if (!sub.specReplicasPath) errs.push(required(`${p}.subresources.scale.specReplicasPath`, ''));
      else if (!String(sub.specReplicasPath).startsWith('.spec.')) errs.push(invalid(`${p}.subresources.scale.specReplicasPath`, sub.specReplicasPath, 'should be a json path under .spec'));
      if (!sub.statusReplicasPath) errs.push(required(`${p}.subresources.scale.statusReplicasPath`, ''));
      else if (!String(sub.statusReplicasPath).startsWith('.status.')) errs.push(invalid(`${p}.subresources.scale.statusReplicasPath`, sub.statusReplicasPath, 'should be a json path under .status'));
    }
    for (const [j, c] of (v?.additionalPrinterColumns ?? []).entries()) {
      const cp = `${p}.additionalPrinterColumns[${j}]`;
      if (!c?.name) errs.push(required(`${cp}.name`, ''));
      if (!c?.type) errs.push(required(`${cp}.type`, ''));
      else if (!['integer', 'number', 'string', 'boolean', 'date'].includes(c.type)) errs.push(notSupported(`${cp}.type`, c.type, ['boolean', 'date', 'integer', 'number', 'string']));
      if (!c?.jsonPath) errs.push(required(`${cp}.jsonPath`, ''));
    }
  });
  if (versions.length && storage !== 1) errs.push(invalid('spec.versions', new GoLiteral('[]apiextensions.CustomResourceDefinitionVersion{...}'), 'must have exactly one version marked as storage version'));
  if (versions.length && served === 0) errs.push(invalid('spec.versions', new GoLiteral('[]apiextensions.CustomResourceDefinitionVersion{...}'), 'must have at least one version marked as served'));
  if (spec.preserveUnknownFields === true) {
    errs.push(invalid('spec.preserveUnknownFields', true, 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead'));
  }
  if (spec.conversion?.strategy && spec.conversion.strategy !== 'None' && spec.conversion.strategy !== 'Webhook') {
    errs.push(notSupported('spec.conversion.strategy', spec.conversion.strategy, ['None', 'Webhook']));
  }
  return errs;
}

export function validateCRD(crd: any): FieldError[] {
  const errs = validateObjectMeta(crd?.metadata, false, nameIsDNSSubdomain);
  const spec = crd?.spec;
  const name = crd?.metadata?.name;
  if (name && spec?.names?.plural && spec?.group && name !== `${spec.names.plural}.${spec.group}`) {
    errs.push(invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  }
  return errs.concat(validateSpec(spec));
}

export function validateCRDUpdate(crd: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(crd?.metadata, old?.metadata).concat(validateCRD(crd));
  if (old?.spec?.group && crd?.spec?.group !== old.spec.group) errs.push(invalid('spec.group', crd?.spec?.group, 'field is immutable'));
  // Upstream lets names change only while they are not yet accepted; keep the plural fixed (it names the CRD).
  if (old?.spec?.names?.plural && crd?.spec?.names?.plural !== old.spec.names.plural) errs.push(forbidden('spec.names.plural', 'field is immutable'));
  return errs;
}

/**
 * Warnings for the CEL rules (x-kubernetes-validations) this server does not evaluate: those using
 * a function or syntax its CEL library lacks (upstream would run them). The others are evaluated.
 */
export function celWarnings(crd: any): string[] {
  const out: string[] = [];
  (crd?.spec?.versions ?? []).forEach((v: any, i: number) => out.push(...celRuleProblems(v?.schema?.openAPIV3Schema, `spec.versions[${i}].schema.openAPIV3Schema`).warnings));
  return out;
}
