import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROBE_DEVICE, PROBE_RULE, PROBE_SCRIPT, expectedProbe } from '../../support/device-probe.js';
import { IMAGE, type Check } from './context.js';

/**
 * The device list of a container, from a compose file as a user writes it:
 * Docker's defaults, `devices:` with a narrower permission and
 * `device_cgroup_rules:`, held by the kernel (an eBPF program on the VMs'
 * cgroup v2, devices.allow on v1). One `run` (each costs seconds under
 * emulation): that privileged containers have no list is shown on this
 * host's v2 hierarchy by test/runtime/device-filter.test.ts.
 * The mapped node is made in the machine's /dev (a nodev mount elsewhere
 * would refuse it for another reason) and removed afterwards.
 */

function composeFile(node: string): string {
  // "$" is Compose's interpolation: "$$" is a literal one.
  const command = JSON.stringify(['sh', '-c', PROBE_SCRIPT.replaceAll('$', '$$')]);
  return `services:
  probe:
    image: ${IMAGE}
    network_mode: none
    command: ${command}
    devices: ["${node}:${PROBE_DEVICE.inContainer}:r"]
    device_cgroup_rules: ["${PROBE_RULE}"]
`;
}

export const deviceChecks: Check[] = [
  {
    name: 'devices: unlisted devices refused (EPERM), devices permissions and device_cgroup_rules honoured',
    async run(ctx) {
      const dir = mkdtempSync(join(tmpdir(), 'tsc-vm-devices-'));
      const node = `/dev/tsc-probe-${process.pid}`;
      const file = join(dir, 'compose.yaml');
      const compose = (args: string[], allowFail = false) => ctx.cli(['-f', file, '-p', 'vmdevices', ...args], { cwd: dir, allowFail });
      try {
        execFileSync('mknod', [node, 'c', String(PROBE_DEVICE.major), String(PROBE_DEVICE.minor)]);
        writeFileSync(file, composeFile(node));
        const lines = (await compose(['run', '--rm', '-T', 'probe'])).stdout.split('\n').map((l) => l.trimEnd());
        for (const want of expectedProbe(true)) assert.ok(lines.includes(want), `"${want}" in\n${lines.join('\n')}`);
      } finally {
        await compose(['down', '-t', '0'], true);
        rmSync(node, { force: true });
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];
