import { registerController } from '../manager.js';
import { NodeIpamController } from './controller.js';

registerController('nodeipam', (ctx) => new NodeIpamController(ctx));
