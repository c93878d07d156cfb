import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDockerd } from '../support/docker.js';
import { busyboxRootfsTar } from '../support/images.js';
import { repoRoot } from '../support/cache.js';
import { checkNoLeaks, makeRuntimeRoot, runToEnd, sh } from './helpers.js';

/**
 * The seccomp allow-list against Docker's: a static program
 * (fixtures/syscall-probe.c) makes 86 calls, ordinary and exotic syscalls, with
 * the argument cases of the profile (clone's namespace flags, personality
 * values, socket families, i386 and x32 entry points, numbers past the
 * table), inside the same image on both engines, with the same capability
 * options; every row's result (ok, or the errno) must be the same.
 *
 * Our profile is Docker 29.5's (moby/profiles seccomp v0.2.3). Where this
 * machine's dockerd predates a change Docker made to its profile since, the
 * row is allowed to differ in exactly that way, and only that way: the newer
 * profile refuses (EPERM here, not there) or allows (refused there, not here).
 */
const CHANGED_SINCE: Record<string, { version: number[]; now: 'refuses' | 'allows'; change: string }> = {
  process_vm_readv: { version: [23, 0, 0], now: 'allows', change: 'process_vm_readv/writev allowed on kernels >= 4.8' },
  socket_vsock: { version: [24, 0, 0], now: 'refuses', change: 'socket(AF_VSOCK) refused' },
  i386_socket_vsock: { version: [24, 0, 0], now: 'refuses', change: 'socket(AF_VSOCK) refused' },
  io_uring_setup: { version: [25, 0, 0], now: 'refuses', change: 'io_uring_* refused' },
  name_to_handle_at: { version: [25, 0, 0], now: 'allows', change: 'name_to_handle_at allowed without CAP_SYS_ADMIN' },
  socket_alg: { version: [29, 5, 0], now: 'refuses', change: 'socket(AF_ALG) refused' },
  nr_450: { version: [26, 0, 0], now: 'allows', change: 'set_mempolicy_home_node allowed with CAP_SYS_NICE' },
};

const CASES: Array<{ name: string; docker: string[]; ours: { capAdd?: string[]; capDrop?: string[]; seccomp?: 'unconfined' } }> = [
  { name: 'default capabilities', docker: [], ours: {} },
  { name: 'cap_add SYS_ADMIN', docker: ['--cap-add', 'SYS_ADMIN'], ours: { capAdd: ['SYS_ADMIN'] } },
  {
    name: 'cap_add SYS_PTRACE, SYS_BOOT, SYS_TIME, SYSLOG, SYS_NICE, SYS_PACCT, DAC_READ_SEARCH',
    docker: ['--cap-add', 'SYS_PTRACE', '--cap-add', 'SYS_BOOT', '--cap-add', 'SYS_TIME', '--cap-add', 'SYSLOG', '--cap-add', 'SYS_NICE', '--cap-add', 'SYS_PACCT', '--cap-add', 'DAC_READ_SEARCH'],
    ours: { capAdd: ['SYS_PTRACE', 'SYS_BOOT', 'SYS_TIME', 'SYSLOG', 'SYS_NICE', 'SYS_PACCT', 'DAC_READ_SEARCH'] },
  },
  { name: 'cap_drop ALL', docker: ['--cap-drop', 'ALL'], ours: { capDrop: ['ALL'] } },
  { name: 'seccomp=unconfined', docker: ['--security-opt', 'seccomp=unconfined'], ours: { seccomp: 'unconfined' } },
];

const tag = `tsc-rt-seccomp:${randomBytes(4).toString('hex')}`;
let tools = '';
let dockerVersion: number[] = [];

beforeAll(async () => {
  await ensureDockerd();
  tools = mkdtempSync(join(tmpdir(), 'tsc-seccomp-probe-'));
  execFileSync('gcc', ['-static', '-O2', '-Wall', '-Werror', '-o', join(tools, 'probe'), join(repoRoot, 'test/runtime/fixtures/syscall-probe.c')]);
  execFileSync('docker', ['import', await busyboxRootfsTar(), tag], { stdio: 'ignore' });
  dockerVersion = execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' }).trim().split(/[.+~-]/).slice(0, 3).map(Number);
}, 300_000);
afterAll(() => {
  execFileSync('docker', ['rmi', '-f', tag], { stdio: 'ignore' });
  if (tools) rmSync(tools, { recursive: true, force: true });
});
afterEach(checkNoLeaks);

const older = (a: number[], b: number[]) => {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
};

/** What a filter's refusal looks like: EPERM, or ENOSYS past the highest syscall the profile names. */
const refused = (result: string) => result === 'EPERM' || result === 'ENOSYS';

function rows(out: string): Map<string, string> {
  return new Map(out.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

describe('seccomp: the same syscalls allowed and refused as `docker run`', () => {
  it.each(CASES)('$name', async ({ docker, ours, name }) => {
    const d = rows(execFileSync('docker', ['run', '--rm', '--network', 'none', '-v', `${tools}:/tools:ro`, ...docker, tag, '/tools/probe'], { encoding: 'utf8' }));
    const root = await makeRuntimeRoot();
    const run = await runToEnd(root, { mounts: [{ type: 'bind', source: tools, target: '/tools', readOnly: true }], cmd: ['/tools/probe'], ...ours });
    await root.runtime.remove(run.id);
    expect(run.code, run.stderr).toBe(0);
    const o = rows(run.stdout);
    expect([...o.keys()]).toEqual([...d.keys()]);
    expect(o.size).toBeGreaterThan(60);

    const differing: string[] = [];
    const explained: string[] = [];
    for (const [row, mine] of o) {
      const theirs = d.get(row)!;
      if (mine === theirs) continue;
      const change = CHANGED_SINCE[row];
      const flip = change && !ours.seccomp && older(dockerVersion, change.version) &&
        (change.now === 'refuses' ? mine === 'EPERM' && theirs !== 'EPERM' : refused(theirs) && !refused(mine));
      (flip ? explained : differing).push(`${row.padEnd(32)} ours ${mine.padEnd(14)} docker ${theirs}${flip ? `  (Docker ${change.version.join('.')}: ${change.change})` : ''}`);
    }
    if (explained.length) console.log(`${name}: rows where dockerd ${dockerVersion.join('.')} predates a change to Docker's profile:\n  ${explained.join('\n  ')}`);
    expect(differing, `${name}: rows that differ from docker run\n  ${differing.join('\n  ')}`).toEqual([]);

    // What the rows must show whatever the daemon: the filter is on (or off) and decides as Docker's profile does.
    if (ours.seccomp) {
      expect(o.get('personality_no_aslr')).toBe('ok');
      expect(o.get('clone3')).not.toBe('ENOSYS');
    } else {
      const admin = !!ours.capAdd?.includes('SYS_ADMIN');
      expect(o.get('clone3')).toBe(admin ? 'EINVAL' : 'ENOSYS');
      expect(o.get('clone_newuser')).toBe(admin ? 'ok' : 'EPERM');
      expect([o.get('personality_no_aslr'), o.get('personality_query'), o.get('socket_vsock'), o.get('keyctl'), o.get('nr_1000')]).toEqual(['EPERM', 'ok', 'EPERM', 'EPERM', 'ENOSYS']);
      expect(o.get('mount')).toBe(admin ? 'ENOENT' : 'EPERM');
      expect(o.get('io_uring_setup')).toBe('EPERM');
    }
  }, 120_000);

  it('an exec --privileged gets every capability and keeps the container\'s filter', async () => {
    // Docker's semantics (runc applies the container's seccomp config to every exec'd process); this
    // host's dockerd 20.10 cannot show it: its runc refuses the privileged exec ("unable to apply caps").
    const root = await makeRuntimeRoot();
    const id = await root.create({ mounts: [{ type: 'bind', source: tools, target: '/tools', readOnly: true }], cmd: ['sleep', '120'] });
    await root.runtime.start(id);
    const r = await root.runtime.execCapture(id, { cmd: ['/tools/probe'], privileged: true });
    const caps = await root.runtime.execCapture(id, { cmd: ['grep', 'CapEff', '/proc/self/status'], privileged: true });
    await root.runtime.remove(id, { force: true });
    expect(r.exitCode, r.stderr).toBe(0);
    const sysAdmin = 1n << 21n;
    expect(BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(caps.stdout)?.[1] ?? '0'}`) & sysAdmin).toBe(sysAdmin);
    const o = rows(r.stdout);
    // What CAP_SYS_ADMIN would open under a filter made for it stays shut under the container's.
    expect(['mount', 'clone_newuser', 'unshare_newuts', 'setns', 'bpf', 'clone3'].map((row) => `${row} ${o.get(row)}`))
      .toEqual(['mount EPERM', 'clone_newuser EPERM', 'unshare_newuts EPERM', 'setns EPERM', 'bpf EPERM', 'clone3 ENOSYS']);
  }, 120_000);

  it('a busybox shell and its common tools run under the filter as they do unconfined', async () => {
    const root = await makeRuntimeRoot();
    const script = [
      'ls / | wc -l', 'ps -o comm | head -2', 'date +%Y >/dev/null && echo date', 'df / >/dev/null && echo df', 'id', 'uname -s', 'nproc >/dev/null && echo nproc',
      'mkdir -p /tmp/a/b && echo hi >/tmp/a/b/f && cp -a /tmp/a /tmp/c && mv /tmp/c /tmp/d && cat /tmp/d/b/f', 'ln -s /tmp/d /tmp/l && readlink /tmp/l',
      'tar -C /tmp -cf /tmp/t.tar d && tar -tf /tmp/t.tar | sort', 'gzip -c /etc/passwd | gunzip | head -1', 'find /etc -name passwd', 'sort -r /etc/group | head -1 >/dev/null && echo sort',
      'awk -F: \'$1=="root"{print $7}\' /etc/passwd', 'sed -n 1p /etc/passwd', 'seq 3 | xargs echo', 'sleep 0.1 & wait $! && echo waited', 'timeout 1 true && echo timeout',
      'chmod 600 /tmp/d/b/f && stat -c %a /tmp/d/b/f', 'touch -d "2020-01-01 00:00:00" /tmp/d/b/f && stat -c %Y /tmp/d/b/f', 'mkfifo /tmp/p && echo fifo', 'renice -n 5 $$ >/dev/null && echo nice',
      'kill -0 $$ && echo kill', 'trap "echo trapped" USR1; kill -USR1 $$', 'grep -c " / " /proc/mounts',
    ].join('; ');
    const confined = await runToEnd(root, sh(script));
    const unconfined = await runToEnd(root, { ...sh(script), seccomp: 'unconfined' });
    for (const r of [confined, unconfined]) await root.runtime.remove(r.id);
    expect(confined.code, confined.out).toBe(0);
    expect(confined.stderr).toBe('');
    expect(confined.stdout).toBe(unconfined.stdout);
    expect(confined.stdout).toContain('hi\n/tmp/d\nd/\nd/b/\nd/b/f\nroot:x:0:0:root:/root:/bin/sh\n');
    expect(confined.stdout).toContain('waited\ntimeout\n600\n1577836800\nfifo\nnice\nkill\ntrapped\n1\n');
  }, 60_000);
});
