import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { authenticate, impersonate } from './chain.js';
import type { Authenticator, Authorizer } from './types.js';

const allowAll: Authorizer = { name: 'all', authorize: () => ({ decision: 'allow' }) };
const admin = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };

/** A request carrying the Impersonate-* headers given (name → values). */
function req(headers: Record<string, string[]>): IncomingMessage {
  const rawHeaders = Object.entries(headers).flatMap(([k, vs]) => vs.flatMap((v) => [k, v]));
  const headersDistinct = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { rawHeaders, headersDistinct } as unknown as IncomingMessage;
}

test('impersonated groups gain system:authenticated (or system:unauthenticated for anonymous), as upstream', async () => {
  const as = async (h: Record<string, string[]>) => (await impersonate([allowAll], req(h), admin)).groups;
  assert.deepEqual(await as({ 'Impersonate-User': ['jane'] }), ['system:authenticated']);
  assert.deepEqual(await as({ 'Impersonate-User': ['jane'], 'Impersonate-Group': ['dev', 'ops'] }), ['dev', 'ops', 'system:authenticated']);
  assert.deepEqual(await as({ 'Impersonate-User': ['jane'], 'Impersonate-Group': ['system:authenticated', 'dev'] }), ['system:authenticated', 'dev']);
  assert.deepEqual(await as({ 'Impersonate-User': ['jane'], 'Impersonate-Group': ['system:unauthenticated'] }), ['system:unauthenticated']);
  assert.deepEqual(await as({ 'Impersonate-User': ['system:serviceaccount:ns:sa'] }), ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated']);
  assert.deepEqual(await as({ 'Impersonate-User': ['system:anonymous'] }), ['system:unauthenticated']);
  assert.deepEqual(await as({ 'Impersonate-User': ['system:anonymous'], 'Impersonate-Group': ['x'] }), ['x', 'system:unauthenticated']);
});

test('no Impersonate-* header: the requester as authenticated', async () => {
  assert.equal(await impersonate([allowAll], req({ Accept: ['application/json'] }), admin), admin);
});

test('a request is authenticated once, however many times its identity is asked (audit, then the handler)', async () => {
  let calls = 0;
  const counting: Authenticator = { name: 'counting', authenticate: async () => (calls++, { name: 'jane', groups: ['dev'] }) };
  const chain = [counting];
  const r = req({});
  assert.deepEqual(await authenticate(chain, r), { name: 'jane', groups: ['dev', 'system:authenticated'] });
  assert.deepEqual(await authenticate(chain, r), { name: 'jane', groups: ['dev', 'system:authenticated'] });
  assert.equal(calls, 1);
  await authenticate(chain, req({}));
  assert.equal(calls, 2, 'another request is authenticated anew');
});
