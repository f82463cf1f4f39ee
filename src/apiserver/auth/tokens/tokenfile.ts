import { readFileSync } from 'node:fs';
import type { UserInfo } from '../types.js';
import type { TokenAuthenticator } from './bearer.js';

/** Parses one CSV record, with upstream's (encoding/csv) quoting: `"a,b"` is one field, `""` a quote. */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++; // TrimLeadingSpace
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new Error('extraneous or missing " in quoted-field');
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== ',') throw new Error('extraneous or missing " in quoted-field');
    } else {
      const j = line.indexOf(',', i);
      field = j < 0 ? line.slice(i) : line.slice(i, j);
      i = j < 0 ? line.length : j;
    }
    out.push(field);
    if (i >= line.length) return out;
    i++; // the comma
  }
}

/**
 * `--token-auth-file`: CSV lines `token,user,uid[,"group1,group2"]`, as upstream. Blank lines and `#`
 * comments are skipped; fewer than three columns is an error; an empty token is ignored.
 */
export function parseTokenFile(text: string, path = 'token file'): Map<string, UserInfo> {
  const tokens = new Map<string, UserInfo>();
  let n = 0;
  for (const raw of text.split(/\r?\n/)) {
    if (!raw.trim() || raw.startsWith('#')) continue;
    n++;
    const rec = parseCsvLine(raw);
    if (rec.length < 3) throw new Error(`token file '${path}' must have at least 3 columns (token, user name, user uid), found ${rec.length}`);
    if (!rec[0]) continue;
    const user: UserInfo = { name: rec[1], uid: rec[2], groups: rec.length >= 4 && rec[3] ? rec[3].split(',') : [] };
    tokens.set(rec[0], user);
  }
  void n;
  return tokens;
}

export function tokenFileAuthenticator(path: string): TokenAuthenticator {
  const tokens = parseTokenFile(readFileSync(path, 'utf8'), path);
  return staticTokenAuthenticator(tokens);
}

export function staticTokenAuthenticator(tokens: Map<string, UserInfo>): TokenAuthenticator {
  return {
    name: 'token-file',
    authenticateToken(token) {
      const u = tokens.get(token);
      return u ? { user: { ...u, groups: [...u.groups] } } : undefined;
    },
  };
}
