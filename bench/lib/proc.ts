import { readFileSync } from 'node:fs';

/** CPU time (user+system) a process has used so far, ms, from /proc/PID/stat (USER_HZ 100). */
export function cpuMs(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}
