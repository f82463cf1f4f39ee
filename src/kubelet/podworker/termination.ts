/**
 * Termination messages, as upstream's kuberuntime: the kubelet bind-mounts a fresh host file at the
 * container's terminationMessagePath and, once the container exited, reports what it wrote (its
 * last 4 KiB); with FallbackToLogsOnError and a failure without a message, the last 80 log lines
 * (at most 2 KiB) instead. Both settings travel in the container's annotations, as upstream.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parseLogLine, type ContainerStatus } from '../../runtime/cri.js';

export const ANN_TERMINATION_PATH = 'io.kubernetes.container.terminationMessagePath';
export const ANN_TERMINATION_POLICY = 'io.kubernetes.container.terminationMessagePolicy';
const MAX_MESSAGE_BYTES = 4096;
const MAX_LOG_BYTES = 2048;
const MAX_LOG_LINES = 80;

/** The last `max` bytes of a file (ENOENT → undefined). */
function readTail(file: string, max: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, max);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** The last 80 log lines' content, keeping the last 2 KiB (CRI log format parsed). */
export function lastLogString(logPath: string): string {
  let raw: Buffer | undefined;
  try {
    raw = readTail(logPath, 256 * 1024);
  } catch (e) {
    return `Error on reading termination message from logs: ${(e as Error).message}`;
  }
  if (!raw) return '';
  const lines = raw.toString('utf8').split('\n').filter(Boolean);
  let out = '';
  const entries = lines.map(parseLogLine).filter((l) => l !== undefined);
  // TailLines counts full lines: partial entries join the line they continue.
  let full = 0;
  let start = entries.length;
  while (start > 0 && full < MAX_LOG_LINES) {
    start--;
    if (entries[start]!.tag === 'F') full++;
  }
  if (start > 0 && entries[start]!.tag === 'F' && full > MAX_LOG_LINES) start++;
  for (const l of entries.slice(start)) out += l!.content + (l!.tag === 'F' ? '\n' : '');
  const b = Buffer.from(out);
  return b.length > MAX_LOG_BYTES ? b.subarray(b.length - MAX_LOG_BYTES).toString('utf8') : out;
}

/** What to append to an exited container's message (empty: nothing). */
export function terminationMessage(st: Pick<ContainerStatus, 'annotations' | 'mounts' | 'logPath' | 'exitCode' | 'reason'>): string {
  const file = st.annotations?.[ANN_TERMINATION_PATH] ?? '';
  const fallback = st.annotations?.[ANN_TERMINATION_POLICY] === 'FallbackToLogsOnError' && st.exitCode !== 0 && st.reason !== 'ContainerCannotRun';
  let msg = '';
  let checkLogs = fallback;
  const m = file ? st.mounts?.find((x) => x.containerPath === file) : undefined;
  if (m) {
    try {
      const data = readTail(m.hostPath, MAX_MESSAGE_BYTES);
      msg = data ? data.toString('utf8') : '';
      checkLogs = fallback && msg.length === 0;
    } catch (e) {
      return `Error on reading termination log ${m.hostPath}: ${(e as Error).message}`;
    }
  }
  if (checkLogs && st.logPath) msg = lastLogString(st.logPath);
  return msg;
}
