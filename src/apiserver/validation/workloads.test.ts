import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateObject, validateObjectUpdate } from './index.js';
import { applyDefaults } from '../defaults/index.js';

const MISMATCH = '`selector` does not match template `labels`';

function errors(key: string, obj: any): string[] {
  applyDefaults(key, obj);
  return validateObject(key, obj, { namespaced: true }).map((e) => `${e.field}: ${e.message}`);
}

const template = (labels: any = { app: 'web' }, spec: any = {}) => ({ metadata: { labels }, spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec } });
const deploy = (spec: any) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec });

test('deployment validation', () => {
  const sel = { matchLabels: { app: 'web' } };
  const cases: [string, any, string[]][] = [
    ['valid', deploy({ selector: sel, template: template() }), []],
    ['selector mismatch', deploy({ selector: sel, template: template({ app: 'api' }) }), [`spec.template.metadata.labels: Invalid value: map[string]string{"app":"api"}: ${MISMATCH}`]],
    ['selector missing', deploy({ template: template() }), ['spec.selector: Required value', `spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: ${MISMATCH}`]],
    ['empty selector', deploy({ selector: {}, template: template() }), ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment']],
    ['negative replicas', deploy({ replicas: -1, selector: sel, template: template() }), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']],
    ['template restartPolicy', deploy({ selector: sel, template: template({ app: 'web' }, { restartPolicy: 'Never' }) }), ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']],
    ['template container invalid', deploy({ selector: sel, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ image: 'nginx' }] } } }), ['spec.template.spec.containers[0].name: Required value']],
    ['maxSurge and maxUnavailable both 0', deploy({ selector: sel, template: template(), strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }),
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0']],
    ['bad percent', deploy({ selector: sel, template: template(), strategy: { rollingUpdate: { maxSurge: 'lots' } } }),
      ["spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"lots\"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"]],
    ['over 100%', deploy({ selector: sel, template: template(), strategy: { rollingUpdate: { maxUnavailable: '150%' } } }),
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%']],
    ['Recreate with rollingUpdate', deploy({ selector: sel, template: template(), strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } }),
      ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]],
    ['progressDeadline not above minReady', deploy({ selector: sel, template: template(), minReadySeconds: 600 }), ['spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds']],
    ['bad expression operator', deploy({ selector: { matchExpressions: [{ key: 'app', operator: 'Is', values: ['web'] }] }, template: template() }), [
      'spec.selector.matchExpressions[0].operator: Invalid value: "Is": not a valid selector operator',
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"app", Operator:"Is", Values:[]string{"web"}}}}: invalid label selector',
    ]],
    ['matchExpressions select', deploy({ selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] }, template: template() }), []],
  ];
  for (const [name, obj, want] of cases) assert.deepEqual(errors('apps/deployments', obj), want, name);
});

test('apps selectors are immutable on update', () => {
  for (const key of ['apps/deployments', 'apps/replicasets', 'apps/daemonsets']) {
    const old: any = { metadata: { name: 'web', namespace: 'default', uid: 'u', resourceVersion: '1' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } };
    applyDefaults(key, old);
    const next = structuredClone(old);
    next.spec.selector = { matchLabels: { app: 'web', tier: 'x' } };
    next.spec.template.metadata.labels.tier = 'x';
    applyDefaults(key, next);
    assert.deepEqual(validateObjectUpdate(key, next, old, { namespaced: true }).map((e) => `${e.field}: ${e.message}`), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ], key);
  }
});

test('replicaset, daemonset and statefulset validation', () => {
  const sel = { matchLabels: { app: 'web' } };
  const meta = { name: 'web', namespace: 'default' };
  assert.deepEqual(errors('apps/replicasets', { metadata: meta, spec: { selector: sel, template: template({ app: 'x' }) } }), [`spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: ${MISMATCH}`]);
  assert.deepEqual(errors('apps/daemonsets', { metadata: meta, spec: { selector: sel, template: template() } }), []);
  assert.deepEqual(errors('apps/daemonsets', { metadata: meta, spec: { selector: sel, template: template(), updateStrategy: { rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } } }), [
    'spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0',
  ]);
  assert.deepEqual(errors('apps/statefulsets', { metadata: meta, spec: { selector: sel, serviceName: 'web', template: template() } }), []);
  assert.deepEqual(errors('apps/statefulsets', { metadata: meta, spec: { selector: sel, template: template({ app: 'x' }) } }), [`spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: ${MISMATCH}`]);
  assert.deepEqual(errors('apps/statefulsets', { metadata: meta, spec: { selector: sel, template: template(), podManagementPolicy: 'Fast' } }), ["spec.podManagementPolicy: Invalid value: \"Fast\": must be 'OrderedReady' or 'Parallel'"]);
  const old: any = { metadata: { ...meta, uid: 'u' }, spec: { selector: sel, serviceName: 'web', template: template() } };
  applyDefaults('apps/statefulsets', old);
  const next = structuredClone(old);
  next.spec.serviceName = 'other';
  next.spec.replicas = 3;
  assert.deepEqual(validateObjectUpdate('apps/statefulsets', next, old, { namespaced: true }).map((e) => `${e.field}: ${e.message}`), [
    "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  ]);
});

const job = (spec: any, meta: any = {}) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', namespace: 'default', uid: 'abc-123', ...meta }, spec });

test('job validation', () => {
  const tpl = (rp?: string) => ({ spec: { ...(rp ? { restartPolicy: rp } : {}), containers: [{ name: 'c', image: 'perl' }] } });
  const cases: [string, any, string[]][] = [
    ['valid', job({ template: tpl('Never') }), []],
    ['restartPolicy defaulted to Always', job({ template: tpl() }), ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']],
    ['bad restartPolicy', job({ template: tpl('Sometimes') }), [
      'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
      'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "OnFailure", "Never"',
    ]],
    ['negative completions and parallelism', job({ completions: -1, parallelism: -2, template: tpl('Never') }), [
      'spec.parallelism: Invalid value: -2: must be greater than or equal to 0',
      'spec.completions: Invalid value: -1: must be greater than or equal to 0',
    ]],
    ['negative backoffLimit', job({ backoffLimit: -1, template: tpl('OnFailure') }), ['spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0']],
    ['bad completionMode', job({ completionMode: 'Ordered', template: tpl('Never') }), ['spec.completionMode: Unsupported value: "Ordered": supported values: "NonIndexed", "Indexed"']],
    ['indexed needs completions', job({ completionMode: 'Indexed', parallelism: 2, template: tpl('Never') }), ['spec.completions: Required value: when completion mode is Indexed']],
    ['manual selector mismatch', job({ manualSelector: true, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'c' } }, ...tpl('Never') } }), [
      `spec.template.metadata.labels: Invalid value: map[string]string{"a":"c"}: ${MISMATCH}`,
    ]],
  ];
  for (const [name, obj, want] of cases) assert.deepEqual(errors('batch/jobs', obj), want, name);
});

test('job generated selector and immutability', () => {
  const old = job({ template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'perl' }] } } }, { resourceVersion: '1' });
  applyDefaults('batch/jobs', old);
  assert.deepEqual(old.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': 'abc-123' } });
  assert.deepEqual(old.spec.template.metadata.labels, {
    'job-name': 'pi', 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': 'abc-123', 'batch.kubernetes.io/controller-uid': 'abc-123',
  });
  const next = structuredClone(old);
  next.spec.template.spec.containers[0].image = 'perl:2';
  next.spec.selector = { matchLabels: { x: 'y' } };
  const errs = validateObjectUpdate('batch/jobs', next, old, { namespaced: true }).map((e) => `${e.field}: ${e.message}`);
  assert.ok(errs.includes('spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"x":"y"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable'), errs.join('\n'));
  assert.ok(errs.some((e) => e.startsWith('spec.template: Invalid value: ') && e.endsWith(': field is immutable')), errs.join('\n'));
});

const cron = (spec: any) => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', namespace: 'default' }, spec });
const jobTemplate = { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } };

test('cronjob validation', () => {
  const cases: [string, any, string[]][] = [
    ['valid', cron({ schedule: '*/5 * * * *', jobTemplate }), []],
    ['descriptor', cron({ schedule: '@hourly', jobTemplate }), []],
    ['every', cron({ schedule: '@every 1h30m', jobTemplate }), []],
    ['schedule required', cron({ jobTemplate }), ['spec.schedule: Required value']],
    ['too few fields', cron({ schedule: '* * *', jobTemplate }), ['spec.schedule: Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *]']],
    ['out of range', cron({ schedule: '0 25 * * *', jobTemplate }), ['spec.schedule: Invalid value: "0 25 * * *": end of range (25) above maximum (23): 25']],
    ['not a number', cron({ schedule: 'x * * * *', jobTemplate }), ['spec.schedule: Invalid value: "x * * * *": failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax']],
    ['bad descriptor', cron({ schedule: '@fortnightly', jobTemplate }), ['spec.schedule: Invalid value: "@fortnightly": unrecognized descriptor: @fortnightly']],
    ['TZ in schedule', cron({ schedule: 'TZ=UTC 0 * * * *', jobTemplate }), ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead']],
    ['bad concurrencyPolicy', cron({ schedule: '@daily', concurrencyPolicy: 'Never', jobTemplate }), ['spec.concurrencyPolicy: Unsupported value: "Never": supported values: "Allow", "Forbid", "Replace"']],
    ['valid timeZone', cron({ schedule: '@daily', timeZone: 'Europe/Paris', jobTemplate }), []],
    ['unknown timeZone', cron({ schedule: '@daily', timeZone: 'Mars/Olympus', jobTemplate }), ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']],
    ['job template restartPolicy', cron({ schedule: '@daily', jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } } } }),
      ['spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']],
  ];
  for (const [name, obj, want] of cases) assert.deepEqual(errors('batch/cronjobs', obj), want, name);
});
