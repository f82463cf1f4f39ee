/**
 * Reads CRI-format container logs for `kubectl logs` (upstream pkg/kubelet/kuberuntime/logs):
 * rotated files then the live one, partial lines joined, with tailLines, sinceTime, timestamps,
 * limitBytes, and follow (which keeps reading the live file until the container exits).
 */
import { open, stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { parseLogLine } from '../runtime/cri.js';
import { rotatedFiles } from '../runtime/process/logwriter.js';

export interface LogOptions {
  tailLines?: number;
  sinceTime?: number;
  timestamps?: boolean;
  limitBytes?: number;
  follow?: boolean;
  /** Polled while following: whether the container is still running. */
  running?: () => Promise<boolean>;
  signal?: AbortSignal;
}

function render(line: string, o: LogOptions): string | undefined {
  const l = parseLogLine(line);
  if (!l) return undefined;
  if (o.sinceTime !== undefined && Date.parse(l.time) < o.sinceTime) return undefined;
  const text = l.tag === 'P' ? l.content : l.content + '\n';
  return o.timestamps ? `${l.time} ${text}` : text;
}

async function readAll(file: string): Promise<string> {
  try {
    const fh = await open(file, 'r');
    try {
      return (await fh.readFile()).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}

export async function writeLogs(file: string, out: Writable, o: LogOptions): Promise<void> {
  let written = 0;
  const limit = o.limitBytes && o.limitBytes > 0 ? o.limitBytes : Infinity;
  const emit = (s: string): boolean => {
    if (written >= limit) return false;
    const b = Buffer.from(s);
    const part = written + b.length > limit ? b.subarray(0, limit - written) : b;
    written += part.length;
    out.write(part);
    return written < limit;
  };
  const files = [...rotatedFiles(file), file];
  let lines: string[] = [];
  for (const f of files) lines.push(...(await readAll(f)).split('\n').filter(Boolean));
  if (o.tailLines !== undefined && o.tailLines >= 0) {
    // Count whole lines: a run of partial entries ends at its F entry.
    let count = 0;
    let i = lines.length;
    while (i > 0 && count < o.tailLines) {
      i--;
      if (parseLogLine(lines[i])?.tag !== 'P') count++;
      while (i > 0 && parseLogLine(lines[i - 1])?.tag === 'P') i--;
    }
    lines = lines.slice(i);
  }
  for (const l of lines) {
    const r = render(l, o);
    if (r !== undefined && !emit(r)) return;
  }
  if (!o.follow) return;
  let offset = 0;
  try {
    offset = (await stat(file)).size;
  } catch {
    offset = 0;
  }
  let rest = '';
  for (;;) {
    if (o.signal?.aborted) return;
    const alive = o.running ? await o.running() : false;
    let size = 0;
    try {
      size = (await stat(file)).size;
    } catch {
      size = 0;
    }
    if (size < offset) offset = 0; // rotated: the live file started over
    if (size > offset) {
      const fh = await open(file, 'r');
      const buf = Buffer.alloc(size - offset);
      await fh.read(buf, 0, buf.length, offset);
      await fh.close();
      offset = size;
      rest += buf.toString('utf8');
      let i: number;
      while ((i = rest.indexOf('\n')) >= 0) {
        const r = render(rest.slice(0, i), o);
        rest = rest.slice(i + 1);
        if (r !== undefined && !emit(r)) return;
      }
    }
    if (!alive) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
