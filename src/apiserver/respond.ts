import type { ServerResponse } from 'node:http';
import type { StatusError } from './status.js';

export const JSON_TYPE = 'application/json';

export function send(res: ServerResponse, code: number, body: unknown, contentType = JSON_TYPE, warnings?: string[]): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string | string[]> = { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private' };
  if (warnings?.length) headers['Warning'] = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
}

export function sendStatusError(res: ServerResponse, e: StatusError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  send(res, e.code, e.toStatus());
}
