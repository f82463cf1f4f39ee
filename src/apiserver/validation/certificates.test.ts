import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  validateCertificateSigningRequest, validateCertificateSigningRequestApprovalUpdate, validateCertificateSigningRequestStatusUpdate,
  validateCertificateSigningRequestUpdate, validateSignerName,
} from './certificates.js';

let request = '';

function csr(spec: Record<string, unknown> = {}, conditions: unknown[] = [], certificate?: string): any {
  return {
    metadata: { name: 'c', resourceVersion: '1' },
    spec: { request, signerName: 'example.com/signer', usages: ['client auth'], ...spec },
    status: { conditions, ...(certificate ? { certificate } : {}) },
  };
}

const messages = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);

describe('CertificateSigningRequest validation', () => {
  before(() => {
    const dir = mkdtempSync(path.join(tmpdir(), 'csr-validation-'));
    try {
      execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', path.join(dir, 'k'), '-subj', '/CN=x', '-out', path.join(dir, 'r')], { stdio: 'pipe' });
      request = readFileSync(path.join(dir, 'r')).toString('base64');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts a well-formed request and checks its signature', () => {
    assert.deepEqual(validateCertificateSigningRequest(csr()), []);
    const pem = Buffer.from(request, 'base64').toString();
    // Flip one character of the signature (the end of the base64 body).
    const body = pem.split('\n');
    const last = body.length - 3;
    body[last] = body[last]!.slice(0, 4) + (body[last]![4] === 'A' ? 'B' : 'A') + body[last]!.slice(5);
    const errs = validateCertificateSigningRequest(csr({ request: Buffer.from(body.join('\n')).toString('base64') }));
    assert.equal(errs.length, 1);
    assert.equal(errs[0]!.field, 'spec.request');
  });

  it('reports signer names, usages, expiration and conditions as upstream', () => {
    assert.deepEqual(messages(validateSignerName('f', '')), ['f: Required value']);
    assert.deepEqual(messages(validateSignerName('f', 'a/b/c')), ["f: Invalid value: \"a/b/c\": must be a fully qualified domain and path of the form 'example.com/signer-name'"]);
    assert.deepEqual(messages(validateSignerName('f', 'example/x')), ['f: Invalid value: "example": should be a domain with at least two segments separated by dots']);
    assert.match(messages(validateSignerName('f', 'Example.com/x'))[0]!, /^f: Invalid value: "Example\.com": validating label "Example": a lowercase RFC 1123 label must/);
    assert.deepEqual(messages(validateCertificateSigningRequest(csr({ usages: [] }))), ['spec.usages: Required value']);
    assert.deepEqual(messages(validateCertificateSigningRequest(csr({ expirationSeconds: 599 }))), ['spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)']);
    const conds = validateCertificateSigningRequest(csr({}, [{ type: 'Approved', status: 'False' }, { type: 'Denied', status: 'True' }, { type: 'Denied', status: 'True' }, { type: '', status: '' }]));
    assert.deepEqual(messages(conds), [
      'status.conditions[0].status: Unsupported value: "False": supported values: "True"',
      'status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive',
      'status.conditions[2].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive',
      'status.conditions[2].type: Duplicate value: "Denied"',
      'status.conditions[3].type: Required value',
      'status.conditions[3].status: Required value',
    ]);
    assert.deepEqual(messages(validateCertificateSigningRequest(csr({}, [], Buffer.from('nope').toString('base64')))), ['status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block']);
  });

  it('keeps approval to /approval and the certificate to /status', () => {
    const old = csr();
    const approved = csr({}, [{ type: 'Approved', status: 'True' }]);
    assert.deepEqual(messages(validateCertificateSigningRequestUpdate(approved, old)), ['status.conditions: Forbidden: updates may not add a condition of type "Approved"']);
    assert.deepEqual(messages(validateCertificateSigningRequestStatusUpdate(approved, old)), ['status.conditions: Forbidden: updates may not add a condition of type "Approved"']);
    assert.deepEqual(validateCertificateSigningRequestApprovalUpdate(approved, old), []);
    assert.deepEqual(messages(validateCertificateSigningRequestApprovalUpdate(old, approved)), ['status.conditions: Forbidden: updates may not remove a condition of type "Approved"']);
    const failed = csr({}, [{ type: 'Approved', status: 'True' }, { type: 'Failed', status: 'True' }]);
    assert.deepEqual(validateCertificateSigningRequestStatusUpdate(failed, approved), []);
    assert.deepEqual(messages(validateCertificateSigningRequestStatusUpdate(approved, failed)), ['status.conditions: Forbidden: updates may not remove a condition of type "Failed"']);
  });
});
