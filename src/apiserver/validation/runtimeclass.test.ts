import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateObject, validateObjectUpdate } from './index.js';

const KEY = 'node.k8s.io/runtimeclasses';
const rc = (extra: Record<string, unknown> = {}) => ({ metadata: { name: 'sandboxed', resourceVersion: '1' }, handler: 'runsc', ...extra });
const messages = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);

describe('RuntimeClass validation', () => {
  it('accepts a full RuntimeClass', () => {
    const full = rc({
      overhead: { podFixed: { cpu: '250m', memory: '512Mi' } },
      scheduling: { nodeSelector: { sandbox: 'true' }, tolerations: [{ key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' }] },
    });
    assert.deepEqual(validateObject(KEY, full, { namespaced: false }), []);
  });

  it('requires a DNS-1123 label handler', () => {
    for (const handler of [undefined, '', 'Run_SC']) {
      const errs = validateObject(KEY, rc({ handler }), { namespaced: false });
      assert.equal(errs.length, 1, String(handler));
      assert.equal(errs[0].field, 'handler');
      assert.match(errs[0].message, /a lowercase RFC 1123 label must consist of/);
    }
    assert.deepEqual(messages(validateObject(KEY, rc({ handler: 'a.b' }), { namespaced: false })), ['handler: Invalid value: "a.b": must not contain dots']);
  });

  it('checks the overhead as resource limits and the scheduling as labels and tolerations', () => {
    const errs = validateObject(KEY, rc({
      overhead: { podFixed: { cpu: '-1' } },
      scheduling: { nodeSelector: { 'bad key!': 'x' }, tolerations: [{ key: '', operator: 'Equal', value: 'v' }] },
    }), { namespaced: false });
    const fields = errs.map((e) => e.field);
    assert.ok(fields.includes('overhead.limits[cpu]'), messages(errs).join('\n'));
    assert.ok(fields.includes('scheduling.nodeSelector'), messages(errs).join('\n'));
    assert.ok(fields.includes('scheduling.tolerations[0].operator'), messages(errs).join('\n'));
  });

  it('is cluster-scoped', () => {
    const errs = validateObject(KEY, { ...rc(), metadata: { name: 'x', namespace: 'default' } }, { namespaced: false });
    assert.deepEqual(errs.map((e) => e.field), ['metadata.namespace']);
  });

  it('keeps the handler immutable', () => {
    assert.deepEqual(validateObjectUpdate(KEY, rc({ overhead: { podFixed: { cpu: '1' } } }), rc(), { namespaced: false }), []);
    assert.deepEqual(messages(validateObjectUpdate(KEY, rc({ handler: 'kata' }), rc(), { namespaced: false })), ['handler: Invalid value: "kata": field is immutable']);
  });
});
