import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTable } from './table.js';
import { match } from './match.js';
import { ing, type IngressSpec } from './fixtures.js';

/** [request target, expected]: expected is `svc target`, `301 location`, `302 location`, `default target` or `400`. */
type Case = [string, string, string?];

function run(specs: IngressSpec[], cases: Case[], host = 'example.com') {
  const table = buildTable(specs.map(ing));
  for (const [target, want, h] of cases) {
    const r = match(table, { host: h ?? host, target, scheme: 'http' });
    let got: string;
    if (r.kind === 'error') got = String(r.status);
    else if (r.kind === 'redirect') got = `${r.status} ${r.location}`;
    else got = `${r.backend ? r.backend.service : 'default'} ${r.upstreamTarget}`;
    assert.equal(got, want, `${h ?? host}${target}`);
  }
}

describe('matcher: rewrite-target (the seed examples)', () => {
  it('/app with rewrite-target / sends everything under /app to /', () => {
    run([{ name: 'a', host: 'example.com', paths: [{ path: '/app', service: 'app' }], annotations: { 'rewrite-target': '/' } }], [
      ['/app', 'app /'],
      ['/app/x', 'app /'],
      ['/app?x=1', 'app /?x=1'],
      ['/other', 'default /other'],
    ]);
  });
  it('/app(/|$)(.*) with rewrite-target /$2', () => {
    run([{ name: 'a', host: 'example.com', paths: [{ path: '/app(/|$)(.*)', type: 'ImplementationSpecific', service: 'app' }], annotations: { 'rewrite-target': '/$2' } }], [
      ['/app/v1/foo', 'app /v1/foo'],
      ['/app', 'app /'],
      ['/app/', 'app /'],
      ['/app/new?x=1', 'app /new?x=1'],
      ['/APP/Case', 'app /Case'],
      ['/apps', 'default /apps'],
      ['/app//v1/./foo/../bar', 'app /v1/bar'],
      ['/app/a%20b', 'app /a%20b'],
    ]);
  });
  it('the rewrite regex is unanchored', () => {
    run([{ name: 'a', host: 'example.com', paths: [{ path: '/x(/|$)(.*)', type: 'ImplementationSpecific', service: 's' }], annotations: { 'rewrite-target': '/$2', 'x-forwarded-prefix': '/x' } }], [
      ['/x/y/x/z', 's /y/x/z'],
    ]);
  });
  it('rewrite-target puts the whole host in case-insensitive regex mode', () => {
    run(
      [
        { name: 'a', host: 'example.com', paths: [{ path: '/app', service: 'app' }], annotations: { 'rewrite-target': '/' } },
        { name: 'b', host: 'example.com', paths: [{ path: '/foo', type: 'Exact', service: 'foo' }, { path: '/ba', service: 'ba' }] },
      ],
      [
        ['/FOO/bar', 'foo /FOO/bar'],
        ['/banana', 'ba /banana'],
        ['/foo', 'foo /foo'],
      ],
    );
  });
  it('regex locations: longest first, first match wins', () => {
    run([{ name: 'a', host: 'example.com', annotations: { 'use-regex': 'true' }, paths: [{ path: '/a.*', type: 'ImplementationSpecific', service: 'short' }, { path: '/abc', type: 'ImplementationSpecific', service: 'long' }] }], [
      ['/abcdef', 'long /abcdef'],
      ['/axyz', 'short /axyz'],
    ]);
  });
});

describe('matcher: Ingress spec paths without regex', () => {
  const specs: IngressSpec[] = [
    { name: 'a', host: 'example.com', paths: [{ path: '/foo', type: 'Exact', service: 'exact' }, { path: '/foo', service: 'prefix' }, { path: '/aaa', service: 'aaa' }, { path: '/aaa/bbb', service: 'bbb' }, { path: '/ccc/', service: 'ccc' }, { path: '/impl', type: 'ImplementationSpecific', service: 'impl' }] },
  ];
  it('Exact, Prefix element-wise, longest wins, Exact beats Prefix, trailing slash 301', () => {
    run(specs, [
      ['/foo', 'exact /foo'],
      ['/foo/', 'prefix /foo/'],
      ['/FOO', 'default /FOO'],
      ['/aaa', 'aaa /aaa'],
      ['/aaa/bbb/x', 'bbb /aaa/bbb/x'],
      ['/aaaccc', 'default /aaaccc'],
      ['/ccc', '301 /ccc/'],
      ['/ccc?q=1', '301 /ccc/?q=1'],
      ['/ccc/d', 'ccc /ccc/d'],
      ['/impl', 'impl /impl'],
      ['/implement', 'impl /implement'],
      ['/a/../foo', 'exact /a/../foo'],
      ['/..', '400'],
      ['//aaa//bbb', 'bbb //aaa//bbb'],
    ]);
  });
});

describe('matcher: hosts, conflicts, defaults, app-root', () => {
  it('wildcards match exactly one label; unknown hosts get the default backend', () => {
    run([{ name: 'w', host: '*.foo.com', paths: [{ path: '/', service: 'wild' }] }, { name: 'e', host: 'foo.com', paths: [{ path: '/', service: 'exact' }] }], [
      ['/x', 'wild /x', 'bar.foo.com'],
      ['/x', 'wild /x', 'BAR.foo.com:8080'],
      ['/x', 'default /x', 'baz.bar.foo.com'],
      ['/x', 'exact /x', 'foo.com'],
      ['/x', 'default /x', 'other.com'],
    ]);
  });
  it('the oldest Ingress wins a host/path conflict', () => {
    run(
      [
        { name: 'new', host: 'example.com', created: 2000, paths: [{ path: '/p', service: 'new' }] },
        { name: 'old', host: 'example.com', created: 1000, paths: [{ path: '/p', service: 'old' }] },
      ],
      [['/p', 'old /p']],
    );
  });
  it('spec.defaultBackend: the catch-all for a rule-less Ingress, the host root otherwise', () => {
    run([{ name: 'd', defaultBackend: { service: 'dflt' } }, { name: 'h', host: 'example.com', defaultBackend: { service: 'hroot' }, paths: [{ path: '/x', service: 'x' }] }], [
      ['/anything', 'dflt /anything', 'nohost.com'],
      ['/y', 'hroot /y'],
      ['/x', 'x /x'],
    ]);
  });
  it('app-root redirects / with 302', () => {
    run([{ name: 'a', host: 'example.com', annotations: { 'app-root': '/app1' }, paths: [{ path: '/', service: 's' }] }], [
      ['/', '302 http://example.com/app1'],
      ['/./', '302 http://example.com/app1'],
      ['/app1', 's /app1'],
    ]);
  });
  it('an invalid regex drops only its Ingress and reports it', () => {
    const t = buildTable([ing({ name: 'bad', host: 'b.com', annotations: { 'use-regex': 'true' }, paths: [{ path: '/(', type: 'ImplementationSpecific', service: 's' }] }), ing({ name: 'ok', host: 'o.com', paths: [{ path: '/', service: 'o' }] })]);
    assert.equal(t.problems.length, 1);
    assert.equal(t.problems[0].ingress, 'default/bad');
    assert.ok(t.servers.has('o.com') && !t.servers.has('b.com'));
  });
});
