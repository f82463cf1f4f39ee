import type { Mount } from '../cri.js';

/**
 * The process runtime's mount convention. A host process cannot see `/etc/config` the way a
 * container would (that needs root and a mount namespace), so every string the process is given —
 * command, args, env values, workingDir — has each mount's containerPath rewritten to the host
 * directory that backs it, wherever it appears as a whole path (at the start of the string or after
 * a space, quote, `=`, `:`, `;`, `(`, `,` or `>`/`<`, and followed by `/`, the end, or such a
 * separator). Longest paths win. The full map is also passed as `SKIFF_MOUNTS`
 * (`containerPath=hostPath` pairs joined by `:`), so programs can resolve paths they build at run time.
 *
 * Example: a configMap volume at `/etc/config` and `command: [sh, -c, "cat /etc/config/key"]`
 * runs `cat <dataDir>/pods/<uid>/volumes/kubernetes.io~configmap/cfg/key`.
 */
export function pathMapper(mounts: readonly Mount[] | undefined): (s: string) => string {
  const ms = (mounts ?? []).filter((m) => m.containerPath && m.containerPath !== '/').map((m) => ({ from: m.containerPath.replace(/\/+$/, ''), to: m.hostPath }));
  if (!ms.length) return (s) => s;
  ms.sort((a, b) => b.from.length - a.from.length);
  const byPath = new Map(ms.map((m) => [m.from, m.to]));
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(^|[\\s'"=:;(,<>])(${ms.map((m) => esc(m.from)).join('|')})(?=$|[/\\s'"=:;),<>])`, 'g');
  return (s) => s.replace(re, (_all, pre: string, p: string) => pre + (byPath.get(p) ?? p));
}

export function mountsEnv(mounts: readonly Mount[] | undefined): string {
  return (mounts ?? []).map((m) => `${m.containerPath}=${m.hostPath}`).join(':');
}
