import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { stateRoot } from '../../../src/util/paths.js';
import { rootTag } from '../../../src/network/names.js';
import { mountsUnder, taggedLinkNames } from '../../network/leaks.js';
import { IMAGE, monitorsOf, type Check } from './context.js';

/** The first and last checks: the machine the suite runs on, the image it uses, and that it leaves nothing. */

/** The interfaces newer than the floor that probe reports by their fallbacks (native/compat.c, in its order), with the first Linux that has them. */
const PROBED_FALLBACKS: ReadonlyArray<readonly [string, string]> = [['mount_setattr', '5.12'], ['close_range(CLOEXEC)', '5.11'], ['lowerdir+', '6.8']];

/** Those a stock kernel of this release lacks (Debian's kernels in the VMs backport none of them). */
function expectedFallbacks(kernel: string): ReadonlyArray<readonly [string, string]> {
  const [major = 0, minor = 0] = kernel.split('.').map(Number);
  return PROBED_FALLBACKS.filter(([, since]) => {
    const [a = 0, b = 0] = since.split('.').map(Number);
    return major < a || (major === a && minor < b);
  });
}

export const setupChecks: Check[] = [
  {
    name: 'kernel: the cgroup layout, and the helper finds every interface it needs',
    async run(ctx) {
      const cg = ctx.cgroups;
      ctx.note(`Linux ${release()}, cgroup v${cg.version}${cg.v2 ? `, cgroup2 at ${cg.v2}` : ''}, v1 controllers: ${[...cg.v1.keys()].join(',') || 'none'}`);
      if (ctx.config.expectCgroup === 2) {
        assert.equal(cg.version, 2);
        assert.equal(cg.v1.size, 0, 'pure cgroup v2: no v1 hierarchy is mounted');
        assert.equal(cg.v2, '/sys/fs/cgroup');
        const enabled = readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8').trim();
        const mine = readFileSync('/proc/self/cgroup', 'utf8').trim();
        ctx.note(`root cgroup.subtree_control before the engine: "${enabled}"; this process: ${mine}`);
        if (ctx.config.cgroupLayout === 'systemd') {
          // As systemd leaves a host: controllers on, and nothing of ours in the root cgroup.
          assert.match(enabled, /\bmemory\b/);
          assert.equal(mine, '0::/system.slice/tscompose-suite.service');
        } else {
          // A plain init enables nothing: whatever the engine needs, it must delegate itself.
          assert.equal(enabled, '');
          assert.equal(mine, '0::/');
        }
      }
      if (ctx.config.expectCgroup === 1) assert.equal(cg.version, 1);
      const probe = execFileSync(ctx.config.helper, ['probe'], { encoding: 'utf8' });
      ctx.note(`tsc-helper probe: ${probe.trim()}`);
      // Nothing of the floor missing; and a fallback line for exactly the newer interfaces this kernel predates.
      assert.equal(probe, `${expectedFallbacks(release()).map(([f, since]) => `fallback ${f} ${since}\n`).join('')}ok 0\n`, 'no interface without a fallback is missing');
    },
  },
  {
    name: 'image: import the busybox image',
    async run(ctx) {
      await ctx.cli(['image', 'import', ctx.config.imageTar, IMAGE]);
      assert.match((await ctx.cli(['image', 'ls'])).stdout, /vmsuite\/busybox\s+1\s/);
    },
  },
];

export const finalChecks: Check[] = [
  {
    name: 'engine: nothing of the suite is left',
    async run(ctx) {
      const left = (await ctx.cli(['container', 'ls', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
      const found = {
        containers: left,
        cgroups: [...ctx.containers].flatMap((id) => ctx.cgroups.dirsOf(id)),
        monitors: monitorsOf(ctx.containers),
        mounts: mountsUnder(stateRoot()).filter((m) => m !== stateRoot()),
        links: taggedLinkNames(rootTag()),
      };
      // What a failed check left is removed here, so that the machine ends clean either way.
      if (left.length) await ctx.cli(['container', 'rm', '-f', ...left], { allowFail: true });
      await ctx.cli(['network', 'prune', '-f'], { allowFail: true });
      assert.deepEqual(found, { containers: [], cgroups: [], monitors: [], mounts: [], links: [] });
    },
  },
];
