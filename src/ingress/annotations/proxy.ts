/** proxy-body-size, the proxy timeouts and backend-protocol, with ingress-nginx's defaults. */
import { parseSeconds, parseSize, type Reader } from './reader.js';

export type BackendProtocol = 'HTTP' | 'HTTPS' | 'GRPC' | 'GRPCS' | 'AUTO_HTTP' | 'FCGI';

export interface ProxyConfig {
  /** Bytes; 0: unlimited (client_max_body_size 0). */
  bodySize: number;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  sendTimeoutMs: number;
  backendProtocol: BackendProtocol;
  /** load-balance: round_robin (the default) or ewma. */
  loadBalance: 'round_robin' | 'ewma';
}

export const PROXY_DEFAULTS: ProxyConfig = { bodySize: 1024 * 1024, connectTimeoutMs: 5000, readTimeoutMs: 60_000, sendTimeoutMs: 60_000, backendProtocol: 'HTTP', loadBalance: 'round_robin' };

export function parseProxy(r: Reader): ProxyConfig {
  const out = { ...PROXY_DEFAULTS };
  const size = r.str('proxy-body-size');
  if (size !== undefined) {
    const n = parseSize(size);
    if (n === null) r.invalid('proxy-body-size', size, 'not an nginx size (like 8k, 1m)');
    else out.bodySize = n;
  }
  for (const [name, key] of [
    ['proxy-connect-timeout', 'connectTimeoutMs'],
    ['proxy-read-timeout', 'readTimeoutMs'],
    ['proxy-send-timeout', 'sendTimeoutMs'],
  ] as const) {
    const v = r.str(name);
    if (v === undefined) continue;
    const ms = parseSeconds(v);
    if (ms === null || ms === 0) r.invalid(name, v, 'not a positive number of seconds');
    else out[key] = ms;
  }
  out.backendProtocol = r.oneOf('backend-protocol', ['HTTP', 'HTTPS', 'GRPC', 'GRPCS', 'AUTO_HTTP', 'FCGI'] as const, 'HTTP');
  out.loadBalance = r.oneOf('load-balance', ['round_robin', 'ewma'] as const, 'round_robin');
  return out;
}
