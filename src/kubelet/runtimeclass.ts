/**
 * The kubelet's RuntimeClass lookup (pkg/kubelet/runtimeclass): a pod's spec.runtimeClassName
 * names the CRI handler its sandbox is created with.
 */

/**
 * The handlers the process runtime serves: its one way of running pods, under the name of
 * containerd's default handler so RuntimeClasses written for it run here too.
 */
export const PROCESS_RUNTIME_HANDLERS: readonly string[] = ['runc'];

/**
 * The handler for the pod's sandbox ('' for the runtime's default). `get` reads a RuntimeClass
 * (undefined: not found). With `supported`, a handler outside it fails as containerd fails an
 * unconfigured one: the process runtime takes no handler argument.
 */
export async function runtimeHandlerFor(pod: any, get: (name: string) => Promise<any | undefined>, supported?: readonly string[]): Promise<string> {
  const name = pod?.spec?.runtimeClassName;
  if (!name) return '';
  const rc = await get(name);
  if (!rc) throw new Error(`runtimeclass.node.k8s.io "${name}" not found`);
  const handler = typeof rc.handler === 'string' ? rc.handler : '';
  if (supported && handler && !supported.includes(handler)) throw new Error(`failed to get sandbox runtime: no runtime for "${handler}" is configured`);
  return handler;
}
