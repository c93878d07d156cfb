import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGE, type Check } from './context.js';

/**
 * Each limit enforced by the kernel, and read back from the host side of the
 * container's cgroup: v2 files in the VMs, v1 files on a v1 host.
 */

const MiB = 1024 * 1024;

export const limitChecks: Check[] = [
  {
    name: 'memory: limit, reservation and swap, read back from the host',
    async run(ctx) {
      await ctx.withContainer('vmsuite-memory', ['--network', 'none', '--memory', '48m', '--memory-reservation', '16m', '--memory-swap', '64m', IMAGE, 'sleep', '600'], async (id) => {
        const cg = ctx.cgroups;
        assert.equal(cg.read(id, { v2: 'memory.max', v1: ['memory', 'memory.limit_in_bytes'] }), String(48 * MiB));
        assert.equal(cg.read(id, { v2: 'memory.low', v1: ['memory', 'memory.soft_limit_in_bytes'] }), String(16 * MiB));
        // Swap: v2 limits it alone (64m - 48m); v1 limits memory + swap. Hosts without swap accounting have neither file.
        const swap = { v2: 'memory.swap.max', v1: ['memory', 'memory.memsw.limit_in_bytes'] as [string, string] };
        if (cg.version === 2 || existsSync(join(cg.dir(id), swap.v1[1]))) {
          assert.equal(cg.read(id, swap), String(cg.version === 2 ? 16 * MiB : 64 * MiB), 'swap limit');
        }
        // Inside, the container sees its own cgroup (cgroup namespace) with the same limit.
        const inside = await ctx.cli(['container', 'exec', id, 'cat', cg.version === 2 ? '/sys/fs/cgroup/memory.max' : '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
        assert.equal(inside.stdout.trim(), String(48 * MiB));
      });
    },
  },
  {
    name: 'memory: a process over the limit is OOM-killed, and inspect and ps say so',
    async run(ctx) {
      // The shell holds 100 MB of x's in a variable: far over 16 MB without swap. It is PID 1, so the container ends 137.
      const r = await ctx.cli(['container', 'run', '--name', 'vmsuite-oom', '--network', 'none', '--memory', '16m', '--memory-swap', '16m', IMAGE,
        'sh', '-c', 'a=$(head -c 100000000 /dev/zero | tr "\\0" x); echo survived ${#a}'], { allowFail: true });
      try {
        const info = await ctx.inspect('vmsuite-oom');
        ctx.containers.add(info.Id);
        assert.equal(r.code, 137, 'the run exits 128 + SIGKILL');
        assert.doesNotMatch(r.stdout, /survived/);
        assert.equal(info.State.OOMKilled, true, 'State.OOMKilled');
        assert.equal(info.State.ExitCode, 137, 'State.ExitCode');
        assert.equal(info.State.Status, 'exited');
        const ps = await ctx.cli(['container', 'ls', '-a', '--filter', 'name=vmsuite-oom', '--format', '{{.Status}}']);
        assert.match(ps.stdout, /^Exited \(137\) /);
        const events = ctx.cgroups.keyed(ctx.cgroups.read(info.Id, { v2: 'memory.events', v1: ['memory', 'memory.oom_control'] }));
        assert.ok((events.get('oom_kill') ?? 0) >= 1, `oom_kill counted by the kernel: ${[...events].join(' ')}`);
      } finally {
        await ctx.cli(['container', 'rm', '-f', 'vmsuite-oom'], { allowFail: true });
      }
    },
  },
  {
    name: 'pids: a fork bomb stops at pids.max, and rm -f clears it',
    async run(ctx) {
      // Every process forks two more, without end: the kernel's pids.max is the only ceiling (and --cpus 1 its pace).
      let bomb = '';
      await ctx.withContainer('vmsuite-pids', ['--network', 'none', '--pids-limit', '24', '--cpus', '1', IMAGE, 'sh', '-c', 'b() { b & b & wait; }; b & exec sleep 600'], async (id) => {
        bomb = id;
        const cg = ctx.cgroups;
        const events = await ctx.waitFor('the bomb to reach pids.max', () => {
          const e = cg.keyed(cg.read(id, { v2: 'pids.events', v1: ['pids', 'pids.events'] }));
          return (e.get('max') ?? 0) > 0 ? e : undefined;
        });
        assert.equal(cg.read(id, { v2: 'pids.max', v1: ['pids', 'pids.max'] }), '24');
        assert.ok(Number(cg.read(id, { v2: 'pids.current', v1: ['pids', 'pids.current'] })) <= 24, 'pids.current within pids.max');
        assert.ok(events.get('max')! > 0, 'refused forks counted');
      });
      assert.deepEqual(ctx.cgroups.dirsOf(bomb), [], 'the cgroup is gone with the container');
    },
  },
  {
    name: 'cpu: cpu.max throttles a busy loop',
    async run(ctx) {
      await ctx.withContainer('vmsuite-cpu', ['--network', 'none', '--cpus', '0.25', IMAGE, 'sh', '-c', 'while :; do :; done'], async (id) => {
        const cg = ctx.cgroups;
        if (cg.version === 2) assert.equal(cg.read(id, { v2: 'cpu.max' }), '25000 100000');
        else assert.equal(cg.read(id, { v1: ['cpu', 'cpu.cfs_quota_us'] }), '25000');
        // The kernel counts the periods in which the quota ran out: the loop was held back, not just measured.
        const stat = await ctx.waitFor('throttled periods in cpu.stat', () => {
          const s = cg.keyed(cg.read(id, { v2: 'cpu.stat', v1: ['cpu', 'cpu.stat'] }));
          return (s.get('nr_throttled') ?? 0) >= 3 ? s : undefined;
        });
        ctx.note(`cpu.stat: ${[...stat].map(([k, v]) => `${k}=${v}`).join(' ')}`);
        assert.ok((stat.get('throttled_usec') ?? stat.get('throttled_time') ?? 0) > 0, 'time spent throttled');
      });
    },
  },
  {
    name: 'cpu: shares as weight, cpuset; io weight where the kernel has one',
    async run(ctx) {
      await ctx.withContainer('vmsuite-weights', ['--network', 'none', '--cpu-shares', '512', '--cpuset-cpus', '0', '--blkio-weight', '300', IMAGE, 'sleep', '600'], async (id, r) => {
        const cg = ctx.cgroups;
        // runc's and crun's curve: 512 shares -> weight 59 (1024 -> 100).
        if (cg.version === 2) assert.equal(cg.read(id, { v2: 'cpu.weight' }), '59');
        else assert.equal(cg.read(id, { v1: ['cpu', 'cpu.shares'] }), '512');
        assert.equal(cg.read(id, { v2: 'cpuset.cpus', v1: ['cpuset', 'cpuset.cpus'] }), '0');
        const inside = await ctx.cli(['container', 'exec', id, 'grep', 'Cpus_allowed_list', '/proc/self/status']);
        assert.match(inside.stdout, /Cpus_allowed_list:\s+0\n/);
        if (cg.version === 2) {
          // No BFQ in the VM: the io controller's weight, 300 on blkio's scale -> 2930 on 1..10000.
          const io = cg.read(id, { v2: 'io.weight' });
          assert.match(io, /^default 2930$/m, `io.weight: ${io}`);
        } else {
          // This v1 host has no blkio weight file (CFQ is gone, BFQ unloaded): discarded with Docker's warning.
          assert.match(r.stderr, /does not support Block I\/O weight.*Weight discarded/);
        }
      });
    },
  },
  {
    name: 'stats: memory usage and cpu time from the cgroup files',
    async run(ctx) {
      // About 4 MB held in a shell variable, and a loop that keeps one CPU a fifth busy.
      await ctx.withContainer('vmsuite-stats', ['--network', 'none', '--memory', '64m', '--cpus', '0.2', IMAGE, 'sh', '-c',
        'a=$(head -c 4000000 /dev/zero | tr "\\0" x); while :; do :; done'], async (id) => {
        const cg = ctx.cgroups;
        // Anonymous memory: the variable, not the page cache of the image's files.
        await ctx.waitFor('the container to hold its 4 MB', () => {
          const stat = cg.keyed(cg.read(id, { v2: 'memory.stat', v1: ['memory', 'memory.stat'] }));
          return (stat.get(cg.version === 2 ? 'anon' : 'total_rss') ?? 0) > 4_000_000 ? true : undefined;
        });
        const row = JSON.parse((await ctx.cli(['container', 'stats', '--no-stream', '--format', 'json', id])).stdout);
        assert.match(row.MemUsage, /^\d+(\.\d+)?MiB \/ 64MiB$/, row.MemUsage);
        const used = Number(/^[\d.]+/.exec(row.MemUsage)![0]);
        assert.ok(used >= 3.5 && used < 64, `memory in use ${row.MemUsage}`);
        assert.ok(Number.parseFloat(row.CPUPerc) > 0, `CPU % of a busy loop: ${row.CPUPerc}`);
        assert.equal(row.PIDs, cg.read(id, { v2: 'pids.current', v1: ['pids', 'pids.current'] }));
      });
    },
  },
];
