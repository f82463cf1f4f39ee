/**
 * flowcontrol.apiserver.k8s.io/v1 FlowSchema and PriorityLevelConfiguration: upstream's validation
 * basics (pkg/apis/flowcontrol/validation) and v1 defaults. Skiff stores them and does no API
 * Priority and Fairness with them.
 */
import type { FieldError } from './types.js';
import { forbidden, invalid, notSupported, required } from './errors.js';
import { isDNS1123Subdomain, nameIsDNSSubdomain } from './names.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';

const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);
const strOf = (v: unknown): string => (typeof v === 'string' ? v : '');
const listOf = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const intOf = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const absent = (v: unknown): boolean => v === undefined || v === null;

export function defaultFlowSchema(obj: any): void {
  if (!isObj(obj)) return;
  if (!isObj(obj.spec)) obj.spec = {};
  if (!intOf(obj.spec.matchingPrecedence)) obj.spec.matchingPrecedence = 1000;
}

export function defaultPriorityLevelConfiguration(obj: any): void {
  if (!isObj(obj) || !isObj(obj.spec)) return;
  const s = obj.spec;
  if (s.type === 'Exempt' && isObj(s.exempt)) {
    s.exempt.nominalConcurrencyShares ??= 0;
    s.exempt.lendablePercent ??= 0;
  }
  if (isObj(s.limited)) {
    s.limited.nominalConcurrencyShares ??= 30;
    s.limited.lendablePercent ??= 0;
    const q = s.limited.limitResponse?.queuing;
    if (isObj(q)) {
      if (!intOf(q.queues)) q.queues = 64;
      if (!intOf(q.handSize)) q.handSize = 8;
      if (!intOf(q.queueLengthLimit)) q.queueLengthLimit = 50;
    }
  }
}

const SUBJECT_KINDS = ['Group', 'ServiceAccount', 'User'];
const DISTINGUISHER_TYPES = ['ByNamespace', 'ByUser'];

function validateSubject(s: any, f: string): FieldError[] {
  const errs: FieldError[] = [];
  const kind = strOf(s?.kind);
  const check = (key: string, what: string, name: (v: any) => FieldError[]) => {
    if (absent(s?.[key])) errs.push(required(`${f}.${key}`, `${key} is required when subject kind is '${what}'`));
    else errs.push(...name(s[key]));
  };
  const others = (keep: string) => {
    if (keep !== 'user' && !absent(s?.user)) errs.push(forbidden(`${f}.user`, "user is forbidden when subject kind is not 'User'"));
    if (keep !== 'group' && !absent(s?.group)) errs.push(forbidden(`${f}.group`, "group is forbidden when subject kind is not 'Group'"));
    if (keep !== 'serviceAccount' && !absent(s?.serviceAccount)) errs.push(forbidden(`${f}.serviceAccount`, "serviceAccount is forbidden when subject kind is not 'ServiceAccount'"));
  };
  switch (kind) {
    case 'User':
      check('user', 'User', (u) => (strOf(u?.name) ? [] : [required(`${f}.user.name`, 'username is required')]));
      others('user');
      break;
    case 'Group':
      check('group', 'Group', (g) => (strOf(g?.name) ? [] : [required(`${f}.group.name`, 'groupname is required')]));
      others('group');
      break;
    case 'ServiceAccount':
      check('serviceAccount', 'ServiceAccount', (sa) => [
        ...(strOf(sa?.name) ? [] : [required(`${f}.serviceAccount.name`, 'name is required')]),
        ...(strOf(sa?.namespace) ? [] : [required(`${f}.serviceAccount.namespace`, 'namespace is required')]),
      ]);
      others('serviceAccount');
      break;
    default:
      errs.push(notSupported(`${f}.kind`, kind, SUBJECT_KINDS));
  }
  return errs;
}

function validateRule(r: any, f: string): FieldError[] {
  const errs: FieldError[] = [];
  const subjects = listOf(r?.subjects);
  if (!subjects.length) errs.push(required(`${f}.subjects`, 'subjects must contain at least one value'));
  subjects.forEach((s, i) => errs.push(...validateSubject(s, `${f}.subjects[${i}]`)));
  const rr = listOf(r?.resourceRules);
  const nr = listOf(r?.nonResourceRules);
  if (!rr.length && !nr.length) errs.push(required(f, 'at least one of resourceRules and nonResourceRules has to be non-empty'));
  rr.forEach((x, i) => {
    const p = `${f}.resourceRules[${i}]`;
    if (!listOf(x?.verbs).length) errs.push(required(`${p}.verbs`, 'verbs must contain at least one value'));
    if (!listOf(x?.apiGroups).length) errs.push(required(`${p}.apiGroups`, 'resource rules must supply at least one api group'));
    if (!listOf(x?.resources).length) errs.push(required(`${p}.resources`, 'resource rules must supply at least one resource'));
    if (x?.clusterScope !== true && !listOf(x?.namespaces).length) errs.push(required(`${p}.namespaces`, 'resource rules that are not cluster scoped must supply at least one namespace'));
  });
  nr.forEach((x, i) => {
    const p = `${f}.nonResourceRules[${i}]`;
    if (!listOf(x?.verbs).length) errs.push(required(`${p}.verbs`, 'verbs must contain at least one value'));
    if (!listOf(x?.nonResourceURLs).length) errs.push(required(`${p}.nonResourceURLs`, 'nonResourceURLs must contain at least one value'));
  });
  return errs;
}

export function validateFlowSchema(obj: any): FieldError[] {
  const errs = validateObjectMeta(obj?.metadata, false, nameIsDNSSubdomain);
  const s = isObj(obj?.spec) ? obj.spec : {};
  const mp = intOf(s.matchingPrecedence);
  if (mp <= 0) errs.push(invalid('spec.matchingPrecedence', mp, 'must be a positive value'));
  else if (mp > 10000) errs.push(invalid('spec.matchingPrecedence', mp, 'must not be greater than 10000'));
  const pl = strOf(s.priorityLevelConfiguration?.name);
  if (!pl) errs.push(required('spec.priorityLevelConfiguration.name', 'must reference a priority level'));
  else for (const m of isDNS1123Subdomain(pl)) errs.push(invalid('spec.priorityLevelConfiguration.name', pl, m));
  if (isObj(s.distinguisherMethod) && !DISTINGUISHER_TYPES.includes(s.distinguisherMethod.type)) {
    errs.push(notSupported('spec.distinguisherMethod.type', strOf(s.distinguisherMethod.type), DISTINGUISHER_TYPES));
  }
  listOf(s.rules).forEach((r, i) => errs.push(...validateRule(r, `spec.rules[${i}]`)));
  return errs;
}

export function validateFlowSchemaUpdate(obj: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(obj?.metadata, old?.metadata).concat(validateFlowSchema(obj));
}

const PL_TYPES = ['Exempt', 'Limited'];
const LIMIT_RESPONSE_TYPES = ['Queue', 'Reject'];

function validateLimited(l: any): FieldError[] {
  const errs: FieldError[] = [];
  const f = 'spec.limited';
  if (!absent(l.nominalConcurrencyShares) && intOf(l.nominalConcurrencyShares) < 0) errs.push(invalid(`${f}.nominalConcurrencyShares`, intOf(l.nominalConcurrencyShares), 'must be a non-negative integer'));
  if (!absent(l.lendablePercent) && (intOf(l.lendablePercent) < 0 || intOf(l.lendablePercent) > 100)) errs.push(invalid(`${f}.lendablePercent`, intOf(l.lendablePercent), 'must be between 0 and 100, inclusive'));
  if (!absent(l.borrowingLimitPercent) && intOf(l.borrowingLimitPercent) < 0) errs.push(invalid(`${f}.borrowingLimitPercent`, intOf(l.borrowingLimitPercent), 'if specified, must be a non-negative integer'));
  const lr = isObj(l.limitResponse) ? l.limitResponse : {};
  const type = strOf(lr.type);
  if (type === 'Queue') {
    const q = lr.queuing;
    if (!isObj(q)) errs.push(required(`${f}.limitResponse.queuing`, 'must not be empty if the type is Queue'));
    else {
      const p = `${f}.limitResponse.queuing`;
      for (const k of ['queueLengthLimit', 'queues', 'handSize']) if (intOf(q[k]) <= 0) errs.push(invalid(`${p}.${k}`, intOf(q[k]), 'must be positive'));
      if (intOf(q.queues) > 0 && intOf(q.handSize) > intOf(q.queues)) errs.push(invalid(`${p}.handSize`, intOf(q.handSize), `should not be greater than queues (${intOf(q.queues)})`));
    }
  } else if (type === 'Reject') {
    if (!absent(lr.queuing)) errs.push(forbidden(`${f}.limitResponse.queuing`, 'must be nil if limited.limitResponse.type is not Limited'));
  } else errs.push(notSupported(`${f}.limitResponse.type`, type, LIMIT_RESPONSE_TYPES));
  return errs;
}

export function validatePriorityLevelConfiguration(obj: any): FieldError[] {
  const errs = validateObjectMeta(obj?.metadata, false, nameIsDNSSubdomain);
  const s = isObj(obj?.spec) ? obj.spec : {};
  const type = strOf(s.type);
  if (type === 'Limited') {
    if (!isObj(s.limited)) errs.push(required('spec.limited', 'must not be empty when type is Limited'));
    else errs.push(...validateLimited(s.limited));
    if (!absent(s.exempt)) errs.push(forbidden('spec.exempt', 'must be nil if the type is Limited'));
  } else if (type === 'Exempt') {
    if (!absent(s.limited)) errs.push(forbidden('spec.limited', 'must be nil if the type is not Limited'));
    const e = isObj(s.exempt) ? s.exempt : {};
    if (!absent(e.nominalConcurrencyShares) && intOf(e.nominalConcurrencyShares) < 0) errs.push(invalid('spec.exempt.nominalConcurrencyShares', intOf(e.nominalConcurrencyShares), 'must be a non-negative integer'));
    if (!absent(e.lendablePercent) && (intOf(e.lendablePercent) < 0 || intOf(e.lendablePercent) > 100)) errs.push(invalid('spec.exempt.lendablePercent', intOf(e.lendablePercent), 'must be between 0 and 100, inclusive'));
  } else errs.push(notSupported('spec.type', type, PL_TYPES));
  return errs;
}

export function validatePriorityLevelConfigurationUpdate(obj: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(obj?.metadata, old?.metadata).concat(validatePriorityLevelConfiguration(obj));
}
