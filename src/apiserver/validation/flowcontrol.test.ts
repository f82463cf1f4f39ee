import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateObject } from './index.js';
import { defaultFlowSchema, defaultPriorityLevelConfiguration } from './flowcontrol.js';

const messages = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);
const opts = { namespaced: false };
const FS = 'flowcontrol.apiserver.k8s.io/flowschemas';
const PL = 'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations';

describe('FlowSchema validation', () => {
  const fs = (spec: Record<string, unknown>) => {
    const o: any = { metadata: { name: 'fs' }, spec: { priorityLevelConfiguration: { name: 'workload-low' }, ...spec } };
    defaultFlowSchema(o);
    return o;
  };

  it('defaults matchingPrecedence to 1000 and accepts a full schema', () => {
    const o = fs({ distinguisherMethod: { type: 'ByUser' }, rules: [{ subjects: [{ kind: 'ServiceAccount', serviceAccount: { namespace: 'kube-system', name: '*' } }], nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] }] });
    assert.equal(o.spec.matchingPrecedence, 1000);
    assert.deepEqual(validateObject(FS, o, opts), []);
  });

  const cases: [string, Record<string, unknown>, string[]][] = [
    ['precedence range', { matchingPrecedence: 10001 }, ['spec.matchingPrecedence: Invalid value: 10001: must not be greater than 10000']],
    ['a priority level is referenced', { priorityLevelConfiguration: {} }, ['spec.priorityLevelConfiguration.name: Required value: must reference a priority level']],
    ['distinguisher types', { distinguisherMethod: { type: 'ByGroup' } }, ['spec.distinguisherMethod.type: Unsupported value: "ByGroup": supported values: "ByNamespace", "ByUser"']],
    ['rules need subjects and some rules', { rules: [{}] }, ['spec.rules[0].subjects: Required value: subjects must contain at least one value', 'spec.rules[0]: Required value: at least one of resourceRules and nonResourceRules has to be non-empty']],
    [
      'subjects match their kind',
      { rules: [{ subjects: [{ kind: 'User' }, { kind: 'Group', group: { name: '' }, user: { name: 'x' } }, { kind: 'Robot' }], resourceRules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] }] },
      [
        "spec.rules[0].subjects[0].user: Required value: user is required when subject kind is 'User'",
        'spec.rules[0].subjects[1].group.name: Required value: groupname is required',
        "spec.rules[0].subjects[1].user: Forbidden: user is forbidden when subject kind is not 'User'",
        'spec.rules[0].subjects[2].kind: Unsupported value: "Robot": supported values: "Group", "ServiceAccount", "User"',
        'spec.rules[0].resourceRules[0].namespaces: Required value: resource rules that are not cluster scoped must supply at least one namespace',
      ],
    ],
  ];
  for (const [name, spec, want] of cases) it(name, () => assert.deepEqual(messages(validateObject(FS, fs(spec), opts)), want));
});

describe('PriorityLevelConfiguration validation', () => {
  const pl = (spec: Record<string, unknown>) => {
    const o: any = { metadata: { name: 'pl' }, spec };
    defaultPriorityLevelConfiguration(o);
    return o;
  };

  it('defaults a limited level as v1 does', () => {
    const o = pl({ type: 'Limited', limited: { limitResponse: { type: 'Queue', queuing: {} } } });
    assert.deepEqual(o.spec.limited, { nominalConcurrencyShares: 30, lendablePercent: 0, limitResponse: { type: 'Queue', queuing: { queues: 64, handSize: 8, queueLengthLimit: 50 } } });
    assert.deepEqual(validateObject(PL, o, opts), []);
    assert.deepEqual(validateObject(PL, pl({ type: 'Exempt', exempt: {} }), opts), []);
  });

  const cases: [string, Record<string, unknown>, string[]][] = [
    ['type', { type: 'Special' }, ['spec.type: Unsupported value: "Special": supported values: "Exempt", "Limited"']],
    ['limited needs its settings', { type: 'Limited', exempt: {} }, ['spec.limited: Required value: must not be empty when type is Limited', 'spec.exempt: Forbidden: must be nil if the type is Limited']],
    ['exempt has no limits', { type: 'Exempt', limited: { limitResponse: { type: 'Reject' } } }, ['spec.limited: Forbidden: must be nil if the type is not Limited']],
    [
      'limits in range',
      { type: 'Limited', limited: { lendablePercent: 101, limitResponse: { type: 'Queue', queuing: { queues: 4, handSize: 5, queueLengthLimit: -1 } } } },
      [
        'spec.limited.lendablePercent: Invalid value: 101: must be between 0 and 100, inclusive',
        'spec.limited.limitResponse.queuing.queueLengthLimit: Invalid value: -1: must be positive',
        'spec.limited.limitResponse.queuing.handSize: Invalid value: 5: should not be greater than queues (4)',
      ],
    ],
    ['queue needs queuing', { type: 'Limited', limited: { limitResponse: { type: 'Queue' } } }, ['spec.limited.limitResponse.queuing: Required value: must not be empty if the type is Queue']],
  ];
  for (const [name, spec, want] of cases) it(name, () => assert.deepEqual(messages(validateObject(PL, pl(spec), opts)), want));
});
