import { kubectlSuite } from './kubectl-suite.js';
import { startTestCluster } from '../testing/cluster.js';

kubectlSuite('sqlite', () => startTestCluster());
