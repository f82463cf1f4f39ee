import { test } from 'node:test';
import assert from 'node:assert/strict';
import { notFound, invalid, success, StatusError } from './status.js';

test('Status details leave out empty fields, as upstream (omitempty): no "group": "" for core resources', () => {
  assert.deepEqual(notFound('', 'configmaps', 'nope').toStatus(), {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'configmaps "nope" not found', reason: 'NotFound', code: 404,
    details: { name: 'nope', kind: 'configmaps' },
  });
  assert.deepEqual(notFound('apps', 'deployments', 'x').toStatus().details, { name: 'x', group: 'apps', kind: 'deployments' });
  const inv = invalid('', 'ConfigMap', 'B', [{ type: 'FieldValueInvalid', message: 'Invalid value: "B"', field: 'metadata.name' } as any], 'm').toStatus();
  assert.deepEqual(inv.details, { name: 'B', kind: 'ConfigMap', causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: "B"', field: 'metadata.name' }] });
  assert.deepEqual(new StatusError(500, 'InternalError', 'x', { causes: [{ message: 'boom', field: '' }] }).toStatus().details, { causes: [{ message: 'boom' }] });
  assert.deepEqual(success({ name: 'a', group: '', kind: 'configmaps', uid: 'u' }).details, { name: 'a', kind: 'configmaps', uid: 'u' });
});
