import { REGISTRY_PREFIX } from '../watchcache.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';
import { forbidden, addWarning } from './util.js';

export type Level = 'privileged' | 'baseline' | 'restricted';
const LEVELS: Level[] = ['privileged', 'baseline', 'restricted'];
const LABEL = 'pod-security.kubernetes.io/';

interface Result {
  reason: string;
  detail?: string;
}

const plural = (one: string, many: string, n: number) => (n === 1 ? one : many);
const joinQuote = (xs: string[]) => (xs.length ? `"${xs.join('", "')}"` : '');
const containersText = (names: string[]) => `${plural('container', 'containers', names.length)} ${joinQuote(names)}`;

/** Containers in upstream's visiting order: init, regular, ephemeral. */
function visit(spec: any): any[] {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])];
}

const BASELINE_CAPS = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const SAFE_SYSCTLS = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']);
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret', 'image'];

type Check = { id: string; level: 'baseline' | 'restricted'; overrides?: string[]; run(meta: any, spec: any): Result | undefined };

/** Upstream's checks (k8s.io/pod-security-admission/policy), baseline first, each level in ID order. */
const CHECKS: Check[] = [
  {
    id: 'appArmorProfile',
    level: 'baseline',
    run(meta, spec) {
      const bad: string[] = [];
      const ok = (p: any) => !p || p.type === 'RuntimeDefault' || p.type === 'Localhost';
      if (!ok(spec.securityContext?.appArmorProfile)) bad.push(`pod must not set securityContext.appArmorProfile.type to "${spec.securityContext.appArmorProfile.type}"`);
      for (const c of visit(spec)) if (!ok(c.securityContext?.appArmorProfile)) bad.push(`container "${c.name}" must not set securityContext.appArmorProfile.type to "${c.securityContext.appArmorProfile.type}"`);
      for (const [k, v] of Object.entries(meta?.annotations ?? {})) {
        if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && v !== 'runtime/default' && !String(v).startsWith('localhost/')) bad.push(`${k}="${v}"`);
      }
      return bad.length ? { reason: 'forbidden AppArmor profile', detail: bad.join(', ') } : undefined;
    },
  },
  {
    id: 'capabilities_baseline',
    level: 'baseline',
    run(_m, spec) {
      const names: string[] = [];
      const caps = new Set<string>();
      for (const c of visit(spec)) {
        let bad = false;
        for (const cap of c.securityContext?.capabilities?.add ?? []) if (!BASELINE_CAPS.has(cap)) (caps.add(cap), (bad = true));
        if (bad) names.push(c.name);
      }
      return names.length ? { reason: 'non-default capabilities', detail: `${containersText(names)} must not include ${joinQuote([...caps].sort())} in securityContext.capabilities.add` } : undefined;
    },
  },
  {
    id: 'hostNamespaces',
    level: 'baseline',
    run(_m, spec) {
      const set = ['hostNetwork', 'hostPID', 'hostIPC'].filter((f) => spec[f] === true).map((f) => `${f}=true`);
      return set.length ? { reason: 'host namespaces', detail: set.join(', ') } : undefined;
    },
  },
  {
    id: 'hostPathVolumes',
    level: 'baseline',
    run(_m, spec) {
      const names = (spec.volumes ?? []).filter((v: any) => v.hostPath).map((v: any) => v.name);
      return names.length ? { reason: 'hostPath volumes', detail: `${plural('volume', 'volumes', names.length)} ${joinQuote(names)}` } : undefined;
    },
  },
  {
    id: 'hostPorts',
    level: 'baseline',
    run(_m, spec) {
      const names: string[] = [];
      const ports = new Set<string>();
      for (const c of visit(spec)) {
        let bad = false;
        for (const p of c.ports ?? []) if (p.hostPort) (ports.add(String(p.hostPort)), (bad = true));
        if (bad) names.push(c.name);
      }
      return names.length ? { reason: 'hostPort', detail: `${containersText(names)} ${plural('uses', 'use', names.length)} ${plural('hostPort', 'hostPorts', ports.size)} ${[...ports].join(', ')}` } : undefined;
    },
  },
  {
    id: 'privileged',
    level: 'baseline',
    run(_m, spec) {
      const names = visit(spec).filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
      return names.length ? { reason: 'privileged', detail: `${containersText(names)} must not set securityContext.privileged=true` } : undefined;
    },
  },
  {
    id: 'procMount',
    level: 'baseline',
    run(_m, spec) {
      const bad = visit(spec).filter((c) => c.securityContext?.procMount && c.securityContext.procMount !== 'Default');
      if (!bad.length) return undefined;
      return { reason: 'procMount', detail: `${containersText(bad.map((c) => c.name))} must not set securityContext.procMount to ${joinQuote([...new Set(bad.map((c) => c.securityContext.procMount as string))])}` };
    },
  },
  {
    id: 'seLinuxOptions',
    level: 'baseline',
    run(_m, spec) {
      const okType = (t?: string) => !t || ['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'].includes(t);
      const bad: string[] = [];
      const inspect = (o: any, who: string) => {
        if (!o) return;
        if (!okType(o.type)) bad.push(`${who} must not set securityContext.seLinuxOptions.type`);
        if (o.user) bad.push(`${who} must not set securityContext.seLinuxOptions.user`);
        if (o.role) bad.push(`${who} must not set securityContext.seLinuxOptions.role`);
      };
      inspect(spec.securityContext?.seLinuxOptions, 'pod');
      for (const c of visit(spec)) inspect(c.securityContext?.seLinuxOptions, `container "${c.name}"`);
      return bad.length ? { reason: 'seLinuxOptions', detail: bad.join('; ') } : undefined;
    },
  },
  {
    id: 'seccompProfile_baseline',
    level: 'baseline',
    run(_m, spec) {
      const bad: string[] = [];
      if (spec.securityContext?.seccompProfile?.type === 'Unconfined') bad.push('pod must not set securityContext.seccompProfile.type to "Unconfined"');
      const names = visit(spec).filter((c) => c.securityContext?.seccompProfile?.type === 'Unconfined').map((c) => c.name);
      if (names.length) bad.push(`${containersText(names)} must not set securityContext.seccompProfile.type to "Unconfined"`);
      return bad.length ? { reason: 'seccompProfile', detail: bad.join('; ') } : undefined;
    },
  },
  {
    id: 'sysctls',
    level: 'baseline',
    run(_m, spec) {
      const bad = (spec.securityContext?.sysctls ?? []).map((s: any) => s.name).filter((n: string) => !SAFE_SYSCTLS.has(n));
      return bad.length ? { reason: 'forbidden sysctls', detail: bad.join(', ') } : undefined;
    },
  },
  {
    id: 'windowsHostProcess',
    level: 'baseline',
    run(_m, spec) {
      const pod = spec.securityContext?.windowsOptions?.hostProcess === true;
      const names = visit(spec).filter((c) => c.securityContext?.windowsOptions?.hostProcess === true).map((c) => c.name);
      if (!pod && !names.length) return undefined;
      const parts = [pod ? 'pod' : '', names.length ? containersText(names) : ''].filter(Boolean);
      return { reason: 'hostProcess', detail: `${parts.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true` };
    },
  },
  {
    id: 'allowPrivilegeEscalation',
    level: 'restricted',
    run(_m, spec) {
      const names = visit(spec).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name);
      return names.length ? { reason: 'allowPrivilegeEscalation != false', detail: `${containersText(names)} must set securityContext.allowPrivilegeEscalation=false` } : undefined;
    },
  },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    overrides: ['capabilities_baseline'],
    run(_m, spec) {
      const missingDrop: string[] = [];
      const adding: string[] = [];
      const caps = new Set<string>();
      for (const c of visit(spec)) {
        const cap = c.securityContext?.capabilities;
        if (!(cap?.drop ?? []).includes('ALL')) missingDrop.push(c.name);
        let bad = false;
        for (const a of cap?.add ?? []) if (a !== 'NET_BIND_SERVICE') (caps.add(a), (bad = true));
        if (bad) adding.push(c.name);
      }
      const details: string[] = [];
      if (missingDrop.length) details.push(`${containersText(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`);
      if (adding.length) details.push(`${containersText(adding)} must not include ${joinQuote([...caps].sort())} in securityContext.capabilities.add`);
      return details.length ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined;
    },
  },
  {
    id: 'restrictedVolumes',
    level: 'restricted',
    overrides: ['hostPathVolumes'],
    run(_m, spec) {
      const names: string[] = [];
      const types = new Set<string>();
      for (const v of spec.volumes ?? []) {
        const t = Object.keys(v).find((k) => k !== 'name');
        if (t && !RESTRICTED_VOLUMES.includes(t)) (names.push(v.name), types.add(t));
      }
      return names.length ? { reason: 'restricted volume types', detail: `${plural('volume', 'volumes', names.length)} ${joinQuote(names)} ${plural('uses', 'use', names.length)} restricted volume ${plural('type', 'types', types.size)} ${joinQuote([...types].sort())}` } : undefined;
    },
  },
  {
    id: 'runAsNonRoot',
    level: 'restricted',
    run(_m, spec) {
      const setters: string[] = [];
      let podTrue = false;
      const p = spec.securityContext?.runAsNonRoot;
      if (p === false) setters.push('pod');
      else if (p === true) podTrue = true;
      const explicit: string[] = [];
      const implicit: string[] = [];
      for (const c of visit(spec)) {
        const v = c.securityContext?.runAsNonRoot;
        if (v === false) explicit.push(c.name);
        else if (v === undefined && !podTrue) implicit.push(c.name);
      }
      if (explicit.length) setters.push(containersText(explicit));
      if (setters.length) return { reason: 'runAsNonRoot != true', detail: `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false` };
      if (implicit.length) return { reason: 'runAsNonRoot != true', detail: `pod or ${containersText(implicit)} must set securityContext.runAsNonRoot=true` };
      return undefined;
    },
  },
  {
    id: 'runAsUser',
    level: 'restricted',
    run(_m, spec) {
      const setters: string[] = [];
      if (spec.securityContext?.runAsUser === 0) setters.push('pod');
      const names = visit(spec).filter((c) => c.securityContext?.runAsUser === 0).map((c) => c.name);
      if (names.length) setters.push(containersText(names));
      return setters.length ? { reason: 'runAsUser=0', detail: `${setters.join(' and ')} must not set runAsUser=0` } : undefined;
    },
  },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    overrides: ['seccompProfile_baseline'],
    run(_m, spec) {
      const ok = (t?: string) => t === 'RuntimeDefault' || t === 'Localhost';
      const podType = spec.securityContext?.seccompProfile?.type;
      const setters: string[] = [];
      if (podType !== undefined && !ok(podType)) setters.push(`pod must not set securityContext.seccompProfile.type to "${podType}"`);
      const bad: string[] = [];
      const unset: string[] = [];
      for (const c of visit(spec)) {
        const t = c.securityContext?.seccompProfile?.type;
        if (t === undefined) {
          if (!ok(podType)) unset.push(c.name);
        } else if (!ok(t)) bad.push(c.name);
      }
      if (bad.length) setters.push(`${containersText(bad)} must not set securityContext.seccompProfile.type to ${joinQuote([...new Set(bad.map((n) => visit(spec).find((c) => c.name === n).securityContext.seccompProfile.type as string))])}`);
      if (setters.length) return { reason: 'seccompProfile', detail: setters.join('; ') };
      if (unset.length) return { reason: 'seccompProfile', detail: `pod or ${containersText(unset)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` };
      return undefined;
    },
  },
];

/** The violations of `level` by a pod (metadata + spec), in upstream's order. */
export function checkPod(level: Level, meta: any, spec: any): Result[] {
  if (level === 'privileged') return [];
  const active = CHECKS.filter((c) => level === 'restricted' || c.level === 'baseline');
  const overridden = new Set(active.flatMap((c) => c.overrides ?? []));
  const out: Result[] = [];
  for (const c of active) {
    if (overridden.has(c.id)) continue;
    const r = c.run(meta ?? {}, spec ?? {});
    if (r) out.push(r);
  }
  return out;
}

export function violationText(results: Result[]): string {
  return results.map((r) => (r.detail ? `${r.reason} (${r.detail})` : r.reason)).join(', ');
}

function levelOf(labels: Record<string, string> | undefined, mode: 'enforce' | 'warn' | 'audit'): { level: Level; version: string } | undefined {
  const v = labels?.[`${LABEL}${mode}`];
  if (v === undefined) return undefined;
  const level = (LEVELS as string[]).includes(v) ? (v as Level) : 'restricted'; // invalid values are most restrictive, as upstream
  const version = labels?.[`${LABEL}${mode}-version`] || 'latest';
  return { level, version };
}

/** Pod templates of workload resources (warn and audit only, as upstream). */
function templateOf(req: AdmissionRequest): { meta: any; spec: any } | undefined {
  const o = req.object;
  switch (req.info.key) {
    case 'pods':
      return { meta: o.metadata, spec: o.spec };
    case 'apps/deployments':
    case 'apps/replicasets':
    case 'apps/statefulsets':
    case 'apps/daemonsets':
    case 'batch/jobs':
    case 'replicationcontrollers':
      return { meta: o.spec?.template?.metadata, spec: o.spec?.template?.spec };
    case 'batch/cronjobs':
      return { meta: o.spec?.jobTemplate?.spec?.template?.metadata, spec: o.spec?.jobTemplate?.spec?.template?.spec };
    default:
      return undefined;
  }
}

/**
 * PodSecurity admission: the namespace's pod-security.kubernetes.io/enforce level refuses pods that
 * violate it; warn sends Warning headers (pods and workload templates); audit adds an audit annotation.
 * Pod updates are checked only when the spec changes beyond what upstream ignores (we check any spec change).
 */
export const podSecurityPlugin: AdmissionPlugin = {
  name: 'PodSecurity',
  // Subresources are not pod specs, except pods/ephemeralcontainers (kubectl debug): upstream checks it.
  handles: (req) =>
    (req.operation === 'CREATE' || req.operation === 'UPDATE') &&
    (!req.subresource || (req.subresource === 'ephemeralcontainers' && req.info.key === 'pods')) &&
    !!req.namespace &&
    templateOf(req) !== undefined,
  validate(req) {
    const ns = req.registry.cache.get(`${REGISTRY_PREFIX}namespaces/${req.namespace}`)?.obj;
    const labels = ns?.metadata?.labels;
    if (!labels) return;
    if (req.operation === 'UPDATE' && req.info.key === 'pods' && JSON.stringify(req.object.spec) === JSON.stringify(req.oldObject?.spec)) return;
    const t = templateOf(req)!;
    if (!t.spec) return;
    const isPod = req.info.key === 'pods';
    const enforce = levelOf(labels, 'enforce');
    const warn = levelOf(labels, 'warn');
    const audit = levelOf(labels, 'audit');
    const cache = new Map<Level, Result[]>();
    const results = (l: Level) => {
      if (!cache.has(l)) cache.set(l, checkPod(l, t.meta, t.spec));
      return cache.get(l)!;
    };
    if (isPod && enforce) {
      const v = results(enforce.level);
      if (v.length) throw forbidden(req, `violates PodSecurity "${enforce.level}:${enforce.version}": ${violationText(v)}`);
    }
    if (warn) {
      const v = results(warn.level);
      if (v.length) addWarning(req, `would violate PodSecurity "${warn.level}:${warn.version}": ${violationText(v)}`);
    }
    if (!isPod && enforce && !(warn && warn.level === enforce.level)) {
      const v = results(enforce.level);
      if (v.length) addWarning(req, `would violate PodSecurity "${enforce.level}:${enforce.version}": ${violationText(v)}`);
    }
    if (audit) {
      const v = results(audit.level);
      if (v.length) (req.auditAnnotations ??= {})['pod-security.kubernetes.io/audit-violations'] = `would violate PodSecurity "${audit.level}:${audit.version}": ${violationText(v)}`;
    }
  },
};
