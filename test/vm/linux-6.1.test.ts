import { describeEngineSuite } from './harness/describe-suite.js';
import { runSuiteInVm } from './harness/run-suite.js';

// The engine suite in a VM booting Debian 12's own kernel (linux-image-amd64) with pure cgroup v2. Needs root, qemu and
// the kernel that test/vm/setup.sh unpacks (scripts/setup.sh runs it).
const TIMEOUT_MS = 25 * 60_000;
describeEngineSuite('engine suite: Linux 6.1, pure cgroup v2 (VM)', () => runSuiteInVm('6.1', 'systemd', TIMEOUT_MS), TIMEOUT_MS);
