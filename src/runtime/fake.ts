/**
 * An in-memory runtime for unit tests of the kubelet: containers "run" until the test ends them
 * (`exit`) or their name has a scripted exit code (`autoExit`). Every call is logged in `ops`.
 * Time comes from the injected clock, so tests never wait.
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import {
  RuntimeError,
  type Container,
  type ContainerConfig,
  type ContainerEvent,
  type ContainerStatus,
  type ExecRequest,
  type ExecSession,
  type ExecSyncResponse,
  type Image,
  type ImageSpec,
  type PodSandbox,
  type PodSandboxConfig,
  type PodSandboxStatus,
  type Runtime,
} from './cri.js';

interface FakeSandbox {
  id: string;
  config: PodSandboxConfig;
  state: PodSandboxStatus['state'];
  createdAt: number;
  ip: string;
}

interface FakeContainer {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  status: ContainerStatus;
}

export class FakeRuntime implements Runtime {
  readonly name = 'fake';
  readonly ops: string[] = [];
  readonly sandboxes = new Map<string, FakeSandbox>();
  readonly containers = new Map<string, FakeContainer>();
  /** Container name → exit code it exits with as soon as it starts. */
  readonly autoExit = new Map<string, number>();
  /** Container name → error thrown by createContainer. */
  readonly createErrors = new Map<string, RuntimeError>();
  /** Container ID → exit code for a stop (default 143 with a grace period, 137 without). */
  readonly images = new Set<string>();
  private seq = 0;
  private readonly ev = new EventEmitter();

  constructor(private readonly now: () => number) {}

  private ns(): number {
    return this.now() * 1e6;
  }

  async version() {
    return { version: '0', runtimeName: 'fake', runtimeVersion: '0', runtimeApiVersion: 'v1' };
  }
  async updateRuntimeConfig(): Promise<void> {}

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const id = `sb${++this.seq}`;
    this.sandboxes.set(id, { id, config, state: 'SANDBOX_READY', createdAt: this.ns(), ip: `127.0.0.${10 + this.seq}` });
    this.ops.push(`runPodSandbox:${config.metadata.name}`);
    return id;
  }
  async stopPodSandbox(id: string): Promise<void> {
    const sb = this.sandboxes.get(id);
    if (!sb) return;
    for (const c of this.containers.values()) if (c.sandboxId === id && c.status.state === 'CONTAINER_RUNNING') this.finish(c, 137, 'Error');
    sb.state = 'SANDBOX_NOTREADY';
    this.ops.push(`stopPodSandbox:${sb.config.metadata.name}`);
  }
  async removePodSandbox(id: string): Promise<void> {
    for (const c of [...this.containers.values()]) if (c.sandboxId === id) this.containers.delete(c.id);
    if (this.sandboxes.delete(id)) this.ops.push(`removePodSandbox`);
  }
  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const sb = this.sandboxes.get(id);
    if (!sb) throw new RuntimeError('NotFound', `sandbox ${id} not found`);
    return { id, metadata: sb.config.metadata, state: sb.state, createdAt: sb.createdAt, network: { ip: sb.state === 'SANDBOX_READY' ? sb.ip : '' }, labels: sb.config.labels };
  }
  async listPodSandbox(filter: { labelSelector?: Record<string, string> } = {}): Promise<PodSandbox[]> {
    return [...this.sandboxes.values()]
      .filter((s) => Object.entries(filter.labelSelector ?? {}).every(([k, v]) => s.config.labels?.[k] === v))
      .map((s) => ({ id: s.id, metadata: s.config.metadata, state: s.state, createdAt: s.createdAt, labels: s.config.labels }));
  }

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const err = this.createErrors.get(config.metadata.name);
    if (err) throw err;
    const id = `c${++this.seq}`;
    this.containers.set(id, {
      id,
      sandboxId,
      config,
      status: {
        id,
        metadata: config.metadata,
        state: 'CONTAINER_CREATED',
        createdAt: this.ns(),
        startedAt: 0,
        finishedAt: 0,
        exitCode: 0,
        image: config.image,
        imageRef: `fake://${config.image.image}`,
        reason: '',
        message: '',
        labels: config.labels,
        logPath: `/dev/null`,
      },
    });
    this.ops.push(`create:${config.metadata.name}`);
    return id;
  }
  async startContainer(id: string): Promise<void> {
    const c = this.get(id);
    c.status.state = 'CONTAINER_RUNNING';
    c.status.startedAt = this.ns();
    this.ops.push(`start:${c.config.metadata.name}`);
    const code = this.autoExit.get(c.config.metadata.name);
    if (code !== undefined) this.finish(c, code, code === 0 ? 'Completed' : 'Error');
  }
  async stopContainer(id: string, timeout: number): Promise<void> {
    const c = this.get(id);
    this.ops.push(`stop:${c.config.metadata.name}:${timeout}`);
    if (c.status.state === 'CONTAINER_RUNNING') this.finish(c, timeout > 0 ? 143 : 137, 'Error');
  }
  async removeContainer(id: string): Promise<void> {
    this.containers.delete(id);
  }
  async containerStatus(id: string): Promise<ContainerStatus> {
    return { ...this.get(id).status };
  }
  async listContainers(filter: { labelSelector?: Record<string, string>; podSandboxId?: string } = {}): Promise<Container[]> {
    return [...this.containers.values()]
      .filter((c) => (!filter.podSandboxId || c.sandboxId === filter.podSandboxId) && Object.entries(filter.labelSelector ?? {}).every(([k, v]) => c.config.labels?.[k] === v))
      .map((c) => ({ id: c.id, podSandboxId: c.sandboxId, metadata: c.config.metadata, image: c.config.image, imageRef: c.status.imageRef, state: c.status.state, createdAt: c.status.createdAt, labels: c.config.labels }));
  }
  async execSync(): Promise<ExecSyncResponse> {
    return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0 };
  }
  async exec(_req: ExecRequest): Promise<ExecSession> {
    return { stdout: new PassThrough(), stderr: new PassThrough(), resize: () => undefined, exit: Promise.resolve(0), kill: () => undefined };
  }
  async reopenContainerLog(): Promise<void> {}
  getContainerEvents(l: (e: ContainerEvent) => void): () => void {
    this.ev.on('e', l);
    return () => this.ev.off('e', l);
  }
  async pullImage(image: ImageSpec): Promise<string> {
    this.images.add(image.image);
    this.ops.push(`pull:${image.image}`);
    return `fake://${image.image}`;
  }
  async listImages(): Promise<Image[]> {
    return [...this.images].map((i) => ({ id: i, repoTags: [i], repoDigests: [], size: 0 }));
  }
  async imageStatus(image: ImageSpec): Promise<Image | undefined> {
    return this.images.has(image.image) ? { id: image.image, repoTags: [image.image], repoDigests: [], size: 0 } : undefined;
  }
  async removeImage(image: ImageSpec): Promise<void> {
    this.images.delete(image.image);
  }
  async close(): Promise<void> {}

  // ---- test controls

  /** Ends the newest running container named `name`. */
  exit(name: string, code: number, reason = code === 0 ? 'Completed' : 'Error'): void {
    const c = [...this.containers.values()].reverse().find((x) => x.config.metadata.name === name && x.status.state === 'CONTAINER_RUNNING');
    if (!c) throw new Error(`no running container ${name}`);
    this.finish(c, code, reason);
  }

  running(name: string): boolean {
    return [...this.containers.values()].some((x) => x.config.metadata.name === name && x.status.state === 'CONTAINER_RUNNING');
  }

  private finish(c: FakeContainer, code: number, reason: string): void {
    c.status.state = 'CONTAINER_EXITED';
    c.status.exitCode = code;
    c.status.reason = reason;
    c.status.finishedAt = this.ns();
    this.ev.emit('e', { containerId: c.id, containerEventType: 'CONTAINER_STOPPED_EVENT', createdAt: this.ns(), podSandboxId: c.sandboxId });
  }

  private get(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new RuntimeError('NotFound', `container ${id} not found`);
    return c;
  }
}
