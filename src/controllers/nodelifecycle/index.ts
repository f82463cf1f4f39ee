import { registerController } from '../manager.js';
import type { ControllerFactory } from '../controller.js';
import { NodeLifecycleController, type NodeLifecycleOptions } from './nodelifecycle.js';
import { TaintEvictionController } from './tainteviction.js';

/** A factory with non-default periods (e.g. `skiff server --node-monitor-grace-period`, or tests). */
export function nodeLifecycleFactory(opts: NodeLifecycleOptions = {}): ControllerFactory {
  return (ctx) => new NodeLifecycleController(ctx, opts);
}

registerController('node-lifecycle', nodeLifecycleFactory());
registerController('taint-eviction-controller', (ctx) => new TaintEvictionController(ctx));
