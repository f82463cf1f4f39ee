/**
 * Test helper: runs the real kubectl against a throwaway plain-HTTP server that answers discovery
 * and records what kubectl writes, so tests see the exact protobuf bytes kubectl puts on the wire.
 */
import http from 'node:http';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

export interface Captured {
  method: string;
  path: string;
  contentType: string | undefined;
  accept: string | undefined;
  body: Buffer;
}

/** group → [version, [resource, kind, namespaced][]] served by the fake discovery. */
const GROUPS: Record<string, [string, [string, string, boolean][]]> = {
  '': ['v1', [['configmaps', 'ConfigMap', true], ['secrets', 'Secret', true], ['namespaces', 'Namespace', false], ['services', 'Service', true], ['serviceaccounts', 'ServiceAccount', true], ['serviceaccounts/token', 'TokenRequest', true], ['resourcequotas', 'ResourceQuota', true], ['pods', 'Pod', true], ['nodes', 'Node', false]]],
  apps: ['v1', [['deployments', 'Deployment', true]]],
  batch: ['v1', [['jobs', 'Job', true], ['cronjobs', 'CronJob', true]]],
  'rbac.authorization.k8s.io': ['v1', [['roles', 'Role', true], ['rolebindings', 'RoleBinding', true], ['clusterroles', 'ClusterRole', false], ['clusterrolebindings', 'ClusterRoleBinding', false]]],
  'networking.k8s.io': ['v1', [['ingresses', 'Ingress', true]]],
  policy: ['v1', [['poddisruptionbudgets', 'PodDisruptionBudget', true]]],
  'scheduling.k8s.io': ['v1', [['priorityclasses', 'PriorityClass', false]]],
  'authorization.k8s.io': ['v1', [['selfsubjectaccessreviews', 'SelfSubjectAccessReview', false]]],
  'authentication.k8s.io': ['v1', [['tokenreviews', 'TokenReview', false]]],
};

export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
  requests: Captured[];
}

/**
 * Runs `kubectl <args>` against a fresh fake server. `objects` maps a GET path to the JSON it returns
 * (e.g. a CronJob for `create job --from`); a write is answered with `reply(captured)` or an echo of
 * a minimal object so kubectl prints "… created" and exits 0.
 */
export async function runKubectl(
  args: string[],
  opts: { objects?: Record<string, unknown>; reply?: (c: Captured) => unknown } = {},
): Promise<KubectlRun> {
  const requests: Captured[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const json = (code: number, o: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(o));
      };
      if (req.method !== 'GET') {
        const c: Captured = { method: req.method ?? '', path, contentType: req.headers['content-type'], accept: req.headers.accept, body: Buffer.concat(chunks) };
        requests.push(c);
        return json(201, opts.reply?.(c) ?? { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } });
      }
      if (opts.objects?.[path]) return json(200, opts.objects[path]);
      if (path === '/version') return json(200, { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' });
      if (path === '/api') return json(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
      if (path === '/apis') {
        const groups = Object.entries(GROUPS)
          .filter(([g]) => g)
          .map(([g, [v]]) => ({ name: g, versions: [{ groupVersion: `${g}/${v}`, version: v }], preferredVersion: { groupVersion: `${g}/${v}`, version: v } }));
        return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
      }
      for (const [g, [v, resources]] of Object.entries(GROUPS)) {
        const gv = g ? `${g}/${v}` : v;
        if (path === (g ? `/apis/${gv}` : '/api/v1')) {
          return json(200, {
            kind: 'APIResourceList',
            apiVersion: 'v1',
            groupVersion: gv,
            resources: resources.map(([name, kind, namespaced]) => ({ name, singularName: '', namespaced, kind, verbs: ['create', 'get', 'list', 'delete'] })),
          });
        }
      }
      json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'not found', reason: 'NotFound', code: 404 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dir = mkdtempSync(join(tmpdir(), 'skiff-pb-'));
  try {
    const port = (server.address() as AddressInfo).port;
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${port}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n    namespace: default\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: t\n`,
    );
    const run = await execKubectl(['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], dir);
    return { ...run, requests };
  } finally {
    server.close();
    server.closeAllConnections();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `kubectl <args>` with no server (client-side dry runs). */
export async function kubectlOffline(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-pb-'));
  try {
    return await execKubectl(args, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function execKubectl(args: string[], home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', args, { env: { ...process.env, HOME: home, KUBECONFIG: join(home, 'kubeconfig') }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The commands the tests replay. `dryRun: true` cases are checked against what the same command
// prints with --dry-run=client -o json (Go's own JSON of the object it would have sent).

export interface Case {
  name: string;
  args: string[];
  objects?: Record<string, unknown>;
  dryRun: boolean;
  /** For commands without a dry run: the JSON a Go client would send, nulls dropped (written by hand). */
  expected?: unknown;
}

/** A CronJob whose pod template touches most of PodSpec; `create job --from` copies it verbatim. */
export const RICH_CRONJOB = {
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'cj', namespace: 'default', uid: 'cj-uid-1' },
  spec: {
    schedule: '*/5 * * * *',
    jobTemplate: {
      metadata: { labels: { team: 'a' }, annotations: { note: '' } },
      spec: {
        parallelism: 2, completions: 4, backoffLimit: 0, ttlSecondsAfterFinished: 60, completionMode: 'Indexed', suspend: false, activeDeadlineSeconds: 3600,
        podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'app', operator: 'In', values: [-1, 2, 42] } }, { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
        template: {
          metadata: { labels: { app: 'x' }, annotations: { a: 'b' } },
          spec: {
            initContainers: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'true'], restartPolicy: 'Always', resources: { limits: { cpu: '100m' } } }],
            containers: [
              {
                name: 'app', image: 'nginx:1.25', args: ['-g', 'daemon off;'], workingDir: '/w',
                ports: [{ name: 'http', containerPort: 80, protocol: 'TCP', hostPort: 8080, hostIP: '0.0.0.0' }],
                envFrom: [{ prefix: 'P_', configMapRef: { name: 'cm', optional: true } }, { secretRef: { name: 's' } }],
                env: [
                  { name: 'A', value: '1' }, { name: 'EMPTY' },
                  { name: 'B', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k', optional: false } } },
                  { name: 'C', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
                  { name: 'D', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
                  { name: 'E', valueFrom: { resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } } },
                ],
                resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m', memory: '64Mi', 'nvidia.com/gpu': '1' } },
                resizePolicy: [{ resourceName: 'cpu', restartPolicy: 'NotRequired' }],
                volumeMounts: [
                  { name: 'data', mountPath: '/data', readOnly: true, subPath: 'x', mountPropagation: 'HostToContainer' },
                  { name: 'cm', mountPath: '/cm', subPathExpr: '$(POD)', recursiveReadOnly: 'Disabled' },
                ],
                volumeDevices: [{ name: 'eph', devicePath: '/dev/xvda' }],
                livenessProbe: {
                  httpGet: { path: '/healthz', port: 'http', host: 'h', scheme: 'HTTP', httpHeaders: [{ name: 'X', value: '' }] },
                  initialDelaySeconds: 3, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3, terminationGracePeriodSeconds: 0,
                },
                readinessProbe: { tcpSocket: { port: 80 } },
                startupProbe: { exec: { command: ['cat', '/tmp/ok'] } },
                lifecycle: { postStart: { exec: { command: ['x'] } }, preStop: { sleep: { seconds: 5 } } },
                terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'FallbackToLogsOnError', imagePullPolicy: 'IfNotPresent',
                securityContext: {
                  capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }, privileged: false, seLinuxOptions: { level: 's0:c1' }, runAsUser: 1000, runAsGroup: 0,
                  runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, procMount: 'Default',
                  seccompProfile: { type: 'RuntimeDefault' }, appArmorProfile: { type: 'Localhost', localhostProfile: 'p' },
                },
                stdin: true, tty: true,
              },
              { name: 'grpc', image: 'g', livenessProbe: { grpc: { port: 9000, service: '' } }, readinessProbe: { httpGet: { port: 8080 } } },
            ],
            ephemeralContainers: [{ name: 'dbg', image: 'busybox', targetContainerName: 'app', stdin: true }],
            volumes: [
              { name: 'data', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } },
              { name: 'empty', emptyDir: {} },
              { name: 'hp', hostPath: { path: '/var/log', type: '' } },
              { name: 'cm', configMap: { name: 'cm', items: [{ key: 'a', path: 'a.txt', mode: 420 }], defaultMode: 420, optional: true } },
              { name: 'sec', secret: { secretName: 's', defaultMode: 256 } },
              { name: 'pvc', persistentVolumeClaim: { claimName: 'c', readOnly: true } },
              {
                name: 'proj',
                projected: {
                  sources: [
                    { serviceAccountToken: { audience: 'a', expirationSeconds: 3600, path: 'token' } },
                    { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
                    { configMap: { name: 'cm2' } },
                    { secret: { name: 's2', optional: false } },
                    { clusterTrustBundle: { signerName: 'x', path: 'b', labelSelector: {} } },
                  ],
                  defaultMode: 420,
                },
              },
              { name: 'dapi', downwardAPI: { items: [{ path: 'cpu', resourceFieldRef: { containerName: 'app', resource: 'requests.cpu', divisor: '1m' } }] } },
              {
                name: 'eph',
                ephemeral: {
                  volumeClaimTemplate: {
                    metadata: { labels: { x: 'y' } },
                    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: '', volumeMode: 'Block', dataSourceRef: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'snap' } },
                  },
                },
              },
              { name: 'nfs', nfs: { server: '10.0.0.1', path: '/exports', readOnly: true } },
              { name: 'csi', csi: { driver: 'd', readOnly: false, volumeAttributes: { a: 'b' }, nodePublishSecretRef: { name: 's' } } },
              { name: 'img', image: { reference: 'busybox', pullPolicy: 'IfNotPresent' } },
              { name: 'iscsi', iscsi: { targetPortal: '1.2.3.4:3260', iqn: 'iqn.x', lun: 0, fsType: 'ext4' } },
              { name: 'gitrepo', gitRepo: { repository: 'https://x', revision: 'main' } },
              { name: 'fc', fc: { targetWWNs: ['a'], lun: 0 } },
            ],
            restartPolicy: 'OnFailure', terminationGracePeriodSeconds: 0, activeDeadlineSeconds: 100, dnsPolicy: 'ClusterFirst',
            nodeSelector: { disk: 'ssd' }, serviceAccountName: 'sa', automountServiceAccountToken: false, nodeName: 'n1',
            hostNetwork: true, shareProcessNamespace: true,
            securityContext: {
              seLinuxOptions: { user: 'u' }, runAsUser: 0, supplementalGroups: [1, 2], supplementalGroupsPolicy: 'Strict', fsGroup: 2000,
              sysctls: [{ name: 'net.core.somaxconn', value: '1024' }], fsGroupChangePolicy: 'OnRootMismatch',
              seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' }, windowsOptions: { hostProcess: false, runAsUserName: 'x' },
            },
            imagePullSecrets: [{ name: 'reg' }], hostname: 'h', subdomain: 'sd',
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }], matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] }],
                },
                preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'k', operator: 'Exists' }] } }],
              },
              podAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: { matchLabels: { app: 'x' } }, namespaces: ['a'], topologyKey: 'zone', namespaceSelector: {}, matchLabelKeys: ['pod-template-hash'] },
                ],
              },
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  { weight: 100, podAffinityTerm: { labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['x'] }] }, topologyKey: 'kubernetes.io/hostname' } },
                ],
              },
            },
            schedulerName: 'my-scheduler',
            tolerations: [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }, { operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }],
            hostAliases: [{ ip: '1.2.3.4', hostnames: ['a', 'b'] }],
            priorityClassName: 'high', priority: 0,
            dnsConfig: { nameservers: ['1.1.1.1'], searches: ['a.b'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] },
            readinessGates: [{ conditionType: 'x' }], runtimeClassName: 'rc', enableServiceLinks: false, preemptionPolicy: 'Never',
            overhead: { cpu: '100m' },
            topologySpreadConstraints: [
              { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'x' } }, minDomains: 2, nodeAffinityPolicy: 'Honor', nodeTaintsPolicy: 'Ignore', matchLabelKeys: ['v'] },
            ],
            setHostnameAsFQDN: false, os: { name: 'linux' }, hostUsers: false,
            schedulingGates: [{ name: 'g' }],
            resourceClaims: [{ name: 'rc', resourceClaimTemplateName: 't' }],
            resources: { limits: { cpu: '2' } },
          },
        },
      },
    },
  },
};

/** An existing Role as the server returns it, so `auth reconcile` PUTs metadata with times and managedFields. */
export const EXISTING_ROLE = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: {
    name: 'r', namespace: 'default', uid: 'u-1', resourceVersion: '42', generation: 3, creationTimestamp: '2024-01-02T03:04:05Z',
    deletionGracePeriodSeconds: 0, labels: { a: 'b' }, finalizers: ['f'],
    ownerReferences: [{ apiVersion: 'v1', kind: 'Namespace', name: 'default', uid: 'ns-uid', controller: false, blockOwnerDeletion: true }],
    managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'rbac.authorization.k8s.io/v1', time: '2024-01-02T03:04:05Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:rules': {}, 'f:metadata': { 'f:labels': { 'f:a': {} } } } }],
  },
  rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
};

export const RECONCILE_ROLE_YAML =
  'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: r\n  namespace: default\nrules:\n- apiGroups: [""]\n  resources: [pods]\n  verbs: [get, list]\n';

export const CASES: Case[] = [
  { name: 'configmap', args: ['create', 'configmap', 'x', '--from-literal=a=b', '--from-literal=empty='], dryRun: true },
  { name: 'configmap-binary', args: ['create', 'configmap', 'bin', '--from-file=blob=@BINARY@'], dryRun: true },
  { name: 'secret', args: ['create', 'secret', 'generic', 's', '--from-literal=k=v', '--type=Opaque'], dryRun: true },
  { name: 'secret-docker-registry', args: ['create', 'secret', 'docker-registry', 'reg', '--docker-server=r.io', '--docker-username=u', '--docker-password=p'], dryRun: true },
  { name: 'deployment', args: ['create', 'deployment', 'd', '--image=nginx', '--replicas=3', '--port=80'], dryRun: true },
  { name: 'namespace', args: ['create', 'namespace', 'n'], dryRun: true },
  { name: 'serviceaccount', args: ['create', 'serviceaccount', 'sa'], dryRun: true },
  { name: 'service-nodeport', args: ['create', 'service', 'nodeport', 'np', '--tcp=80:8080'], dryRun: true },
  { name: 'service-clusterip', args: ['create', 'service', 'clusterip', 'cip', '--tcp=443:https', '--tcp=5678:8080'], dryRun: true },
  { name: 'service-headless', args: ['create', 'service', 'clusterip', 'hl', '--clusterip=None'], dryRun: true },
  { name: 'service-externalname', args: ['create', 'service', 'externalname', 'ext', '--external-name=example.com'], dryRun: true },
  { name: 'service-loadbalancer', args: ['create', 'service', 'loadbalancer', 'lb', '--tcp=80:80'], dryRun: true },
  { name: 'job', args: ['create', 'job', 'j', '--image=busybox', '--', 'echo', 'hi'], dryRun: true },
  { name: 'cronjob', args: ['create', 'cronjob', 'cj', '--image=busybox', '--schedule=*/1 * * * *', '--restart=OnFailure'], dryRun: true },
  { name: 'job-from-cronjob', args: ['create', 'job', 'j2', '--from=cronjob/cj'], objects: { '/apis/batch/v1/namespaces/default/cronjobs/cj': RICH_CRONJOB }, dryRun: true },
  { name: 'role', args: ['create', 'role', 'r', '--verb=get', '--resource=pods'], dryRun: true },
  { name: 'role-names', args: ['create', 'role', 'r2', '--verb=get,list', '--resource=deployments.apps,pods/log', '--resource-name=a'], dryRun: true },
  { name: 'clusterrole', args: ['create', 'clusterrole', 'cr', '--verb=get', '--resource=nodes', '--non-resource-url=/healthz'], dryRun: true },
  { name: 'clusterrole-aggregate', args: ['create', 'clusterrole', 'agg', '--aggregation-rule=rbac.example.com/aggregate=true'], dryRun: true },
  { name: 'rolebinding', args: ['create', 'rolebinding', 'rb', '--role=r', '--user=alice', '--serviceaccount=default:sa'], dryRun: true },
  { name: 'clusterrolebinding', args: ['create', 'clusterrolebinding', 'crb', '--clusterrole=cr', '--group=devs'], dryRun: true },
  { name: 'ingress', args: ['create', 'ingress', 'ing', '--rule=foo.com/bar=svc:80', '--rule=foo.com/tls*=svc2:http,tls=sec', '--default-backend=def:8080', '--class=nginx', '--annotation=a=b'], dryRun: true },
  { name: 'quota', args: ['create', 'quota', 'q', '--hard=pods=2,requests.cpu=500m,limits.memory=1Gi', '--scopes=BestEffort'], dryRun: true },
  { name: 'priorityclass', args: ['create', 'priorityclass', 'pc', '--value=0', '--description=hi', '--preemption-policy=Never', '--global-default=false'], dryRun: true },
  { name: 'pdb', args: ['create', 'poddisruptionbudget', 'pdb', '--selector=app=x', '--min-available=50%'], dryRun: true },
  { name: 'pdb-int', args: ['create', 'poddisruptionbudget', 'pdb2', '--selector=app=x', '--max-unavailable=0'], dryRun: true },
  {
    name: 'can-i',
    args: ['auth', 'can-i', 'create', 'deployments.apps', '--subresource=scale', '-n', 'ns1'],
    dryRun: false,
    expected: {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {},
      spec: { resourceAttributes: { namespace: 'ns1', verb: 'create', group: 'apps', resource: 'deployments', subresource: 'scale' } },
      status: { allowed: false },
    },
  },
  {
    name: 'can-i-nonresource',
    args: ['auth', 'can-i', 'get', '/logs'],
    dryRun: false,
    expected: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec: { nonResourceAttributes: { path: '/logs', verb: 'get' } }, status: { allowed: false } },
  },
  {
    name: 'token',
    args: ['create', 'token', 'sa', '--duration=10m', '--bound-object-kind=Pod', '--bound-object-name=p', '--bound-object-uid=123', '--audience=a', '--audience=b'],
    dryRun: false,
    expected: {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {},
      spec: { audiences: ['a', 'b'], expirationSeconds: 600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: '123' } },
      status: { token: '' },
    },
  },
  {
    name: 'auth-reconcile',
    args: ['auth', 'reconcile', '-f', '@ROLE_YAML@'],
    objects: { '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/r': EXISTING_ROLE },
    dryRun: false,
    // The existing object's metadata (times, managedFields, pointer zeros) with the missing rule added.
    expected: {
      ...EXISTING_ROLE,
      rules: [
        { verbs: ['get'], apiGroups: [''], resources: ['pods'] },
        { verbs: ['list'], apiGroups: [''], resources: ['pods'] },
      ],
    },
  },
];

/** Case args with flags placed before any `--` (after it they would become the container's command). */
export function withFlags(args: string[], flags: string[]): string[] {
  const i = args.indexOf('--');
  return i < 0 ? [...args, ...flags] : [...args.slice(0, i), ...flags, ...args.slice(i)];
}

/** Bytes that are not UTF-8, so `create configmap --from-file` puts them in binaryData. */
export const BINARY_FILE = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x41, 0x0a]);

/** The case's kubectl args with its input files written to `dir`. */
export function caseArgs(c: Case, dir: string): string[] {
  return c.args.map((a) => {
    if (a.includes('@BINARY@')) {
      writeFileSync(join(dir, 'blob'), BINARY_FILE);
      return a.replace('@BINARY@', join(dir, 'blob'));
    }
    if (a === '@ROLE_YAML@') {
      writeFileSync(join(dir, 'role.yaml'), RECONCILE_ROLE_YAML);
      return join(dir, 'role.yaml');
    }
    return a;
  });
}

/** Drops null-valued keys: Go's JSON writes the zero metav1.Time as null, the decoder omits it. */
export function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
    return out;
  }
  return v;
}

export interface Replay {
  /** The first write kubectl made, as captured. */
  request: Captured;
  /** For dryRun cases, the normalised --dry-run=client -o json output. */
  dryRun?: unknown;
  run: KubectlRun;
}

/** Runs one case live: the real request, plus the dry-run JSON when the case has one. */
export async function replay(c: Case): Promise<Replay> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-pb-in-'));
  try {
    const args = caseArgs(c, dir);
    // --validate=false skips the OpenAPI download; only the object-creating commands have the flag.
    const validate = args[0] === 'create' && args[1] !== 'token' ? ['--validate=false'] : [];
    const run = await runKubectl(withFlags(args, validate), { objects: c.objects });
    if (run.requests.length === 0) throw new Error(`kubectl ${args.join(' ')} sent nothing (exit ${run.code}): ${run.stderr}`);
    let dryRun: unknown;
    if (c.dryRun) {
      const dry = await runKubectl(withFlags(args, ['--dry-run=client', '-o', 'json']), { objects: c.objects });
      if (dry.code !== 0) throw new Error(`kubectl ${args.join(' ')} --dry-run failed: ${dry.stderr}`);
      dryRun = dropNulls(JSON.parse(dry.stdout));
    }
    return { request: run.requests[0], dryRun, run };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Dev-time: re-record fixtures.ts from the live kubectl (node capture.js --write-fixtures <path>). */
export async function writeFixtures(path: string): Promise<void> {
  const entries: string[] = [];
  for (const c of CASES) {
    const r = await replay(c);
    const expected = c.dryRun ? r.dryRun : c.expected;
    entries.push(`  ${JSON.stringify(c.name)}: {\n    body: ${JSON.stringify(r.request.body.toString('base64'))},\n    expected: ${JSON.stringify(expected)},\n  },`);
  }
  const version = (await kubectlOffline(['version', '--client', '-o', 'json'])).stdout;
  const gitVersion = (JSON.parse(version || '{}') as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion ?? 'unknown';
  writeFileSync(
    path,
    `// Recorded by capture.ts writeFixtures() from kubectl ${gitVersion}: each body is the exact protobuf request\n` +
      `// kubectl sent; expected is its --dry-run=client -o json output (nulls dropped) or, for commands without a\n` +
      `// dry run, the hand-written JSON in capture.ts CASES. Lets decode.test.ts run without kubectl.\n` +
      `export const FIXTURES: Record<string, { body: string; expected: unknown }> = {\n${entries.join('\n')}\n};\n`,
  );
}

// Only when run directly (never on import from a test).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--write-fixtures' && process.argv[3]) {
  await writeFixtures(process.argv[3]);
}
