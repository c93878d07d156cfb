import { describeEngineSuite } from './harness/describe-suite.js';
import { runSuiteInVm } from './harness/run-suite.js';

// The engine suite in a VM booting the 6.12 kernel of Debian 12's archive (linux-image-6.12-amd64) with pure cgroup v2. Needs root, qemu and
// the kernel that test/vm/setup.sh unpacks (scripts/setup.sh runs it).
const TIMEOUT_MS = 25 * 60_000;
describeEngineSuite('engine suite: Linux 6.12, pure cgroup v2 (VM)', () => runSuiteInVm('6.12', 'bare', TIMEOUT_MS), TIMEOUT_MS);
