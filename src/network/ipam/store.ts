/**
 * Persistence of allocator state: one JSON file replaced atomically (write, fsync, rename), so a
 * crash leaves either the old or the new state, never a torn one. Saved before an address is
 * returned, so no restart can hand out an address that was already given.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { AllocatorState } from './allocator.js';

export interface StateStore {
  load(): AllocatorState | undefined;
  save(s: AllocatorState): void;
}

export class FileStateStore implements StateStore {
  constructor(readonly file: string) {}

  load(): AllocatorState | undefined {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as AllocatorState;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  save(s: AllocatorState): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(s));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}

export class MemoryStateStore implements StateStore {
  private s?: AllocatorState;
  load(): AllocatorState | undefined {
    return this.s && structuredClone(this.s);
  }
  save(s: AllocatorState): void {
    this.s = structuredClone(s);
  }
}
