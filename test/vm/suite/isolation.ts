import assert from 'node:assert/strict';
import { existsSync, readlinkSync } from 'node:fs';
import { IMAGE, type Check } from './context.js';

/**
 * A container is the same box on every kernel and cgroup layout: its own
 * namespaces, Docker's default capabilities, seccomp, masked and read-only
 * paths. A block device can be made (CAP_MKNOD, as in Docker) but not
 * opened: the device list (devices.ts) refuses it on v1 and v2 alike.
 */

const NAMESPACES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'uts'];
/** Docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP. */
const DOCKER_CAPS = 0xa80425fbn;

/** Files of Docker's masked paths (bound to /dev/null: they read empty) that most kernels have. */
const MASKED_FILES = ['/proc/interrupts', '/proc/kcore', '/proc/timer_list', '/proc/sched_debug'];

const SCRIPT = [
  `for n in ${NAMESPACES.join(' ')} user; do echo "ns $n $(readlink /proc/self/ns/$n)"; done`,
  "grep -E '^(CapEff|CapBnd|CapPrm|NoNewPrivs|Seccomp):' /proc/self/status",
  'echo "pid $$"',
  'echo "cgroup $(tr "\\n" " " < /proc/self/cgroup)"',
  ...MASKED_FILES.map((f) => `[ -e ${f} ] && echo "masked ${f} $(wc -c < ${f})"`),
  '(echo 1 > /proc/sys/vm/drop_caches) 2>/dev/null && echo "procsys writable" || echo "procsys read-only"',
  '(touch /sys/tsc-probe) 2>/dev/null && echo "sys writable" || echo "sys read-only"',
  'mknod /tmp/disk b 8 0 2>/dev/null && echo "mknod allowed" || echo "mknod refused"',
].join('\n');

function field(out: string, key: string): string {
  const m = new RegExp(`^${key}[: \\t][ \\t]*(.*)$`, 'm').exec(out);
  if (!m) throw new Error(`no "${key}" in the container's output:\n${out}`);
  return m[1]!.trim();
}

export const isolationChecks: Check[] = [
  {
    name: 'isolation: namespaces, capabilities, masked and read-only paths as on the host',
    async run(ctx) {
      const out = (await ctx.cli(['container', 'run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', SCRIPT])).stdout;
      for (const ns of NAMESPACES) {
        const mine = readlinkSync(`/proc/self/ns/${ns}`);
        assert.notEqual(field(out, `ns ${ns}`), mine, `the container has its own ${ns} namespace`);
      }
      assert.equal(field(out, 'ns user'), readlinkSync('/proc/self/ns/user'), 'no user namespace (as Docker by default)');
      const v2 = ctx.cgroups.version === 2;
      const want = DOCKER_CAPS.toString(16).padStart(16, '0');
      assert.equal(field(out, 'CapEff'), want, 'effective capabilities');
      assert.equal(field(out, 'CapBnd'), want, 'bounding set');
      assert.equal(field(out, 'Seccomp'), '2', 'a seccomp filter');
      assert.equal(field(out, 'NoNewPrivs'), '0');
      assert.equal(field(out, 'pid'), '1', 'the command is PID 1 of its namespace');
      // The cgroup namespace: the container's own cgroup is its root.
      const cgroup = field(out, 'cgroup');
      if (v2) assert.equal(cgroup, '0::/');
      else assert.ok(cgroup.split(' ').every((l) => l.endsWith(':/')), cgroup);
      const masked = MASKED_FILES.filter((f) => existsSync(f));
      assert.ok(masked.length > 0, 'the host has some of the masked files');
      for (const f of masked) assert.equal(field(out, `masked ${f}`), '0', `${f} is masked`);
      assert.match(out, /^procsys read-only$/m);
      assert.match(out, /^sys read-only$/m);
      assert.match(out, /^mknod allowed$/m);
    },
  },
];
