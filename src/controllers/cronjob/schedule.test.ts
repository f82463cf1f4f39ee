import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSchedule, parseGoDuration, ScheduleError, instantsOf } from './schedule.js';

const t = (s: string) => Date.parse(s);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('cron schedule', () => {
  it('every minute, steps, ranges and lists', () => {
    assert.equal(iso(parseSchedule('* * * * *').next(t('2024-01-01T00:00:30Z'))), '2024-01-01T00:01:00.000Z');
    assert.equal(iso(parseSchedule('* * * * *').next(t('2024-01-01T00:01:00Z'))), '2024-01-01T00:02:00.000Z');
    assert.equal(iso(parseSchedule('*/15 * * * *').next(t('2024-01-01T00:16:00Z'))), '2024-01-01T00:30:00.000Z');
    assert.equal(iso(parseSchedule('5-7,30 2 * * *').next(t('2024-01-01T02:07:00Z'))), '2024-01-01T02:30:00.000Z');
    assert.equal(iso(parseSchedule('10/20 * * * *').next(t('2024-01-01T00:31:00Z'))), '2024-01-01T00:50:00.000Z');
  });

  it('descriptors and names', () => {
    assert.equal(iso(parseSchedule('@hourly').next(t('2024-01-01T10:00:00Z'))), '2024-01-01T11:00:00.000Z');
    assert.equal(iso(parseSchedule('@daily').next(t('2024-01-01T10:00:00Z'))), '2024-01-02T00:00:00.000Z');
    assert.equal(iso(parseSchedule('@weekly').next(t('2024-01-01T10:00:00Z'))), '2024-01-07T00:00:00.000Z'); // a Sunday
    assert.equal(iso(parseSchedule('@monthly').next(t('2024-01-31T10:00:00Z'))), '2024-02-01T00:00:00.000Z');
    assert.equal(iso(parseSchedule('@yearly').next(t('2024-06-01T00:00:00Z'))), '2025-01-01T00:00:00.000Z');
    assert.equal(iso(parseSchedule('0 9 * JAN-MAR mon-fri').next(t('2024-03-29T10:00:00Z'))), '2025-01-01T09:00:00.000Z');
    assert.equal(iso(parseSchedule('@every 90s').next(t('2024-01-01T00:00:00Z'))), '2024-01-01T00:01:30.000Z');
  });

  it('day of month OR day of week when both are restricted', () => {
    // 13th of the month or a Friday.
    const s = parseSchedule('0 0 13 * 5');
    assert.equal(iso(s.next(t('2024-09-01T00:00:00Z'))), '2024-09-06T00:00:00.000Z'); // Friday the 6th
    assert.equal(iso(s.next(t('2024-09-10T00:00:00Z'))), '2024-09-13T00:00:00.000Z');
    // Leap day: four years ahead at most.
    assert.equal(iso(parseSchedule('0 0 29 2 *').next(t('2024-03-01T00:00:00Z'))), '2028-02-29T00:00:00.000Z');
  });

  it('time zones, via prefix or zone, across DST', () => {
    // 09:00 in New York is 14:00 UTC in winter, 13:00 in summer.
    assert.equal(iso(parseSchedule('CRON_TZ=America/New_York 0 9 * * *').next(t('2024-01-10T15:00:00Z'))), '2024-01-11T14:00:00.000Z');
    assert.equal(iso(parseSchedule('TZ=America/New_York 0 9 * * *').next(t('2024-07-10T15:00:00Z'))), '2024-07-11T13:00:00.000Z');
    // Spring forward: 02:30 does not exist on 2024-03-10 and runs at 03:30 EDT (07:30Z).
    assert.equal(iso(parseSchedule('CRON_TZ=America/New_York 30 2 * * *').next(t('2024-03-09T12:00:00Z'))), '2024-03-10T07:30:00.000Z');
    // Fall back: 01:30 happens twice on 2024-11-03 (05:30Z and 06:30Z).
    const fb = parseSchedule('CRON_TZ=America/New_York 30 1 * * *');
    assert.equal(iso(fb.next(t('2024-11-03T04:00:00Z'))), '2024-11-03T05:30:00.000Z');
    assert.equal(iso(fb.next(t('2024-11-03T05:30:00Z'))), '2024-11-03T06:30:00.000Z');
    assert.deepEqual(instantsOf(Date.UTC(2024, 10, 3, 1, 30), 'America/New_York').map(iso), ['2024-11-03T05:30:00.000Z', '2024-11-03T06:30:00.000Z']);
    assert.equal(iso(parseSchedule('0 0 * * *').next(t('2024-01-01T10:00:00Z'))), '2024-01-02T00:00:00.000Z');
  });

  it('rejects malformed schedules', () => {
    for (const bad of ['* * * *', '60 * * * *', '* 24 * * *', '*/0 * * * *', '5-1 * * * *', '@fortnightly', 'CRON_TZ=Mars/Base * * * * *', 'a * * * *']) {
      assert.throws(() => parseSchedule(bad), ScheduleError, bad);
    }
  });

  it('Go durations', () => {
    assert.equal(parseGoDuration('1h30m'), 5_400_000);
    assert.equal(parseGoDuration('1.5s'), 1500);
    assert.equal(parseGoDuration('x'), undefined);
  });
});

import { mostRecentScheduleTime, formatInZone } from './schedule.js';

describe('most recent schedule time', () => {
  it('none due, one due, many missed', () => {
    const s = parseSchedule('*/5 * * * *');
    assert.deepEqual(mostRecentScheduleTime(s, t('2024-01-01T00:00:00Z'), t('2024-01-01T00:04:59Z')), { missed: 0 });
    assert.deepEqual(mostRecentScheduleTime(s, t('2024-01-01T00:00:00Z'), t('2024-01-01T00:05:00Z')), { time: t('2024-01-01T00:05:00Z'), missed: 1 });
    const r = mostRecentScheduleTime(s, t('2024-01-01T00:00:00Z'), t('2024-01-02T00:03:00Z'));
    assert.equal(iso(r.time), '2024-01-02T00:00:00.000Z');
    assert.ok(r.missed > 100);
    // Irregular: Wednesdays and Sundays at noon.
    const w = parseSchedule('0 12 * * 0,3');
    assert.equal(iso(mostRecentScheduleTime(w, t('2024-01-01T00:00:00Z'), t('2024-02-01T00:00:00Z')).time), '2024-01-31T12:00:00.000Z');
  });

  it('formats the scheduled time in its zone', () => {
    assert.equal(formatInZone(t('2024-01-11T14:00:00Z'), 'America/New_York'), '2024-01-11T09:00:00-05:00');
    assert.equal(formatInZone(t('2024-01-11T14:00:00Z'), 'UTC'), '2024-01-11T14:00:00Z');
  });
});
