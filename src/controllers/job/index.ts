import { registerController } from '../manager.js';
import { JobController } from './job.js';
import { TTLAfterFinishedController } from './ttl.js';

registerController('job', (ctx) => new JobController(ctx));
registerController('ttl-after-finished', (ctx) => new TTLAfterFinishedController(ctx));
