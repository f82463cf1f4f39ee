/** Which Ingresses this controller owns: ingressClassName, the legacy annotation, or the default class. */
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';

export const DEFAULT_CONTROLLER = 'k8s.io/ingress-nginx';
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

export function ownsIngress(ing: Ingress, classes: readonly IngressClass[], controller: string): boolean {
  const ours = classes.filter((c) => c.spec?.controller === controller);
  const names = new Set(ours.map((c) => c.metadata?.name));
  const byName = ing.spec?.ingressClassName;
  if (byName) return names.has(byName);
  const legacy = ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (legacy !== undefined) return names.has(legacy);
  // Class-less: ours only when our class is the cluster default.
  return ours.some((c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
}
