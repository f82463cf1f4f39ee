import { registerController } from '../manager.js';
import { GarbageCollector } from './collector.js';

registerController('garbage-collector', (ctx) => GarbageCollector.create(ctx));
