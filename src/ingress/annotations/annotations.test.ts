/** Table-driven: annotation values → the parsed per-location configuration and the problems reported. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseLocationConfig, perRequestFeatures, type LocationConfig } from './index.js';
import { parseSize, parseSeconds } from './reader.js';

const P = 'nginx.ingress.kubernetes.io';
const parse = (a: Record<string, string>, prefix = P) => {
  const full: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) full[k.includes('/') ? k : `${P}/${k}`] = v;
  return parseLocationConfig(full, prefix);
};

interface Case {
  name: string;
  anns: Record<string, string>;
  want: (c: LocationConfig) => unknown;
  expect: unknown;
  problems?: string[];
}

const cases: Case[] = [
  // redirect
  { name: 'no annotations: ssl-redirect on, no URL', anns: {}, want: (c) => c.redirect, expect: { url: null, code: 301, sslRedirect: true, forceSSLRedirect: false } },
  { name: 'permanent-redirect defaults to 301', anns: { 'permanent-redirect': 'https://x.test/a' }, want: (c) => [c.redirect.url, c.redirect.code], expect: ['https://x.test/a', 301] },
  { name: 'permanent-redirect-code 308', anns: { 'permanent-redirect': 'https://x.test', 'permanent-redirect-code': '308' }, want: (c) => c.redirect.code, expect: 308 },
  { name: 'permanent-redirect-code out of range → 301', anns: { 'permanent-redirect': 'https://x.test', 'permanent-redirect-code': '418' }, want: (c) => c.redirect.code, expect: 301 },
  { name: 'temporal-redirect defaults to 302 and wins over permanent', anns: { 'temporal-redirect': 'http://t.test', 'permanent-redirect': 'https://p.test' }, want: (c) => [c.redirect.url, c.redirect.code], expect: ['http://t.test', 302] },
  { name: 'temporal-redirect-code 308 is out of its range → 302', anns: { 'temporal-redirect': 'http://t.test', 'temporal-redirect-code': '308' }, want: (c) => c.redirect.code, expect: 302 },
  { name: 'invalid redirect URL is ignored', anns: { 'permanent-redirect': 'not a url' }, want: (c) => c.redirect.url, expect: null, problems: ['InvalidAnnotation'] },
  { name: 'ssl-redirect false, force-ssl-redirect true', anns: { 'ssl-redirect': 'false', 'force-ssl-redirect': 'true' }, want: (c) => [c.redirect.sslRedirect, c.redirect.forceSSLRedirect], expect: [false, true] },
  { name: 'ssl-redirect not a boolean keeps the default', anns: { 'ssl-redirect': 'maybe' }, want: (c) => c.redirect.sslRedirect, expect: true, problems: ['InvalidAnnotation'] },
  // snippets
  { name: 'configuration-snippet refused', anns: { 'configuration-snippet': 'return 200;' }, want: () => null, expect: null, problems: ['SnippetRefused'] },
  { name: 'server-snippet refused', anns: { 'server-snippet': 'location /x {}' }, want: () => null, expect: null, problems: ['SnippetRefused'] },
  // proxy
  { name: 'proxy defaults', anns: {}, want: (c) => c.proxy, expect: { bodySize: 1048576, connectTimeoutMs: 5000, readTimeoutMs: 60000, sendTimeoutMs: 60000, backendProtocol: 'HTTP', loadBalance: 'round_robin' } },
  { name: 'load-balance ewma', anns: { 'load-balance': 'EWMA' }, want: (c) => c.proxy.loadBalance, expect: 'ewma' },
  { name: 'load-balance unknown → round_robin', anns: { 'load-balance': 'chash' }, want: (c) => c.proxy.loadBalance, expect: 'round_robin', problems: ['InvalidAnnotation'] },
  { name: 'proxy-body-size 8k', anns: { 'proxy-body-size': '8k' }, want: (c) => c.proxy.bodySize, expect: 8192 },
  { name: 'proxy-body-size 0 = unlimited', anns: { 'proxy-body-size': '0' }, want: (c) => c.proxy.bodySize, expect: 0 },
  { name: 'proxy-body-size bogus → 1m', anns: { 'proxy-body-size': '10 MB' }, want: (c) => c.proxy.bodySize, expect: 1048576, problems: ['InvalidAnnotation'] },
  { name: 'timeouts in seconds', anns: { 'proxy-connect-timeout': '2', 'proxy-read-timeout': '30', 'proxy-send-timeout': '15s' }, want: (c) => [c.proxy.connectTimeoutMs, c.proxy.readTimeoutMs, c.proxy.sendTimeoutMs], expect: [2000, 30000, 15000] },
  { name: 'timeout invalid', anns: { 'proxy-read-timeout': 'soon' }, want: (c) => c.proxy.readTimeoutMs, expect: 60000, problems: ['InvalidAnnotation'] },
  { name: 'backend-protocol HTTPS', anns: { 'backend-protocol': 'https' }, want: (c) => c.proxy.backendProtocol, expect: 'HTTPS' },
  { name: 'backend-protocol GRPC', anns: { 'backend-protocol': 'grpc' }, want: (c) => c.proxy.backendProtocol, expect: 'GRPC' },
  { name: 'backend-protocol GRPCS', anns: { 'backend-protocol': 'GRPCS' }, want: (c) => c.proxy.backendProtocol, expect: 'GRPCS' },
  { name: 'backend-protocol AUTO_HTTP is HTTP', anns: { 'backend-protocol': 'AUTO_HTTP' }, want: (c) => c.proxy.backendProtocol, expect: 'HTTP' },
  { name: 'backend-protocol FCGI refused', anns: { 'backend-protocol': 'FCGI' }, want: (c) => c.proxy.backendProtocol, expect: 'HTTP', problems: ['UnsupportedBackendProtocol'] },
  { name: 'backend-protocol unknown', anns: { 'backend-protocol': 'SPDY' }, want: (c) => c.proxy.backendProtocol, expect: 'HTTP', problems: ['InvalidAnnotation'] },
  // canary
  { name: 'canary off ignores canary-*', anns: { 'canary-weight': '50' }, want: (c) => [c.canary.enabled, c.canary.weight], expect: [false, 0] },
  { name: 'canary by header, value, cookie, weight', anns: { canary: 'true', 'canary-by-header': 'X-Canary', 'canary-by-header-value': 'yes', 'canary-by-cookie': 'c', 'canary-weight': '30', 'canary-weight-total': '1000' }, want: (c) => [c.canary.header, c.canary.headerValue, c.canary.cookie, c.canary.weight, c.canary.weightTotal], expect: ['x-canary', 'yes', 'c', 30, 1000] },
  { name: 'canary bad pattern', anns: { canary: 'true', 'canary-by-header': 'x', 'canary-by-header-pattern': '([' }, want: (c) => c.canary.headerPattern, expect: null, problems: ['InvalidAnnotation'] },
  // affinity
  { name: 'affinity cookie defaults', anns: { affinity: 'cookie' }, want: (c) => [c.affinity.cookie, c.affinity.name, c.affinity.path, c.affinity.mode], expect: [true, 'INGRESSCOOKIE', null, 'balanced'] },
  { name: 'affinity cookie options', anns: { affinity: 'cookie', 'session-cookie-name': 'route', 'session-cookie-path': '/app', 'session-cookie-max-age': '60', 'session-cookie-samesite': 'strict', 'affinity-mode': 'persistent' }, want: (c) => [c.affinity.name, c.affinity.path, c.affinity.maxAge, c.affinity.sameSite, c.affinity.mode], expect: ['route', '/app', 60, 'Strict', 'persistent'] },
  { name: 'affinity other than cookie', anns: { affinity: 'ip' }, want: (c) => c.affinity.cookie, expect: false, problems: ['InvalidAnnotation'] },
  // cors
  { name: 'cors defaults', anns: { 'enable-cors': 'true' }, want: (c) => [c.cors.allowOrigin, c.cors.allowCredentials, c.cors.maxAge, c.cors.allowMethods], expect: [['*'], true, 1728000, 'GET, PUT, POST, DELETE, PATCH, OPTIONS'] },
  { name: 'cors origins list, bad one dropped', anns: { 'enable-cors': 'true', 'cors-allow-origin': 'https://a.test, https://*.b.test:8443, javascript:x' }, want: (c) => c.cors.allowOrigin, expect: ['https://a.test', 'https://*.b.test:8443'], problems: ['InvalidAnnotation'] },
  // limits
  { name: 'limit-rps with default burst multiplier', anns: { 'limit-rps': '10', 'limit-connections': '2' }, want: (c) => [c.limits.rps, c.limits.connections, c.limits.burstMultiplier], expect: [10, 2, 5] },
  { name: 'limit-rps negative', anns: { 'limit-rps': '-1' }, want: (c) => c.limits.rps, expect: 0, problems: ['InvalidAnnotation'] },
  // source ranges
  { name: 'whitelist-source-range', anns: { 'whitelist-source-range': '10.0.0.0/8, 192.168.1.1' }, want: (c) => [c.sourceRange.allowText, c.denied], expect: [['10.0.0.0/8', '192.168.1.1'], null] },
  { name: 'invalid source range denies the location', anns: { 'denylist-source-range': '10.0.0.0/33' }, want: (c) => c.denied !== null, expect: true, problems: ['InvalidAnnotation'] },
  // auth
  { name: 'auth-url and response headers', anns: { 'auth-url': 'http://auth.test/check?x=1', 'auth-response-headers': 'X-User, X-Email' }, want: (c) => [c.auth.url?.href, c.auth.method, c.auth.responseHeaders], expect: ['http://auth.test/check?x=1', 'GET', ['X-User', 'X-Email']] },
  { name: 'invalid auth-url denies the location', anns: { 'auth-url': 'ftp://x' }, want: (c) => c.denied !== null, expect: true, problems: ['InvalidAnnotation'] },
  // prefix
  { name: 'another prefix ignores nginx.ingress.kubernetes.io', anns: { 'enable-cors': 'true', 'custom.io/enable-cors': 'false', 'custom.io/limit-rps': '3' }, want: (c) => [c.cors.enabled, c.limits.rps], expect: [false, 3] },
];

describe('annotation parsers', () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = c.name.startsWith('another prefix') ? parse(c.anns, 'custom.io') : parse(c.anns);
      assert.deepEqual(c.want(r.config), c.expect);
      assert.deepEqual(r.problems.map((p) => p.reason), c.problems ?? []);
    });
  }

  it('nginx sizes and times', () => {
    const sizes: [string, number | null][] = [['1m', 1048576], ['8k', 8192], ['8K', 8192], ['512', 512], ['1g', 1073741824], ['0', 0], ['1.5m', null], ['m', null], ['-1', null]];
    for (const [v, want] of sizes) assert.equal(parseSize(v), want, v);
    const times: [string, number | null][] = [['5', 5000], ['5s', 5000], ['500ms', 500], ['2m', 120000], ['x', null]];
    for (const [v, want] of times) assert.equal(parseSeconds(v), want, v);
  });

  it('only locations with per-request features leave the fast path', () => {
    const rows: [Record<string, string>, boolean][] = [
      [{}, false],
      [{ 'proxy-body-size': '8k' }, false],
      [{ 'ssl-redirect': 'false' }, false],
      [{ 'enable-cors': 'true' }, true],
      [{ 'limit-rps': '1' }, true],
      [{ 'whitelist-source-range': '10.0.0.0/8' }, true],
      [{ affinity: 'cookie' }, true],
      [{ 'auth-url': 'http://a.test' }, true],
      [{ 'permanent-redirect': 'http://a.test' }, true],
      [{ 'force-ssl-redirect': 'true' }, true],
      // The fast path applies the proxy timeouts itself (a bodyless request's send is one small write).
      [{ 'proxy-read-timeout': '1', 'proxy-connect-timeout': '2', 'proxy-send-timeout': '3' }, false],
      [{ 'backend-protocol': 'HTTPS' }, true],
      [{ 'backend-protocol': 'GRPC' }, true],
    ];
    for (const [anns, want] of rows) assert.equal(perRequestFeatures(parse(anns).config), want, JSON.stringify(anns));
  });
});
