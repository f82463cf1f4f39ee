import { mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { hostname, availableParallelism } from 'node:os';
import YAML from 'yaml';
import { openBackend } from '../storage/open.js';
import type { Backend } from '../storage/backend.js';
import { EncryptedBackend, loadEncryptionConfig } from '../storage/encryption.js';
import { primaryIPv4 } from '../apiserver/bootstrap.js';
import { ApiServer } from '../apiserver/server.js';
import { createSecurity } from '../apiserver/auth/security.js';
import { COMPONENT_IDENTITIES, writeComponentKubeconfigs } from '../apiserver/auth/components.js';
import { AuditLogger, fileSink } from '../apiserver/audit/log.js';
import { parsePolicy } from '../apiserver/audit/policy.js';
import { ensureClusterPKI, ensureFrontProxyPKI, FRONT_PROXY_CLIENT, issueClientCert, type ClusterPKI } from '../pki/ca.js';
import { writeKubeconfig } from '../pki/kubeconfig.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { Executor, type Component } from './component.js';
import { lockDataDir } from './lock.js';
import { configureServiceNetwork, serviceIP } from '../apiserver/serviceips.js';
import { SkiffError } from '../util/errors.js';
import type { SimulatedNodesOptions } from '../simnodes/simulator.js';

/** Which parts run besides storage and the API server (all on for `skiff up`). */
export interface ComponentSelection {
  controllers?: boolean;
  scheduler?: boolean;
  kubelet?: boolean;
  /** The ingress controller (ingress-nginx compatible) with its data plane on host ports. */
  ingress?: boolean;
  /** Simulated (kwok-like) nodes to register and keep alive; none when absent or count 0. */
  simulatedNodes?: SimulatedNodesOptions;
  /** The service proxy (nftables in the root network modes, user-space in loopback mode). */
  proxy?: boolean;
  /** Cluster DNS with the kube-dns Service at 10.96.0.10. */
  dns?: boolean;
  /** NetworkPolicy enforcement (nftables in the root network modes; warnings only in loopback mode). */
  networkPolicy?: boolean;
  /**
   * This node's local-path provisioner (rancher.io/local-path; volumes under `<dataDir>/storage`) and
   * the StorageClasses `standard` (default, as kind) and `local-path` (as k3s). On wherever the kubelet runs.
   */
  localPath?: boolean;
}

export interface UpOptions {
  dataDir: string;
  apiPort: number;
  datastore: string;
  host?: string;
  log?: (msg: string) => void;
  components?: ComponentSelection;
  /** Name of this machine's Node (default: the hostname). */
  nodeName?: string;
  tokenAuthFile?: string;
  encryptionProviderConfig?: string;
  auditPolicyFile?: string;
  auditLogPath?: string;
  disableAdmissionPlugins?: string[];
  /** Container runtime of this node: process (default here), containerd, or auto (containerd when root and installed). */
  runtime?: 'process' | 'containerd' | 'auto';
  containerRuntimeEndpoint?: string;
  registryMirrors?: Record<string, string[]>;
  /** The kubelet's image GC thresholds (percent of the image filesystem; containerd only). */
  imageGC?: { imageGCHighThresholdPercent?: number; imageGCLowThresholdPercent?: number };
  /** Ingress ports to try, in order (default 80/443, then 8080/8443). */
  ingressPorts?: { http: number; https: number }[];
  /**
   * How pods of the process runtime get their network: cni (root + CNI plugins), netns (root,
   * iproute2), loopback (no root), or auto (the best this machine supports; the default).
   */
  networkMode?: NetworkModeOption;
  /**
   * Prefix of the host objects the pod network and proxy create (bridge `<p>0`, namespaces
   * `<p>-…`, nftables table `<p>-proxy`; default `skiff`), so test clusters never touch a real one.
   */
  networkPrefix?: string;
  /** Pod addresses of the whole cluster, split into a /24 per node (upstream --cluster-cidr; default 10.244.0.0/16). */
  clusterCIDR?: string;
  /** ClusterIPs (upstream --service-cidr; default 10.96.0.0/12: .1 is `kubernetes`, .10 is DNS). */
  serviceCIDR?: string;
}

export type NetworkModeOption = 'auto' | 'cni' | 'netns' | 'loopback';

/** kube-dns's ClusterIP (upstream convention: the 10th address of the service range). */
/** kube-dns's ClusterIP for the configured service range. */
export function clusterDnsIP(): string {
  return serviceIP(10);
}
export const CLUSTER_DOMAIN = 'cluster.local';

export interface RunningCluster {
  apiServer: ApiServer;
  kubeconfigPath: string;
  server: string;
  pki: ClusterPKI;
  nodeName: string;
  stop(): Promise<void>;
}

export const ALL_COMPONENTS: ComponentSelection = { controllers: true, scheduler: true, kubelet: true, ingress: true };

/**
 * Brings up a single-node cluster: storage, PKI, API server with its security chain, admin
 * kubeconfig, then the components, each talking to the API server only, with its own identity.
 */
export async function up(opts: UpOptions): Promise<RunningCluster> {
  const log = opts.log ?? (() => undefined);
  const dataDir = path.resolve(opts.dataDir);
  const sel = { ...ALL_COMPONENTS, ...opts.components };
  // The service proxy and cluster DNS serve this node's pods: on by default wherever the kubelet runs.
  sel.proxy ??= sel.kubelet;
  sel.dns ??= sel.kubelet;
  sel.networkPolicy ??= sel.kubelet;
  sel.localPath ??= sel.kubelet;
  const nodeName = (opts.nodeName ?? hostname()).toLowerCase();
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const unlockDir = lockDataDir(dataDir);
  let unlock = unlockDir;
  if (sel.kubelet && !opts.clusterCIDR && !opts.serviceCIDR && (await loopbackNetwork(opts))) {
    // Two loopback clusters on one machine would share 127 aliases: each data dir gets its own ranges.
    const { claimLoopbackRanges } = await import('./loopbackslot.js');
    const slot = claimLoopbackRanges(dataDir);
    opts = { ...opts, clusterCIDR: slot.ranges.clusterCIDR, serviceCIDR: slot.ranges.serviceCIDR };
    if (slot.ranges.slot) log(`loopback network: pods ${slot.ranges.clusterCIDR}, Services ${slot.ranges.serviceCIDR} (another loopback cluster uses the defaults)`);
    unlock = () => {
      slot.release();
      unlockDir();
    };
  }
  try {
    await configureNetworks(opts);
  } catch (e) {
    unlock();
    throw e;
  }
  const exec = new Executor(log);
  try {
    const pkiDir = path.join(dataDir, 'pki');
    const [opened, pki] = await Promise.all([openBackend(opts.datastore, dataDir), ensureClusterPKI(pkiDir, { serverSANs: { dns: [], ips: [serviceIP(1)] } })]);
    const backend: Backend = opts.encryptionProviderConfig ? new EncryptedBackend(opened, loadEncryptionConfig(opts.encryptionProviderConfig)) : opened;
    const security = createSecurity({ pkiDir, tokenAuthFile: opts.tokenAuthFile, admission: { disable: opts.disableAdmissionPlugins } });
    const audit = opts.auditPolicyFile
      ? new AuditLogger(parsePolicy(YAML.parse(await readFile(opts.auditPolicyFile, 'utf8'))), fileSink(opts.auditLogPath ?? path.join(dataDir, 'audit.log')))
      : undefined;
    const kubeletClient = await componentCert(pki, pkiDir, 'apiserver-kubelet-client', 'kube-apiserver-kubelet-client', ['system:masters']);
    // The aggregator's client certificate, from a CA of its own: aggregated servers (metrics-server) believe its X-Remote-User.
    const frontProxy = await ensureFrontProxyPKI(pkiDir);
    const apiServer = new ApiServer({
      backend,
      port: opts.apiPort,
      host: opts.host,
      tls: { cert: pki.apiserver.certPem, key: pki.apiserver.keyPem, ca: pki.ca.certPem },
      authenticators: security.authenticators,
      authorizers: security.authorizers,
      admission: security.admission,
      reviews: security.reviews,
      serviceAccounts: security.serviceAccounts,
      kubeletClient,
      audit,
      aggregator: {
        proxyClient: frontProxy.client,
        authentication: { clientCA: pki.ca.certPem, requestHeaderCA: frontProxy.ca.certPem, requestHeaderAllowedNames: [FRONT_PROXY_CLIENT] },
      },
    });
    security.attach(apiServer.registry);
    const storage: Component = { name: `storage (${backend.name})`, start: async () => undefined, stop: () => backend.close() };
    const api: Component = {
      name: 'apiserver',
      start: async () => {
        await apiServer.start();
        await security.start(apiServer.registry);
      },
      stop: async () => {
        security.stop();
        await apiServer.stop();
      },
    };
    await exec.run([storage, api]);
    const server = `https://127.0.0.1:${apiServer.port}`;
    const kubeconfigPath = path.join(dataDir, 'kubeconfig');
    await writeKubeconfig(kubeconfigPath, { server, caPem: pki.ca.certPem, certPem: pki.admin.certPem, keyPem: pki.admin.keyPem });
    const kubeconfigs = await componentKubeconfigs(pki, server, path.join(dataDir, 'components'), sel.kubelet ? [nodeName] : []);
    kubeconfigs['local-path-provisioner'] = await localPathKubeconfig(pki, server, path.join(dataDir, 'components'));
    await exec.run(await clusterComponents(sel, { dataDir, pki, kubeconfigs, adminKubeconfig: kubeconfigPath, nodeName, log, opts }));
    return {
      apiServer,
      kubeconfigPath,
      server,
      pki,
      nodeName,
      stop: async () => {
        await exec.stop();
        unlock();
      },
    };
  } catch (e) {
    await exec.stop();
    unlock();
    throw e;
  }
}

/** Whether this node's pods will use the loopback network (no root: the process runtime and 127 aliases). */
async function loopbackNetwork(opts: UpOptions): Promise<boolean> {
  const mode = opts.networkMode ?? 'auto';
  if (mode !== 'auto') return mode === 'loopback';
  if (opts.runtime === 'containerd' || opts.containerRuntimeEndpoint) return false;
  const { detectNetworkMode } = await import('../network/pod/select.js');
  return detectNetworkMode() === 'loopback';
}

/** --cluster-cidr and --service-cidr: checked, then handed to node IPAM and the Service allocator. */
async function configureNetworks(opts: UpOptions): Promise<void> {
  const { parseCidr } = await import('../network/ipam/cidr.js');
  for (const [flag, v] of [['--cluster-cidr', opts.clusterCIDR], ['--service-cidr', opts.serviceCIDR]] as const) {
    if (v === undefined) continue;
    try {
      parseCidr(v);
    } catch {
      throw new SkiffError('BAD_CIDR', `${flag} ${v} is not an IPv4 CIDR such as 10.244.0.0/16`);
    }
  }
  if (opts.serviceCIDR) configureServiceNetwork({ cidr: opts.serviceCIDR });
  if (opts.clusterCIDR) {
    clusterCIDR = opts.clusterCIDR;
    const { configureNodeIpam } = await import('../controllers/nodeipam/controller.js');
    configureNodeIpam({ clusterCIDR: opts.clusterCIDR });
  }
}

/** A client certificate kept under pki/, issued once. */
async function componentCert(pki: ClusterPKI, dir: string, file: string, user: string, groups: string[]): Promise<{ certPem: string; keyPem: string }> {
  const certPath = path.join(dir, `${file}.crt`);
  const keyPath = path.join(dir, `${file}.key`);
  if (existsSync(certPath) && existsSync(keyPath) && !pki.generated?.ca) {
    return { certPem: await readFile(certPath, 'utf8'), keyPem: await readFile(keyPath, 'utf8') };
  }
  const c = await issueClientCert(pki, user, groups);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(certPath, c.certPem, { mode: 0o600 });
  await writeFile(keyPath, c.keyPem, { mode: 0o600 });
  return c;
}

/** Per-component kubeconfigs, issued on first start (and again if the API port or CA changed). */
async function componentKubeconfigs(pki: ClusterPKI, server: string, dir: string, nodes: string[]): Promise<Record<string, string>> {
  const names = ['scheduler', 'controller-manager', 'proxy', 'cluster-dns', 'network-policy', 'ingress', 'simulated-nodes', ...nodes.map((n) => `kubelet-${n}`)];
  const paths = Object.fromEntries(names.map((n) => [n, path.join(dir, `${n}.kubeconfig`)]));
  const fresh = !pki.generated?.ca && names.every((n) => existsSync(paths[n]) && configFromKubeconfig(paths[n]).server === server);
  if (fresh) return paths;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return writeComponentKubeconfigs(pki, server, dir, nodes);
}

/** The local-path provisioner's identity (system:skiff:local-path-provisioner, RBAC skiff:local-path-provisioner). */
export const LOCAL_PATH_IDENTITY = { user: 'system:skiff:local-path-provisioner', groups: [] as string[] };

async function localPathKubeconfig(pki: ClusterPKI, server: string, dir: string): Promise<string> {
  const p = path.join(dir, 'local-path-provisioner.kubeconfig');
  if (!pki.generated?.ca && existsSync(p) && configFromKubeconfig(p).server === server) return p;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const cert = await issueClientCert(pki, LOCAL_PATH_IDENTITY.user, LOCAL_PATH_IDENTITY.groups);
  await writeKubeconfig(p, { server, caPem: pki.ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem, userName: LOCAL_PATH_IDENTITY.user });
  return p;
}

interface ComponentEnv {
  dataDir: string;
  pki: ClusterPKI;
  kubeconfigs: Record<string, string>;
  adminKubeconfig: string;
  nodeName: string;
  log: (m: string) => void;
  opts: UpOptions;
}

/** The components that run against the API server, each with its own client and identity. */
async function clusterComponents(sel: ComponentSelection, env: ComponentEnv): Promise<Component[]> {
  const out: Component[] = [];
  // Each needs only the API server (run before), so they start side by side; cluster DNS also
  // needs this node (its endpoint is the node's pod gateway).
  const afterApi = ['apiserver'];
  let kubeletName: string | undefined;
  const withClient = (c: RestClient, comp: Component, after: readonly string[] = afterApi): Component => ({
    name: comp.name,
    after,
    start: () => comp.start(),
    stop: async () => {
      await comp.stop();
      c.close();
    },
  });
  if (sel.controllers) {
    const { createControllerManager } = await import('../controllers/manager.js');
    // The CSR signers sign with the cluster CA, whose key this process holds.
    const { registerCSRSigning } = await import('../controllers/certificates/index.js');
    registerCSRSigning(env.pki.ca);
    const c = new RestClient(configFromKubeconfig(env.kubeconfigs['controller-manager'], 'skiff-controller-manager'));
    // A stable identity lets a restarted `skiff up` take its own lease back at once.
    out.push(withClient(c, createControllerManager(c, { caPem: env.pki.ca.certPem, log: env.log, identity: `${hostname()}_skiff-up` })));
  }
  if (sel.scheduler) {
    const { createScheduler } = await import('../scheduler/scheduler.js');
    const c = new RestClient(configFromKubeconfig(env.kubeconfigs.scheduler, 'skiff-scheduler'));
    out.push(withClient(c, createScheduler(c, { log: env.log, identity: `${hostname()}_skiff-up` })));
  }
  if (sel.simulatedNodes?.count) {
    const { createSimulatedNodes } = await import('../simnodes/simulator.js');
    const c = new RestClient(configFromKubeconfig(env.kubeconfigs['simulated-nodes'], 'skiff-simulated-nodes'));
    out.push(withClient(c, createSimulatedNodes(c, sel.simulatedNodes)));
  }
  const { detectNetworkMode } = await import('../network/pod/select.js');
  const prefix = env.opts.networkPrefix ?? 'skiff';
  // The mode of this node's pod network; containerd brings its own CNI (a root mode).
  let netMode = (env.opts.networkMode ?? 'auto') === 'auto' ? detectNetworkMode() : (env.opts.networkMode as 'cni' | 'netns' | 'loopback');
  if (sel.kubelet) {
    const { createKubelet } = await import('../kubelet/agent.js');
    const { createPodNetwork } = await import('../network/pod/select.js');
    const runtime = await chooseRuntime(env.opts.runtime ?? 'process', env.opts.containerRuntimeEndpoint);
    if (runtime === 'containerd') netMode = 'cni';
    const network = runtime === 'process' ? createPodNetwork(netMode, { dataDir: path.join(env.dataDir, 'network'), bridge: `${prefix}0`, netnsPrefix: `${prefix}-` }) : undefined;
    env.log(`kubelet: ${runtime} runtime${network ? `, ${network.mode} pod network` : ''}`);
    const c = new RestClient(configFromKubeconfig(env.kubeconfigs[`kubelet-${env.nodeName}`], 'skiff-kubelet'));
    // In the root network modes the node is reached at the machine's own address, as a real node's
    // InternalIP (NodePorts answer there; nftables, as upstream's, serves none on loopback). The
    // loopback mode's user-space proxy serves them on 127.0.0.1, its node address.
    const nodeIP = netMode === 'loopback' ? undefined : primaryIPv4();
    const kubelet = createKubelet(c, {
      nodeName: env.nodeName,
      nodeIP,
      dataDir: path.join(env.dataDir, 'kubelet'),
      runtime,
      containerRuntimeEndpoint: env.opts.containerRuntimeEndpoint,
      registryMirrors: env.opts.registryMirrors,
      ...env.opts.imageGC,
      port: 0,
      caPem: env.pki.ca.certPem,
      log: env.log,
      network,
      dns: sel.dns ? { clusterDNS: [clusterDnsIP()], clusterDomain: CLUSTER_DOMAIN } : undefined,
    });
    kubeletName = kubelet.name;
    out.push({
      name: kubelet.name,
      after: afterApi,
      start: () => kubelet.start(),
      stop: async () => {
        await kubelet.stop();
        c.close();
        await network?.close();
      },
    });
  }
  if (sel.localPath) {
    const { createLocalPathProvisioner } = await import('../controllers/localpath/provisioner.js');
    // The StorageClasses are cluster configuration, created by the installer (admin), as kind's and k3s's manifests.
    const admin = new RestClient(configFromKubeconfig(env.adminKubeconfig, 'skiff-up'));
    await ensureLocalPathStorageClasses(admin).finally(() => admin.close());
    const c = new RestClient(configFromKubeconfig(env.kubeconfigs['local-path-provisioner'], 'skiff-local-path-provisioner'));
    out.push(withClient(c, createLocalPathProvisioner(c, { nodeName: env.nodeName, baseDir: path.join(env.dataDir, 'storage'), log: env.log })));
  }
  if (sel.proxy) {
    const { createServiceProxy } = await import('../network/proxy/proxy.js');
    // system:kube-proxy is bound to system:node-proxier (list/watch services, endpointslices; nodes).
    const c = new RestClient(configFromKubeconfig(env.kubeconfigs.proxy, 'skiff-proxy'));
    const mode = netMode === 'loopback' ? 'userspace' : 'nftables';
    out.push(withClient(c, createServiceProxy(c, { mode, nodeName: env.nodeName, nodeIP: '127.0.0.1', clusterCIDR, table: `${prefix}-proxy`, log: env.log })));
  }
  if (sel.networkPolicy) {
    const { createNetworkPolicyAgent } = await import('../network/policy/policy.js');
    const c = new RestClient(configFromKubeconfig(env.kubeconfigs['network-policy'], 'skiff-network-policy'));
    out.push(withClient(c, createNetworkPolicyAgent(c, { nodeName: env.nodeName, mode: netMode === 'loopback' ? 'none' : 'nftables', table: `${prefix}-policy`, log: env.log })));
  }
  if (sel.dns) {
    const c = new RestClient(configFromKubeconfig(env.kubeconfigs['cluster-dns'], 'skiff-cluster-dns'));
    out.push(withClient(c, dnsComponent(c, netMode, env.nodeName, env.log), kubeletName ? [...afterApi, kubeletName] : afterApi));
  }
  if (sel.ingress) {
    const c = new RestClient(configFromKubeconfig(env.kubeconfigs.ingress, 'skiff-ingress'));
    // The default IngressClass is cluster configuration, created by the installer (admin), as with ingress-nginx's chart.
    const admin = new RestClient(configFromKubeconfig(env.adminKubeconfig, 'skiff-up'));
    await ensureDefaultIngressClass(admin).finally(() => admin.close());
    out.push(withClient(c, ingressComponent(c, env.opts.ingressPorts ?? [{ http: 80, https: 443 }, { http: 8080, https: 8443 }], env.log)));
  }
  return out;
}

let clusterCIDR = process.env.SKIFF_CLUSTER_CIDR ?? '10.244.0.0/16';

/**
 * Cluster DNS on the node, behind the kube-dns Service (10.96.0.10:53), whose EndpointSlice names
 * the gateway of the node's pod range (an address of the node that pods reach and validation
 * accepts). Root modes: the server listens on all addresses at a free port (the gateway appears
 * with the bridge). Loopback mode: it binds the gateway's 127 alias, where the user-space proxy
 * relays, and answers Service names with their 127 aliases.
 */
function dnsComponent(client: RestClient, mode: 'cni' | 'netns' | 'loopback', nodeName: string, log: (m: string) => void): Component {
  let dns: Component | undefined;
  return {
    name: 'cluster-dns',
    async start() {
      const { createClusterDNS, ensureKubeDnsService } = await import('../network/dns/server.js');
      const { loopbackAlias } = await import('../network/proxy/userspace.js');
      const loopback = mode === 'loopback';
      const endpointIP = await nodeEndpointIP(client, nodeName);
      const d = createClusterDNS(client, { host: loopback ? loopbackAlias(endpointIP) : '0.0.0.0', port: 0, domain: CLUSTER_DOMAIN, mapAddress: loopback ? loopbackAlias : undefined, log });
      await d.start();
      dns = d;
      await ensureKubeDnsService(client, { clusterIP: clusterDnsIP(), endpointIP, port: d.port });
    },
    async stop() {
      await dns?.stop();
    },
  };
}

/** An address of this node that pods reach (the gateway of its pod range), valid in an EndpointSlice. */
async function nodeEndpointIP(client: RestClient, nodeName: string): Promise<string> {
  const { parseCidr, intToIp } = await import('../network/ipam/cidr.js');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const node: any = await client.get(`/api/v1/nodes/${nodeName}`).catch(() => undefined);
    const cidr = node?.spec?.podCIDR;
    if (cidr) return intToIp(parseCidr(cidr).base + 1);
    if (Date.now() > deadline) return intToIp(parseCidr(clusterCIDR).base + 1);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `auto` is containerd when this process is root and containerd is installed, else the process runtime. */
async function chooseRuntime(want: 'process' | 'containerd' | 'auto', endpoint?: string): Promise<'process' | 'containerd'> {
  if (want !== 'auto') return want;
  if (endpoint) return 'containerd';
  const { containerdMissing } = await import('../runtime/containerd/supervisor.js');
  return containerdMissing() ? 'process' : 'containerd';
}

/**
 * The ingress controller on the first port pair it can bind (80/443 needs root or the capability);
 * if none can be bound the cluster still comes up, and says so.
 */
function ingressComponent(client: RestClient, ports: { http: number; https: number }[], log: (m: string) => void): Component {
  let running: Component | undefined;
  return {
    name: 'ingress',
    async start() {
      const { createIngressController } = await import('../ingress/controller.js');
      for (const p of ports) {
        // The data plane runs in worker processes (one per core), apart from the control plane.
        const { DataPlaneWorkers } = await import('../ingress/workers.js');
        const sink = new DataPlaneWorkers({ httpPort: p.http, httpsPort: p.https, host: '0.0.0.0', workers: Math.min(2, availableParallelism()) });
        const ctl = createIngressController(client, { httpPort: p.http, httpsPort: p.https, sink, log });
        try {
          await ctl.start();
          running = ctl;
          log(`ingress: serving http on :${p.http}, https on :${p.https}`);
          return;
        } catch (e) {
          await ctl.stop().catch(() => undefined);
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'EACCES' && code !== 'EADDRINUSE') throw e;
          log(`ingress: cannot listen on ${p.http}/${p.https} (${code})`);
        }
      }
      log('ingress: no port pair could be bound; Ingresses are not served (run `skiff ingress --http-port …`)');
    },
    async stop() {
      await running?.stop();
    },
  };
}

/** ingress-nginx's class, marked default so Ingresses without ingressClassName are served, as a fresh install does. */
async function ensureDefaultIngressClass(client: RestClient): Promise<void> {
  const classes: any = await client.get('/apis/networking.k8s.io/v1/ingressclasses');
  if ((classes.items ?? []).length) return;
  await client
    .create('/apis/networking.k8s.io/v1/ingressclasses', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'nginx', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
      spec: { controller: 'k8s.io/ingress-nginx' },
    })
    .catch(() => undefined);
}

/**
 * `standard` (kind's name; the default class unless another class is default already) and
 * `local-path` (k3s's name), both served by the local-path provisioner: WaitForFirstConsumer, Delete.
 * Existing classes of those names are left as they are.
 */
export async function ensureLocalPathStorageClasses(client: RestClient): Promise<void> {
  const list: any = await client.get('/apis/storage.k8s.io/v1/storageclasses');
  const items: any[] = list.items ?? [];
  const hasDefault = items.some((sc) => sc.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
  for (const name of ['standard', 'local-path']) {
    if (items.some((sc) => sc.metadata?.name === name)) continue;
    const annotations = name === 'standard' && !hasDefault ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : undefined;
    await client
      .create('/apis/storage.k8s.io/v1/storageclasses', {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name, ...(annotations ? { annotations } : {}) },
        provisioner: 'rancher.io/local-path',
        reclaimPolicy: 'Delete',
        volumeBindingMode: 'WaitForFirstConsumer',
      })
      .catch((e) => {
        if ((e as any)?.status !== 409) throw e;
      });
  }
}

export { COMPONENT_IDENTITIES };
export type { Backend };
