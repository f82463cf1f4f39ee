/**
 * Canary: an Ingress with `canary: "true"` does not create locations; its backend becomes an
 * alternative backend of the main Ingress's location with the same host and path, chosen per
 * request in ingress-nginx's order (balancer.lua route_to_alternative_balancer): header, then
 * cookie, then weight.
 */
import type { Reader } from './reader.js';

export interface CanaryConfig {
  enabled: boolean;
  header: string | null;
  headerValue: string | null;
  headerPattern: RegExp | null;
  cookie: string | null;
  weight: number;
  weightTotal: number;
}

export function parseCanary(r: Reader): CanaryConfig {
  const out: CanaryConfig = { enabled: r.bool('canary', false), header: null, headerValue: null, headerPattern: null, cookie: null, weight: 0, weightTotal: 100 };
  if (!out.enabled) return out;
  out.header = r.str('canary-by-header')?.toLowerCase() ?? null;
  out.headerValue = r.str('canary-by-header-value') ?? null;
  const pattern = r.str('canary-by-header-pattern');
  if (pattern !== undefined) {
    try {
      out.headerPattern = new RegExp(pattern);
    } catch (e) {
      r.invalid('canary-by-header-pattern', pattern, (e as Error).message);
    }
  }
  out.cookie = r.str('canary-by-cookie') ?? null;
  out.weightTotal = r.int('canary-weight-total', 100, 1);
  out.weight = r.int('canary-weight', 0, 0);
  return out;
}

export interface CanaryRequest {
  /** Header value by lower-case name. */
  header(name: string): string | undefined;
  cookie(name: string): string | undefined;
}

/** Whether this request goes to the canary. `random()` in [0, 1). */
export function chooseCanary(c: CanaryConfig, req: CanaryRequest, random: () => number): boolean {
  if (c.header) {
    const v = req.header(c.header);
    if (v !== undefined) {
      if (c.headerValue) {
        if (v === c.headerValue) return true;
      } else if (c.headerPattern) {
        if (c.headerPattern.test(v)) return true;
      } else if (v === 'always') return true;
      else if (v === 'never') return false;
    }
  }
  if (c.cookie) {
    const v = req.cookie(c.cookie);
    if (v === 'always') return true;
    if (v === 'never') return false;
  }
  if (c.weight <= 0) return false;
  // math.random(total) is an integer in [1, total].
  return Math.floor(random() * c.weightTotal) + 1 <= c.weight;
}
