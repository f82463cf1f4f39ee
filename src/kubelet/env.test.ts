import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { containerEnv, fieldValue, formatMap, serviceEnvVars, type NodeFacts, type ObjectSource } from './env.js';

const node: NodeFacts = { nodeName: 'n1', hostIP: '10.0.0.1', allocatable: { cpu: '2', memory: '4Gi' } };
const svc = (ns: string, name: string, clusterIP: string, ports: any[]) => ({ metadata: { namespace: ns, name }, spec: { clusterIP, ports } });

const services: Record<string, any[]> = {
  default: [svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]), svc('default', 'other', '10.96.0.9', [{ port: 1 }])],
  app: [
    svc('app', 'redis-primary', '10.96.0.11', [{ port: 6379, protocol: 'TCP' }]),
    svc('app', 'web', '10.96.0.12', [{ name: 'http', port: 80 }, { name: 'dns-udp', port: 53, protocol: 'UDP' }]),
    svc('app', 'headless', 'None', [{ port: 80 }]),
  ],
};
const src: ObjectSource = {
  configMap: async () => undefined,
  secret: async () => undefined,
  services: async (ns) => services[ns] ?? [],
};
const pod = (spec: any = {}, ns = 'app') => ({ metadata: { name: 'p', namespace: ns, uid: 'u' }, spec });
const asMap = (l: { key: string; value: string }[]) => Object.fromEntries(l.map((e) => [e.key, e.value]));

describe('service environment variables', () => {
  it('makes the upstream variables of one service, named ports and Docker links', () => {
    const env = asMap(serviceEnvVars([services.app[1]]));
    assert.deepEqual(env, {
      WEB_SERVICE_HOST: '10.96.0.12',
      WEB_SERVICE_PORT: '80',
      WEB_SERVICE_PORT_HTTP: '80',
      WEB_SERVICE_PORT_DNS_UDP: '53',
      WEB_PORT: 'tcp://10.96.0.12:80',
      WEB_PORT_80_TCP: 'tcp://10.96.0.12:80',
      WEB_PORT_80_TCP_PROTO: 'tcp',
      WEB_PORT_80_TCP_PORT: '80',
      WEB_PORT_80_TCP_ADDR: '10.96.0.12',
      WEB_PORT_53_UDP: 'udp://10.96.0.12:53',
      WEB_PORT_53_UDP_PROTO: 'udp',
      WEB_PORT_53_UDP_PORT: '53',
      WEB_PORT_53_UDP_ADDR: '10.96.0.12',
    });
    assert.deepEqual(serviceEnvVars([services.app[2]]), [], 'headless services have none');
  });

  it('adds the namespace’s services and the kubernetes service, after the container’s own env', async () => {
    const env = await containerEnv(pod(), { name: 'c', env: [{ name: 'WEB_SERVICE_HOST', value: 'mine' }, { name: 'URL', value: 'http://$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)' }] }, '10.244.0.5', node, src);
    const m = asMap(env);
    assert.equal(env[0].key, 'WEB_SERVICE_HOST');
    assert.equal(m.WEB_SERVICE_HOST, 'mine', 'the container’s env wins');
    assert.equal(m.URL, 'http://mine:80', '$(VAR) sees declared variables first, then service variables');
    assert.equal(m.REDIS_PRIMARY_SERVICE_HOST, '10.96.0.11');
    assert.equal(m.REDIS_PRIMARY_PORT_6379_TCP_ADDR, '10.96.0.11');
    assert.equal(m.KUBERNETES_SERVICE_HOST, '10.96.0.1');
    assert.equal(m.KUBERNETES_SERVICE_PORT, '443');
    assert.equal(m.KUBERNETES_SERVICE_PORT_HTTPS, '443');
    assert.equal(m.KUBERNETES_PORT, 'tcp://10.96.0.1:443');
    assert.equal(m.OTHER_SERVICE_HOST, undefined, 'other services of default are not linked into another namespace');
    assert.equal(m.HEADLESS_SERVICE_HOST, undefined);
  });

  it('keeps only the kubernetes service with enableServiceLinks: false', async () => {
    const m = asMap(await containerEnv(pod({ enableServiceLinks: false }), { name: 'c' }, '', node, src));
    assert.deepEqual(Object.keys(m).filter((k) => !k.startsWith('KUBERNETES_')), []);
    assert.equal(m.KUBERNETES_SERVICE_HOST, '10.96.0.1');
    const d = asMap(await containerEnv(pod({}, 'default'), { name: 'c' }, '', node, src));
    assert.equal(d.OTHER_SERVICE_HOST, '10.96.0.9', 'links in the default namespace include its services');
  });

  it('adds none without a service source', async () => {
    const { services: _, ...noSvc } = src;
    assert.deepEqual(await containerEnv(pod(), { name: 'c', env: [{ name: 'A', value: '1' }] }, '', node, noSvc), [{ key: 'A', value: '1' }]);
  });
});

describe('downward API maps', () => {
  it('formats labels and annotations as upstream FormatMap: sorted by key, values Go-quoted', () => {
    const ann = { 'a.b': 'x', a: 'say "hi"\nbye', z: 'tab\there' };
    assert.equal(formatMap(ann), 'a="say \\"hi\\"\\nbye"\na.b="x"\nz="tab\\there"');
    assert.equal(fieldValue({ metadata: { labels: { app: 'web' } } }, 'metadata.labels', '', node), 'app="web"');
    assert.equal(formatMap(undefined), '');
  });
});

describe('envFrom keys', () => {
  it('takes keys valid under relaxed validation (1.32) and reports the others as upstream\'s InvalidEnvironmentVariableNames', async () => {
    const cmSrc: ObjectSource = {
      configMap: async () => ({ data: { '1num': 'a', 'bad-key': 'b', 'app.properties': 'c', 'x=y': 'd', 'tab\there': 'e', GOOD: 'f' } }),
      secret: async () => ({ data: { 'a=b': Buffer.from('s').toString('base64'), ok: Buffer.from('t').toString('base64') } }),
    };
    const told: string[] = [];
    const env = asMap(await containerEnv(pod({ containers: [] }, 'ns1'), { name: 'c', envFrom: [{ configMapRef: { name: 'cm' } }, { prefix: 'P_', secretRef: { name: 's' } }] }, '', node, cmSrc, (m) => told.push(m)));
    assert.deepEqual(env, { '1num': 'a', 'bad-key': 'b', 'app.properties': 'c', GOOD: 'f', P_ok: 't' });
    assert.deepEqual(told, [
      'Keys [tab\there, x=y] from the EnvFrom configMap ns1/cm were skipped since they are considered invalid environment variable names.',
      'Keys [P_a=b] from the EnvFrom secret ns1/s were skipped since they are considered invalid environment variable names.',
    ]);
  });
});
