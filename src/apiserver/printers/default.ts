/**
 * The apiserver's default table (rest.NewDefaultTableConvertor) for kinds without a printer,
 * e.g. Roles, ClusterRoles and LimitRanges: the name and the creation time as RFC 3339 UTC.
 */
import type { Printer } from './types.js';
import { NAME_COLUMN, str } from './common.js';
import { OBJECT_META } from './descriptions.js';
import { parseTime } from './duration.js';

/** Go's time.RFC3339 in UTC: whole seconds, "Z" suffix; the zero time for a missing timestamp. */
export function rfc3339(t: unknown): string {
  const ms = parseTime(t);
  if (ms === undefined) return '0001-01-01T00:00:00Z';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const defaultPrinter: Printer = {
  columns: [NAME_COLUMN, { name: 'Created At', type: 'date', format: '', description: OBJECT_META.creationTimestamp, priority: 0 }],
  cells(obj: any): unknown[] {
    return [str(obj?.metadata?.name), rfc3339(obj?.metadata?.creationTimestamp)];
  },
};
