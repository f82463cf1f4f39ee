import { accessSync, constants } from 'node:fs';
import path from 'node:path';

const cache = new Map<string, string | undefined>();

/** Resolves a command on PATH (cached; no subprocess). */
export function which(cmd: string, envPath = process.env.PATH ?? ''): string | undefined {
  if (cmd.includes('/')) return cmd;
  const key = `${envPath}\0${cmd}`;
  if (cache.has(key)) return cache.get(key);
  let found: string | undefined;
  for (const dir of envPath.split(':')) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      found = p;
      break;
    } catch {
      // next
    }
  }
  cache.set(key, found);
  return found;
}
