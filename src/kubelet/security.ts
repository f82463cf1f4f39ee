/**
 * A pod's securityContext as the CRI sees it, as upstream's kuberuntime does: the container's
 * effective context (pod-level runAsUser/runAsGroup/runAsNonRoot/seccomp/appArmor, overridden by
 * the container's own), with fsGroup and supplementalGroups added, allowPrivilegeEscalation as
 * no_new_privs, the default masked/readonly /proc paths, seccomp Unconfined unless asked (the
 * kubelet's --seccomp-default is off by default), the pod's namespaces, and the sandbox's context.
 * Pure: the image's user comes in as an argument.
 */
import type { LinuxContainerSecurityContext, LinuxSandboxSecurityContext, NamespaceOption, SecurityProfile } from '../runtime/cri.js';

/** securitycontext.DefaultProcMountMaskedPaths / DefaultProcMountReadonlyPaths. */
export const DEFAULT_MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The container's effective securityContext (securitycontext.DetermineEffectiveSecurityContext). */
export function effectiveSecurityContext(pod: any, container: any): any {
  const psc = pod.spec?.securityContext ?? {};
  const csc = container.securityContext ?? {};
  const out: any = {};
  for (const k of ['seLinuxOptions', 'windowsOptions', 'runAsUser', 'runAsGroup', 'runAsNonRoot', 'seccompProfile', 'appArmorProfile']) {
    const v = csc[k] ?? psc[k];
    if (v !== undefined && v !== null) out[k] = v;
  }
  for (const k of ['capabilities', 'privileged', 'readOnlyRootFilesystem', 'allowPrivilegeEscalation', 'procMount']) {
    if (csc[k] !== undefined && csc[k] !== null) out[k] = csc[k];
  }
  return out;
}

/** runtimeutil.NamespacesForPod. */
export function namespacesForPod(pod: any): NamespaceOption {
  const s = pod.spec ?? {};
  return {
    network: s.hostNetwork ? 'NODE' : 'POD',
    pid: s.hostPID ? 'NODE' : s.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: s.hostIPC ? 'NODE' : 'POD',
  };
}

function profile(p: any, kind: 'seccomp' | 'apparmor'): SecurityProfile | undefined {
  if (!p?.type) return undefined;
  if (p.type === 'RuntimeDefault') return { profileType: 'RuntimeDefault' };
  if (p.type === 'Unconfined') return { profileType: 'Unconfined' };
  if (p.type === 'Localhost') {
    // Seccomp's localhost profiles live under the kubelet's seccomp root; AppArmor's are names.
    const ref = kind === 'seccomp' ? `/var/lib/kubelet/seccomp/${p.localhostProfile ?? ''}` : (p.localhostProfile ?? '');
    return { profileType: 'Localhost', localhostRef: ref };
  }
  return undefined;
}

/** The seccomp profile: the container's, else the pod's, else Unconfined (or RuntimeDefault with seccompDefault). */
export function seccompProfile(pod: any, container: any, seccompDefault = false): SecurityProfile {
  return (
    profile(container.securityContext?.seccompProfile, 'seccomp') ??
    profile(pod.spec?.securityContext?.seccompProfile, 'seccomp') ??
    (seccompDefault ? { profileType: 'RuntimeDefault' } : { profileType: 'Unconfined' })
  );
}

/** The AppArmor profile when one is asked for (field, then the deprecated annotation); else the runtime's default. */
export function appArmorProfile(pod: any, container: any): SecurityProfile | undefined {
  const field = profile(container.securityContext?.appArmorProfile, 'apparmor') ?? profile(pod.spec?.securityContext?.appArmorProfile, 'apparmor');
  if (field) return field;
  const ann = pod.metadata?.annotations?.[`container.apparmor.security.beta.kubernetes.io/${container.name}`];
  if (ann === 'unconfined') return { profileType: 'Unconfined' };
  if (ann === 'runtime/default') return { profileType: 'RuntimeDefault' };
  if (typeof ann === 'string' && ann.startsWith('localhost/')) return { profileType: 'Localhost', localhostRef: ann.slice('localhost/'.length) };
  return undefined;
}

function int64(v: unknown): { value: number } | undefined {
  return typeof v === 'number' ? { value: v } : undefined;
}

/** kuberuntime determineEffectiveSecurityContext: the CRI LinuxContainerSecurityContext of one container. */
export function containerSecurityContext(pod: any, container: any, o: { seccompDefault?: boolean } = {}): LinuxContainerSecurityContext {
  const sc = effectiveSecurityContext(pod, container);
  const out: LinuxContainerSecurityContext = {};
  if (sc.runAsUser !== undefined) out.runAsUser = int64(sc.runAsUser);
  if (sc.runAsGroup !== undefined) out.runAsGroup = int64(sc.runAsGroup);
  if (sc.privileged) out.privileged = true;
  if (sc.readOnlyRootFilesystem) out.readonlyRootfs = true;
  if (sc.capabilities) {
    out.capabilities = { addCapabilities: [...(sc.capabilities.add ?? [])], dropCapabilities: [...(sc.capabilities.drop ?? [])] };
  }
  out.seccomp = seccompProfile(pod, container, o.seccompDefault);
  const aa = appArmorProfile(pod, container);
  if (aa) out.apparmor = aa;
  out.namespaceOptions = namespacesForPod(pod);
  const psc = pod.spec?.securityContext ?? {};
  const groups: number[] = [];
  if (typeof psc.fsGroup === 'number') groups.push(psc.fsGroup);
  for (const g of psc.supplementalGroups ?? []) groups.push(g);
  if (groups.length) out.supplementalGroups = groups;
  // allowPrivilegeEscalation: false sets no_new_privs; unset leaves it off (securitycontext.AddNoNewPrivileges).
  out.noNewPrivs = sc.allowPrivilegeEscalation === false;
  // procMount Unmasked clears the lists; the default masks and write-protects sensitive /proc paths.
  const unmasked = sc.procMount === 'Unmasked';
  out.maskedPaths = unmasked ? [] : [...DEFAULT_MASKED_PATHS];
  out.readonlyPaths = unmasked ? [] : [...DEFAULT_READONLY_PATHS];
  return out;
}

/** Any container (init, sidecar or app) asking for privileged mode: the sandbox must allow it. */
export function hasPrivilegedContainer(pod: any): boolean {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
  return all.some((c: any) => c.securityContext?.privileged === true);
}

/** generatePodSandboxLinuxConfig's security context (and sysctls). */
export function sandboxSecurityContext(pod: any, o: { seccompDefault?: boolean } = {}): { securityContext: LinuxSandboxSecurityContext; sysctls?: Record<string, string> } {
  const psc = pod.spec?.securityContext ?? {};
  const sc: LinuxSandboxSecurityContext = { namespaceOptions: namespacesForPod(pod) };
  if (typeof psc.runAsUser === 'number') sc.runAsUser = { value: psc.runAsUser };
  if (typeof psc.runAsGroup === 'number') sc.runAsGroup = { value: psc.runAsGroup };
  const groups: number[] = [];
  if (typeof psc.fsGroup === 'number') groups.push(psc.fsGroup);
  for (const g of psc.supplementalGroups ?? []) groups.push(g);
  if (groups.length) sc.supplementalGroups = groups;
  if (hasPrivilegedContainer(pod)) sc.privileged = true;
  sc.seccomp = profile(psc.seccompProfile, 'seccomp') ?? (o.seccompDefault ? { profileType: 'RuntimeDefault' } : { profileType: 'Unconfined' });
  const aa = profile(psc.appArmorProfile, 'apparmor');
  if (aa) sc.apparmor = aa;
  const sysctls = Object.fromEntries((psc.sysctls ?? []).map((s: any) => [s.name, String(s.value)]));
  return Object.keys(sysctls).length ? { securityContext: sc, sysctls } : { securityContext: sc };
}

/**
 * verifyRunAsNonRoot: with runAsNonRoot the container must not run as uid 0, whether asked for
 * explicitly or inherited from the image's user (an image with no user runs as root). Returns
 * upstream's message, or undefined when fine.
 */
export function verifyRunAsNonRoot(pod: any, container: any, image: { uid?: number; username?: string } | undefined | 'unknown'): string | undefined {
  const sc = effectiveSecurityContext(pod, container);
  if (sc.runAsNonRoot !== true) return undefined;
  const who = `pod: "${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})", container: ${container.name}`;
  if (typeof sc.runAsUser === 'number') return sc.runAsUser === 0 ? `container's runAsUser breaks non-root policy (${who})` : undefined;
  // A runtime without image users (the process runtime) cannot tell: only the explicit uid is checked.
  if (image === 'unknown') return undefined;
  if (image?.uid !== undefined) return image.uid === 0 ? `container has runAsNonRoot and image will run as root (${who})` : undefined;
  if (image?.username) return `container has runAsNonRoot and image has non-numeric user (${image.username}), cannot verify user is non-root (${who})`;
  return `container has runAsNonRoot and image will run as root (${who})`;
}
