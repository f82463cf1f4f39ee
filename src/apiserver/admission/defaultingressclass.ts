import type { AdmissionPlugin } from './types.js';
import { REGISTRY_PREFIX } from '../watchcache.js';

const DEFAULT = 'ingressclass.kubernetes.io/is-default-class';
const CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/**
 * Upstream's DefaultIngressClass admission plugin: an Ingress created without spec.ingressClassName
 * (nil, not "") and without the legacy kubernetes.io/ingress.class annotation gets the default
 * IngressClass (annotation is-default-class "true"; several: the newest, then the name first).
 */
export const defaultIngressClassPlugin: AdmissionPlugin = {
  name: 'DefaultIngressClass',
  handles: (req) => req.info.key === 'networking.k8s.io/ingresses' && req.operation === 'CREATE' && !req.subresource,
  admit(req) {
    const ing = req.object;
    if (ing.spec?.ingressClassName !== undefined && ing.spec?.ingressClassName !== null) return;
    if (ing.metadata?.annotations?.[CLASS_ANNOTATION] !== undefined) return;
    const classes = req.registry.cache.list('networking.k8s.io/ingressclasses', `${REGISTRY_PREFIX}networking.k8s.io/ingressclasses/`).map((c) => c.obj);
    const defaults = classes.filter((c) => c.metadata?.annotations?.[DEFAULT] === 'true');
    if (!defaults.length) return;
    defaults.sort((a, b) => (Date.parse(b.metadata.creationTimestamp) || 0) - (Date.parse(a.metadata.creationTimestamp) || 0) || (a.metadata.name < b.metadata.name ? -1 : 1));
    (ing.spec ??= {}).ingressClassName = defaults[0].metadata.name;
  },
};
