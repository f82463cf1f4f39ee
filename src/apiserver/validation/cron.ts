/**
 * Cron schedule checking as github.com/robfig/cron/v3 ParseStandard (what CronJob validation
 * calls), returning its error text.
 */

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DAYS: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const FIELDS: Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 6, names: DAYS },
];

/** strconv.Atoi, with Go's error text. */
function atoi(s: string): number | string {
  if (/^[+-]?[0-9]+$/.test(s)) {
    const n = Number(s);
    if (Number.isSafeInteger(n)) return n;
    return `strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`;
  }
  return `strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`;
}

function parseInt0(expr: string): number | string {
  const n = atoi(expr);
  if (typeof n === 'string') return `failed to parse int from ${expr}: ${n}`;
  if (n < 0) return `negative number (${n}) not allowed: ${expr}`;
  return n;
}

function parseIntOrName(expr: string, names?: Record<string, number>): number | string {
  if (names && expr.toLowerCase() in names) return names[expr.toLowerCase()];
  return parseInt0(expr);
}

function checkRange(expr: string, r: Bounds): string | undefined {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0].split('-');
  let start: number;
  let end: number;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = r.min;
    end = r.max;
  } else {
    const s = parseIntOrName(lowAndHigh[0], r.names);
    if (typeof s === 'string') return s;
    start = s;
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) {
      const e = parseIntOrName(lowAndHigh[1], r.names);
      if (typeof e === 'string') return e;
      end = e;
    } else return `too many hyphens: ${expr}`;
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    const s = parseInt0(rangeAndStep[1]);
    if (typeof s === 'string') return s;
    step = s;
    // "N/step" means "N-max/step".
    if (lowAndHigh.length === 1) end = r.max;
  } else if (rangeAndStep.length > 2) return `too many slashes: ${expr}`;
  if (start < r.min) return `beginning of range (${start}) below minimum (${r.min}): ${expr}`;
  if (end > r.max) return `end of range (${end}) above maximum (${r.max}): ${expr}`;
  if (start > end) return `beginning of range (${start}) beyond end of range (${end}): ${expr}`;
  if (step === 0) return `step of range should be a positive number: ${expr}`;
  return undefined;
}

const DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** Go's time.ParseDuration acceptance (error text only roughly). */
function durationError(s: string): string | undefined {
  if (/^[-+]?([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+$/.test(s) && /[0-9]/.test(s)) return undefined;
  if (s === '0') return undefined;
  return `time: invalid duration ${JSON.stringify(s)}`;
}

/** The robfig/cron error for a schedule, or undefined when it parses. */
export function cronScheduleError(spec: string, validTimeZone: (tz: string) => boolean): string | undefined {
  if (spec.length === 0) return 'empty spec string';
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const i = spec.indexOf(' ');
    if (i === -1) return `invalid timezone specification: ${spec}`;
    const tz = spec.slice(spec.indexOf('=') + 1, i);
    if (!validTimeZone(tz)) return `provided bad location ${tz}: unknown time zone ${tz}`;
    spec = spec.slice(i).trim();
  }
  if (spec.startsWith('@')) {
    if (DESCRIPTORS.has(spec)) return undefined;
    if (spec.startsWith('@every ')) {
      const e = durationError(spec.slice('@every '.length));
      return e ? `failed to parse duration ${spec}: ${e}` : undefined;
    }
    return `unrecognized descriptor: ${spec}`;
  }
  const fields = spec.split(/\s+/).filter((f) => f.length > 0);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  for (let i = 0; i < 5; i++) {
    for (const expr of fields[i].split(',').filter((e) => e.length > 0)) {
      const err = checkRange(expr, FIELDS[i]);
      if (err) return err;
    }
  }
  return undefined;
}
