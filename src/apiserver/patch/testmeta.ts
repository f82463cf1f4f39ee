/**
 * Test-only PatchMeta: a small table of Go-like struct definitions, with field tags
 * written the way the Kubernetes types write them (patchStrategy, patchMergeKey).
 * Production meta comes from the OpenAPI schemas (meta.ts); this keeps the engine tests
 * independent of that work.
 */
import type { PatchMeta } from './meta.js';

/** A field: a type expression, or [type, patchStrategy (comma separated), patchMergeKey]. */
export type FieldSpec = string | readonly [type: string, strategy?: string, mergeKey?: string];
export type SchemaTable = Readonly<Record<string, Readonly<Record<string, FieldSpec>>>>;

/** Type expressions that are leaves. 'object' has no schema at all (kind 'unknown'). */
const PRIMITIVES = new Set(['string', 'int', 'bool', 'number', 'quantity', 'intOrString', 'time']);

function leaf(kind: 'primitive' | 'unknown', strategies: readonly string[]): PatchMeta {
  return { kind, strategies, field: () => undefined, items: () => undefined };
}

function build(table: SchemaTable, expr: string, strategies: readonly string[], mergeKey?: string): PatchMeta {
  if (expr.startsWith('[]')) {
    let items: PatchMeta | undefined;
    return {
      kind: 'list',
      strategies,
      ...(mergeKey ? { mergeKey } : {}),
      field: () => undefined,
      items: () => (items ??= build(table, expr.slice(2), [])),
    };
  }
  if (expr.startsWith('map[string]')) {
    let value: PatchMeta | undefined;
    return {
      kind: 'map',
      strategies,
      field: () => (value ??= build(table, expr.slice('map[string]'.length), [])),
      items: () => undefined,
    };
  }
  if (PRIMITIVES.has(expr)) return leaf('primitive', strategies);
  if (expr === 'object') return leaf('unknown', strategies);

  const def = table[expr];
  if (!def) throw new Error(`testmeta: unknown type ${expr}`);
  const fields = new Map<string, PatchMeta>();
  return {
    kind: 'struct',
    strategies,
    field(name: string): PatchMeta | undefined {
      const spec = def[name];
      if (spec === undefined) return undefined;
      let meta = fields.get(name);
      if (!meta) {
        const [type, strategy, key] = typeof spec === 'string' ? [spec] : spec;
        meta = build(table, type, strategy ? strategy.split(',') : [], key);
        fields.set(name, meta);
      }
      return meta;
    },
    items: () => undefined,
  };
}

/** PatchMeta for the type `root` of `table`. */
export function metaFromTable(table: SchemaTable, root: string): PatchMeta {
  return build(table, root, []);
}

/** The slice of the core/apps types that kubectl's patches touch in the tests. */
export const k8sTable: SchemaTable = {
  ObjectMeta: {
    name: 'string',
    namespace: 'string',
    uid: 'string',
    resourceVersion: 'string',
    generation: 'int',
    labels: 'map[string]string',
    annotations: 'map[string]string',
    finalizers: ['[]string', 'merge'],
    ownerReferences: ['[]OwnerReference', 'merge', 'uid'],
  },
  OwnerReference: { apiVersion: 'string', kind: 'string', name: 'string', uid: 'string', controller: 'bool' },
  Pod: { apiVersion: 'string', kind: 'string', metadata: 'ObjectMeta', spec: 'PodSpec', status: 'PodStatus' },
  PodSpec: {
    containers: ['[]Container', 'merge', 'name'],
    initContainers: ['[]Container', 'merge', 'name'],
    volumes: ['[]Volume', 'merge,retainKeys', 'name'],
    imagePullSecrets: ['[]LocalObjectReference', 'merge', 'name'],
    hostAliases: ['[]HostAlias', 'merge', 'ip'],
    tolerations: '[]Toleration',
    nodeSelector: 'map[string]string',
    restartPolicy: 'string',
    serviceAccountName: 'string',
    securityContext: 'PodSecurityContext',
  },
  PodSecurityContext: { runAsUser: 'int', runAsGroup: 'int', fsGroup: 'int' },
  Container: {
    name: 'string',
    image: 'string',
    imagePullPolicy: 'string',
    command: '[]string',
    args: '[]string',
    env: ['[]EnvVar', 'merge', 'name'],
    ports: ['[]ContainerPort', 'merge', 'containerPort'],
    volumeMounts: ['[]VolumeMount', 'merge', 'mountPath'],
    resources: 'ResourceRequirements',
    terminationMessagePath: 'string',
  },
  EnvVar: { name: 'string', value: 'string', valueFrom: 'object' },
  ContainerPort: { name: 'string', containerPort: 'int', protocol: 'string', hostPort: 'int' },
  VolumeMount: { name: 'string', mountPath: 'string', subPath: 'string', readOnly: 'bool' },
  ResourceRequirements: { limits: 'map[string]quantity', requests: 'map[string]quantity' },
  Volume: { name: 'string', configMap: 'object', secret: 'object', emptyDir: 'object', hostPath: 'object' },
  LocalObjectReference: { name: 'string' },
  HostAlias: { ip: 'string', hostnames: '[]string' },
  Toleration: { key: 'string', operator: 'string', value: 'string', effect: 'string' },
  PodStatus: { phase: 'string', conditions: ['[]PodCondition', 'merge', 'type'] },
  PodCondition: { type: 'string', status: 'string', reason: 'string' },
  Deployment: { apiVersion: 'string', kind: 'string', metadata: 'ObjectMeta', spec: 'DeploymentSpec' },
  DeploymentSpec: {
    replicas: 'int',
    selector: 'object',
    template: 'PodTemplateSpec',
    strategy: ['DeploymentStrategy', 'retainKeys'],
  },
  DeploymentStrategy: { type: 'string', rollingUpdate: 'RollingUpdateDeployment' },
  RollingUpdateDeployment: { maxSurge: 'intOrString', maxUnavailable: 'intOrString' },
  PodTemplateSpec: { metadata: 'ObjectMeta', spec: 'PodSpec' },
  Service: { apiVersion: 'string', kind: 'string', metadata: 'ObjectMeta', spec: 'ServiceSpec' },
  ServiceSpec: { type: 'string', selector: 'map[string]string', ports: ['[]ServicePort', 'merge', 'port'] },
  ServicePort: { name: 'string', port: 'int', targetPort: 'intOrString', protocol: 'string' },
};

export const podMeta = (): PatchMeta => metaFromTable(k8sTable, 'Pod');
export const deploymentMeta = (): PatchMeta => metaFromTable(k8sTable, 'Deployment');
export const serviceMeta = (): PatchMeta => metaFromTable(k8sTable, 'Service');
