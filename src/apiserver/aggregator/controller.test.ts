import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteBackend } from '../../storage/sqlite.js';
import { WatchCache } from '../watchcache.js';
import { Registry } from '../registry.js';
import { RESOURCES, findResource } from '../resources.js';
import { until } from '../../testing/wait.js';
import { AggregatorController } from './controller.js';
import { aggregatedAPI, resetAggregation } from './state.js';
import { AUTOMANAGED_LABEL } from './apiservice.js';

const APISERVICES = findResource('apiregistration.k8s.io', 'v1', 'apiservices')!;
const SERVICES = findResource('', 'v1', 'services')!;
const ENDPOINTS = findResource('', 'v1', 'endpoints')!;
const NAMESPACES = findResource('', 'v1', 'namespaces')!;

describe('AggregatorController', () => {
  let backend: SqliteBackend;
  let cache: WatchCache;
  let reg: Registry;
  let ctrl: AggregatorController;
  const get = (name: string) => cache.get(reg.keyFor(APISERVICES, undefined, name))?.obj;
  const available = (name: string) => get(name)?.status?.conditions?.find((c: any) => c.type === 'Available');

  before(async () => {
    backend = SqliteBackend.open(':memory:');
    cache = new WatchCache(backend, [...new Set(RESOURCES.map((r) => r.storageKey))]);
    await cache.start();
    reg = new Registry(backend, cache, []);
    // Left over from an earlier start: a stale built-in one goes, a user's service-backed one stays.
    await reg.create(APISERVICES, undefined, { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1beta1.gone.k8s.io', labels: { [AUTOMANAGED_LABEL]: 'onstart' } }, spec: { group: 'gone.k8s.io', version: 'v1beta1', groupPriorityMinimum: 10, versionPriority: 10 } }, {});
    await reg.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } }, {});
    ctrl = new AggregatorController(reg, {
      resyncMs: 60_000,
      extraLocal: [{ group: 'metrics.k8s.io', version: 'v1beta1' }],
      authentication: { clientCA: 'CLIENT CA', requestHeaderCA: 'PROXY CA', requestHeaderAllowedNames: ['front-proxy-client'] },
    });
    await ctrl.start();
  });
  after(async () => {
    ctrl.stop();
    cache.stop();
    await backend.close();
    resetAggregation();
  });

  it('registers a local, Available APIService per served group/version at start and removes stale ones', async () => {
    await cache.sync();
    for (const name of ['v1.', 'v1.apps', 'v2.autoscaling', 'v1.autoscaling', 'v1.apiregistration.k8s.io', 'v1beta1.metrics.k8s.io']) {
      const o = get(name);
      assert.ok(o, name);
      assert.equal(o.metadata.labels[AUTOMANAGED_LABEL], 'onstart');
      assert.deepEqual([available(name).status, available(name).reason], ['True', 'Local']);
    }
    assert.equal(get('v1beta1.gone.k8s.io'), undefined);
  });

  it('publishes kube-system/extension-apiserver-authentication for aggregated servers', async () => {
    await cache.sync();
    const cm = cache.get(reg.keyFor(findResource('', 'v1', 'configmaps')!, 'kube-system', 'extension-apiserver-authentication'))?.obj;
    assert.deepEqual(cm?.data, {
      'client-ca-file': 'CLIENT CA',
      'requestheader-allowed-names': '["front-proxy-client"]',
      'requestheader-client-ca-file': 'PROXY CA',
      'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
      'requestheader-group-headers': '["X-Remote-Group"]',
      'requestheader-username-headers': '["X-Remote-User"]',
    });
  });

  it('walks a service-backed APIService through upstream reasons as its Service and Endpoints appear', async () => {
    await reg.create(APISERVICES, undefined, { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1.sample.example.com' }, spec: { group: 'sample.example.com', version: 'v1', groupPriorityMinimum: 1000, versionPriority: 15, insecureSkipTLSVerify: true, service: { namespace: 'kube-system', name: 'sample' } } }, {});
    const reason = (want: string) => until(`reason ${want}`, async () => {
      await cache.sync();
      return available('v1.sample.example.com')?.reason === want;
    }, 10_000, 20);
    await reason('ServiceNotFound');
    assert.equal(available('v1.sample.example.com').message, 'service/sample in "kube-system" is not present');
    assert.equal(aggregatedAPI('sample.example.com', 'v1')?.available, false);
    await reg.create(SERVICES, 'kube-system', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'sample', namespace: 'kube-system' }, spec: { ports: [{ name: 'https', port: 8443 }] } }, {});
    await reason('ServicePortError');
    await reg.mutate(SERVICES, 'kube-system', 'sample', (o) => ({ ...o, spec: { ...o.spec, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 4443 }] } }));
    await reason('EndpointsNotFound');
    await reg.create(ENDPOINTS, 'kube-system', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'sample', namespace: 'kube-system' }, subsets: [{ addresses: [{ ip: '10.1.2.3' }], ports: [{ name: 'metrics', port: 4443 }] }] }, {});
    await reason('MissingEndpoints');
    assert.equal(available('v1.sample.example.com').message, 'endpoints for service/sample in "kube-system" have no addresses with port name "https"');
    // An endpoint nobody answers on: the discovery check fails (the address is unroutable here, so it is given no time).
    ctrl.stop();
    assert.equal(aggregatedAPI('sample.example.com', 'v1'), undefined, 'a stopped controller takes its routes out');
    const quick = new AggregatorController(reg, { resyncMs: 60_000, discoveryTimeoutMs: 200 });
    await quick.start();
    try {
      await reg.mutate(ENDPOINTS, 'kube-system', 'sample', (o) => ({ ...o, subsets: [{ addresses: [{ ip: '10.1.2.3' }], ports: [{ name: 'https', port: 4443 }] }] }));
      await until('FailedDiscoveryCheck', async () => {
        await cache.sync();
        return available('v1.sample.example.com')?.reason === 'FailedDiscoveryCheck';
      }, 10_000, 20);
      assert.match(available('v1.sample.example.com').message, /^failing or missing response from https:\/\/10\.1\.2\.3:4443\/apis\/sample\.example\.com\/v1: /);
      // A user's service-backed APIService is left alone by the local sync, and goes when deleted.
      await quick.syncLocal(true);
      assert.ok(get('v1.sample.example.com'));
      await reg.delete(APISERVICES, undefined, 'v1.sample.example.com', {});
      await until('forgotten', async () => {
        await cache.sync();
        await quick.idle();
        return aggregatedAPI('sample.example.com', 'v1') === undefined;
      }, 10_000, 20);
    } finally {
      quick.stop();
    }
  });
});
