import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalTime, normalizeTimes, TimeParseError } from './times.js';

test('a Time is stored as UTC to the second; fractions and offsets are accepted as Go parses RFC3339', () => {
  assert.equal(canonicalTime('2026-11-25T11:10:38.312Z', false), '2026-11-25T11:10:38Z');
  assert.equal(canonicalTime('2026-11-25T11:10:38Z', false), '2026-11-25T11:10:38Z');
  assert.equal(canonicalTime('2026-11-25T01:10:38.999999999+02:30', false), '2026-11-24T22:40:38Z');
  assert.equal(canonicalTime('0001-01-01T00:00:00Z', false), null, "Go's zero time encodes as null");
  assert.equal(canonicalTime('0999-03-04T05:06:07Z', false), '0999-03-04T05:06:07Z');
});

test('a MicroTime needs exactly six fractional digits, as layout 2006-01-02T15:04:05.000000Z07:00', () => {
  assert.equal(canonicalTime('2026-11-25T11:10:38.312000Z', true), '2026-11-25T11:10:38.312000Z');
  assert.equal(canonicalTime('2026-11-25T12:10:38.000001+01:00', true), '2026-11-25T11:10:38.000001Z');
  const refused: [string, string][] = [
    ['2026-08-11T19:37:19.103Z', 'parsing time "2026-08-11T19:37:19.103Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".103Z" as ".000000"'],
    ['2020-02-28T20:11:41.636526400Z', 'parsing time "2020-02-28T20:11:41.636526400Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "400Z" as "Z07:00"'],
    ['2020-01-01T00:00:00Z', 'parsing time "2020-01-01T00:00:00Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000"'],
  ];
  for (const [v, msg] of refused) assert.throws(() => canonicalTime(v, true), (e: unknown) => e instanceof TimeParseError && e.message === msg);
});

test('Go parse errors for malformed times', () => {
  const err = (v: string) => {
    try {
      canonicalTime(v, false);
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };
  assert.equal(err('garbage'), 'parsing time "garbage" as "2006-01-02T15:04:05Z07:00": cannot parse "garbage" as "2006"');
  assert.equal(err('2026-01-02'), 'parsing time "2026-01-02" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T"');
  assert.equal(err('2026-13-02T00:00:00Z'), 'parsing time "2026-13-02T00:00:00Z": month out of range');
  assert.equal(err('2026-02-30T00:00:00Z'), 'parsing time "2026-02-30T00:00:00Z": day out of range');
  assert.equal(err('2026-02-03T00:00:00Zjunk'), 'parsing time "2026-02-03T00:00:00Zjunk": extra text: "junk"');
  assert.equal(err('2026-02-03T00:00:00'), 'parsing time "2026-02-03T00:00:00" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00"');
  assert.equal(err(''), 'parsing time "" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "2006"');
});

test('normalizeTimes rewrites the times of a built-in object and shares what it does not change', () => {
  const spec = { containers: [{ name: 'c', image: 'i' }] };
  const pod = {
    metadata: { name: 'p', creationTimestamp: '2026-01-01T00:00:00.500Z', labels: { a: 'b' } },
    spec,
    status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:01.123Z' }], startTime: '2026-01-01T00:00:02Z' },
  };
  const out = normalizeTimes('', 'v1', 'Pod', pod);
  assert.notEqual(out, pod);
  assert.equal(out.metadata.creationTimestamp, '2026-01-01T00:00:00Z');
  assert.equal(out.status.conditions[0].lastTransitionTime, '2026-01-01T00:00:01Z');
  assert.equal(out.spec, spec);
  assert.equal(pod.status.conditions[0].lastTransitionTime, '2026-01-01T00:00:01.123Z', 'the input is not changed');
  const canonical = { metadata: { name: 'x' }, data: { a: '2026-01-01T00:00:00.5Z' } };
  assert.equal(normalizeTimes('', 'v1', 'ConfigMap', canonical), canonical);
  const lease = { spec: { renewTime: '2026-01-01T00:00:00.123Z' } };
  assert.throws(() => normalizeTimes('coordination.k8s.io', 'v1', 'Lease', lease), /cannot parse "\.123Z" as "\.000000"/);
  const ev = normalizeTimes('events.k8s.io', 'v1', 'Event', { eventTime: '2026-01-01T00:00:00.123456Z', deprecatedFirstTimestamp: '2026-01-01T00:00:00.9Z' });
  assert.deepEqual(ev, { eventTime: '2026-01-01T00:00:00.123456Z', deprecatedFirstTimestamp: '2026-01-01T00:00:00Z' });
});
