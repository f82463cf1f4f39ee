import { registerController } from '../manager.js';
import { ResourceQuotaController } from './controller.js';

registerController('resourcequota', (ctx) => new ResourceQuotaController(ctx));
