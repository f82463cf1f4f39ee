import { registerController } from '../manager.js';
import { DisruptionController } from './disruption.js';

registerController('disruption', (ctx) => new DisruptionController(ctx));
