import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { celEnv, CelScalar, isCelError, parse, plan } from '@bufbuild/cel';
import { kubeCelFuncs } from './cel-lib.js';

const env = celEnv({ funcs: kubeCelFuncs, variables: { self: CelScalar.DYN } });
const run = (e: string): unknown => {
  const r = plan(env, parse(e))({ self: null });
  return isCelError(r) ? `error: ${r.message}` : r;
};

describe('Kubernetes CEL libraries', () => {
  const truths = [
    // lists
    '[1, 2, 2].isSorted() && !["b", "a"].isSorted()', '[1, 2, 3].sum() == 6 && [0.5, 1.5].sum() == 2.0 && [].sum() == 0', '[3, 1, 2].min() == 1 && [3, 1, 2].max() == 3',
    '[1, 2, 1].indexOf(1) == 0 && [1, 2, 1].lastIndexOf(1) == 2 && [1].indexOf(5) == -1', '[[1], [2]].indexOf([2]) == 1',
    // regex
    "'ABC'.find('(?i)b') == 'B'", "'abc 123'.find('[0-9]+') == '123' && 'abc'.find('x') == ''", "'a1b2c3'.findAll('[0-9]') == ['1', '2', '3'] && 'a1b2c3'.findAll('[0-9]', 2) == ['1', '2']",
    // strings
    "'abc'.reverse() == 'cba'", "strings.quote('a\"b') == '\"a\\\\\"b\"'", "'a,b'.split(',') == ['a', 'b'] && ['a', 'b'].join('-') == 'a-b'",
    // sets
    'sets.contains([1, 2, 3], [2]) && !sets.contains([1], [2])', 'sets.equivalent([1, 2], [2, 1, 1])', 'sets.intersects([1], [3, 1]) && !sets.intersects([1], [2])',
    // URLs
    "isURL('https://example.com/p') && isURL('/abs/path') && !isURL('rel/path') && !isURL('not a url')",
    "url('https://a.example.com:8443/p?x=1&x=2').getHost() == 'a.example.com:8443' && url('https://a.example.com:8443/').getHostname() == 'a.example.com' && url('https://a.b:8443/').getPort() == '8443'",
    "url('https://[::1]:80/').getHostname() == '::1' && url('https://a.b/x%20y').getEscapedPath() == '/x%20y' && url('https://a.b/?x=1&x=2').getQuery()['x'] == ['1', '2'] && url('/p').getScheme() == '' && url('http://a').getScheme() == 'http'",
    // IPs and CIDRs
    "isIP('10.0.0.1') && !isIP('010.0.0.1') && isIP('::1') && !isIP('::ffff:1.2.3.4') && !isIP('fe80::1%eth0') && !isIP('1.2.3')",
    "ip('10.0.0.1').family() == 4 && ip('2001:db8::1').family() == 6 && ip('127.0.0.1').isLoopback() && ip('::1').isLoopback() && ip('0.0.0.0').isUnspecified()",
    "ip('169.254.1.1').isLinkLocalUnicast() && ip('fe80::1').isLinkLocalUnicast() && ip('8.8.8.8').isGlobalUnicast() && !ip('127.0.0.1').isGlobalUnicast()",
    "ip.isCanonical('2001:db8::1') && !ip.isCanonical('2001:DB8::1') && !ip.isCanonical('2001:db8:0:0:0:0:0:1')", "ip('2001:db8:0:0:0:0:0:1') == ip('2001:db8::1')",
    "cidr('10.0.0.0/8').containsIP('10.1.2.3') && !cidr('10.0.0.0/8').containsIP('11.0.0.1') && cidr('10.0.0.0/8').containsIP(ip('10.0.0.1'))",
    "cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16') && !cidr('10.0.0.0/16').containsCIDR('10.0.0.0/8') && cidr('2001:db8::/32').containsIP('2001:db8::5')",
    "cidr('10.1.2.3/8').masked() == cidr('10.0.0.0/8') && cidr('10.0.0.0/8').prefixLength() == 8 && cidr('10.0.0.0/8').ip() == ip('10.0.0.0')", "isCIDR('10.0.0.0/8') && !isCIDR('10.0.0.0/33') && !isCIDR('10.0.0.0')",
    // quantities
    "isQuantity('1Gi') && isQuantity('500m') && isQuantity('1e3') && !isQuantity('1GB')", "quantity('1Gi').isGreaterThan(quantity('1000Mi')) && quantity('1k').isLessThan(quantity('1Ki'))",
    "quantity('500m').asApproximateFloat() == 0.5 && quantity('2k').asInteger() == 2000 && !quantity('1.5').isInteger() && quantity('1e3').asInteger() == 1000",
    "quantity('1').add(quantity('500m')).compareTo(quantity('1500m')) == 0 && quantity('1').sub(1).sign() == 0 && quantity('-1').sign() == -1 && quantity('2').add(3).asInteger() == 5",
  ];
  for (const e of truths) it(e, () => assert.equal(run(e), true));

  it('errors as the libraries report them', () => {
    assert.match(String(run("url('nope')")), /^error: URL parse error during conversion from string/);
    assert.match(String(run("ip('1.2.3')")), /^error: IP Address "1\.2\.3" parse error during conversion from string/);
    assert.match(String(run("quantity('1.5').asInteger()")), /cannot convert value to integer/);
    assert.match(String(run('[].min()')), /^error: /);
  });
});
