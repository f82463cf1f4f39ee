import { registerController } from '../manager.js';
import { CronJobController } from './cronjob.js';

registerController('cronjob', (ctx) => new CronJobController(ctx));
