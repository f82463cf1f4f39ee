/** Shared fixtures for the printer tests: a fixed "now" and timestamps relative to it. */
export const NOW = new Date('2024-06-01T12:00:00Z');

/** An RFC 3339 timestamp `seconds` before NOW (negative: in the future). */
export function ago(seconds: number): string {
  return new Date(NOW.getTime() - seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/** Metadata created five minutes before NOW. */
export function meta(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, namespace: 'default', creationTimestamp: ago(300), ...extra };
}
