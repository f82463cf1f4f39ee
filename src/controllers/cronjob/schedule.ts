/**
 * Cron schedules as the CronJob controller reads them (github.com/robfig/cron/v3 ParseStandard):
 * five fields (minute hour day-of-month month day-of-week) with names, ranges, steps, `*` and `?`,
 * the descriptors @yearly/@annually/@monthly/@weekly/@daily/@midnight/@hourly and `@every <dur>`,
 * and an optional `CRON_TZ=`/`TZ=` prefix. Times are evaluated in an IANA time zone (spec.timeZone,
 * default UTC here, where upstream uses the controller's local zone).
 *
 * Pure: no clock, no I/O.
 */

export class ScheduleError extends Error {}

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DAYS: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const MINUTE: Bounds = { min: 0, max: 59 };
const HOUR: Bounds = { min: 0, max: 23 };
const DOM: Bounds = { min: 1, max: 31 };
const MONTH: Bounds = { min: 1, max: 12, names: MONTHS };
const DOW: Bounds = { min: 0, max: 6, names: DAYS };

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export interface Schedule {
  /** The first activation strictly after `after` (epoch ms), or undefined if none within 5 years. */
  next(after: number): number | undefined;
  /** The zone the schedule's prefix named, if any. */
  readonly zone?: string;
}

interface Fields {
  minute: Set<number>;
  hour: Set<number>;
  dom: Set<number>;
  month: Set<number>;
  dow: Set<number>;
  domStar: boolean;
  dowStar: boolean;
}

function parseValue(s: string, b: Bounds, field: string): number {
  const name = b.names?.[s.toLowerCase()];
  if (name !== undefined) return name;
  if (!/^[0-9]+$/.test(s)) throw new ScheduleError(`failed to parse int from ${s} in ${field}`);
  return Number(s);
}

/** One comma-separated field; reports whether it started with `*` or `?` (robfig's star bit). */
function parseField(expr: string, b: Bounds, field: string): { set: Set<number>; star: boolean } {
  const set = new Set<number>();
  let star = false;
  for (const part of expr.split(',')) {
    const [range, stepStr, extra] = part.split('/');
    if (extra !== undefined) throw new ScheduleError(`too many slashes: ${part}`);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = b.min;
      hi = b.max;
      star = true;
    } else {
      const [a, z, more] = range.split('-');
      if (more !== undefined) throw new ScheduleError(`too many hyphens: ${range}`);
      lo = parseValue(a, b, field);
      hi = z === undefined ? lo : parseValue(z, b, field);
      // A single value with a step runs to the end of the range, as robfig.
      if (z === undefined && stepStr !== undefined) hi = b.max;
    }
    let step = 1;
    if (stepStr !== undefined) {
      if (!/^[0-9]+$/.test(stepStr)) throw new ScheduleError(`failed to parse int from ${stepStr} in ${field}`);
      step = Number(stepStr);
      if (step === 0) throw new ScheduleError(`step of range should be a positive number: ${part}`);
    }
    if (lo < b.min) throw new ScheduleError(`beginning of range (${lo}) below minimum (${b.min}): ${part}`);
    if (hi > b.max) throw new ScheduleError(`end of range (${hi}) above maximum (${b.max}): ${part}`);
    if (lo > hi) throw new ScheduleError(`beginning of range (${lo}) beyond end of range (${hi}): ${part}`);
    for (let v = lo; v <= hi; v += step) set.add(v);
  }
  return { set, star };
}

/** Parses a schedule; throws ScheduleError with a robfig-like message. */
export function parseSchedule(spec: string): Schedule {
  let s = spec.trim();
  let zone: string | undefined;
  const tz = /^(?:CRON_TZ|TZ)=(\S+)\s+/.exec(s);
  if (tz) {
    zone = tz[1];
    if (!isValidTimeZone(zone)) throw new ScheduleError(`provided bad location ${zone}: unknown time zone ${zone}`);
    s = s.slice(tz[0].length).trim();
  }
  if (s.startsWith('@every ')) {
    const ms = parseGoDuration(s.slice(7).trim());
    if (ms === undefined) throw new ScheduleError(`failed to parse duration ${s}`);
    // robfig rounds the interval to whole seconds, minimum one second.
    const every = Math.max(1000, Math.floor(ms / 1000) * 1000);
    return { zone, next: (after) => Math.floor(after / 1000) * 1000 + every };
  }
  if (s.startsWith('@')) {
    const d = DESCRIPTORS[s];
    if (!d) throw new ScheduleError(`unrecognized descriptor: ${s}`);
    s = d;
  }
  const parts = s.split(/\s+/);
  if (parts.length !== 5) throw new ScheduleError(`expected exactly 5 fields, found ${parts.length}: ${s}`);
  const minute = parseField(parts[0], MINUTE, 'minute');
  const hour = parseField(parts[1], HOUR, 'hour');
  const dom = parseField(parts[2], DOM, 'day of month');
  const month = parseField(parts[3], MONTH, 'month');
  // robfig accepts 7 for Sunday only through names; we accept the number too.
  const dow = parseField(parts[4].replace(/(^|[,\-])7(?=$|[,\-/])/g, '$10'), DOW, 'day of week');
  const f: Fields = { minute: minute.set, hour: hour.set, dom: dom.set, month: month.set, dow: dow.set, domStar: dom.star, dowStar: dow.star };
  return { zone, next: (after) => nextInZone(f, after, zone ?? 'UTC') };
}

/** Parses a Go time.Duration string ("1h30m", "90s", "1.5h"); undefined if malformed. */
export function parseGoDuration(s: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let i = 0;
  if (!s) return undefined;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * units[m[2]];
    i = re.lastIndex;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Time zones

const formatters = new Map<string, Intl.DateTimeFormat>();

export function isValidTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, f);
  }
  return f;
}

/** The wall-clock time in `zone` at instant t, as epoch ms of the same fields read as UTC. */
export function wallClock(t: number, zone: string): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return t;
  const p: Record<string, number> = {};
  for (const x of formatter(zone).formatToParts(new Date(t))) if (x.type !== 'literal') p[x.type] = Number(x.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) + (((t % 1000) + 1000) % 1000);
}

/** The instants whose wall clock in `zone` reads `wall` (none in a DST gap, two in an overlap), ascending. */
export function instantsOf(wall: number, zone: string): number[] {
  const out = new Set<number>();
  // The zone's offset is within ±14 h; try the offsets in force a day either side.
  for (const probe of [wall - 86_400_000, wall, wall + 86_400_000]) {
    const off = wallClock(probe, zone) - probe;
    const t = wall - off;
    if (wallClock(t, zone) === wall) out.add(t);
  }
  return [...out].sort((a, b) => a - b);
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

function dayMatches(f: Fields, d: Date): boolean {
  const domOk = f.dom.has(d.getUTCDate());
  const dowOk = f.dow.has(d.getUTCDay());
  // robfig: if either field is a star, both must match; otherwise either suffices (Vixie cron).
  return f.domStar || f.dowStar ? domOk && dowOk : domOk || dowOk;
}

/**
 * robfig's Next, walking wall-clock time field by field (month, day, hour, minute), then mapping
 * the wall time back to an instant: in a DST overlap the first instant after `after` wins; a wall
 * time inside a DST gap runs at the instant it would have had without the jump (as Go's time.Date).
 */
function nextInZone(f: Fields, after: number, zone: string): number | undefined {
  const startWall = wallClock(after, zone);
  // In a DST overlap the wall clock repeats an hour, which robfig runs twice: walk from a little
  // earlier and keep only instants after `after`.
  const margin = zone === 'UTC' ? 0 : 2 * HOUR_MS;
  let w = Math.floor((startWall - margin) / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const limit = startWall + 5 * 366 * DAY_MS;
  while (w <= limit) {
    const d = new Date(w);
    if (!f.month.has(d.getUTCMonth() + 1)) {
      w = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      continue;
    }
    if (!dayMatches(f, d)) {
      w = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
      continue;
    }
    if (!f.hour.has(d.getUTCHours())) {
      w = Math.floor(w / HOUR_MS) * HOUR_MS + HOUR_MS;
      continue;
    }
    if (!f.minute.has(d.getUTCMinutes())) {
      w += MINUTE_MS;
      continue;
    }
    const instants = instantsOf(w, zone);
    if (!instants.length) {
      // A DST gap: the offset before the jump gives the instant (e.g. 02:30 → 03:30 summer time).
      const before = wallClock(w - DAY_MS, zone) - (w - DAY_MS);
      const t = w - before;
      if (t > after) return t;
    }
    for (const t of instants) if (t > after) return t;
    w += MINUTE_MS;
  }
  return undefined;
}

/**
 * The CronJob controller's mostRecentScheduleTime: the latest activation in (earliest, now], and
 * roughly how many activations were missed (upstream warns above 100). Undefined time: none due.
 */
export function mostRecentScheduleTime(s: Schedule, earliest: number, now: number): { time?: number; missed: number } {
  const t1 = s.next(earliest);
  if (t1 === undefined || t1 > now) return { missed: 0 };
  const t2 = s.next(t1);
  if (t2 === undefined || t2 > now) return { time: t1, missed: 1 };
  // Jump near `now` by the interval between the first two activations, then walk: exact for
  // regular schedules, and the walk corrects irregular ones (weekday lists, months).
  const interval = t2 - t1;
  const missed = Math.floor((now - t1) / interval) + 1;
  let t = t1 + Math.max(0, missed - 2) * interval;
  // The jump may land between activations: step back to one so the walk stays on the schedule.
  t = s.next(t - 1) ?? t;
  if (t > now) t = t1;
  let recent = t;
  for (let n = 0; n < 10_000; n++) {
    const nx = s.next(recent);
    if (nx === undefined || nx > now) break;
    recent = nx;
  }
  return { time: recent, missed };
}

/** RFC 3339 with the zone's offset, as Go's time.Format(time.RFC3339) in that location. */
export function formatInZone(t: number, zone: string): string {
  const wall = wallClock(t, zone);
  const off = Math.round((wall - t) / 60_000);
  const base = new Date(Math.floor(wall / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  if (off === 0) return `${base}Z`;
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${base}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}
