import { test } from 'node:test';
import assert from 'node:assert/strict';
import { certificateSigningRequestPrinter, csrCondition } from './certificates.js';
import { printerFor } from './index.js';
import { NOW, meta } from './testutil.js';

test('CSR columns and cells, as upstream', () => {
  assert.equal(printerFor('certificates.k8s.io/certificatesigningrequests'), certificateSigningRequestPrinter);
  assert.deepEqual(certificateSigningRequestPrinter.columns.map((c) => c.name.toUpperCase()), ['NAME', 'AGE', 'SIGNERNAME', 'REQUESTOR', 'REQUESTEDDURATION', 'CONDITION']);
  const csr = { metadata: { ...meta('jane'), namespace: undefined }, spec: { signerName: 'kubernetes.io/kube-apiserver-client', username: 'admin', expirationSeconds: 86400 }, status: {} };
  assert.deepEqual(certificateSigningRequestPrinter.cells(csr, NOW), ['jane', '5m', 'kubernetes.io/kube-apiserver-client', 'admin', '24h', 'Pending']);
  assert.deepEqual(certificateSigningRequestPrinter.cells({ metadata: meta('x'), spec: {} }, NOW).slice(2), ['<none>', '', '<none>', 'Pending']);
});

test('CSR condition: Denied over Approved over Pending, then Failed and Issued', () => {
  const c = (types: string[], certificate?: string) => csrCondition({ status: { conditions: types.map((type) => ({ type, status: 'True' })), certificate } });
  assert.equal(c([]), 'Pending');
  assert.equal(c(['Approved']), 'Approved');
  assert.equal(c(['Approved'], 'Zm9v'), 'Approved,Issued');
  assert.equal(c(['Approved', 'Failed']), 'Approved,Failed');
  assert.equal(c(['Approved', 'Denied']), 'Denied');
  assert.equal(c(['Failed']), 'Pending,Failed');
});
