import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listOptions } from './params.js';
import { StatusError } from './status.js';

function rejects(query: string, watch = false): StatusError {
  try {
    listOptions(new URLSearchParams(query), watch);
  } catch (e) {
    assert.ok(e instanceof StatusError);
    return e;
  }
  assert.fail(`${query} was accepted`);
}

test('list options are validated as upstream ValidateListOptions: a 422 on ListOptions.meta.k8s.io', () => {
  const e = rejects('resourceVersionMatch=Exact');
  assert.equal(e.code, 422);
  assert.deepEqual(e.toStatus(), {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Invalid', code: 422,
    message: 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
    details: { group: 'meta.k8s.io', kind: 'ListOptions', causes: [{ reason: 'FieldValueForbidden', message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided', field: 'resourceVersionMatch' }] },
  });
  assert.equal(rejects('resourceVersion=0&resourceVersionMatch=Exact').message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  assert.equal(
    rejects('resourceVersionMatch=Newest').message,
    'ListOptions.meta.k8s.io "" is invalid: [resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided, resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""]',
  );
  assert.equal(rejects('resourceVersion=5&resourceVersionMatch=NotOlderThan&continue=abc').message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided');
  assert.equal(rejects('sendInitialEvents=true').message, 'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list');
  assert.equal(listOptions(new URLSearchParams('resourceVersion=7&resourceVersionMatch=Exact')).resourceVersionMatch, 'Exact');
  assert.equal(listOptions(new URLSearchParams('resourceVersion=0&resourceVersionMatch=NotOlderThan')).resourceVersion, '0');
});

test('watch options: resourceVersionMatch only with sendInitialEvents, which needs NotOlderThan', () => {
  assert.equal(rejects('sendInitialEvents=true', true).message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
  assert.equal(rejects('resourceVersion=3&resourceVersionMatch=NotOlderThan', true).message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
  assert.match(rejects('sendInitialEvents=true&resourceVersionMatch=Exact', true).message, /Unsupported value: "Exact": supported values: "NotOlderThan"/);
  assert.equal(listOptions(new URLSearchParams('sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true'), true).resourceVersionMatch, 'NotOlderThan');
  assert.equal(listOptions(new URLSearchParams('resourceVersion=3'), true).resourceVersion, '3');
});
