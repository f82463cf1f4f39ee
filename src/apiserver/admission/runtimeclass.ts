import type { AdmissionPlugin, AdmissionRequest } from './types.js';
import { forbidden, isPodCreate } from './util.js';
import { REGISTRY_PREFIX } from '../watchcache.js';
import { semanticEqual } from '../validation/equal.js';

const KEY_PREFIX = `${REGISTRY_PREFIX}node.k8s.io/runtimeclasses/`;

/** The pod's RuntimeClass, or undefined when it names none; a missing one is refused at create, as upstream. */
async function runtimeClassOf(req: AdmissionRequest): Promise<any> {
  const name = req.object?.spec?.runtimeClassName;
  if (name === undefined || name === null) return undefined;
  let rc = req.registry.cache.get(KEY_PREFIX + name);
  if (!rc) {
    // The cache may lag a RuntimeClass created just before: upstream does a live lookup then.
    await req.registry.cache.sync();
    rc = req.registry.cache.get(KEY_PREFIX + name);
  }
  if (!rc) throw forbiddenPod(req, `pod rejected: RuntimeClass "${name}" not found`);
  return rc.obj;
}

/** admission.NewForbidden names a pod still to be named by its generateName. */
function forbiddenPod(req: AdmissionRequest, why: string) {
  const meta = req.object?.metadata;
  if (meta && !meta.name && meta.generateName) return forbidden({ ...req, object: { metadata: { name: meta.generateName } } }, why);
  return forbidden(req, why);
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** isSuperset of pkg/util/tolerations: whether toleration ss tolerates everything t does. */
function isSuperset(ss: any, t: any): boolean {
  if (semanticEqual(t, ss)) return true;
  if (str(t.key) !== str(ss.key) && (str(ss.key) !== '' || ss.operator !== 'Exists')) return false;
  if (str(t.effect) !== str(ss.effect) && str(ss.effect) !== '') return false;
  if (ss.effect === 'NoExecute' && typeof ss.tolerationSeconds === 'number') {
    if (typeof t.tolerationSeconds !== 'number' || t.tolerationSeconds > ss.tolerationSeconds) return false;
  }
  switch (str(ss.operator)) {
    case 'Equal': case '':
      return t.operator === 'Equal' && str(t.value) === str(ss.value);
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/** MergeTolerations: both lists, keeping only one of equal tolerations and dropping those another covers. */
export function mergeTolerations(first: any[], second: any[]): any[] {
  const all = [...first, ...second];
  const merged: any[] = [];
  all.forEach((t, i) => {
    if (merged.some((m) => isSuperset(m, t))) return;
    if (all.slice(i + 1).some((t2) => !semanticEqual(t, t2) && isSuperset(t2, t))) return;
    merged.push(t);
  });
  return merged;
}

/** Upstream tests len(pod.Spec.Overhead) > 0: an empty map is no overhead. */
function hasOverhead(o: unknown): boolean {
  return o !== null && typeof o === 'object' && Object.keys(o).length > 0;
}

function setOverhead(req: AdmissionRequest, spec: any, rc: any): void {
  const fixed = rc?.overhead?.podFixed;
  if (!rc?.overhead) return;
  if (hasOverhead(spec.overhead) && !semanticEqual(fixed, spec.overhead)) {
    throw forbiddenPod(req, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead");
  }
  if (fixed === undefined || fixed === null) delete spec.overhead;
  else spec.overhead = structuredClone(fixed);
}

function setScheduling(req: AdmissionRequest, spec: any, rc: any): void {
  const s = rc?.scheduling;
  if (!s) return;
  const selector = s.nodeSelector ?? {};
  if (spec.nodeSelector === undefined || spec.nodeSelector === null) {
    if (s.nodeSelector) spec.nodeSelector = { ...s.nodeSelector };
  } else {
    // Go ranges over a map in no set order; Skiff reports the first conflicting key by name.
    for (const key of Object.keys(selector).sort()) {
      const podValue = spec.nodeSelector[key];
      if (podValue !== undefined && podValue !== selector[key]) {
        throw forbiddenPod(req, `conflict: runtimeClass.scheduling.nodeSelector[${key}] = ${selector[key]}; pod.spec.nodeSelector[${key}] = ${podValue}`);
      }
      spec.nodeSelector[key] = selector[key];
    }
  }
  const merged = mergeTolerations(spec.tolerations ?? [], (s.tolerations ?? []).map((t: any) => structuredClone(t)));
  if (merged.length) spec.tolerations = merged;
  else delete spec.tolerations;
}

/**
 * The RuntimeClass admission plugin (plugin/pkg/admission/runtimeclass): a new pod's
 * spec.runtimeClassName must name an existing RuntimeClass, whose overhead becomes the pod's
 * spec.overhead and whose scheduling constraints are merged into the pod's.
 */
export const runtimeClassPlugin: AdmissionPlugin = {
  name: 'RuntimeClass',
  handles: isPodCreate,
  async admit(req) {
    const rc = await runtimeClassOf(req);
    const spec = (req.object.spec ??= {});
    setOverhead(req, spec, rc);
    setScheduling(req, spec, rc);
  },
  async validate(req) {
    const rc = await runtimeClassOf(req);
    const overhead = req.object.spec?.overhead;
    if (rc?.overhead) {
      if (!semanticEqual(rc.overhead.podFixed, overhead)) throw forbiddenPod(req, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead");
    } else if (hasOverhead(overhead)) {
      throw forbiddenPod(req, 'pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
    }
  },
};
