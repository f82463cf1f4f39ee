/**
 * Image garbage collection as upstream's kubelet does it (pkg/kubelet/images image GC manager):
 * every image is recorded with when it was first detected and last used (in use = some container,
 * running or exited, references it); when the image filesystem's usage reaches
 * imageGCHighThresholdPercent (85), unused images are removed least recently used first (ties: the
 * earliest detected), skipping pinned images and images younger than imageMinimumGCAge (2 min),
 * until usage is back at imageGCLowThresholdPercent (80). imageMaximumGCAge (0: off) removes
 * images unused for that long, once the kubelet has run that long.
 *
 * The decisions are pure (detectImages, evictionOrder, planBySpace, planByAge); ImageGarbageCollector
 * is the small I/O shell over a CRI runtime and statfs that the kubelet runs every 5 minutes.
 */
import { statfs } from 'node:fs/promises';
import type { Image, Runtime } from '../runtime/cri.js';

export interface ImageGCPolicy {
  /** imageGCHighThresholdPercent: at or above this usage, collect (100 disables image GC). */
  highThresholdPercent: number;
  /** imageGCLowThresholdPercent: collect down to this usage. */
  lowThresholdPercent: number;
  /** imageMinimumGCAge: an image detected more recently is never collected. */
  minAgeMs: number;
  /** imageMaximumGCAge: unused this long, collected regardless of disk usage (0: never). */
  maxAgeMs: number;
}

/** Upstream's KubeletConfiguration defaults (and ImageGCPeriod, 5 minutes). */
export const DEFAULT_IMAGE_GC_POLICY: ImageGCPolicy = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 2 * 60_000, maxAgeMs: 0 };
export const IMAGE_GC_PERIOD_MS = 5 * 60_000;

/** Upstream's validation messages, or undefined when the policy is valid. */
export function validateImageGCPolicy(p: ImageGCPolicy): string | undefined {
  if (p.highThresholdPercent < 0 || p.highThresholdPercent > 100) return `invalid HighThresholdPercent ${p.highThresholdPercent}, must be in range [0-100]`;
  if (p.lowThresholdPercent < 0 || p.lowThresholdPercent > 100) return `invalid LowThresholdPercent ${p.lowThresholdPercent}, must be in range [0-100]`;
  if (p.lowThresholdPercent > p.highThresholdPercent) return `LowThresholdPercent ${p.lowThresholdPercent} can not be higher than HighThresholdPercent ${p.highThresholdPercent}`;
  if (p.maxAgeMs !== 0 && p.maxAgeMs <= p.minAgeMs) return 'imageMaximumGCAge must be greater than imageMinimumGCAge';
  return undefined;
}

export interface ImageRecord {
  /** ms epoch */
  firstDetected: number;
  /** ms epoch; 0 = never seen in use */
  lastUsed: number;
  size: number;
  pinned: boolean;
}

export interface DetectedImage {
  id: string;
  size: number;
  /** CRI Image.pinned (the runtime's sandbox image, for instance): never collected. */
  pinned?: boolean;
}

/**
 * The records after one detection at `now`: new images are first detected now, images in use
 * were last used now, sizes and pins are refreshed, and images that are gone are forgotten.
 */
export function detectImages(records: ReadonlyMap<string, ImageRecord>, images: DetectedImage[], inUse: ReadonlySet<string>, now: number): Map<string, ImageRecord> {
  const next = new Map<string, ImageRecord>();
  for (const img of images) {
    const old = records.get(img.id);
    next.set(img.id, {
      firstDetected: old?.firstDetected ?? now,
      lastUsed: inUse.has(img.id) ? now : (old?.lastUsed ?? 0),
      size: img.size,
      pinned: !!img.pinned,
    });
  }
  return next;
}

export interface EvictionCandidate extends ImageRecord {
  id: string;
}

/** Images that may go, in the order they go: least recently used first, ties by earliest detected; never in use or pinned. */
export function evictionOrder(records: ReadonlyMap<string, ImageRecord>, inUse: ReadonlySet<string>): EvictionCandidate[] {
  return [...records]
    .filter(([id, r]) => !inUse.has(id) && !r.pinned)
    .map(([id, r]) => ({ id, ...r }))
    .sort((a, b) => (a.lastUsed === b.lastUsed ? a.firstDetected - b.firstDetected : a.lastUsed - b.lastUsed));
}

/** imageMaximumGCAge: candidates unused longer than maxAge (only once the kubelet itself has run that long). */
export function planByAge(candidates: EvictionCandidate[], policy: ImageGCPolicy, now: number, beganGC: number): EvictionCandidate[] {
  if (policy.maxAgeMs === 0 || now - beganGC <= policy.maxAgeMs) return [];
  return candidates.filter((c) => now - c.lastUsed > policy.maxAgeMs);
}

export interface FsUsage {
  capacityBytes: number;
  availableBytes: number;
}

export type SpacePlan =
  | { kind: 'ok'; usagePercent: number }
  | { kind: 'invalid-capacity'; message: string }
  | { kind: 'free'; usagePercent: number; amountToFree: number; candidates: EvictionCandidate[] };

/**
 * Whether the image filesystem is over the high threshold and, if so, how many bytes bring it down
 * to the low one and which candidates may be removed for them, in order (too young or used at
 * `now` are left out). The caller removes them in order until enough is freed.
 */
export function planBySpace(candidates: EvictionCandidate[], fs: FsUsage, policy: ImageGCPolicy, now: number): SpacePlan {
  const capacity = fs.capacityBytes;
  const available = Math.min(fs.availableBytes, capacity);
  if (!(capacity > 0)) return { kind: 'invalid-capacity', message: 'invalid capacity 0 on image filesystem' };
  const usagePercent = 100 - Math.trunc((available * 100) / capacity);
  if (usagePercent < policy.highThresholdPercent) return { kind: 'ok', usagePercent };
  const amountToFree = Math.trunc((capacity * (100 - policy.lowThresholdPercent)) / 100) - available;
  const eligible = candidates.filter((c) => c.lastUsed < now && now - c.firstDetected >= policy.minAgeMs);
  return { kind: 'free', usagePercent, amountToFree, candidates: eligible };
}

/** Upstream's FreeDiskSpaceFailed message. */
export function freeDiskSpaceFailedMessage(amountToFree: number, freed: number): string {
  return `Failed to garbage collect required amount of images. Attempted to free ${amountToFree} bytes, but only found ${freed} bytes eligible to free.`;
}

// ---------------------------------------------------------------- the I/O shell

export interface ImageGCDeps {
  runtime: Pick<Runtime, 'listImages' | 'listContainers' | 'removeImage'>;
  /** A path on the image filesystem (the containerd root); statfs gives capacity and availability. */
  imageFsPath?: string;
  /** Instead of statfs (tests). */
  fsUsage?: () => Promise<FsUsage>;
  /** Image ids or references never to remove, besides CRI-pinned ones (the sandbox image). */
  pinned?: () => Promise<Set<string>> | Set<string>;
  policy?: ImageGCPolicy;
  now?: () => number;
  /** Node events: (Warning, FreeDiskSpaceFailed | InvalidDiskCapacity, message). */
  event?: (type: 'Warning', reason: string, message: string) => void;
  log?: (msg: string) => void;
}

export interface ImageGCResult {
  removed: string[];
  freedBytes: number;
  error?: string;
}

export class ImageGarbageCollector {
  private records = new Map<string, ImageRecord>();
  private readonly policy: ImageGCPolicy;
  private readonly now: () => number;
  private readonly began: number;

  constructor(private readonly deps: ImageGCDeps) {
    this.policy = deps.policy ?? DEFAULT_IMAGE_GC_POLICY;
    const invalid = validateImageGCPolicy(this.policy);
    if (invalid) throw new Error(invalid);
    this.now = deps.now ?? Date.now;
    this.began = this.now();
  }

  /** Whether collection runs at all (upstream: a high threshold of 100 disables image GC). */
  get enabled(): boolean {
    return this.policy.highThresholdPercent < 100;
  }

  /** Refreshes the records as of `now` (upstream also does this every 5 minutes between collections). */
  async detect(now = this.now()): Promise<{ inUse: Set<string>; candidates: EvictionCandidate[] }> {
    const [images, containers, extraPins] = await Promise.all([this.deps.runtime.listImages(), this.deps.runtime.listContainers(), this.deps.pinned?.() ?? new Set<string>()]);
    const inUse = new Set<string>();
    for (const c of containers) {
      if (c.imageRef) inUse.add(c.imageRef);
      const byName = images.find((i) => i.id === c.image.image || i.repoTags.includes(c.image.image) || i.repoDigests.includes(c.image.image));
      if (byName) inUse.add(byName.id);
    }
    const detected = images.map((i: Image & { pinned?: boolean }) => ({
      id: i.id,
      size: i.size,
      pinned: !!i.pinned || extraPins.has(i.id) || i.repoTags.some((t) => extraPins.has(t)),
    }));
    this.records = detectImages(this.records, detected, inUse, now);
    return { inUse, candidates: evictionOrder(this.records, inUse) };
  }

  /** One collection: by age, then by space. */
  async garbageCollect(): Promise<ImageGCResult> {
    const result: ImageGCResult = { removed: [], freedBytes: 0 };
    if (!this.enabled) return result;
    const now = this.now();
    let { candidates } = await this.detect(now);
    const errors: string[] = [];
    const remove = async (c: EvictionCandidate) => {
      try {
        this.deps.log?.(`image GC: removing image ${c.id} to free ${c.size} bytes`);
        await this.deps.runtime.removeImage({ image: c.id });
        this.records.delete(c.id);
        result.removed.push(c.id);
        return true;
      } catch (e) {
        errors.push((e as Error).message);
        return false;
      }
    };
    const old = planByAge(candidates, this.policy, now, this.began);
    for (const c of old) await remove(c);
    candidates = candidates.filter((c) => !result.removed.includes(c.id));

    const fs = await (this.deps.fsUsage?.() ?? statfsUsage(this.deps.imageFsPath ?? '/'));
    const plan = planBySpace(candidates, fs, this.policy, now);
    if (plan.kind === 'invalid-capacity') {
      this.deps.event?.('Warning', 'InvalidDiskCapacity', plan.message);
      result.error = plan.message;
      return result;
    }
    if (plan.kind === 'free') {
      let freed = 0;
      for (const c of plan.candidates) {
        if (await remove(c)) freed += c.size;
        if (freed >= plan.amountToFree) break;
      }
      result.freedBytes = freed;
      if (freed < plan.amountToFree) {
        result.error = freeDiskSpaceFailedMessage(plan.amountToFree, freed);
        this.deps.event?.('Warning', 'FreeDiskSpaceFailed', result.error);
      }
    }
    if (errors.length && !result.error) result.error = `errors in image deletion: ${errors.join('; ')}`;
    return result;
  }
}

/** Capacity and availability (to unprivileged users, as statfs's f_bavail) of the filesystem holding `p`. */
export async function statfsUsage(p: string): Promise<FsUsage> {
  const s = await statfs(p);
  return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
}
