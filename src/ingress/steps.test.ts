/** The per-request steps as pure functions, table-driven: no sockets. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTable } from './table.js';
import { match } from './match.js';
import { ing } from './fixtures.js';
import { affinityStep, bodySizeStep, canaryStep, corsStep, deniedStep, redirectStep, sourceRangeStep, type RequestFacts } from './steps.js';
import { chooseCanary, type CanaryConfig } from './annotations/canary.js';
import { RequestLimiter, ConnectionLimiter, checkLimits } from './annotations/limits.js';
import { affinityCookie, affinityKey } from './annotations/affinity.js';
import { parseLocationConfig } from './annotations/index.js';
import { cookiePath } from './dataplane.js';

function facts(p: Partial<RequestFacts> & { headers?: Record<string, string> } = {}): RequestFacts {
  const h = p.headers ?? {};
  return { method: 'GET', scheme: 'http', host: 'a.test', target: '/x?y=1', remote: '10.1.2.3', httpsPort: 443, header: (n) => h[n], ...p };
}

function routed(anns: Record<string, string>, opts: { tls?: boolean; host?: string } = {}) {
  const table = buildTable([ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's' }], annotations: anns, tls: opts.tls ? [{ hosts: ['a.test'], secretName: 'x' }] : undefined })]);
  const r = match(table, { host: opts.host ?? 'a.test', target: '/x?y=1', scheme: 'http' });
  assert.equal(r.kind, 'proxy');
  return { table, r: r as Extract<typeof r, { kind: 'proxy' }> };
}

describe('request steps', () => {
  it('redirects: permanent/temporal, ssl-redirect only with TLS, force-ssl-redirect always, https never', () => {
    const rows: { anns: Record<string, string>; tls?: boolean; f?: Partial<RequestFacts>; want: [number, string] | null }[] = [
      { anns: {}, want: null },
      { anns: {}, tls: true, want: [308, 'https://a.test/x?y=1'] },
      { anns: {}, tls: true, f: { httpsPort: 8443, host: 'A.test:8080' }, want: [308, 'https://a.test:8443/x?y=1'] },
      { anns: {}, tls: true, f: { scheme: 'https' }, want: null },
      { anns: { 'ssl-redirect': 'false' }, tls: true, want: null },
      { anns: { 'force-ssl-redirect': 'true' }, want: [308, 'https://a.test/x?y=1'] },
      { anns: { 'force-ssl-redirect': 'true' }, f: { scheme: 'https' }, want: null },
      { anns: { 'permanent-redirect': 'https://new.test/' }, tls: true, want: [301, 'https://new.test/'] },
      { anns: { 'permanent-redirect': 'https://new.test/', 'permanent-redirect-code': '308' }, want: [308, 'https://new.test/'] },
      { anns: { 'temporal-redirect': 'https://t.test/' }, f: { scheme: 'https' }, want: [302, 'https://t.test/'] },
    ];
    for (const row of rows) {
      const { r } = routed(row.anns, { tls: row.tls });
      const a = redirectStep(r.server, r.location, facts(row.f));
      assert.deepEqual(a ? [a.status, a.headers.location] : null, row.want, JSON.stringify(row));
    }
  });

  it('plain locations stay on the fast path; TLS hosts (ssl-redirect) and annotated ones do not', () => {
    assert.equal(routed({}).r.location.plain, true);
    assert.equal(routed({}, { tls: true }).r.location.plain, false);
    assert.equal(routed({ 'ssl-redirect': 'false' }, { tls: true }).r.location.plain, true);
    assert.equal(routed({ 'enable-cors': 'true' }).r.location.plain, false);
  });

  it('body size: Content-Length over the limit is 413; 0 is unlimited', () => {
    const rows: [Record<string, string>, number | null, number | null][] = [
      [{}, 1048576, null],
      [{}, 1048577, 413],
      [{}, null, null],
      [{ 'proxy-body-size': '8k' }, 8193, 413],
      [{ 'proxy-body-size': '0' }, 1e12, null],
    ];
    for (const [anns, cl, want] of rows) assert.equal(bodySizeStep(parseLocationConfig(prefixed(anns), P).config, cl)?.status ?? null, want);
  });

  it('denied locations answer 503', () => {
    assert.equal(deniedStep(cfg({ 'whitelist-source-range': 'nonsense' }))?.status, 503);
    assert.equal(deniedStep(cfg({})), null);
  });

  it('source ranges: deny first, then allow, IPv4-mapped clients as IPv4', () => {
    const rows: [Record<string, string>, string, boolean][] = [
      [{}, '1.2.3.4', true],
      [{ 'whitelist-source-range': '10.0.0.0/8' }, '10.9.9.9', true],
      [{ 'whitelist-source-range': '10.0.0.0/8' }, '::ffff:10.9.9.9', true],
      [{ 'whitelist-source-range': '10.0.0.0/8' }, '11.0.0.1', false],
      [{ 'whitelist-source-range': '10.0.0.0/8', 'denylist-source-range': '10.1.0.0/16' }, '10.1.2.3', false],
      [{ 'denylist-source-range': '127.0.0.1' }, '127.0.0.1', false],
      [{ 'denylist-source-range': '127.0.0.1' }, '127.0.0.2', true],
      [{ 'whitelist-source-range': 'fd00::/8' }, 'fd00::1', true],
    ];
    for (const [anns, ip, ok] of rows) assert.equal(sourceRangeStep(cfg(anns), ip) === null, ok, `${JSON.stringify(anns)} ${ip}`);
  });

  it('CORS: preflight 204 with the headers, simple requests get them added, unknown origins none', () => {
    const star = corsStep(cfg({ 'enable-cors': 'true' }), facts({ method: 'OPTIONS' }));
    assert.equal(star.answer?.status, 204);
    assert.equal(star.answer?.headers['access-control-allow-origin'], '*');
    assert.equal(star.answer?.headers['access-control-allow-credentials'], 'true');
    assert.equal(star.answer?.headers['access-control-max-age'], '1728000');
    const list = cfg({ 'enable-cors': 'true', 'cors-allow-origin': 'https://a.test, https://*.b.test', 'cors-allow-credentials': 'false', 'cors-expose-headers': 'X-Id' });
    const ok = corsStep(list, facts({ headers: { origin: 'https://x.b.test' } }));
    assert.equal(ok.answer, null);
    assert.deepEqual([ok.headers?.['access-control-allow-origin'], ok.headers?.['access-control-allow-credentials'], ok.headers?.['access-control-expose-headers']], ['https://x.b.test', undefined, 'X-Id']);
    assert.deepEqual(corsStep(list, facts({ headers: { origin: 'https://evil.test' } })), { answer: null, headers: null });
    assert.deepEqual(corsStep(list, facts({ method: 'OPTIONS', headers: { origin: 'https://y.z.b.test' } })), { answer: null, headers: null });
    assert.deepEqual(corsStep(cfg({}), facts({ method: 'OPTIONS' })), { answer: null, headers: null });
  });

  it('limit-rps: burst of rate × multiplier, then the leaky bucket refills at the rate', () => {
    let now = 0;
    const reqs = new RequestLimiter(() => now);
    const conns = new ConnectionLimiter();
    const c = cfg({ 'limit-rps': '2' }).limits;
    const take = (ip = '1.1.1.1') => checkLimits(c, 'ns/a', ip, reqs, conns).ok;
    // burst = 2 × 5 = 10: the first request plus ten more pass at once.
    let passed = 0;
    for (let i = 0; i < 20; i++) if (take()) passed++;
    assert.equal(passed, 11);
    assert.equal(take('2.2.2.2'), true, 'per client address');
    now += 500; // one request's worth at 2 r/s
    assert.equal(take(), true);
    assert.equal(take(), false);
    const exempt = cfg({ 'limit-rps': '1', 'limit-whitelist': '1.1.1.0/24' }).limits;
    for (let i = 0; i < 20; i++) assert.equal(checkLimits(exempt, 'z', '1.1.1.1', reqs, conns).ok, true);
  });

  it('limit-connections: concurrent requests per address, released at the end', () => {
    const reqs = new RequestLimiter(() => 0);
    const conns = new ConnectionLimiter();
    const c = cfg({ 'limit-connections': '2' }).limits;
    const a = checkLimits(c, 'z', '1.1.1.1', reqs, conns);
    const b = checkLimits(c, 'z', '1.1.1.1', reqs, conns);
    assert.deepEqual([a.ok, b.ok, checkLimits(c, 'z', '1.1.1.1', reqs, conns).ok], [true, true, false]);
    a.release();
    a.release(); // idempotent
    assert.equal(checkLimits(c, 'z', '1.1.1.1', reqs, conns).ok, true);
  });

  it('canary: header beats cookie beats weight; value and pattern; never/always', () => {
    const base: CanaryConfig = { enabled: true, header: 'x-canary', headerValue: null, headerPattern: null, cookie: 'cc', weight: 0, weightTotal: 100 };
    const rows: { c?: Partial<CanaryConfig>; h?: string; cookie?: string; rnd?: number; want: boolean }[] = [
      { want: false },
      { h: 'always', want: true },
      { h: 'never', cookie: 'always', want: false },
      { h: 'other', cookie: 'always', want: true },
      { cookie: 'never', c: { weight: 100 }, want: false },
      { cookie: 'always', want: true },
      { c: { headerValue: 'v2' }, h: 'v2', want: true },
      { c: { headerValue: 'v2' }, h: 'always', want: false },
      { c: { headerValue: 'v2', weight: 100 }, h: 'v1', want: true },
      { c: { headerPattern: /^v[23]$/ }, h: 'v3', want: true },
      { c: { weight: 30 }, rnd: 0.29, want: true },
      { c: { weight: 30 }, rnd: 0.3, want: false },
      { c: { weight: 1, weightTotal: 1000 }, rnd: 0.0009, want: true },
      { c: { weight: 1, weightTotal: 1000 }, rnd: 0.001, want: false },
    ];
    for (const row of rows) {
      const got = chooseCanary({ ...base, ...row.c }, { header: (n) => (n === 'x-canary' ? row.h : undefined), cookie: (n) => (n === 'cc' ? row.cookie : undefined) }, () => row.rnd ?? 0.5);
      assert.equal(got, row.want, JSON.stringify(row));
    }
  });

  it('canary Ingresses attach to the main backend instead of creating locations', () => {
    const table = buildTable([
      ing({ name: 'main', host: 'a.test', paths: [{ path: '/', service: 'stable' }], created: 1 }),
      ing({ name: 'canary', host: 'a.test', paths: [{ path: '/', service: 'next' }], annotations: { canary: 'true', 'canary-by-header': 'X-Canary' }, created: 2 }),
      ing({ name: 'lost', host: 'b.test', paths: [{ path: '/', service: 'next' }], annotations: { canary: 'true' }, created: 3 }),
    ]);
    assert.deepEqual([...table.alternatives.keys()], ['default-stable-80']);
    assert.equal(table.servers.has('b.test'), false);
    assert.deepEqual(table.problems.map((p) => [p.ingress, p.reason]), [['default/lost', 'CanaryWithoutMain']]);
    const r = match(table, { host: 'a.test', target: '/', scheme: 'http' });
    assert.ok(r.kind === 'proxy');
    assert.equal(r.location.plain, false);
    const alt = table.alternatives.get('default-stable-80');
    assert.equal(canaryStep(r.backend, alt, facts({ headers: { 'x-canary': 'always' } })).backend?.service, 'next');
    assert.equal(canaryStep(r.backend, alt, facts()).backend?.service, 'stable');
  });

  it("a canary whose only rule is a defaultBackend joins the main Ingress's default backend (the catch-all server)", () => {
    const table = buildTable([
      ing({ name: 'main', defaultBackend: { service: 'stable' }, created: 1 }),
      ing({ name: 'hostless', paths: [{ path: '/api', service: 'api' }], created: 2 }),
      ing({ name: 'canary', defaultBackend: { service: 'next' }, annotations: { canary: 'true', 'canary-by-header': 'X-Canary' }, created: 3 }),
    ]);
    assert.deepEqual(table.problems, []);
    assert.deepEqual([...table.alternatives.keys()].sort(), ['default-api-80', 'default-stable-80']);
    for (const [target, main] of [['/anything', 'stable'], ['/api/x', 'api']]) {
      const r = match(table, { host: 'any.test', target, scheme: 'http' });
      assert.ok(r.kind === 'proxy');
      assert.equal(r.backend?.service, main);
      // With a canary attached the location leaves the fast path, so the canary step runs.
      assert.equal(r.location.plain, false);
      const alt = table.alternatives.get(`default-${main}-80`);
      assert.equal(canaryStep(r.backend, alt, facts({ headers: { 'x-canary': 'always' } })).backend?.service, 'next');
      assert.equal(canaryStep(r.backend, alt, facts()).backend?.service, main);
    }
    // Only the global default backend: nothing to merge into.
    const alone = buildTable([ing({ name: 'canary', defaultBackend: { service: 'next' }, annotations: { canary: 'true' } }), ing({ name: 'other', host: 'a.test', paths: [{ path: '/', service: 's' }] })]);
    assert.deepEqual(alone.problems.map((p) => [p.ingress, p.reason]), [['default/canary', 'CanaryWithoutMain']]);
    assert.equal(alone.alternatives.size, 0);
  });

  it('affinity: the cookie names an endpoint while it exists; Set-Cookie attributes', () => {
    const c = cfg({ affinity: 'cookie', 'session-cookie-name': 'route', 'session-cookie-max-age': '60', 'session-cookie-samesite': 'None' });
    const eps = [{ key: '10.0.0.1:80' }, { key: '10.0.0.2:80' }];
    assert.equal(affinityStep(c, facts({ headers: { cookie: `a=b; route=${affinityKey('10.0.0.2:80')}` } }), eps), eps[1]);
    assert.equal(affinityStep(c, facts({ headers: { cookie: `route=${affinityKey('10.0.0.9:80')}` } }), eps), undefined);
    assert.equal(affinityStep(cfg({}), facts({ headers: { cookie: `INGRESSCOOKIE=${affinityKey('10.0.0.2:80')}` } }), eps), undefined);
    assert.equal(affinityCookie(c.affinity, 'v', '/app', true, 0), 'route=v; Path=/app; Max-Age=60; SameSite=None; Secure; HttpOnly');
    assert.equal(affinityCookie(cfg({ affinity: 'cookie' }).affinity, 'v', '/', false, 0), 'INGRESSCOOKIE=v; Path=/; HttpOnly');
    assert.deepEqual(['/app', '/app/', '/app(/|$)(.*)', '/.*'].map(cookiePath), ['/app', '/app/', '/', '/']);
  });
});

const P = 'nginx.ingress.kubernetes.io';
function prefixed(a: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [`${P}/${k}`, v]));
}
function cfg(a: Record<string, string>) {
  return parseLocationConfig(prefixed(a), P).config;
}
