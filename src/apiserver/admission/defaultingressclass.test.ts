import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findResource } from '../resources.js';
import { REGISTRY_PREFIX } from '../watchcache.js';
import { defaultIngressClassPlugin } from './defaultingressclass.js';
import { securityAdmissionChain } from './chain.js';
import type { AdmissionRequest } from './types.js';

const cls = (name: string, created: string, isDefault?: string) => ({
  metadata: { name, creationTimestamp: created, ...(isDefault !== undefined ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': isDefault } } : {}) },
  spec: { controller: 'k8s.io/ingress-nginx' },
});

function req(ingress: any, classes: any[], operation: 'CREATE' | 'UPDATE' = 'CREATE'): AdmissionRequest {
  const items = classes.map((c) => ({ obj: c }));
  const cache = {
    list: (key: string, prefix: string) => {
      assert.equal(key, 'networking.k8s.io/ingressclasses');
      assert.equal(prefix, `${REGISTRY_PREFIX}networking.k8s.io/ingressclasses/`);
      return items;
    },
  };
  const object = { metadata: { name: 'ing', namespace: 'ns', ...ingress.metadata }, spec: ingress.spec };
  return { info: findResource('networking.k8s.io', 'v1', 'ingresses')!, operation, object, namespace: 'ns', dryRun: false, registry: { cache } as any, warnings: [] };
}

async function admit(r: AdmissionRequest): Promise<any> {
  if (defaultIngressClassPlugin.handles(r)) await defaultIngressClassPlugin.admit!(r);
  return r.object.spec?.ingressClassName;
}

describe('DefaultIngressClass admission', () => {
  it('is in the default chain', () => {
    assert.ok(securityAdmissionChain().some((p) => p.name === 'DefaultIngressClass'));
  });

  it('gives a class-less Ingress the default class', async () => {
    assert.equal(await admit(req({ spec: { rules: [] } }, [cls('other', '2026-01-01T00:00:00Z'), cls('nginx', '2026-01-01T00:00:00Z', 'true')])), 'nginx');
    assert.equal(await admit(req({}, [cls('nginx', '2026-01-01T00:00:00Z', 'true')])), 'nginx', 'no spec at all');
  });

  it('leaves a class that is set (even ""), the legacy annotation, and updates alone', async () => {
    const classes = [cls('nginx', '2026-01-01T00:00:00Z', 'true')];
    assert.equal(await admit(req({ spec: { ingressClassName: 'mine' } }, classes)), 'mine');
    assert.equal(await admit(req({ spec: { ingressClassName: '' } }, classes)), '');
    assert.equal(await admit(req({ metadata: { annotations: { 'kubernetes.io/ingress.class': 'traefik' } }, spec: {} }, classes)), undefined);
    assert.equal(await admit(req({ spec: {} }, classes, 'UPDATE')), undefined);
  });

  it('does nothing without a default; "false" is not a default', async () => {
    assert.equal(await admit(req({ spec: {} }, [cls('a', '2026-01-01T00:00:00Z', 'false'), cls('b', '2026-01-01T00:00:00Z')])), undefined);
  });

  it('with several defaults picks the newest, then the first name', async () => {
    const older = cls('zz-old', '2026-01-01T00:00:00Z', 'true');
    const newer = cls('yy-new', '2026-01-02T00:00:00Z', 'true');
    assert.equal(await admit(req({ spec: {} }, [older, newer])), 'yy-new');
    assert.equal(await admit(req({ spec: {} }, [cls('b', '2026-01-02T00:00:00Z', 'true'), cls('a', '2026-01-02T00:00:00Z', 'true')])), 'a');
  });
});
