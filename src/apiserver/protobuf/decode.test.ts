import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { decodeKubeProtobuf, formatDuration, hasProtobufSchema, isProtobufContentType, ProtobufDecodeError } from './decode.js';
import { CASES, dropNulls, replay } from './capture.js';
import { FIXTURES } from './fixtures.js';
import { needs, which } from '../../testing/real.js';

// ---------------------------------------------------------------------------------------------
// A tiny protobuf writer, independent of the decoder, for payloads kubectl never sends.

type Bytes = Buffer;
function varint(n: number | bigint): Bytes {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const key = (no: number, wt: number) => varint((no << 3) | wt);
const int = (no: number, n: number | bigint) => Buffer.concat([key(no, 0), varint(n)]);
const bool = (no: number, b: boolean) => int(no, b ? 1 : 0);
const bytes = (no: number, b: Bytes) => Buffer.concat([key(no, 2), varint(b.length), b]);
const str = (no: number, s: string) => bytes(no, Buffer.from(s, 'utf8'));
const msg = (no: number, ...parts: Bytes[]) => bytes(no, Buffer.concat(parts));
const entry = (no: number, k: string, v: Bytes) => msg(no, str(1, k), bytes(2, v));
const MAGIC = Buffer.from('k8s\0', 'latin1');
const envelope = (apiVersion: string, kind: string, ...raw: Bytes[]) =>
  Buffer.concat([MAGIC, msg(1, str(1, apiVersion), str(2, kind)), msg(2, ...raw), str(3, ''), str(4, '')]);
const decode = (b: Bytes) => decodeKubeProtobuf(b).object;

// ---------------------------------------------------------------------------------------------

describe('isProtobufContentType', () => {
  it('matches the Kubernetes protobuf media type with or without parameters', () => {
    assert.equal(isProtobufContentType('application/vnd.kubernetes.protobuf'), true);
    assert.equal(isProtobufContentType('Application/VND.Kubernetes.Protobuf; charset=binary'), true);
    assert.equal(isProtobufContentType('application/json'), false);
    assert.equal(isProtobufContentType('application/vnd.kubernetes.protobuf+json'), false);
    assert.equal(isProtobufContentType(''), false);
    assert.equal(isProtobufContentType(undefined), false);
  });
});

describe('recorded kubectl payloads', () => {
  for (const [name, f] of Object.entries(FIXTURES)) {
    it(`decodes ${name} to what kubectl would send as JSON`, () => {
      const out = decodeKubeProtobuf(Buffer.from(f.body, 'base64'));
      const expected = f.expected as { apiVersion: string; kind: string };
      assert.equal(out.apiVersion, expected.apiVersion);
      assert.equal(out.kind, expected.kind);
      assert.deepStrictEqual(dropNulls(out.object), expected);
    });
  }

  it('keeps explicit zero values of pointer fields and required fields, drops omitempty zeros', () => {
    const job = decode(Buffer.from(FIXTURES['job-from-cronjob'].body, 'base64'));
    const spec = job.spec.template.spec;
    assert.equal(spec.terminationGracePeriodSeconds, 0);
    assert.equal(spec.automountServiceAccountToken, false);
    assert.equal(spec.securityContext.runAsUser, 0);
    assert.equal(spec.priority, 0);
    assert.equal(spec.tolerations[1].tolerationSeconds, 0);
    assert.equal(spec.containers[1].livenessProbe.grpc.service, '');
    assert.deepStrictEqual(spec.volumes.find((v: { name: string }) => v.name === 'iscsi').iscsi.lun, 0);
    assert.equal(spec.volumes.find((v: { name: string }) => v.name === 'hp').hostPath.type, '');
    assert.equal('value' in spec.containers[0].env[1], false, 'EnvVar.value "" is omitempty');
    assert.equal(job.spec.suspend, false);
    assert.equal(job.spec.backoffLimit, 0);
    assert.deepStrictEqual(job.spec.podFailurePolicy.rules[0].onExitCodes.values, [-1, 2, 42]);
  });

  it('flattens Go inline embeds (Probe handler, Volume source, LocalObjectReference, ephemeral containers)', () => {
    const spec = decode(Buffer.from(FIXTURES['job-from-cronjob'].body, 'base64')).spec.template.spec;
    assert.deepStrictEqual(spec.containers[0].startupProbe, { exec: { command: ['cat', '/tmp/ok'] } });
    assert.deepStrictEqual(spec.volumes[0], { name: 'data', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } });
    assert.deepStrictEqual(spec.containers[0].envFrom[0], { prefix: 'P_', configMapRef: { name: 'cm', optional: true } });
    assert.equal(spec.ephemeralContainers[0].targetContainerName, 'app');
    assert.equal(spec.ephemeralContainers[0].name, 'dbg');
  });
});

describe('live kubectl', () => {
  const missing = which('kubectl') ? undefined : 'kubectl is not on PATH';
  for (const c of CASES) {
    it(`kubectl ${c.args.join(' ')}`, async (t: TestContext) => {
      if (!needs(t, missing)) return;
      const r = await replay(c);
      assert.ok(isProtobufContentType(r.request.contentType), `kubectl sent ${r.request.contentType}`);
      const out = decodeKubeProtobuf(r.request.body);
      assert.deepStrictEqual(dropNulls(out.object), c.dryRun ? r.dryRun : c.expected);
    });
  }
});

describe('JSON conversions', () => {
  it('Time and MicroTime become RFC 3339; zero times are omitted', () => {
    const lease = decode(
      envelope(
        'coordination.k8s.io/v1',
        'Lease',
        msg(1, str(1, 'l'), msg(8)),
        msg(2, str(1, ''), int(2, 0), msg(3, int(1, 1704164645), int(2, 123456789)), msg(4, int(1, 0), int(2, 0)), int(5, 0)),
      ),
    );
    assert.deepStrictEqual(lease, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'l' },
      spec: { holderIdentity: '', leaseDurationSeconds: 0, acquireTime: '2024-01-02T03:04:05.123456Z', renewTime: '1970-01-01T00:00:00.000000Z', leaseTransitions: 0 },
    });
    const ev = decode(envelope('v1', 'Event', msg(1, str(1, 'e')), msg(6, int(1, 1704164645), int(2, 999)), int(8, 0), msg(11, int(1, 2), msg(2, int(1, 1)))));
    assert.deepStrictEqual(ev, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'e' },
      firstTimestamp: '2024-01-02T03:04:05Z', // Time has second precision
      series: { count: 2, lastObservedTime: '1970-01-01T00:00:01.000000Z' },
    });
  });

  it('rejects timestamps outside the years 0-9999', () => {
    assert.throws(() => decode(envelope('v1', 'Event', msg(6, int(1, 253402300800)))), ProtobufDecodeError);
    assert.throws(() => decode(envelope('v1', 'Event', msg(6, int(1, -62167219201)))), ProtobufDecodeError);
    assert.equal(decode(envelope('v1', 'Event', msg(6, int(1, -62135596800)))).firstTimestamp, '0001-01-01T00:00:00Z');
  });

  it('IntOrString becomes a number or a string; pointer IntOrString 0 is kept', () => {
    const d = decode(
      envelope('apps/v1', 'Deployment', msg(2, msg(4, str(1, 'RollingUpdate'), msg(2, msg(1, int(1, 0), int(2, 0), str(3, '')), msg(2, int(1, 1), int(2, 0), str(3, '25%')))))),
    );
    assert.deepStrictEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } });
  });

  it('bytes become base64, string and bytes maps keep empty values, "__proto__" stays a plain key', () => {
    const s = decode(envelope('v1', 'Secret', msg(1, str(1, 's')), entry(2, 'bin', Buffer.from([0, 255])), entry(2, 'empty', Buffer.alloc(0)), entry(4, '__proto__', Buffer.from('x'))));
    assert.deepStrictEqual(s.data, { bin: 'AP8=', empty: '' });
    assert.equal(Object.getPrototypeOf(s.stringData), Object.prototype);
    assert.deepStrictEqual(Object.keys(s.stringData), ['__proto__']);
    assert.equal(s.stringData['__proto__'], 'x');
  });

  it('ExtraValue maps become string arrays and Quantity maps strings', () => {
    const sar = decode(
      envelope(
        'authorization.k8s.io/v1',
        'SubjectAccessReview',
        msg(2, str(3, 'alice'), str(4, 'g1'), str(4, 'g2'), msg(5, str(1, 'scopes'), msg(2, str(1, 'a'), str(1, 'b'))), msg(5, str(1, 'none'), msg(2)), str(6, 'uid-1')),
      ),
    );
    assert.deepStrictEqual(sar.spec, { user: 'alice', groups: ['g1', 'g2'], extra: { scopes: ['a', 'b'], none: [] }, uid: 'uid-1' });
    const q = decode(envelope('v1', 'ResourceQuota', msg(2, msg(1, str(1, 'cpu'), msg(2, str(1, '500m'))), msg(1, str(1, 'pods'), msg(2)))));
    assert.deepStrictEqual(q.spec, { hard: { cpu: '500m', pods: '0' } });
  });

  it('RawExtension holds embedded JSON or a nested protobuf object; FieldsV1 holds JSON', () => {
    const cr = decode(envelope('apps/v1', 'ControllerRevision', msg(1, str(1, 'cr')), msg(2, bytes(1, Buffer.from('{"spec":{"x":[1,"a",null]}}'))), int(3, 0)));
    assert.deepStrictEqual(cr, { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'cr' }, data: { spec: { x: [1, 'a', null] } }, revision: 0 });
    const nested = decode(envelope('apps/v1', 'ControllerRevision', msg(2, bytes(1, envelope('v1', 'ConfigMap', msg(1, str(1, 'inner')), entry(2, 'k', Buffer.from('v'))))), int(3, 7)));
    assert.deepStrictEqual(nested.data, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inner' }, data: { k: 'v' } });
    assert.throws(() => decode(envelope('apps/v1', 'ControllerRevision', msg(2, bytes(1, Buffer.from('{nope'))))), ProtobufDecodeError);
    const cm = decode(envelope('v1', 'ConfigMap', msg(1, msg(17, str(1, 'm'), msg(7, bytes(1, Buffer.from('{"f:data":{}}')))))));
    assert.deepStrictEqual(cm.metadata.managedFields, [{ manager: 'm', fieldsV1: { 'f:data': {} } }]);
  });

  it('Duration formats like Go time.Duration.String()', () => {
    const cases: [bigint, string][] = [
      [0n, '0s'], [1n, '1ns'], [1500n, '1.5µs'], [1_500_000n, '1.5ms'], [1_000_000_000n, '1s'], [1_500_000_000n, '1.5s'],
      [60_000_000_000n, '1m0s'], [3_723_000_000_000n, '1h2m3s'], [-90_000_000_000n, '-1m30s'], [9223372036854775807n, '2562047h47m16.854775807s'],
    ];
    for (const [ns, s] of cases) assert.equal(formatDuration(ns), s);
  });

  it('reads packed and unpacked repeated scalars, negative int32/int64 and skips unknown fields', () => {
    const packed = Buffer.concat([key(4, 2), varint(3), varint(1), varint(2), varint(3)]);
    const pod = decode(
      envelope(
        'v1',
        'Pod',
        msg(99, str(1, 'future')), // unknown field of Pod
        msg(2, msg(14, int(2, -1), packed, int(4, 7), int(999, 5)), int(5, -5)),
      ),
    );
    assert.deepStrictEqual(pod.spec, { securityContext: { runAsUser: -1, supplementalGroups: [1, 2, 3, 7] }, activeDeadlineSeconds: -5 });
  });

  it('orders keys as Go structs do', () => {
    const s = decode(envelope('v1', 'Secret', msg(1, str(1, 's')), entry(2, 'k', Buffer.from('v')), str(3, 'Opaque'), bool(5, true)));
    assert.deepStrictEqual(Object.keys(s), ['apiVersion', 'kind', 'metadata', 'immutable', 'data', 'type']);
  });

  it('accepts DeleteOptions under any served group version', () => {
    const body = envelope('apps/v1', 'DeleteOptions', int(1, 0), str(4, 'Foreground'), str(5, 'All'));
    assert.deepStrictEqual(decode(body), { apiVersion: 'apps/v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, propagationPolicy: 'Foreground', dryRun: ['All'] });
  });
});

describe('coverage', () => {
  it('has a schema for every kind the API server accepts as a body', () => {
    const kinds: [string, string[]][] = [
      ['v1', ['ConfigMap', 'Secret', 'Namespace', 'ServiceAccount', 'Service', 'Pod', 'PodTemplate', 'ReplicationController', 'ResourceQuota', 'LimitRange', 'Endpoints', 'Event', 'Node', 'Binding', 'PersistentVolume', 'PersistentVolumeClaim', 'DeleteOptions']],
      ['apps/v1', ['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'ControllerRevision']],
      ['batch/v1', ['Job', 'CronJob']],
      ['autoscaling/v1', ['Scale', 'HorizontalPodAutoscaler']],
      ['autoscaling/v2', ['HorizontalPodAutoscaler']],
      ['networking.k8s.io/v1', ['Ingress', 'IngressClass', 'NetworkPolicy']],
      ['rbac.authorization.k8s.io/v1', ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']],
      ['policy/v1', ['PodDisruptionBudget', 'Eviction']],
      ['scheduling.k8s.io/v1', ['PriorityClass']],
      ['authorization.k8s.io/v1', ['SelfSubjectAccessReview', 'SubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectRulesReview']],
      ['authentication.k8s.io/v1', ['TokenRequest', 'TokenReview', 'SelfSubjectReview']],
      ['coordination.k8s.io/v1', ['Lease']],
      ['discovery.k8s.io/v1', ['EndpointSlice']],
      ['events.k8s.io/v1', ['Event']],
      ['storage.k8s.io/v1', ['StorageClass', 'CSIDriver']],
      ['meta.k8s.io/v1', ['DeleteOptions', 'Status']],
    ];
    for (const [gv, ks] of kinds) for (const k of ks) assert.ok(hasProtobufSchema(gv, k), `${gv} ${k}`);
    assert.equal(hasProtobufSchema('v1', 'PodSpec'), false);
  });
});

describe('malformed input', () => {
  it('rejects bodies without the magic prefix, without a kind, or of unknown kinds', () => {
    assert.throws(() => decodeKubeProtobuf(Buffer.from('{"kind":"ConfigMap"}')), /does not appear to be a protobuf message/);
    assert.throws(() => decodeKubeProtobuf(Buffer.alloc(0)), ProtobufDecodeError);
    assert.throws(() => decodeKubeProtobuf(MAGIC), /no kind/);
    assert.throws(() => decodeKubeProtobuf(envelope('example.com/v1', 'Widget')), /no protobuf schema for kind "Widget" in version "example.com\/v1"/);
    assert.throws(() => decodeKubeProtobuf(envelope('v1', 'PodSpec')), ProtobufDecodeError);
    assert.throws(() => decodeKubeProtobuf(Buffer.concat([MAGIC, msg(1, str(1, 'v1'), str(2, 'ConfigMap')), str(3, 'gzip')])), /content encoding/);
  });

  it('rejects wrong wire types, field number 0, bad lengths and over-long varints', () => {
    assert.throws(() => decode(envelope('v1', 'ConfigMap', int(1, 5))), /wrong wire type/);
    assert.throws(() => decode(envelope('v1', 'ConfigMap', int(0, 5))), /field number 0/);
    assert.throws(() => decode(envelope('v1', 'ConfigMap', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))), /exceeds/);
    assert.throws(() => decode(envelope('v1', 'ConfigMap', Buffer.from([0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))), /varint/);
    assert.throws(() => decode(envelope('v1', 'ConfigMap', Buffer.from([0x0f]))), /wire type 7/);
  });

  it('skips well-formed groups and rejects unterminated ones', () => {
    const group = Buffer.concat([key(50, 3), int(1, 1), key(50, 4)]);
    assert.deepStrictEqual(decode(envelope('v1', 'ConfigMap', group, msg(1, str(1, 'x')))).metadata, { name: 'x' });
    assert.throws(() => decode(envelope('v1', 'ConfigMap', key(50, 3), int(1, 1))), /group/);
  });

  it('bounds nesting (RawExtension holding protobuf objects holding RawExtensions …)', () => {
    let body = envelope('v1', 'ConfigMap');
    for (let i = 0; i < 300; i++) body = envelope('apps/v1', 'ControllerRevision', msg(2, bytes(1, body)));
    assert.throws(() => decodeKubeProtobuf(body), /nested deeper/);
  });

  it('every truncation of every recorded payload decodes or throws ProtobufDecodeError', () => {
    for (const f of Object.values(FIXTURES)) {
      const full = Buffer.from(f.body, 'base64');
      for (let n = 0; n < full.length; n++) {
        try {
          decodeKubeProtobuf(full.subarray(0, n));
        } catch (e) {
          assert.ok(e instanceof ProtobufDecodeError, `prefix ${n}: ${(e as Error).stack}`);
        }
      }
    }
  });

  it('random corruption decodes or throws ProtobufDecodeError, quickly', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
    const bodies = Object.values(FIXTURES).map((f) => Buffer.from(f.body, 'base64'));
    const start = Date.now();
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.from(bodies[i % bodies.length]);
      const flips = 1 + Math.floor(rand() * 4);
      for (let j = 0; j < flips; j++) b[4 + Math.floor(rand() * (b.length - 4))] = Math.floor(rand() * 256);
      try {
        decodeKubeProtobuf(b);
      } catch (e) {
        assert.ok(e instanceof ProtobufDecodeError, (e as Error).stack);
      }
    }
    assert.ok(Date.now() - start < 10_000);
  });
});
