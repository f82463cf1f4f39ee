import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open as openFd } from 'node:fs';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';

// A raw fd, not a FileHandle (which would close it when garbage-collected under the stream).
const openAsync = promisify(openFd);
import path from 'node:path';
import { mkdirParentAndSelf } from './mkdir2.js';
import type { Readable } from 'node:stream';
import { rfc3339Nano } from '../cri.js';

/** Upstream's defaults: --container-log-max-size=10Mi, --container-log-max-files=5. */
export interface LogRotation {
  maxSize: number;
  maxFiles: number;
}

export const DEFAULT_ROTATION: LogRotation = { maxSize: 10 * 1024 * 1024, maxFiles: 5 };

/** Lines longer than this are split into partial (P) entries, as containerd's 16 KiB buffer. */
const MAX_LINE = 16 * 1024;

/**
 * Writes a container's stdout/stderr to one file in the CRI log format, one entry per line,
 * rotating the file to `<name>.<timestamp>` when it passes maxSize and keeping maxFiles in all.
 */
export class CriLogWriter {
  private out: WriteStream;
  private size = 0;
  private lastMs = 0;
  private seq = 0;
  private open = 0;
  private rotations = 0;
  private closed: Promise<void>;
  private resolveClosed!: () => void;

  constructor(
    readonly file: string,
    private readonly rotation: LogRotation = DEFAULT_ROTATION,
    opened?: { fd: number; size: number },
  ) {
    if (opened) {
      this.size = opened.size;
      this.out = createWriteStream(file, { fd: opened.fd });
    } else {
      mkdirSync(path.dirname(file), { recursive: true });
      try {
        this.size = statSync(file).size;
      } catch {
        this.size = 0;
      }
      this.out = openLog(file);
    }
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  /** As the constructor, with the file made and opened off the event loop (a burst opens many). */
  static async open(file: string, rotation: LogRotation = DEFAULT_ROTATION): Promise<CriLogWriter> {
    await mkdirParentAndSelf(path.dirname(file));
    // A new attempt's file is new: created exclusively, it needs no stat for its size.
    const fresh = await openAsync(file, 'ax').catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
      return undefined;
    });
    if (fresh !== undefined) return new CriLogWriter(file, rotation, { fd: fresh, size: 0 });
    const fd = await openAsync(file, 'a');
    const size = await stat(file).then((s) => s.size, () => 0);
    return new CriLogWriter(file, rotation, { fd, size });
  }

  /** Follows a stream until it ends. */
  attach(stream: Readable, name: 'stdout' | 'stderr'): void {
    this.open++;
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.write(name, 'F', buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      while (buf.length > MAX_LINE) {
        this.write(name, 'P', buf.slice(0, MAX_LINE));
        buf = buf.slice(MAX_LINE);
      }
    });
    const end = () => {
      if (buf) this.write(name, 'P', buf);
      buf = '';
      if (--this.open === 0) this.out.end(() => this.resolveClosed());
    };
    stream.once('end', end);
    stream.once('error', () => undefined);
  }

  /** Resolves once every attached stream ended and the file is flushed. */
  done(): Promise<void> {
    if (this.open === 0) this.out.end(() => this.resolveClosed());
    return this.closed;
  }

  private timestamp(): string {
    // Sub-millisecond counter keeps timestamps strictly increasing within a file.
    const ms = Date.now();
    if (ms === this.lastMs) this.seq++;
    else {
      this.lastMs = ms;
      this.seq = 0;
    }
    return rfc3339Nano(ms, this.seq);
  }

  private write(stream: string, tag: 'F' | 'P', content: string): void {
    const line = `${this.timestamp()} ${stream} ${tag} ${content}\n`;
    const len = Buffer.byteLength(line);
    if (this.size > 0 && this.size + len > this.rotation.maxSize) this.rotate();
    this.out.write(line);
    this.size += len;
  }

  /** Renames the current file away and starts a new one (kubelet's container log manager does this upstream). */
  rotate(): void {
    const old = this.out;
    const stamp = new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-').replace('Z', '');
    const rotated = `${this.file}.${stamp}-${String(++this.rotations).padStart(6, '0')}`;
    try {
      renameSync(this.file, rotated);
    } catch {
      return;
    }
    old.end();
    this.out = openLog(this.file);
    this.size = 0;
    pruneRotated(this.file, this.rotation.maxFiles);
  }
}

/** Opened synchronously so the file exists (for readers) as soon as the container starts. */
function openLog(file: string): WriteStream {
  return createWriteStream(file, { fd: openSync(file, 'a') });
}

/** Rotated files of `file`, oldest first. */
export function rotatedFiles(file: string): string[] {
  const dir = path.dirname(file);
  const base = path.basename(file) + '.';
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(base))
    .sort()
    .map((n) => path.join(dir, n));
}

function pruneRotated(file: string, maxFiles: number): void {
  const rotated = rotatedFiles(file);
  // The live file counts as one of maxFiles.
  for (const f of rotated.slice(0, Math.max(0, rotated.length - (maxFiles - 1)))) rmSync(f, { force: true });
}
