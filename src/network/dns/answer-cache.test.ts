import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AnswerCache } from './answer-cache.js';
import { RCODE, decodeMessage, encodeResponse, type Record_ } from './wire.js';

const q = [{ name: 'www.example.test', type: 'A', class: 'IN' }];
const a = (ttl: number): Record_ => ({ name: 'www.example.test', type: 'A', ttl, class: 'IN', data: '192.0.2.1' });
const soa = (ttl: number, minimum: number): Record_ => ({ name: 'example.test', type: 'SOA', ttl, class: 'IN', data: { mname: 'ns.example.test', rname: 'h.example.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum } });
const resp = (rcode: number, answers: Record_[], authority: Record_[] = [], tc = false) => encodeResponse({ id: 9, rd: true, aa: false, ra: true, rcode, tc, questions: q, answers, authority, additional: [] });

describe('AnswerCache (forwarded answers)', () => {
  it('serves a hit with the asker ID and TTLs aged, until the smallest TTL (capped) runs out', () => {
    let now = 0;
    const c = new AnswerCache({ maxTtl: 30, now: () => now });
    c.put('k', resp(RCODE.NOERROR, [a(60), { ...a(20), data: '192.0.2.2' } as Record_]));
    now = 5_500;
    const hit = decodeMessage(c.get('k', 1234)!);
    assert.equal(hit.id, 1234);
    assert.deepEqual(hit.answers!.map((r: any) => [r.data, r.ttl]), [['192.0.2.1', 55], ['192.0.2.2', 15]]);
    now = 20_000;
    assert.equal(c.get('k', 1), undefined, 'expired with the smallest TTL');
    c.put('k2', resp(RCODE.NOERROR, [a(3600)]));
    now += 30_000;
    assert.equal(c.get('k2', 1), undefined, 'capped at maxTtl');
  });

  it('keeps NXDOMAIN for the SOA minimum, and refuses what must not be cached', () => {
    let now = 0;
    const c = new AnswerCache({ now: () => now });
    c.put('nx', resp(RCODE.NXDOMAIN, [], [soa(300, 10)]));
    assert.equal(decodeMessage(c.get('nx', 2)!).rcode, 'NXDOMAIN');
    now = 10_000;
    assert.equal(c.get('nx', 2), undefined);
    c.put('nosoa', resp(RCODE.NXDOMAIN, []));
    c.put('servfail', resp(RCODE.SERVFAIL, [a(60)]));
    c.put('tc', resp(RCODE.NOERROR, [a(60)], [], true));
    c.put('zero', resp(RCODE.NOERROR, [a(0)]));
    c.put('junk', Buffer.from([1, 2, 3]));
    assert.equal(c.size, 0);
    const off = new AnswerCache({ maxTtl: 0 });
    off.put('k', resp(RCODE.NOERROR, [a(60)]));
    assert.equal(off.size, 0, 'maxTtl 0 turns the cache off');
  });

  it('stays within maxEntries', () => {
    const c = new AnswerCache({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) c.put(`k${i}`, resp(RCODE.NOERROR, [a(60)]));
    assert.equal(c.size, 3);
    assert.ok(c.get('k9', 1));
  });
});
