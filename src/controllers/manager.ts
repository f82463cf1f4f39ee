/**
 * The controller manager (kube-controller-manager): one process-wide SharedInformerFactory, leader
 * election on the Lease kube-system/kube-controller-manager, and the registered controllers, run
 * only while this instance leads.
 *
 * Adding a controller: put it in its own folder `src/controllers/<name>/` whose `index.ts` calls
 * `registerController('<name>', (ctx) => new MyController(ctx))` at import time. The manager
 * imports every `src/controllers/<dir>/index.js` when it starts, so no central list needs editing.
 * See controller.ts for ControllerContext, QueueController and the shared helpers.
 */
import { readdirSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EventRecorder } from '../client/events.js';
import { SharedInformerFactory } from '../client/factory.js';
import { LeaderElector } from '../client/leaderelection.js';
import type { RestClient } from '../client/rest.js';
import { realClock, type Clock } from '../client/workqueue.js';
import type { Component } from '../cluster/component.js';
import type { Controller, ControllerContext, ControllerFactory } from './controller.js';

interface Registration {
  factory: ControllerFactory;
  enabledByDefault: boolean;
}

const registry = new Map<string, Registration>();

/**
 * Makes a controller available under `name` (as kube-controller-manager's `--controllers` names:
 * "deployment", "replicaset", "garbage-collector", …). Registering a name again replaces it.
 */
export function registerController(name: string, factory: ControllerFactory, opts: { enabledByDefault?: boolean } = {}): void {
  registry.set(name, { factory, enabledByDefault: opts.enabledByDefault ?? true });
}

export function registeredControllers(): string[] {
  return [...registry.keys()].sort();
}

/**
 * Which controllers run, from a `--controllers`-style list: `*` is every controller enabled by
 * default, `name` enables one, `-name` disables one.
 */
export function enabledControllers(spec: string[] = ['*']): string[] {
  const out: string[] = [];
  for (const [name, r] of registry) {
    if (spec.includes(`-${name}`)) continue;
    if (spec.includes(name) || (spec.includes('*') && r.enabledByDefault)) out.push(name);
  }
  return out.sort();
}

let builtinsLoaded: Promise<void> | undefined;

/** Imports every controller folder's index.js, each of which registers itself. */
export function loadBuiltinControllers(): Promise<void> {
  builtinsLoaded ??= (async () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    for (const d of readdirSync(here, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const index = path.join(here, d.name, 'index.js');
      if (d.isDirectory() && existsSync(index)) await import(pathToFileURL(index).href);
    }
  })();
  return builtinsLoaded;
}

export interface ControllerManagerOptions {
  /** The cluster CA certificate (PEM) the root CA publisher puts in every namespace's kube-root-ca.crt. */
  caPem?: string;
  /** `--controllers` semantics; default ['*']. */
  controllers?: string[];
  /** Leader-election identity; default `<hostname>_<uuid>`, as upstream. */
  identity?: string;
  log?: (msg: string) => void;
  clock?: Clock;
  leaseDurationSeconds?: number;
  renewIntervalMs?: number;
  /** How long to wait for informers to sync before running controllers anyway (default 5000). */
  syncTimeoutMs?: number;
}

export interface ControllerManager extends Component {
  /** Resolves once this instance leads and its controllers run. */
  whenRunning(): Promise<void>;
  readonly isLeader: boolean;
  /** Names of the controllers running now. */
  readonly running: string[];
}

export function createControllerManager(client: RestClient, opts: ControllerManagerOptions = {}): ControllerManager {
  const identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
  const log = opts.log ?? (() => undefined);
  const clock = opts.clock ?? realClock;
  let informers: SharedInformerFactory | undefined;
  let controllers: { name: string; c: Controller }[] = [];
  let generation = 0;
  let runningWaiters: (() => void)[] = [];
  let isRunning = false;

  const startControllers = async () => {
    const gen = ++generation;
    await loadBuiltinControllers();
    const inf = new SharedInformerFactory(client);
    const recorders = new Map<string, EventRecorder>();
    const ctx: ControllerContext = {
      client,
      informers: inf,
      recorder: (component) => {
        let r = recorders.get(component);
        if (!r) recorders.set(component, (r = new EventRecorder(client, { component, host: identity })));
        return r;
      },
      clock,
      identity,
      caPem: opts.caPem,
      log,
    };
    const built: { name: string; c: Controller }[] = [];
    for (const name of enabledControllers(opts.controllers)) {
      try {
        built.push({ name, c: await registry.get(name)!.factory(ctx) });
      } catch (e) {
        log(`controller-manager: cannot start ${name}: ${(e as Error).message}`);
      }
    }
    informers = inf;
    controllers = built;
    // One informer that cannot sync (a resource the server does not serve) must not stall every
    // controller: after a while, run anyway; that informer keeps retrying in the background.
    let syncTimer: NodeJS.Timeout | undefined;
    const synced = await Promise.race([
      inf.start().then(() => true),
      new Promise<boolean>((r) => (syncTimer = setTimeout(() => r(false), opts.syncTimeoutMs ?? 5000))),
    ]);
    clearTimeout(syncTimer);
    if (!synced) log('controller-manager: some informers have not synced (is every watched resource served?); starting controllers anyway');
    if (gen !== generation) return; // leadership was lost meanwhile
    for (const { name, c } of built) {
      try {
        await c.run();
      } catch (e) {
        log(`controller-manager: ${name} failed to run: ${(e as Error).message}`);
      }
    }
    isRunning = true;
    log(`controller-manager: leading as ${identity}; running ${built.map((b) => b.name).join(', ')}`);
    for (const w of runningWaiters) w();
    runningWaiters = [];
  };

  const stopControllers = async () => {
    generation++;
    isRunning = false;
    const cs = controllers;
    controllers = [];
    for (const { c } of cs) {
      try {
        await c.stop();
      } catch {
        /* stopping is best effort */
      }
    }
    informers?.stop();
    informers = undefined;
  };

  const elector = new LeaderElector(client, {
    namespace: 'kube-system',
    name: 'kube-controller-manager',
    identity,
    leaseDurationSeconds: opts.leaseDurationSeconds ?? 15,
    renewIntervalMs: opts.renewIntervalMs ?? 2000,
    onStartedLeading: () => {
      startControllers().catch((e) => log(`controller-manager: start failed: ${(e as Error).message}`));
    },
    onStoppedLeading: () => {
      log('controller-manager: lost leadership; stopping controllers');
      void stopControllers();
    },
  });

  return {
    name: 'controller-manager',
    async start() {
      elector.start();
      // Don't hold up the rest of the cluster if another instance leads: wait briefly only.
      await Promise.race([new Promise<void>((r) => runningWaiters.push(r)), new Promise((r) => setTimeout(r, 3000).unref())]);
    },
    async stop() {
      await elector.stop();
      await stopControllers();
    },
    whenRunning() {
      return isRunning ? Promise.resolve() : new Promise((r) => runningWaiters.push(r));
    },
    get isLeader() {
      return elector.isLeader;
    },
    get running() {
      return isRunning ? controllers.map((c) => c.name) : [];
    },
  };
}
