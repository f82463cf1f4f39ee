/** Snippet annotations inject raw nginx configuration: refused (never executed), as ingress-nginx does by default. */
import type { Reader } from './reader.js';

const SNIPPETS = ['configuration-snippet', 'server-snippet', 'stream-snippet', 'auth-snippet', 'modsecurity-snippet'];

export function refuseSnippets(r: Reader): void {
  for (const s of SNIPPETS) {
    if (r.has(s)) r.problems.push({ reason: 'SnippetRefused', message: `annotation ${r.prefix}/${s} is not supported (snippets are disabled) and is ignored` });
  }
}
