/**
 * The container runtime interface the kubelet talks to, shaped like CRI's runtime.v1 api.proto
 * (RuntimeService + ImageService) so that a runtime speaking real CRI gRPC (containerd) can sit
 * behind it unchanged. Field names follow the proto's JSON names; timestamps are nanoseconds
 * since the epoch as in CRI (held in a JS number, so precise to ~a microsecond).
 *
 * One deliberate difference: CRI's Exec/Attach return a URL of a streaming server; here `exec`
 * returns the streams themselves (a gRPC runtime dials that URL and adapts it).
 */
import type { Readable, Writable } from 'node:stream';
import type { PodHosts } from './hosts.js';

export interface KeyValue {
  key: string;
  value: string;
}

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface LinuxContainerResources {
  /** CFS period/quota in microseconds; 0 means unset. */
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
}

export interface PortMapping {
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  containerPort: number;
  hostPort?: number;
  hostIp?: string;
}

export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

/** CRI NamespaceOption. */
export interface NamespaceOption {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
  targetId?: string;
}

/** CRI SecurityProfile (seccomp, AppArmor). */
export interface SecurityProfile {
  profileType: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  localhostRef?: string;
}

/** CRI LinuxSandboxSecurityContext. */
export interface LinuxSandboxSecurityContext {
  namespaceOptions?: NamespaceOption;
  runAsUser?: { value: number };
  runAsGroup?: { value: number };
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  privileged?: boolean;
  seccomp?: SecurityProfile;
  apparmor?: SecurityProfile;
}

/** CRI LinuxContainerSecurityContext. */
export interface LinuxContainerSecurityContext {
  capabilities?: { addCapabilities?: string[]; dropCapabilities?: string[] };
  privileged?: boolean;
  namespaceOptions?: NamespaceOption;
  runAsUser?: { value: number };
  runAsGroup?: { value: number };
  runAsUsername?: string;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  noNewPrivs?: boolean;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  seccomp?: SecurityProfile;
  apparmor?: SecurityProfile;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  /** Directory holding the pod's container logs (containers' logPath is relative to it). */
  logDirectory: string;
  dnsConfig?: { servers?: string[]; searches?: string[]; options?: string[] };
  /**
   * Not CRI (upstream's kubelet writes /etc/hosts itself and mounts it): the subdomain FQDN and
   * hostAliases for a runtime that writes the pod's hosts file (the process runtime).
   */
  hosts?: PodHosts;
  portMappings?: PortMapping[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: {
    cgroupParent?: string;
    resources?: LinuxContainerResources;
    /** namespaceOptions.network is NODE for hostNetwork pods (no pod network of their own). */
    securityContext?: LinuxSandboxSecurityContext;
    sysctls?: Record<string, string>;
  };
}

export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface PodSandboxNetworkStatus {
  ip: string;
  additionalIps?: { ip: string }[];
}

export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  createdAt: number;
  network?: PodSandboxNetworkStatus;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  createdAt: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PodSandboxFilter {
  id?: string;
  state?: PodSandboxState;
  labelSelector?: Record<string, string>;
}

export interface ContainerMetadata {
  name: string;
  attempt: number;
}

export interface ImageSpec {
  image: string;
  annotations?: Record<string, string>;
}

export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
}

export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: ImageSpec;
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: KeyValue[];
  mounts?: Mount[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Relative to the sandbox's logDirectory, e.g. "app/0.log". */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: { resources?: LinuxContainerResources; securityContext?: LinuxContainerSecurityContext };
}

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata;
  state: ContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  image: ImageSpec;
  imageRef: string;
  /** Brief CamelCase reason: Completed, Error, OOMKilled, ContainerCannotRun, StartError. */
  reason: string;
  message: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  mounts?: Mount[];
  /** Absolute path of the current log file. */
  logPath: string;
}

export interface Container {
  id: string;
  podSandboxId: string;
  metadata: ContainerMetadata;
  image: ImageSpec;
  imageRef: string;
  state: ContainerState;
  createdAt: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface ContainerFilter {
  id?: string;
  state?: ContainerState;
  podSandboxId?: string;
  labelSelector?: Record<string, string>;
}

export interface ExecSyncResponse {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

export interface ExecRequest {
  containerId: string;
  cmd: string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

/** A running exec session: the streams CRI's streaming server would carry. */
export interface ExecSession {
  /** Present when stdin was requested. */
  stdin?: Writable;
  stdout?: Readable;
  /** Absent with a TTY (stderr is merged into stdout, as upstream). */
  stderr?: Readable;
  resize(width: number, height: number): void;
  /** Resolves with the exit code once the process ends. */
  exit: Promise<number>;
  kill(): void;
}

/** CRI's AttachRequest: the streams of a running container's main process. */
export interface AttachRequest {
  containerId: string;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  tty?: boolean;
}

/** An attach session: the container's output from now on, its stdin if it has one. */
export interface AttachSession {
  /** Present when stdin was requested and the container keeps stdin open (`stdin: true`). */
  stdin?: Writable;
  stdout?: Readable;
  /** Absent with a TTY (one output stream, as upstream). */
  stderr?: Readable;
  resize(width: number, height: number): void;
  /** Resolves with the container's exit code when it ends. */
  exit: Promise<number>;
  /** Ends this session; the container runs on. */
  detach(): void;
}

/** CRI's ContainerEventResponse (GetContainerEvents, the evented PLEG). */
export interface ContainerEvent {
  containerId: string;
  containerEventType: 'CONTAINER_CREATED_EVENT' | 'CONTAINER_STARTED_EVENT' | 'CONTAINER_STOPPED_EVENT' | 'CONTAINER_DELETED_EVENT';
  createdAt: number;
  podSandboxId: string;
}

export interface VersionResponse {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface RuntimeConfig {
  networkConfig?: { podCidr?: string };
}

/** CRI ContainerStats, flattened: absent values are undefined (CRI's UInt64Value wrappers unset). */
export interface ContainerStats {
  id: string;
  metadata: ContainerMetadata;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Nanoseconds since the epoch when CPU and memory were sampled. */
  timestamp: number;
  cpu?: { usageCoreNanoSeconds?: number; usageNanoCores?: number };
  memory?: { workingSetBytes?: number; availableBytes?: number; usageBytes?: number; rssBytes?: number; pageFaults?: number; majorPageFaults?: number };
  writableLayer?: { usedBytes?: number; inodesUsed?: number; mountpoint?: string };
}

export interface ContainerStatsFilter {
  id?: string;
  podSandboxId?: string;
  labelSelector?: Record<string, string>;
}

export interface RuntimeService {
  version(): Promise<VersionResponse>;
  /** CRI UpdateRuntimeConfig: the kubelet hands the node's pod CIDR to the runtime. */
  updateRuntimeConfig(config: RuntimeConfig): Promise<void>;

  runPodSandbox(config: PodSandboxConfig, runtimeHandler?: string): Promise<string>;
  stopPodSandbox(podSandboxId: string): Promise<void>;
  removePodSandbox(podSandboxId: string): Promise<void>;
  podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatus>;
  listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]>;

  createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string>;
  startContainer(containerId: string): Promise<void>;
  /** SIGTERM, then SIGKILL after `timeout` seconds (0: at once). */
  stopContainer(containerId: string, timeout: number): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
  containerStatus(containerId: string): Promise<ContainerStatus>;
  listContainers(filter?: ContainerFilter): Promise<Container[]>;

  /** Runs a command in the container and waits (timeout in seconds, 0: none). */
  execSync(containerId: string, cmd: string[], timeout: number): Promise<ExecSyncResponse>;
  exec(req: ExecRequest): Promise<ExecSession>;
  /**
   * The parts of a container's security context this runtime cannot enforce (optional; absent:
   * everything is). The kubelet says so in a Warning event rather than pretend.
   */
  unenforcedSecurity?(config: ContainerConfig): string[];
  /** Attaches to a running container's main process (optional: the kubelet answers 400 without it). */
  attach?(req: AttachRequest): Promise<AttachSession>;
  /** CRI ReopenContainerLog: start a new log file after the kubelet rotated it away. */
  reopenContainerLog(containerId: string): Promise<void>;

  /** Subscribes to container lifecycle events; returns the unsubscribe function. */
  getContainerEvents(listener: (ev: ContainerEvent) => void): () => void;

  /** CRI ContainerStats / ListContainerStats (optional: not every runtime reports usage). */
  containerStats?(containerId: string): Promise<ContainerStats>;
  listContainerStats?(filter?: ContainerStatsFilter): Promise<ContainerStats[]>;
}

export interface Image {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  /** The image's user, when numeric (CRI Image.uid); else its name. */
  uid?: number;
  username?: string;
}

/** CRI AuthConfig: credentials for one pull. */
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

export interface ImageService {
  pullImage(image: ImageSpec, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string>;
  listImages(filter?: { image?: ImageSpec }): Promise<Image[]>;
  /** Undefined when the image is not present. */
  imageStatus(image: ImageSpec): Promise<Image | undefined>;
  removeImage(image: ImageSpec): Promise<void>;
}

/** What the kubelet holds: both services, plus shutting the runtime down. */
export interface Runtime extends RuntimeService, ImageService {
  readonly name: string;
  close(): Promise<void>;
}

/** Runtime errors carry CRI-ish codes so the kubelet can map them to waiting reasons. */
export class RuntimeError extends Error {
  constructor(
    readonly code: 'NotFound' | 'InvalidArgument' | 'FailedPrecondition' | 'Unimplemented' | 'DeadlineExceeded' | 'Internal',
    message: string,
  ) {
    super(message);
    this.name = 'RuntimeError';
  }
}

/** The CRI log line format: `2016-10-06T00:17:09.669794202Z stdout F message`. */
export interface LogLine {
  /** RFC3339Nano timestamp as written. */
  time: string;
  stream: 'stdout' | 'stderr';
  /** F: full line; P: partial (the line continues in the next entry). */
  tag: 'F' | 'P';
  content: string;
}

export function parseLogLine(line: string): LogLine | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tagEnd = c < 0 ? line.length : c;
  const tag = line.slice(b + 1, tagEnd).split(':')[0];
  return { time: line.slice(0, a), stream, tag: tag === 'P' ? 'P' : 'F', content: c < 0 ? '' : line.slice(c + 1) };
}

/** RFC3339 with nanoseconds, from a ns timestamp plus an optional sub-ms counter. */
export function rfc3339Nano(ms: number, subMsNanos = 0): string {
  const iso = new Date(ms).toISOString(); // 2016-10-06T00:17:09.669Z
  return `${iso.slice(0, 23)}${String(subMsNanos).padStart(6, '0')}Z`;
}

export function nowNanos(): number {
  return Date.now() * 1e6;
}

/** Labels the kubelet puts on every sandbox and container, as upstream's (pkg/kubelet/types/labels.go). */
export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';
