import { readFileSync } from 'node:fs';

/** CPU time (user+system) a process has used so far, ms, from /proc/PID/stat (USER_HZ 100). */
export function cpuMs(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

/** CPU time the whole machine has been busy so far (all cores, kernel included), ms, from /proc/stat. */
export function machineBusyMs(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  return ((f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * 1000) / 100;
}
