import { registerController } from '../manager.js';
import { NamespaceController } from './controller.js';

registerController('namespace', (ctx) => new NamespaceController(ctx));
