/**
 * Field selectors with the semantics of k8s.io/apimachinery pkg/fields (v0.32), plus the
 * per-resource selectable fields of kube-apiserver:
 *   - which labels a request may use  = the scheme's field-label conversion funcs
 *     (pkg/apis/<group>/<version>/conversion.go), including their error texts;
 *   - which values an object exposes  = the registries' ToSelectableFields/GetAttrs.
 * Those two lists differ upstream (e.g. `status.podIPs` is accepted but never set), and we
 * keep the differences so results match a real cluster.
 *
 * Typical server use:
 *   const sel = convertFieldSelector(key, parseFieldSelector(q.fieldSelector));
 *   if (sel.matches(fieldsFor(key, obj))) ...
 */
import { SelectorError } from './labels.js';

export { SelectorError };

export interface FieldRequirement {
  readonly field: string;
  /** `==` is normalised to `=`, as upstream does. */
  readonly operator: '=' | '!=';
  readonly value: string;
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  /** True when the selector does not restrict anything. */
  readonly empty: boolean;
  /** A missing field reads as "" (fields.Set.Get). */
  matches(fields: Record<string, string>): boolean;
  /** The value an `=` term pins for `field` (e.g. metadata.name for single-object watches). */
  requiresExactMatch(field: string): string | undefined;
  toString(): string;
}

/** fields.EscapeValue: backslash-escapes `\`, `,` and `=` so any literal can be a value. */
export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** fields.UnescapeValue, with upstream's error texts. */
function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=')
        throw new SelectorError(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      inSlash = false;
    } else if (c === '\\') {
      inSlash = true;
    } else if (c === ',' || c === '=') {
      // Upstream formats the rune with %v, which prints its code point number.
      throw new SelectorError(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    } else {
      out += c;
    }
  }
  if (inSlash) throw new SelectorError('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Splits on commas that are not backslash-escaped; the escapes stay in the terms. */
function splitTerms(s: string): string[] {
  if (s.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

/** The first operator occurrence splits the term; the field name itself cannot be escaped. */
function splitTerm(term: string): [string, '=' | '!=', string] | undefined {
  for (let i = 0; i < term.length; i++) {
    if (term.startsWith('!=', i)) return [term.slice(0, i), '!=', term.slice(i + 2)];
    if (term.startsWith('==', i)) return [term.slice(0, i), '=', term.slice(i + 2)];
    if (term[i] === '=') return [term.slice(0, i), '=', term.slice(i + 1)];
  }
  return undefined;
}

class TermsSelector implements FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  constructor(reqs: FieldRequirement[]) {
    this.requirements = Object.freeze(reqs.map((r) => Object.freeze({ ...r })));
  }
  get empty(): boolean {
    return this.requirements.length === 0;
  }
  matches(fields: Record<string, string>): boolean {
    for (const r of this.requirements) {
      const v = Object.prototype.hasOwnProperty.call(fields, r.field) ? fields[r.field] : '';
      if ((v === r.value) !== (r.operator === '=')) return false;
    }
    return true;
  }
  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.operator === '=')?.value;
  }
  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(',');
  }
}

export const everythingFieldSelector: FieldSelector = new TermsSelector([]);

/**
 * Parses `?fieldSelector=`: comma-joined `f=v`, `f==v`, `f!=v`; `\,` `\=` `\\` escape
 * inside values. Field names are not validated here (see convertFieldSelector).
 */
export function parseFieldSelector(s: string): FieldSelector {
  const parts = splitTerms(s).sort();
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const split = splitTerm(part);
    if (!split) throw new SelectorError(`invalid selector: '${s}'; can't understand '${part}'`);
    const [field, operator, raw] = split;
    const value = unescapeFieldValue(raw);
    // Upstream's Transform turns a term with empty field and value into Everything.
    if (field === '' && value === '') continue;
    reqs.push({ field, operator, value });
  }
  return new TermsSelector(reqs);
}

/** fields.SelectorFromSet: equality on each entry. */
export function fieldSelectorFromSet(set: Record<string, string>): FieldSelector {
  return new TermsSelector(Object.entries(set).map(([field, value]) => ({ field, operator: '=' as const, value })));
}

// ---------------------------------------------------------------------------
// Per-resource tables. Keys are `resource` for the core group, `group/resource` otherwise.

/** For custom resources: scope and the CRD version's spec.versions[].selectableFields. */
export interface CustomResourceFieldOptions {
  namespaced: boolean;
  /** JSONPaths such as `.spec.color` (a leading dot is optional). */
  selectableFields?: string[];
}
export interface FieldOptions {
  crd?: CustomResourceFieldOptions;
}

interface FieldLabelRule {
  /** Request label → internal field name (the key in fieldsFor's result). */
  labels: Record<string, string>;
  unsupported(label: string): string;
}

const notSupported = (label: string) => `field label not supported: ${label}`;
const same = (...names: string[]): Record<string, string> => Object.fromEntries(names.map((n) => [n, n]));

const INVOLVED_OBJECT = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'];

const RULES: Record<string, FieldLabelRule> = {
  pods: {
    labels: {
      ...same(
        'metadata.name',
        'metadata.namespace',
        'spec.nodeName',
        'spec.restartPolicy',
        'spec.schedulerName',
        'spec.serviceAccountName',
        'spec.hostNetwork',
        'status.phase',
        'status.podIP',
        'status.podIPs',
        'status.nominatedNodeName',
      ),
      'spec.host': 'spec.nodeName', // old v1 clients
    },
    unsupported: notSupported,
  },
  nodes: { labels: same('metadata.name', 'spec.unschedulable'), unsupported: notSupported },
  replicationcontrollers: {
    labels: same('metadata.name', 'metadata.namespace', 'status.replicas'),
    unsupported: notSupported,
  },
  events: {
    labels: same(
      ...INVOLVED_OBJECT.map((f) => `involvedObject.${f}`),
      'reason',
      'reportingComponent',
      'source',
      'type',
      'metadata.namespace',
      'metadata.name',
    ),
    unsupported: notSupported,
  },
  namespaces: { labels: same('status.phase', 'metadata.name'), unsupported: notSupported },
  secrets: { labels: same('type', 'metadata.namespace', 'metadata.name'), unsupported: notSupported },
  services: {
    labels: same('metadata.namespace', 'metadata.name', 'spec.clusterIP', 'spec.type'),
    unsupported: notSupported,
  },
  'batch/jobs': {
    labels: same('metadata.name', 'metadata.namespace', 'status.successful'),
    unsupported: (label) => `field label ${JSON.stringify(label)} not supported for batchv1.Job`,
  },
  // events.k8s.io shares core Event storage; its names map onto the core field set.
  'events.k8s.io/events': {
    labels: {
      ...Object.fromEntries(INVOLVED_OBJECT.map((f) => [`regarding.${f}`, `involvedObject.${f}`])),
      reportingController: 'reportingComponent',
      ...same('reason', 'source', 'type', 'metadata.namespace', 'metadata.name'),
    },
    unsupported: notSupported,
  },
  'certificates.k8s.io/certificatesigningrequests': {
    labels: same('metadata.name', 'spec.signerName'),
    unsupported: notSupported,
  },
};

/** runtime.DefaultMetaV1FieldSelectorConversion: every kind without its own conversion func. */
const DEFAULT_RULE: FieldLabelRule = {
  labels: same('metadata.name', 'metadata.namespace'),
  unsupported: (label) => `${JSON.stringify(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`,
};

const stripDot = (p: string) => (p.startsWith('.') ? p.slice(1) : p);

function ruleFor(resourceKey: string, opts?: FieldOptions): FieldLabelRule {
  const r = RULES[resourceKey];
  if (r) return r;
  if (opts?.crd) {
    const names = ['metadata.name', ...(opts.crd.namespaced ? ['metadata.namespace'] : [])];
    names.push(...(opts.crd.selectableFields ?? []).map(stripDot));
    return { labels: same(...names), unsupported: notSupported };
  }
  return DEFAULT_RULE;
}

/** The field labels a request may use for this resource. */
export function supportedFieldSelectors(resourceKey: string, opts?: FieldOptions): string[] {
  return Object.keys(ruleFor(resourceKey, opts).labels);
}

/**
 * The server-side step between parsing and matching (upstream: Transform with
 * ConvertFieldLabel): rejects unsupported labels with upstream's message and renames
 * aliases (pods `spec.host`, events.k8s.io `regarding.*`) to the names fieldsFor produces.
 */
export function convertFieldSelector(resourceKey: string, sel: FieldSelector, opts?: FieldOptions): FieldSelector {
  const rule = ruleFor(resourceKey, opts);
  return new TermsSelector(
    sel.requirements.map((r) => {
      if (!Object.prototype.hasOwnProperty.call(rule.labels, r.field)) throw new SelectorError(rule.unsupported(r.field));
      return { ...r, field: rule.labels[r.field]! };
    }),
  );
}

// Resources whose objects carry no namespace (ObjectMetaFieldsSet(..., false) upstream).
const CLUSTER_SCOPED = new Set([
  'nodes',
  'namespaces',
  'persistentvolumes',
  'componentstatuses',
  'certificates.k8s.io/certificatesigningrequests',
  'rbac.authorization.k8s.io/clusterroles',
  'rbac.authorization.k8s.io/clusterrolebindings',
  'storage.k8s.io/storageclasses',
  'storage.k8s.io/csidrivers',
  'storage.k8s.io/csinodes',
  'storage.k8s.io/volumeattachments',
  'apiextensions.k8s.io/customresourcedefinitions',
  'apiregistration.k8s.io/apiservices',
  'admissionregistration.k8s.io/mutatingwebhookconfigurations',
  'admissionregistration.k8s.io/validatingwebhookconfigurations',
  'scheduling.k8s.io/priorityclasses',
  'networking.k8s.io/ingressclasses',
  'node.k8s.io/runtimeclasses',
]);

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const bool = (v: unknown): string => (v === true ? 'true' : 'false');
const int = (v: unknown): string => (typeof v === 'number' ? String(Math.trunc(v)) : '0');

function get(obj: any, path: string): unknown {
  let cur = obj;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[p];
  }
  return cur;
}

/** Core Event field set, reading either the core/v1 or the events.k8s.io/v1 shape. */
function eventFields(ev: any): Record<string, string> {
  const ref = ev?.involvedObject ?? ev?.regarding ?? {};
  const reportingController = ev?.reportingComponent ?? ev?.reportingController;
  const source = ev?.source?.component || ev?.deprecatedSource?.component || reportingController;
  const out: Record<string, string> = {};
  for (const f of INVOLVED_OBJECT) out[`involvedObject.${f}`] = str(ref[f]);
  out['reason'] = str(ev?.reason);
  out['reportingComponent'] = str(reportingController);
  out['source'] = str(source);
  out['type'] = str(ev?.type);
  return out;
}

/**
 * The selectable fields of an object (upstream ToSelectableFields / GetAttrs), keyed by the
 * internal field names that convertFieldSelector produces.
 */
export function fieldsFor(resourceKey: string, obj: any, opts?: FieldOptions): Record<string, string> {
  const md = obj?.metadata ?? {};
  const namespaced = opts?.crd && !RULES[resourceKey] ? opts.crd.namespaced : !CLUSTER_SCOPED.has(resourceKey);
  const out: Record<string, string> = { 'metadata.name': str(md.name) };
  if (namespaced) out['metadata.namespace'] = str(md.namespace);
  const spec = obj?.spec ?? {};
  const status = obj?.status ?? {};
  switch (resourceKey) {
    case 'pods':
      out['spec.nodeName'] = str(spec.nodeName);
      out['spec.restartPolicy'] = str(spec.restartPolicy);
      out['spec.schedulerName'] = str(spec.schedulerName);
      out['spec.serviceAccountName'] = str(spec.serviceAccountName);
      out['spec.hostNetwork'] = bool(spec.hostNetwork);
      out['status.phase'] = str(status.phase);
      // Internal PodStatus keeps only podIPs; v1 podIP is its first entry. No status.podIPs field.
      out['status.podIP'] = str(status.podIPs?.[0]?.ip ?? status.podIP);
      out['status.nominatedNodeName'] = str(status.nominatedNodeName);
      break;
    case 'nodes':
      out['spec.unschedulable'] = bool(spec.unschedulable);
      break;
    case 'namespaces':
      out['status.phase'] = str(status.phase);
      out['name'] = str(md.name); // upstream keeps this legacy key for compatibility
      break;
    case 'secrets':
      out['type'] = str(obj?.type);
      break;
    case 'services':
      out['spec.clusterIP'] = str(spec.clusterIP);
      out['spec.type'] = str(spec.type);
      break;
    case 'replicationcontrollers':
    case 'apps/replicasets':
      // apps/v1 accepts only metadata.* labels, so status.replicas is only reachable for RCs.
      out['status.replicas'] = int(status.replicas);
      break;
    case 'batch/jobs':
      out['status.successful'] = int(status.succeeded);
      break;
    case 'events':
    case 'events.k8s.io/events':
      Object.assign(out, eventFields(obj));
      break;
    case 'certificates.k8s.io/certificatesigningrequests':
      out['spec.signerName'] = str(spec.signerName);
      break;
    default:
      if (opts?.crd?.selectableFields) {
        for (const p of opts.crd.selectableFields) {
          const name = stripDot(p);
          const v = get(obj, name);
          if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[name] = String(v);
        }
      }
  }
  return out;
}
