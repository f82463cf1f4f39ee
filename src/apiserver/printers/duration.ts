/**
 * Human-readable durations and ages, as apimachinery's duration.HumanDuration
 * and the printers' translateTimestampSince render them ("5s", "3m2s", "5h10m", "2d", "<unknown>").
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Go's int(x) on a float truncates toward zero; so do its integer divisions. */
const trunc = Math.trunc;

/** duration.HumanDuration for a duration in milliseconds. */
export function humanDuration(ms: number): string {
  // Up to 2s in the future counts as "now", to tolerate clock skew between machines.
  const seconds = trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;

  const minutes = trunc(ms / MINUTE);
  if (minutes < 10) {
    const s = trunc(ms / SECOND) % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;

  const hours = trunc(ms / HOUR);
  if (hours < 8) {
    const m = trunc(ms / MINUTE) % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${trunc(hours / 24)}d` : `${trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = trunc(hours / 24) % 365;
    const y = trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${trunc(hours / 24 / 365)}y`;
}

/**
 * Milliseconds since the epoch for a metav1.Time / MicroTime string, or undefined for the
 * zero time (absent, empty, unparseable, or Go's year-1 zero value serialized by some clients).
 */
export function parseTime(t: unknown): number | undefined {
  if (typeof t !== 'string' || t === '') return undefined;
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) return undefined;
  // Go's zero time (0001-01-01T00:00:00Z) is "IsZero" upstream.
  if (ms === GO_ZERO_TIME_MS) return undefined;
  return ms;
}

// Date.UTC maps years 0-99 to 19xx, so set the year explicitly.
const GO_ZERO_TIME_MS = new Date(0).setUTCFullYear(1, 0, 1);

/** translateTimestampSince: the age of a timestamp, "<unknown>" for the zero time. */
export function formatAge(created: string | undefined, now: Date): string {
  const ms = parseTime(created);
  if (ms === undefined) return '<unknown>';
  return humanDuration(now.getTime() - ms);
}
