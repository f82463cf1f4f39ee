import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { podUsesClaim, protectionAction } from './protection.js';

describe('volume protection', () => {
  const pod = (extra: any = {}) => ({ metadata: { name: 'web-0' }, spec: { nodeName: 'n1', volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }, { name: 'scratch', ephemeral: {} }], ...extra.spec }, status: { phase: extra.phase ?? 'Running' } });
  const cases: [string, any, string, boolean][] = [
    ['a running pod uses its claim', pod(), 'data-web-0', true],
    ['and its generic ephemeral claim', pod(), 'web-0-scratch', true],
    ['not another claim', pod(), 'other', false],
    ['an unscheduled pod does not (the kubelet will refuse a deleted claim)', pod({ spec: { nodeName: '' } }), 'data-web-0', false],
    ['a finished pod does not', pod({ phase: 'Succeeded' }), 'data-web-0', false],
  ];
  for (const [name, p, claim, want] of cases) it(name, () => assert.equal(podUsesClaim(p, claim), want));

  it('adds the finalizer to live objects and removes it from deleted ones not in use', () => {
    const f = 'kubernetes.io/pvc-protection';
    assert.equal(protectionAction({ metadata: {} }, f, () => true), 'add');
    assert.equal(protectionAction({ metadata: { finalizers: [f] } }, f, () => true), undefined);
    assert.equal(protectionAction({ metadata: { finalizers: [f], deletionTimestamp: 'x' } }, f, () => true), undefined);
    assert.equal(protectionAction({ metadata: { finalizers: [f], deletionTimestamp: 'x' } }, f, () => false), 'remove');
    assert.equal(protectionAction({ metadata: { deletionTimestamp: 'x' } }, f, () => false), undefined);
  });
});
