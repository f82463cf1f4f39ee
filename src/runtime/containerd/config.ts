/**
 * containerd's config.toml and the CNI network config for a containerd that Skiff runs itself.
 * Pure functions (paths in, text out) so they can be tested without a daemon.
 */

export interface ContainerdPaths {
  /** Persistent state (content store, snapshots, CRI metadata). */
  root: string;
  /** Runtime state (sockets, fifos, shm mounts); short, because unix socket paths are limited. */
  state: string;
  /** gRPC socket path. */
  socket: string;
  /** The `opt` plugin's directory. */
  opt: string;
  cniBinDir: string;
  cniConfDir: string;
  /** CRI renders this Go template into cniConfDir on UpdateRuntimeConfig (the node's podCIDR). */
  cniTemplate: string;
}

export interface ContainerdConfigOptions {
  paths: ContainerdPaths;
  sandboxImage: string;
  /** registry host → endpoints, e.g. { 'docker.io': ['http://127.0.0.1:5000'] }. */
  mirrors?: Record<string, string[]>;
}

const q = (s: string) => JSON.stringify(s); // TOML basic strings accept JSON string escapes

export function containerdConfig(o: ContainerdConfigOptions): string {
  const p = o.paths;
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const lines = [
    'version = 2',
    `root = ${q(p.root)}`,
    `state = ${q(p.state)}`,
    // Plugins that only cost start-up time here.
    'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]',
    '',
    '[grpc]',
    `  address = ${q(p.socket)}`,
    '[ttrpc]',
    `  address = ${q(`${p.socket}.ttrpc`)}`,
    '[debug]',
    '  address = ""',
    '[metrics]',
    '  address = ""',
    '',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${q(p.opt)}`,
    '',
    `[${cri}]`,
    `  sandbox_image = ${q(o.sandboxImage)}`,
    // Root on this kind of machine may lack CAP_SYS_RESOURCE: lowering oom_score_adj below the
    // daemon's own fails, so never ask for less than containerd has.
    '  restrict_oom_score_adj = true',
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    '  disable_apparmor = true',
    // Pod network namespaces under our state dir, not the host's /run/netns: leftovers of an abrupt
    // stop are then ours to find and release (reconcile.ts), and never another runtime's.
    '  netns_mounts_under_state_dir = true',
    '  enable_selinux = false',
    `  [${cri}.containerd]`,
    '    snapshotter = "overlayfs"',
    '    default_runtime_name = "runc"',
    `    [${cri}.containerd.runtimes.runc]`,
    '      runtime_type = "io.containerd.runc.v2"',
    `      [${cri}.containerd.runtimes.runc.options]`,
    '        SystemdCgroup = false',
    `  [${cri}.cni]`,
    `    bin_dir = ${q(p.cniBinDir)}`,
    `    conf_dir = ${q(p.cniConfDir)}`,
    `    conf_template = ${q(p.cniTemplate)}`,
    '    max_conf_num = 1',
  ];
  for (const [host, endpoints] of Object.entries(o.mirrors ?? {})) {
    lines.push(`  [${cri}.registry.mirrors.${q(host)}]`, `    endpoint = [${endpoints.map(q).join(', ')}]`);
  }
  return lines.join('\n') + '\n';
}

export interface CniOptions {
  /** Network name (also names host-local's state). */
  name: string;
  /** Linux bridge name (≤ 15 characters). */
  bridge: string;
  /** Where host-local keeps its allocations. */
  ipamDataDir: string;
}

/** The conflist CRI loads: bridge + host-local (the pod range), portmap, loopback comes from CRI. */
export function cniConflist(o: CniOptions, podCIDR: string): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: o.name,
      plugins: [
        {
          type: 'bridge',
          bridge: o.bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: 'host-local', dataDir: o.ipamDataDir, ranges: [[{ subnet: podCIDR }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

/** The same conflist as a Go template CRI fills in with the podCIDR it is given. */
export function cniTemplate(o: CniOptions): string {
  return cniConflist(o, '{{.PodCIDR}}');
}

/** CRI writes its rendered template under this name; we write the initial config under it too. */
export const CNI_CONF_FILE = '10-containerd-net.conflist';
