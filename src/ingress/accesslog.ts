/**
 * The access log written off the request path: lines are collected in memory and appended to the
 * file in one write every FLUSH_MS (or at 64 KiB), never synchronously. Workers may share a file:
 * O_APPEND writes of whole batches do not interleave within a line.
 */
import { open, type FileHandle } from 'node:fs/promises';

const FLUSH_MS = 200;
const FLUSH_BYTES = 64 * 1024;

export class BufferedLog {
  private lines: string[] = [];
  private bytes = 0;
  private file?: Promise<FileHandle>;
  private writing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly path: string) {
    this.timer = setInterval(() => this.flush(), FLUSH_MS).unref();
  }

  line(s: string): void {
    this.lines.push(s);
    this.bytes += s.length + 1;
    if (this.bytes >= FLUSH_BYTES) this.flush();
  }

  /** Starts writing what is buffered; resolves once it (and every earlier batch) is written. */
  flush(): Promise<void> {
    if (this.lines.length === 0) return this.writing;
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    this.bytes = 0;
    this.file ??= open(this.path, 'a');
    const file = this.file;
    // A failing disk must not take the data plane down; the batch is dropped.
    this.writing = this.writing.then(() => file.then((f) => f.appendFile(text)).then(undefined, () => undefined));
    return this.writing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    if (this.file) await (await this.file.catch(() => undefined))?.close();
  }
}
