import { registerController } from '../manager.js';
import { DeploymentController } from './controller.js';

registerController('deployment', (ctx) => new DeploymentController(ctx));
