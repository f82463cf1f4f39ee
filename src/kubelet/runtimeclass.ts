/**
 * The kubelet's RuntimeClass lookup (pkg/kubelet/runtimeclass): a pod's spec.runtimeClassName
 * names the CRI handler its sandbox is created with; the runtime refuses a handler it lacks.
 */

/** The handler for the pod's sandbox ('' for the runtime's default). `get` reads a RuntimeClass (undefined: not found). */
export async function runtimeHandlerFor(pod: any, get: (name: string) => Promise<any | undefined>): Promise<string> {
  const name = pod?.spec?.runtimeClassName;
  if (!name) return '';
  const rc = await get(name);
  if (!rc) throw new Error(`runtimeclass.node.k8s.io "${name}" not found`);
  return typeof rc.handler === 'string' ? rc.handler : '';
}
