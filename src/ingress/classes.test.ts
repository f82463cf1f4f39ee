import { it } from 'node:test';
import assert from 'node:assert/strict';
import { ownsIngress } from './classes.js';

const cls = (name: string, controller: string, def = false): any => ({ metadata: { name, annotations: def ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : {} }, spec: { controller } });

it('ingressClassName, the legacy annotation and the default class', () => {
  const classes = [cls('nginx', 'k8s.io/ingress-nginx'), cls('other', 'example.com/other')];
  const own = (ing: any, c = classes) => ownsIngress(ing, c, 'k8s.io/ingress-nginx');
  assert.equal(own({ spec: { ingressClassName: 'nginx' } }), true);
  assert.equal(own({ spec: { ingressClassName: 'other' } }), false);
  assert.equal(own({ spec: { ingressClassName: 'missing' } }), false);
  assert.equal(own({ metadata: { annotations: { 'kubernetes.io/ingress.class': 'nginx' } }, spec: {} }), true);
  assert.equal(own({ metadata: { annotations: { 'kubernetes.io/ingress.class': 'other' } }, spec: {} }), false);
  assert.equal(own({ spec: {} }), false);
  assert.equal(own({ spec: {} }, [cls('nginx', 'k8s.io/ingress-nginx', true)]), true);
});
