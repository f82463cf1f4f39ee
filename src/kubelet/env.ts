/**
 * A container's environment as upstream's makeEnvironmentVariables: envFrom first (ConfigMaps and
 * Secrets, with prefix), then env in order (value with $(VAR) expansion, configMapKeyRef,
 * secretKeyRef, fieldRef downward API, resourceFieldRef), then the service environment variables
 * (getServiceEnvVarMap) the container did not define itself. Missing non-optional sources raise
 * ContainerConfigError with upstream's messages.
 */
import { ApiError, type RestClient } from '../client/rest.js';
import { ContainerConfigError, parseBytes, parseCPU } from './podworker/worker.js';
import { goQuote } from '../apiserver/validation/errors.js';
import { isRelaxedEnvVarName } from '../apiserver/validation/names.js';

export interface ObjectSource {
  configMap(namespace: string, name: string): Promise<any | undefined>;
  secret(namespace: string, name: string): Promise<any | undefined>;
  /** The Services of a namespace, for service environment variables (absent: none are added). */
  services?(namespace: string): Promise<any[]>;
}

/** Services are listed at most once a second per namespace and client, shared by every pod starting meanwhile. */
const SERVICE_CACHE_MS = 1000;
const serviceCache = new WeakMap<RestClient, Map<string, { at: number; items: Promise<any[]> }>>();

/**
 * Reads through the API server. `services` lists (cached briefly) unless a lister is given: the
 * kubelet should pass its Service informer's cache, as upstream's serviceLister.
 */
export function apiObjectSource(client: RestClient, serviceLister?: (namespace: string) => any[]): ObjectSource {
  const get = async (p: string) => {
    try {
      return await client.get(p);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  };
  const listServices = (ns: string): Promise<any[]> => {
    let byNs = serviceCache.get(client);
    if (!byNs) serviceCache.set(client, (byNs = new Map()));
    const hit = byNs.get(ns);
    if (hit && Date.now() - hit.at < SERVICE_CACHE_MS) return hit.items;
    const items = client.get(`/api/v1/namespaces/${ns}/services`).then((l: any) => l?.items ?? []);
    const entry = { at: Date.now(), items };
    byNs.set(ns, entry);
    items.catch(() => byNs!.get(ns) === entry && byNs!.delete(ns));
    return items;
  };
  return {
    configMap: (ns, n) => get(`/api/v1/namespaces/${ns}/configmaps/${n}`),
    secret: (ns, n) => get(`/api/v1/namespaces/${ns}/secrets/${n}`),
    services: serviceLister ? async (ns) => serviceLister(ns) : listServices,
  };
}

// ---------------------------------------------------------------- service environment variables

const MASTER_SERVICES = new Set(['kubernetes']);

const envName = (s: string) => s.replace(/-/g, '_').toUpperCase();

function isServiceIPSet(svc: any): boolean {
  const ip = svc?.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

/** envvars.FromServices: `{SVC}_SERVICE_HOST`, `_SERVICE_PORT[_{NAME}]`, and the Docker-links variables. */
export function serviceEnvVars(services: any[]): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (const svc of services) {
    const ports: any[] = svc.spec?.ports ?? [];
    if (!isServiceIPSet(svc) || !ports.length) continue;
    const prefix = envName(svc.metadata.name);
    const ip: string = svc.spec.clusterIP;
    out.push({ key: `${prefix}_SERVICE_HOST`, value: ip });
    out.push({ key: `${prefix}_SERVICE_PORT`, value: String(ports[0].port) });
    for (const p of ports) if (p.name) out.push({ key: `${prefix}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
    // Docker links: the first port also gets the bare `{SVC}_PORT`.
    ports.forEach((p, i) => {
      const proto = String(p.protocol || 'TCP');
      const hostPort = ip.includes(':') ? `[${ip}]:${p.port}` : `${ip}:${p.port}`;
      const url = `${proto.toLowerCase()}://${hostPort}`;
      if (i === 0) out.push({ key: `${prefix}_PORT`, value: url });
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push({ key: pp, value: url }, { key: `${pp}_PROTO`, value: proto.toLowerCase() }, { key: `${pp}_PORT`, value: String(p.port) }, { key: `${pp}_ADDR`, value: ip });
    });
  }
  return out;
}

/**
 * getServiceEnvVarMap: the `kubernetes` Service of `default` always; the pod namespace's Services
 * with a cluster IP when enableServiceLinks (default true).
 */
export async function serviceEnvMap(pod: any, src: ObjectSource): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  if (!src.services) return m;
  const ns = pod.metadata.namespace;
  const links = pod.spec?.enableServiceLinks !== false;
  const chosen = new Map<string, any>();
  for (const svc of await src.services('default')) {
    if (isServiceIPSet(svc) && MASTER_SERVICES.has(svc.metadata.name)) chosen.set(svc.metadata.name, svc);
  }
  if (links) for (const svc of ns === 'default' ? await src.services('default') : await src.services(ns)) if (isServiceIPSet(svc)) chosen.set(svc.metadata.name, svc);
  for (const { key, value } of serviceEnvVars([...chosen.values()])) m.set(key, value);
  return m;
}

export interface NodeFacts {
  nodeName: string;
  hostIP: string;
  /** Node allocatable, the default for resourceFieldRef limits. */
  allocatable: { cpu: string; memory: string; 'ephemeral-storage'?: string };
}

/** An envFrom key the kubelet takes: RelaxedEnvironmentVariableValidation (beta, on in 1.32) allows printable ASCII but '='. */
const envNameOK = (k: string) => isRelaxedEnvVarName(k).length === 0;

/** Told of envFrom keys skipped as invalid names (upstream's InvalidEnvironmentVariableNames event). */
export type InvalidEnvKeys = (message: string) => void;

const invalidKeysMessage = (keys: string[], kind: 'configMap' | 'secret', ns: string, name: string) =>
  `Keys [${[...keys].sort().join(', ')}] from the EnvFrom ${kind} ${ns}/${name} were skipped since they are considered invalid environment variable names.`;

function secretValue(s: any, key: string): string | undefined {
  if (s?.data?.[key] !== undefined) return Buffer.from(s.data[key], 'base64').toString('utf8');
  if (s?.stringData?.[key] !== undefined) return s.stringData[key];
  return undefined;
}

/** Upstream's fieldpath.FormatMap: `key="value"` lines sorted by key, the value Go-quoted (%q). */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${goQuote(String(m![k]))}`)
    .join('\n');
}

/** `metadata.labels['app']` etc.: the downward API's field paths. */
export function fieldValue(pod: any, fieldPath: string, podIP: string, node: NodeFacts): string {
  const m = pod.metadata ?? {};
  const sub = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (sub) return m[sub[1]]?.[sub[2]] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return m.name ?? '';
    case 'metadata.namespace':
      return m.namespace ?? '';
    case 'metadata.uid':
      return m.uid ?? '';
    case 'metadata.labels':
      return formatMap(m.labels);
    case 'metadata.annotations':
      return formatMap(m.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? node.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return node.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return podIP;
  }
  throw new ContainerConfigError(`unsupported fieldPath: ${fieldPath}`);
}

/** resourceFieldRef: the container's request/limit (limits default to node allocatable), divided and rounded up. */
export function resourceValue(pod: any, ref: any, self: any, node: NodeFacts): string {
  const c = ref.containerName ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x: any) => x.name === ref.containerName) : self;
  const [kind, res] = String(ref.resource).split('.') as ['limits' | 'requests', string];
  let q: string | undefined = c?.resources?.[kind]?.[res];
  if (q === undefined && kind === 'limits') q = (node.allocatable as any)[res];
  if (q === undefined && kind === 'requests') q = res === 'cpu' || res === 'memory' ? '0' : undefined;
  if (q === undefined) q = '0';
  if (res === 'cpu') {
    const divisor = ref.divisor ? parseCPU(String(ref.divisor)) : 1;
    return String(Math.ceil(parseCPU(String(q)) / divisor));
  }
  const divisor = ref.divisor ? parseBytes(String(ref.divisor)) : 1;
  return String(Math.ceil(parseBytes(String(q)) / divisor));
}

/** Go's expansion of $(VAR) in env values and commands; $$ escapes. Unknown references stay as written. */
export function expand(s: string, vars: Map<string, string>): string {
  return s.replace(/\$\$|\$\(([^)]*)\)/g, (all, name?: string) => {
    if (all === '$$') return '$';
    return name !== undefined && vars.has(name) ? vars.get(name)! : all;
  });
}

export async function containerEnv(pod: any, spec: any, podIP: string, node: NodeFacts, src: ObjectSource, onInvalid?: InvalidEnvKeys): Promise<{ key: string; value: string }[]> {
  const ns = pod.metadata.namespace;
  const vars = new Map<string, string>();
  const svcEnv = await serviceEnvMap(pod, src);
  for (const ef of spec.envFrom ?? []) {
    const prefix = ef.prefix ?? '';
    if (ef.configMapRef) {
      const cm = await src.configMap(ns, ef.configMapRef.name);
      if (!cm) {
        if (ef.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${ef.configMapRef.name}" not found`);
      }
      const invalid: string[] = [];
      for (const [k, v] of Object.entries(cm.data ?? {})) {
        if (envNameOK(prefix + k)) vars.set(prefix + k, String(v));
        else invalid.push(prefix + k);
      }
      if (invalid.length) onInvalid?.(invalidKeysMessage(invalid, 'configMap', ns, ef.configMapRef.name));
    }
    if (ef.secretRef) {
      const s = await src.secret(ns, ef.secretRef.name);
      if (!s) {
        if (ef.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${ef.secretRef.name}" not found`);
      }
      const invalid: string[] = [];
      for (const k of Object.keys({ ...s.data, ...s.stringData })) {
        if (envNameOK(prefix + k)) vars.set(prefix + k, secretValue(s, k)!);
        else invalid.push(prefix + k);
      }
      if (invalid.length) onInvalid?.(invalidKeysMessage(invalid, 'secret', ns, ef.secretRef.name));
    }
  }
  for (const e of spec.env ?? []) {
    const vf = e.valueFrom;
    if (!vf) {
      // $(VAR) sees the container's variables declared so far, then the service variables.
      vars.set(e.name, expand(e.value ?? '', svcEnv.size ? new Map([...svcEnv, ...vars]) : vars));
      continue;
    }
    if (vf.fieldRef) vars.set(e.name, fieldValue(pod, vf.fieldRef.fieldPath, podIP, node));
    else if (vf.resourceFieldRef) vars.set(e.name, resourceValue(pod, vf.resourceFieldRef, spec, node));
    else if (vf.configMapKeyRef) {
      const r = vf.configMapKeyRef;
      const cm = await src.configMap(ns, r.name);
      if (!cm) {
        if (r.optional) continue;
        throw new ContainerConfigError(`configmap "${r.name}" not found`);
      }
      const v = cm.data?.[r.key];
      if (v === undefined) {
        if (r.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${r.key} in ConfigMap ${ns}/${r.name}`);
      }
      vars.set(e.name, String(v));
    } else if (vf.secretKeyRef) {
      const r = vf.secretKeyRef;
      const s = await src.secret(ns, r.name);
      if (!s) {
        if (r.optional) continue;
        throw new ContainerConfigError(`secret "${r.name}" not found`);
      }
      const v = secretValue(s, r.key);
      if (v === undefined) {
        if (r.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${r.key} in Secret ${ns}/${r.name}`);
      }
      vars.set(e.name, v);
    }
  }
  const out = [...vars].map(([key, value]) => ({ key, value }));
  for (const [key, value] of [...svcEnv].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) if (!vars.has(key)) out.push({ key, value });
  return out;
}
