import { describeEngineSuite } from './harness/describe-suite.js';
import { runSuiteOnHost } from './harness/run-suite.js';

// The same engine suite on this host as it is (here: Linux 6.18 with the cgroup v1 hierarchy): one suite, both cgroup versions.
const TIMEOUT_MS = 15 * 60_000;
describeEngineSuite('engine suite: this host', () => runSuiteOnHost(TIMEOUT_MS), TIMEOUT_MS);
