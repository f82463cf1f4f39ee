import path from 'node:path';
import { hostname } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
// The API server's and the simulator's modules load only for the commands that run them, so that
// `skiff agent` stays small (its idle RSS is a goal).
import type { UpOptions, ComponentSelection } from '../cluster/up.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import type { SimNodeFlags } from '../simnodes/cli.js';
import type { SimulatedNodesOptions } from '../simnodes/simulator.js';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

interface ClusterFlags {
  dataDir: string;
  apiPort: number;
  datastore: string;
  nodeName?: string;
  tokenAuthFile?: string;
  encryptionProviderConfig?: string;
  auditPolicyFile?: string;
  auditLogPath?: string;
  disableAdmissionPlugins?: string[];
  disableScheduler?: boolean;
  disableControllerManager?: boolean;
  clusterCidr?: string;
  serviceCidr?: string;
}

/** Flags shared by `up` and `server`. */
function clusterCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .option('--data-dir <dir>', 'where state, certificates and the kubeconfig live', './.skiff')
    .option('--api-port <port>', 'API server port (0: any free port)', port, 6443)
    .option('--datastore <store>', 'sqlite (embedded, default) or etcd://host:port[,host:port…]', 'sqlite')
    .option('--token-auth-file <file>', 'static bearer tokens (upstream CSV format: token,user,uid,"group1,group2")')
    .option('--encryption-provider-config <file>', 'EncryptionConfiguration for Secrets at rest')
    .option('--audit-policy-file <file>', 'audit Policy (audit.k8s.io/v1)')
    .option('--audit-log-path <file>', 'where audit events go (JSON lines; default DATA_DIR/audit.log)')
    .option('--disable-admission-plugins <names>', 'comma-separated admission plugins to turn off', list)
    .option('--cluster-cidr <cidr>', 'pod addresses of the cluster, a /24 per node (default 10.244.0.0/16; in loopback mode a free range if another loopback cluster runs)')
    .option('--service-cidr <cidr>', 'ClusterIP range, .1 is kubernetes, .10 is DNS (default 10.96.0.0/12; in loopback mode as --cluster-cidr)')
    .option('--disable-scheduler', 'run no scheduler (as k3s)')
    .option('--disable-controller-manager', 'run no controller manager (as k3s)');
}

/** Runs a cluster in the foreground until SIGINT/SIGTERM. */
async function runCluster(o: ClusterFlags, components: ComponentSelection, node: Partial<UpOptions> = {}): Promise<void> {
  const t0 = performance.now();
  const quiet = process.env.SKIFF_QUIET === '1';
  // A bug in one request or component must not take the whole cluster down: log it and go on.
  process.on('unhandledRejection', (e) => console.error('skiff: unhandled rejection:', e));
  const opts: UpOptions = {
    dataDir: o.dataDir,
    apiPort: o.apiPort,
    datastore: o.datastore,
    nodeName: o.nodeName,
    tokenAuthFile: o.tokenAuthFile,
    encryptionProviderConfig: o.encryptionProviderConfig,
    auditPolicyFile: o.auditPolicyFile,
    auditLogPath: o.auditLogPath,
    disableAdmissionPlugins: o.disableAdmissionPlugins,
    clusterCIDR: o.clusterCidr,
    serviceCIDR: o.serviceCidr,
    ...node,
    components: { ...components, scheduler: components.scheduler && !o.disableScheduler, controllers: components.controllers && !o.disableControllerManager },
    log: quiet ? undefined : (m) => console.error(`skiff: ${m}`),
  };
  let cluster;
  try {
    const { up } = await import('../cluster/up.js');
    cluster = await up(opts);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`port ${o.apiPort} is already in use: stop what holds it or pass --api-port`, { cause: e });
    throw e;
  }
  const ms = (performance.now() - t0).toFixed(0);
  console.log(`Skiff is up in ${ms} ms: API server at ${cluster.server} (datastore: ${o.datastore}).`);
  console.log('Point kubectl at it:');
  console.log(`  export KUBECONFIG=${cluster.kubeconfigPath}`);
  console.log('  kubectl get nodes');
  let stopping = false;
  const shutdown = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`skiff: ${sig} received, shutting down`);
    await cluster.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

interface NodeFlags {
  networkMode?: string;
  networkPrefix?: string;
  runtime?: string;
  containerRuntimeEndpoint?: string;
  registryMirror?: string[];
  imageGcHighThreshold?: number;
  imageGcLowThreshold?: number;
}

/** The kubelet's image GC thresholds (percent of the image filesystem), as upstream's flags. */
function percent(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new InvalidArgumentError('must be a whole percentage, 0 to 100');
  return n;
}

function imageGCOptions(o: NodeFlags): { imageGCHighThresholdPercent?: number; imageGCLowThresholdPercent?: number } {
  if (o.imageGcHighThreshold !== undefined && o.imageGcLowThreshold !== undefined && o.imageGcLowThreshold > o.imageGcHighThreshold) {
    throw new InvalidArgumentError(`--image-gc-low-threshold (${o.imageGcLowThreshold}) must not exceed --image-gc-high-threshold (${o.imageGcHighThreshold})`);
  }
  return { imageGCHighThresholdPercent: o.imageGcHighThreshold, imageGCLowThresholdPercent: o.imageGcLowThreshold };
}

/** --runtime/--container-runtime-endpoint/--registry-mirror as UpOptions. */
function nodeOptions(o: NodeFlags): Partial<UpOptions> {
  const runtime = o.runtime ?? 'auto';
  if (runtime !== 'process' && runtime !== 'containerd' && runtime !== 'auto') throw new InvalidArgumentError(`--runtime must be process, containerd or auto, not "${runtime}"`);
  const registryMirrors: Record<string, string[]> = {};
  for (const m of o.registryMirror ?? []) {
    const i = m.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(`--registry-mirror must be HOST=URL, not "${m}"`);
    (registryMirrors[m.slice(0, i)] ??= []).push(m.slice(i + 1));
  }
  const networkMode = o.networkMode ?? 'auto';
  if (!['auto', 'cni', 'netns', 'loopback'].includes(networkMode)) throw new InvalidArgumentError(`--network-mode must be auto, cni, netns or loopback, not "${networkMode}"`);
  const networkPrefix = o.networkPrefix;
  // The bridge is `<prefix>0`: an interface name has at most 15 characters.
  if (networkPrefix !== undefined && !/^[a-z][a-z0-9]{0,9}$/.test(networkPrefix)) throw new InvalidArgumentError(`--network-prefix must be 1 to 10 lowercase letters and digits, starting with a letter, not "${networkPrefix}"`);
  return { runtime, containerRuntimeEndpoint: o.containerRuntimeEndpoint, registryMirrors, networkMode: networkMode as UpOptions['networkMode'], networkPrefix, imageGC: imageGCOptions(o) };
}

interface SimUpFlags {
  simulatedNodes?: number;
  simCpu?: string;
  simMemory?: string;
  simPods?: string;
  simLabels?: string[];
  simTaints?: string[];
  simZones?: string;
  simNamePrefix?: string;
}

/** Capacity, labels and taints of simulated nodes. */
function simNodeOptions(cmd: Command): Command {
  return cmd
    .option('--sim-cpu <cpu>', 'simulated node CPU capacity', '32')
    .option('--sim-memory <mem>', 'simulated node memory capacity', '256Gi')
    .option('--sim-pods <n>', 'simulated node pod capacity', '110')
    .option('--sim-labels <k=v,…>', 'labels for simulated nodes', list)
    .option('--sim-taints <k=v:Effect,…>', 'taints for simulated nodes', list)
    .option('--sim-zones <n>', 'spread simulated nodes over N zones (topology.kubernetes.io/zone)')
    .option('--sim-name-prefix <prefix>', 'simulated node name prefix');
}

function simFlags(o: SimUpFlags): SimNodeFlags {
  return { namePrefix: o.simNamePrefix, cpu: o.simCpu, memory: o.simMemory, pods: o.simPods, labels: o.simLabels, taints: o.simTaints, zones: o.simZones };
}

async function simulated(o: SimUpFlags): Promise<SimulatedNodesOptions | undefined> {
  if (!o.simulatedNodes) return undefined;
  if (!Number.isInteger(o.simulatedNodes) || o.simulatedNodes < 0) throw new InvalidArgumentError('--simulated-nodes must be a whole number');
  const { simulatedNodesOptionsFromFlags } = await import('../simnodes/cli.js');
  return simulatedNodesOptionsFromFlags(o.simulatedNodes, simFlags(o));
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program.name('skiff').description('A Kubernetes-compatible cluster: real kubectl, real protocols, every step visible.');

  simNodeOptions(
    clusterCommand(program, 'up', 'run a whole single-node cluster in the foreground')
      .option('--node-name <name>', "this machine's Node name (default: the hostname)")
      .option('--no-kubelet', 'run no real node (e.g. with --simulated-nodes only)')
      .option('--runtime <name>', 'container runtime: process, containerd, or auto (containerd when root and installed)', 'auto')
      .option('--container-runtime-endpoint <url>', 'use an existing CRI runtime (unix:///run/containerd/containerd.sock)')
      .option('--registry-mirror <host=url>', 'registry mirror for the containerd runtime, e.g. docker.io=http://127.0.0.1:5000 (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
      .option('--no-ingress', 'run no ingress controller')
      .option('--image-gc-high-threshold <percent>', 'image filesystem usage that starts image garbage collection (containerd; default 85)', percent)
      .option('--image-gc-low-threshold <percent>', 'usage image garbage collection frees down to (default 80)', percent)
      .option('--network-mode <mode>', 'pod network: cni (root, CNI plugins), netns (root, iproute2), loopback (no root), or auto', 'auto')
      .option('--network-prefix <name>', 'name of the host objects of the pod network and service proxy (bridge <name>0, nftables table <name>-proxy; default skiff): a second root-mode cluster on this machine needs its own, with its own --cluster-cidr and --service-cidr')
      .option('--simulated-nodes <n>', 'also register N simulated (kwok-like) nodes', Number),
  ).action((o: ClusterFlags & SimUpFlags & NodeFlags & { kubelet: boolean; ingress: boolean }) =>
    simulated(o).then((simulatedNodes) => runCluster(o, { controllers: true, scheduler: true, kubelet: o.kubelet, ingress: o.ingress, simulatedNodes }, nodeOptions(o))),
  );

  simNodeOptions(
    clusterCommand(program, 'server', 'run the control plane (API server, scheduler, controllers) without a node; add nodes with `skiff agent`').option(
      '--simulated-nodes <n>',
      'register N simulated (kwok-like) nodes',
      Number,
    ),
  ).action(async (o: ClusterFlags & SimUpFlags) => runCluster(o, { controllers: true, scheduler: true, kubelet: false, simulatedNodes: await simulated(o) }));

  const sim = program.command('sim').description('simulated nodes (kwok-like), for testing schedulers and controllers at scale');
  simNodeOptions(
    sim
      .command('nodes')
      .description('add N simulated nodes to a running cluster')
      .argument('<add>', '"add"')
      .argument('<n>', 'how many', Number)
      .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, else ./.skiff/kubeconfig)')
      .option('--foreground', 'keep simulating them in this process even if a simulator already runs'),
  ).action(async (verb: string, n: number, o: SimUpFlags & { kubeconfig?: string; foreground?: boolean }) => {
    if (verb !== 'add') throw new Error(`unknown action "${verb}": use \`skiff sim nodes add N\``);
    const { simNodesAdd } = await import('../simnodes/cli.js');
    await simNodesAdd({ ...simFlags(o), count: n, kubeconfig: o.kubeconfig ?? process.env.KUBECONFIG ?? './.skiff/kubeconfig', foreground: o.foreground });
  });

  program
    .command('agent')
    .description('run a node (kubelet) that joins the cluster named by a kubeconfig')
    .requiredOption('--kubeconfig <file>', 'credentials for the API server (a system:node:NAME identity, or admin)')
    .option('--node-name <name>', 'Node name (default: the hostname)')
    .option('--data-dir <dir>', 'where pod state and logs live', './.skiff-agent')
    .option('--runtime <name>', 'container runtime: process or containerd', 'process')
    .option('--container-runtime-endpoint <url>', 'use an existing CRI runtime (unix:///run/containerd/containerd.sock)')
    .option('--registry-mirror <host=url>', 'registry mirror for the containerd runtime (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--pod-cidr <cidr>', "this node's pod range (default: spec.podCIDR, else loopback)")
    .option('--node-ip <ip>', 'address reported as InternalIP')
    .option('--port <port>', 'kubelet API port', port, 10250)
    .option('--network-mode <mode>', 'pod network for the process runtime: cni, netns, loopback or auto', 'auto')
    .option('--cluster-dns <ip>', 'nameserver for pods (the kube-dns Service)', '10.96.0.10')
    .option('--image-gc-high-threshold <percent>', 'image filesystem usage that starts image garbage collection (containerd; default 85)', percent)
    .option('--image-gc-low-threshold <percent>', 'usage image garbage collection frees down to (default 80)', percent)
    .option('--local-path-kubeconfig <file>', "run this node's local-path provisioner (rancher.io/local-path, volumes under <data-dir>/storage) with these credentials (`skiff kubeconfig --user system:skiff:local-path-provisioner`)")
    .action(async (o: { kubeconfig: string; nodeName?: string; dataDir: string; runtime: string; podCidr?: string; nodeIp?: string; port: number; clusterDns: string; localPathKubeconfig?: string } & NodeFlags) => {
      if (o.runtime !== 'process' && o.runtime !== 'containerd') throw new InvalidArgumentError(`--runtime must be process or containerd, not "${o.runtime}"`);
      const node = nodeOptions(o);
      const { createKubelet } = await import('../kubelet/agent.js');
      const { createPodNetwork, detectNetworkMode } = await import('../network/pod/select.js');
      const mode = node.networkMode === 'auto' || !node.networkMode ? detectNetworkMode() : node.networkMode;
      const network = o.runtime === 'process' ? createPodNetwork(mode, { dataDir: path.join(path.resolve(o.dataDir), 'network') }) : undefined;
      const cfg = configFromKubeconfig(o.kubeconfig, 'skiff-kubelet');
      const client = new RestClient(cfg);
      const kubelet = createKubelet(client, {
        nodeName: (o.nodeName ?? hostname()).toLowerCase(),
        dataDir: path.resolve(o.dataDir),
        runtime: o.runtime as 'process' | 'containerd',
        containerRuntimeEndpoint: node.containerRuntimeEndpoint,
        registryMirrors: node.registryMirrors,
        ...node.imageGC,
        podCIDR: o.podCidr,
        nodeIP: o.nodeIp,
        port: o.port,
        caPem: cfg.caPem,
        network,
        dns: { clusterDNS: [o.clusterDns], clusterDomain: 'cluster.local' },
        log: (m) => console.error(`skiff agent: ${m}`),
      });
      await kubelet.start();
      // Volumes of this node: the provisioner makes directories only for claims scheduled here.
      let provisioner: { start(): Promise<void>; stop(): Promise<void> } | undefined;
      let provisionerClient: RestClient | undefined;
      if (o.localPathKubeconfig) {
        const { createLocalPathProvisioner } = await import('../controllers/localpath/provisioner.js');
        provisionerClient = new RestClient(configFromKubeconfig(o.localPathKubeconfig, 'skiff-local-path-provisioner'));
        provisioner = createLocalPathProvisioner(provisionerClient, { nodeName: (o.nodeName ?? hostname()).toLowerCase(), baseDir: path.join(path.resolve(o.dataDir), 'storage'), log: (m) => console.error(`skiff agent: ${m}`) });
        await provisioner.start();
      }
      console.log(`skiff agent: node ${o.nodeName ?? hostname()} joined ${cfg.server}`);
      const shutdown = async () => {
        await provisioner?.stop();
        provisionerClient?.close();
        await kubelet.stop();
        client.close();
        await network?.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void shutdown());
      process.on('SIGTERM', () => void shutdown());
    });

  program
    .command('trace')
    .description("print a pod's journey (API server → scheduler → kubelet → runtime → ready) as a timeline")
    .argument('<pod>', 'pod/NAME or NAME')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, else ./.skiff/kubeconfig)')
    .action(async (target: string, o: { namespace: string; kubeconfig?: string }) => {
      const { traceCommand } = await import('../trace/trace.js');
      const client = new RestClient(configFromKubeconfig(o.kubeconfig ?? process.env.KUBECONFIG ?? './.skiff/kubeconfig', 'skiff-trace'));
      try {
        await traceCommand(client, target, { namespace: o.namespace });
      } finally {
        client.close();
      }
    });

  program
    .command('kubeconfig')
    .description('mint a kubeconfig for another user (client certificate signed by the cluster CA), e.g. to try RBAC')
    .requiredOption('--user <name>', 'user name (certificate CN)')
    .option('--group <group>', 'group (certificate O); repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .option('--data-dir <dir>', "the cluster's data dir", './.skiff')
    .option('-o, --output <file>', 'where to write it (default: stdout)')
    .action(async (o: { user: string; group?: string[]; dataDir: string; output?: string }) => {
      const { ensureClusterPKI, issueClientCert } = await import('../pki/ca.js');
      const { renderKubeconfig, writeKubeconfig } = await import('../pki/kubeconfig.js');
      const dataDir = path.resolve(o.dataDir);
      const pki = await ensureClusterPKI(path.join(dataDir, 'pki'), { serverSANs: { dns: [], ips: [] } });
      const server = configFromKubeconfig(path.join(dataDir, 'kubeconfig')).server;
      const cert = await issueClientCert(pki, o.user, o.group ?? []);
      const kc = { server, caPem: pki.ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem, userName: o.user };
      if (o.output) await writeKubeconfig(o.output, kc);
      else process.stdout.write(renderKubeconfig(kc));
    });

  program
    .command('ingress')
    .description('run the ingress controller (ingress-nginx compatible) and its data plane as its own process')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, else ./.skiff/kubeconfig)')
    .option('--http-port <port>', 'HTTP port', port, 80)
    .option('--https-port <port>', 'HTTPS port', port, 443)
    .option('--workers <n>', 'data plane worker processes (default: one per core)', Number)
    .option('--controller-class <name>', 'IngressClass spec.controller to serve', 'k8s.io/ingress-nginx')
    .option('--annotation-prefix <prefix>', 'annotation prefix', 'nginx.ingress.kubernetes.io')
    .option('--status-address <ip>', 'address written to Ingress status')
    .option('--metrics-port <port>', 'Prometheus metrics (GET /metrics) and /healthz', port, 10254)
    .option('--access-log <file>', 'append access log lines here (format: DataPlaneOptions.accessLog)')
    .action(async (o: { kubeconfig?: string; httpPort: number; httpsPort: number; workers?: number; controllerClass: string; annotationPrefix: string; statusAddress?: string; metricsPort: number; accessLog?: string }) => {
      const { createIngressController } = await import('../ingress/controller.js');
      const { DataPlaneWorkers } = await import('../ingress/workers.js');
      const { availableParallelism } = await import('node:os');
      const client = new RestClient(configFromKubeconfig(o.kubeconfig ?? process.env.KUBECONFIG ?? './.skiff/kubeconfig', 'skiff-ingress'));
      const log = (m: string) => console.error(`skiff ingress: ${m}`);
      const sink = new DataPlaneWorkers({ httpPort: o.httpPort, httpsPort: o.httpsPort, host: '0.0.0.0', workers: o.workers ?? availableParallelism(), metricsPort: o.metricsPort, accessLogFile: o.accessLog });
      const ctl = createIngressController(client, { httpPort: o.httpPort, httpsPort: o.httpsPort, controllerClass: o.controllerClass, annotationPrefix: o.annotationPrefix, statusAddress: o.statusAddress, sink, log });
      await ctl.start();
      console.log(`skiff ingress: serving http on :${o.httpPort}, https on :${o.httpsPort}`);
      const shutdown = async () => {
        await ctl.stop();
        client.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void shutdown());
      process.on('SIGTERM', () => void shutdown());
    });

  const image = program.command('image').description("images on this node's containerd (like `kind load`)");
  image
    .command('load')
    .description('import OCI or docker-archive tarballs into the node')
    .argument('<files...>', 'image tarballs')
    .option('--data-dir <dir>', "the node's kubelet data dir, or the cluster's (skiff up --data-dir)", './.skiff/kubelet')
    .option('--container-runtime-endpoint <url>', 'a CRI endpoint instead')
    .action(async (files: string[], o: { dataDir: string; containerRuntimeEndpoint?: string }) => {
      const { imageLoad } = await import('../images/cli.js');
      await imageLoad(files, { dataDir: o.dataDir, endpoint: o.containerRuntimeEndpoint });
    });
  image
    .command('ls')
    .description("list the node's images")
    .option('--data-dir <dir>', "the node's kubelet data dir, or the cluster's (skiff up --data-dir)", './.skiff/kubelet')
    .option('--container-runtime-endpoint <url>', 'a CRI endpoint instead')
    .action(async (o: { dataDir: string; containerRuntimeEndpoint?: string }) => {
      const { imageList } = await import('../images/cli.js');
      await imageList({ dataDir: o.dataDir, endpoint: o.containerRuntimeEndpoint, out: (l) => console.log(l) });
    });

  await program.parseAsync(argv);
}
