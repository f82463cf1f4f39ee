import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseFieldSelector,
  convertFieldSelector,
  fieldsFor,
  supportedFieldSelectors,
  escapeFieldValue,
  fieldSelectorFromSet,
  SelectorError,
} from './fields.js';

function throwsMsg(fn: () => unknown, msg: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SelectorError, 'not a SelectorError');
    assert.equal((e as Error).message, msg);
    return true;
  });
}

test('field selectors parse', () => {
  const cases: [string, { field: string; operator: string; value: string }[]][] = [
    ['', []],
    [',', []],
    ['a=b', [{ field: 'a', operator: '=', value: 'b' }]],
    ['a==b', [{ field: 'a', operator: '=', value: 'b' }]],
    ['a!=b', [{ field: 'a', operator: '!=', value: 'b' }]],
    ['a=', [{ field: 'a', operator: '=', value: '' }]],
    ['=', []],
    ['a=b,c!=d', [{ field: 'a', operator: '=', value: 'b' }, { field: 'c', operator: '!=', value: 'd' }]],
    ['c=d,a=b', [{ field: 'a', operator: '=', value: 'b' }, { field: 'c', operator: '=', value: 'd' }]],
    ['a=x\\,y', [{ field: 'a', operator: '=', value: 'x,y' }]],
    ['a=x\\=y\\\\', [{ field: 'a', operator: '=', value: 'x=y\\' }]],
  ];
  for (const [input, want] of cases) {
    assert.deepEqual(
      parseFieldSelector(input).requirements.map((r) => ({ ...r })),
      want,
      `input ${JSON.stringify(input)}`,
    );
  }
  // Spaces are significant, as upstream: the field name keeps them.
  assert.deepEqual(parseFieldSelector('a = b').requirements[0], { field: 'a ', operator: '=', value: ' b' });
});

test('field selector errors', () => {
  throwsMsg(() => parseFieldSelector('abc'), "invalid selector: 'abc'; can't understand 'abc'");
  throwsMsg(() => parseFieldSelector('a=b,c'), "invalid selector: 'a=b,c'; can't understand 'c'");
  throwsMsg(() => parseFieldSelector('a=b=c'), 'invalid field selector: unescaped character in value: 61');
  throwsMsg(() => parseFieldSelector('a!==b'), 'invalid field selector: unescaped character in value: 61');
  throwsMsg(() => parseFieldSelector('a=\\x'), 'invalid field selector: invalid escape sequence: \\x');
  throwsMsg(() => parseFieldSelector('a=x\\'), 'invalid field selector: invalid escape sequence: \\');
});

test('field selector matching and escaping round trip', () => {
  const f = { 'metadata.name': 'web', 'status.phase': 'Running', odd: 'a,b=c\\' };
  const cases: [string, boolean][] = [
    ['', true],
    ['metadata.name=web', true],
    ['metadata.name==web', true],
    ['metadata.name=db', false],
    ['metadata.name!=db', true],
    ['metadata.name!=web', false],
    ['status.phase=Running,metadata.name=web', true],
    ['status.phase!=Running,metadata.name=web', false],
    ['missing=', true],
    ['missing!=', false],
    ['missing=x', false],
    [`odd=${escapeFieldValue('a,b=c\\')}`, true],
  ];
  for (const [sel, want] of cases) assert.equal(parseFieldSelector(sel).matches(f), want, sel);
  const s = parseFieldSelector('b=x\\,y,a!=1');
  assert.equal(s.toString(), 'a!=1,b=x\\,y');
  assert.equal(parseFieldSelector(s.toString()).toString(), s.toString());
  assert.equal(parseFieldSelector('metadata.name=web,x!=y').requiresExactMatch('metadata.name'), 'web');
  assert.equal(parseFieldSelector('x!=y').requiresExactMatch('x'), undefined);
  assert.equal(parseFieldSelector('').empty, true);
  assert.equal(parseFieldSelector('a=b').empty, false);
  assert.equal(fieldSelectorFromSet({ a: '1' }).matches({ a: '1' }), true);
});

test('supported field labels per resource, with upstream errors', () => {
  const ok: [string, string][] = [
    ['pods', 'spec.nodeName=n1,status.phase=Running,spec.hostNetwork=true,status.podIPs=x,metadata.namespace=d'],
    ['pods', 'spec.restartPolicy=Always,spec.schedulerName=s,spec.serviceAccountName=sa,status.podIP=1.2.3.4'],
    ['pods', 'status.nominatedNodeName=n'],
    ['nodes', 'metadata.name=n,spec.unschedulable=true'],
    ['namespaces', 'status.phase=Active,metadata.name=x'],
    ['secrets', 'type=Opaque'],
    ['services', 'spec.clusterIP=None,spec.type=ClusterIP'],
    ['replicationcontrollers', 'status.replicas=1'],
    ['events', 'involvedObject.name=a,involvedObject.namespace=b,involvedObject.kind=Pod,involvedObject.uid=u'],
    ['events', 'involvedObject.apiVersion=v1,involvedObject.resourceVersion=1,involvedObject.fieldPath=x'],
    ['events', 'reason=r,reportingComponent=c,source=s,type=Normal'],
    ['events.k8s.io/events', 'regarding.name=a,reportingController=c,reason=r,type=Warning'],
    ['batch/jobs', 'status.successful=1'],
    ['configmaps', 'metadata.name=a,metadata.namespace=b'],
    ['apps/deployments', 'metadata.name=a'],
    ['certificates.k8s.io/certificatesigningrequests', 'spec.signerName=kubernetes.io/kube-apiserver-client'],
  ];
  for (const [res, sel] of ok) assert.doesNotThrow(() => convertFieldSelector(res, parseFieldSelector(sel)), `${res}: ${sel}`);

  const bad: [string, string, string][] = [
    ['pods', 'foo=bar', 'field label not supported: foo'],
    ['nodes', 'metadata.namespace=x', 'field label not supported: metadata.namespace'],
    ['namespaces', 'metadata.namespace=x', 'field label not supported: metadata.namespace'],
    ['events', 'regarding.name=x', 'field label not supported: regarding.name'],
    ['events.k8s.io/events', 'involvedObject.name=x', 'field label not supported: involvedObject.name'],
    ['batch/jobs', 'status.active=1', 'field label "status.active" not supported for batchv1.Job'],
    ['configmaps', 'data.x=1', '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"'],
    [
      'apps/replicasets',
      'status.replicas=1',
      '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
    ],
    ['pods', 'status.phase =Running', 'field label not supported: status.phase '],
  ];
  for (const [res, sel, msg] of bad) throwsMsg(() => convertFieldSelector(res, parseFieldSelector(sel)), msg);

  assert.ok(supportedFieldSelectors('pods').includes('spec.nodeName'));
  assert.deepEqual(supportedFieldSelectors('nodes'), ['metadata.name', 'spec.unschedulable']);
  assert.deepEqual(supportedFieldSelectors('configmaps'), ['metadata.name', 'metadata.namespace']);
});

test('conversion renames aliases onto the internal field set', () => {
  const host = convertFieldSelector('pods', parseFieldSelector('spec.host=n1'));
  assert.deepEqual(host.requirements.map((r) => r.field), ['spec.nodeName']);
  const ev = convertFieldSelector('events.k8s.io/events', parseFieldSelector('regarding.kind=Pod,reportingController=kubelet'));
  assert.deepEqual(ev.requirements.map((r) => r.field), ['involvedObject.kind', 'reportingComponent']);
});

test('fieldsFor: pods', () => {
  const pod = {
    metadata: { name: 'web', namespace: 'default' },
    spec: { nodeName: 'n1', restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'default' },
    status: { phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }] },
  };
  assert.deepEqual(fieldsFor('pods', pod), {
    'metadata.name': 'web',
    'metadata.namespace': 'default',
    'spec.nodeName': 'n1',
    'spec.restartPolicy': 'Always',
    'spec.schedulerName': 'default-scheduler',
    'spec.serviceAccountName': 'default',
    'spec.hostNetwork': 'false',
    'status.phase': 'Running',
    'status.podIP': '10.0.0.5',
    'status.nominatedNodeName': '',
  });
  const f = fieldsFor('pods', { metadata: { name: 'x', namespace: 'd' }, spec: { hostNetwork: true }, status: { podIP: '1.1.1.1' } });
  assert.equal(f['spec.hostNetwork'], 'true');
  assert.equal(f['status.podIP'], '1.1.1.1');
  // End to end: pending pods without a node, as the scheduler's watch asks.
  const sel = convertFieldSelector('pods', parseFieldSelector('spec.nodeName=,status.phase!=Succeeded'));
  assert.equal(sel.matches(fieldsFor('pods', { metadata: { name: 'p', namespace: 'd' }, status: { phase: 'Pending' } })), true);
  assert.equal(sel.matches(fieldsFor('pods', pod)), false);
  // status.podIPs is accepted but never selectable: only "" matches.
  const ips = convertFieldSelector('pods', parseFieldSelector('status.podIPs=10.0.0.5'));
  assert.equal(ips.matches(fieldsFor('pods', pod)), false);
});

test('fieldsFor: other built-ins', () => {
  assert.deepEqual(fieldsFor('nodes', { metadata: { name: 'n1' }, spec: { unschedulable: true } }), {
    'metadata.name': 'n1',
    'spec.unschedulable': 'true',
  });
  assert.deepEqual(fieldsFor('namespaces', { metadata: { name: 'ns' }, status: { phase: 'Active' } }), {
    'metadata.name': 'ns',
    'status.phase': 'Active',
    name: 'ns',
  });
  assert.equal(fieldsFor('secrets', { metadata: { name: 's', namespace: 'd' }, type: 'Opaque' })['type'], 'Opaque');
  assert.deepEqual(fieldsFor('services', { metadata: { name: 's', namespace: 'd' }, spec: { clusterIP: '10.96.0.1', type: 'ClusterIP' } }), {
    'metadata.name': 's',
    'metadata.namespace': 'd',
    'spec.clusterIP': '10.96.0.1',
    'spec.type': 'ClusterIP',
  });
  assert.equal(fieldsFor('replicationcontrollers', { metadata: { name: 'r' }, status: { replicas: 3 } })['status.replicas'], '3');
  assert.equal(fieldsFor('replicationcontrollers', { metadata: { name: 'r' } })['status.replicas'], '0');
  assert.equal(fieldsFor('batch/jobs', { metadata: { name: 'j' }, status: { succeeded: 2 } })['status.successful'], '2');
  assert.deepEqual(fieldsFor('configmaps', { metadata: { name: 'c', namespace: 'd' } }), {
    'metadata.name': 'c',
    'metadata.namespace': 'd',
  });
  assert.deepEqual(fieldsFor('rbac.authorization.k8s.io/clusterroles', { metadata: { name: 'admin' } }), {
    'metadata.name': 'admin',
  });
  assert.equal(
    fieldsFor('certificates.k8s.io/certificatesigningrequests', { metadata: { name: 'c' }, spec: { signerName: 'x/y' } })['spec.signerName'],
    'x/y',
  );
});

test('fieldsFor: events in both shapes', () => {
  const core = {
    metadata: { name: 'e1', namespace: 'default' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1', apiVersion: 'v1', resourceVersion: '7', fieldPath: 'spec.containers{c}' },
    reason: 'Scheduled',
    source: { component: 'default-scheduler' },
    type: 'Normal',
  };
  assert.deepEqual(fieldsFor('events', core), {
    'metadata.name': 'e1',
    'metadata.namespace': 'default',
    'involvedObject.kind': 'Pod',
    'involvedObject.namespace': 'default',
    'involvedObject.name': 'web',
    'involvedObject.uid': 'u1',
    'involvedObject.apiVersion': 'v1',
    'involvedObject.resourceVersion': '7',
    'involvedObject.fieldPath': 'spec.containers{c}',
    reason: 'Scheduled',
    reportingComponent: '',
    source: 'default-scheduler',
    type: 'Normal',
  });
  // kubectl describe's query.
  const describe = convertFieldSelector(
    'events',
    parseFieldSelector('involvedObject.name=web,involvedObject.namespace=default,involvedObject.kind=Pod,involvedObject.uid=u1'),
  );
  assert.equal(describe.matches(fieldsFor('events', core)), true);

  const v1 = {
    metadata: { name: 'e2', namespace: 'default' },
    regarding: { kind: 'Pod', name: 'web', namespace: 'default' },
    reportingController: 'kubelet',
    reason: 'Pulled',
    type: 'Normal',
  };
  const f = fieldsFor('events.k8s.io/events', v1);
  assert.equal(f['involvedObject.name'], 'web');
  assert.equal(f['reportingComponent'], 'kubelet');
  assert.equal(f['source'], 'kubelet'); // falls back to reportingController
  const sel = convertFieldSelector('events.k8s.io/events', parseFieldSelector('regarding.name=web,reportingController=kubelet'));
  assert.equal(sel.matches(f), true);
  assert.equal(
    convertFieldSelector('events', parseFieldSelector('source=kubelet')).matches(fieldsFor('events', { ...v1, reportingComponent: 'kubelet' })),
    true,
  );
});

test('custom resources: scope and selectableFields', () => {
  const crd = { namespaced: true, selectableFields: ['.spec.color', 'spec.size', '.spec.on'] };
  const obj = { metadata: { name: 'w', namespace: 'd' }, spec: { color: 'red', size: 3, on: true } };
  assert.deepEqual(fieldsFor('example.com/widgets', obj, { crd }), {
    'metadata.name': 'w',
    'metadata.namespace': 'd',
    'spec.color': 'red',
    'spec.size': '3',
    'spec.on': 'true',
  });
  const sel = convertFieldSelector('example.com/widgets', parseFieldSelector('spec.color=red,spec.size=3'), { crd });
  assert.equal(sel.matches(fieldsFor('example.com/widgets', obj, { crd })), true);
  throwsMsg(
    () => convertFieldSelector('example.com/widgets', parseFieldSelector('spec.shape=x'), { crd }),
    'field label not supported: spec.shape',
  );
  throwsMsg(
    () => convertFieldSelector('example.com/clusterwidgets', parseFieldSelector('metadata.namespace=x'), { crd: { namespaced: false } }),
    'field label not supported: metadata.namespace',
  );
  assert.deepEqual(supportedFieldSelectors('example.com/widgets', { crd }), ['metadata.name', 'metadata.namespace', 'spec.color', 'spec.size', 'spec.on']);
});
