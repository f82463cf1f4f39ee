import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addressFromReverse, canonicalIP, reverseName } from './ip.js';

describe('dns ip forms', () => {
  it('canonical IPv6 text (RFC 5952)', () => {
    const cases: [string, string | undefined][] = [
      ['10.0.0.1', '10.0.0.1'],
      ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
      ['fd00:0000:0000:0001:0000:0000:0000:0001', 'fd00:0:0:1::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['::', '::'],
      ['::1', '::1'],
      ['fd00::', 'fd00::'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
      ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
      ['::ffff:10.0.0.1', '::ffff:a00:1'],
      ['nope', undefined],
      ['fd00--1', undefined],
    ];
    for (const [ip, want] of cases) assert.equal(canonicalIP(ip), want, ip);
  });

  it('reverse names both ways', () => {
    assert.equal(reverseName('10.96.0.1'), '1.0.96.10.in-addr.arpa');
    assert.equal(reverseName('fd00::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa');
    for (const ip of ['10.96.0.1', 'fd00::1', 'fd00:10:96::a', '2001:db8:1:2:3:4:5:6']) assert.equal(addressFromReverse(reverseName(ip)), ip);
    assert.equal(addressFromReverse('1.0.96.10.IN-ADDR.ARPA.'), '10.96.0.1');
    for (const n of ['0.96.10.in-addr.arpa', '01.0.96.10.in-addr.arpa', '1.0.ip6.arpa', 'x.0.96.10.in-addr.arpa', 'example.test']) assert.equal(addressFromReverse(n), undefined, n);
  });
});
