import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveCapabilities } from '../../src/engine/native/runtime/caps.js';
import { repoRoot } from '../support/cache.js';
import { defaultSeccompFilter, helperSyscallTable, parseSyscallTable, type SyscallTable } from '../../src/engine/native/runtime/seccomp.js';

/**
 * The compiled filter, run in a classic-BPF interpreter written for this test
 * (the kernel's semantics for the handful of opcodes the compiler emits) on
 * seccomp_data made up here: every ABI, argument cases, capability groups,
 * numbers past the profile. The same filter inside real containers, against
 * `docker run`, is test/runtime/seccomp.test.ts.
 */

const AUDIT = { x86_64: 0xc000003e, i386: 0x40000003, aarch64: 0xc00000b7 } as const;
const ALLOW = 'allow';
const KILL = 'kill';

function runFilter(prog: Buffer, arch: number, nr: number, args: bigint[] = []): string | number {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(nr >>> 0, 0);
  data.writeUInt32LE(arch >>> 0, 4);
  args.forEach((a, i) => data.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  let a = 0;
  for (let pc = 0, steps = 0; pc < prog.length / 8; pc++, steps++) {
    expect(steps).toBeLessThan(100); // a binary search, never a walk down the list
    const code = prog.readUInt16LE(pc * 8), jt = prog[pc * 8 + 2]!, jf = prog[pc * 8 + 3]!, k = prog.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x20: a = data.readUInt32LE(k); break;
      case 0x54: a = (a & k) >>> 0; break;
      case 0x05: pc += k; break;
      case 0x15: pc += a === k ? jt : jf; break;
      case 0x25: pc += a > k ? jt : jf; break;
      case 0x35: pc += a >= k ? jt : jf; break;
      case 0x06:
        if (k === 0x7fff0000) return ALLOW;
        if ((k & 0xffff0000) === 0x00050000) return k & 0xffff;
        if (k === 0x80000000) return KILL;
        throw new Error(`unexpected return ${k.toString(16)}`);
      default: throw new Error(`unexpected opcode ${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('fell off the end of the filter');
}

const EPERM = 1;
const ENOSYS = 38;
const CLONE_NEWUSER = 0x10000000n;
const SIGCHLD = 17n;

function checker(table: SyscallTable, abi: 'x86_64' | 'i386' | 'x32' | 'aarch64', caps: bigint) {
  const prog = defaultSeccompFilter(caps, table);
  const arch = abi === 'x32' ? AUDIT.x86_64 : AUDIT[abi];
  return (name: string | number, args: bigint[] = []) => {
    const nr = typeof name === 'number' ? name : table.get(abi)!.get(name);
    if (nr === undefined) throw new Error(`${abi} has no ${name}`);
    return runFilter(prog, arch, nr, args);
  };
}

describe('the default seccomp filter, interpreted', () => {
  const x64 = helperSyscallTable();

  it('x86_64: an allow-list with Docker\'s argument filters, capability groups and ENOSYS past the profile', () => {
    const call = checker(x64, 'x86_64', resolveCapabilities({}));
    for (const n of ['read', 'openat', 'clone', 'execve', 'ptrace', 'arch_prctl', 'io_setup', 'name_to_handle_at', 'chroot']) expect(call(n, n === 'clone' ? [SIGCHLD] : []), n).toBe(ALLOW);
    for (const n of ['mount', 'umount2', 'unshare', 'setns', 'keyctl', 'add_key', 'request_key', 'kexec_load', 'reboot', 'bpf', 'perf_event_open',
      'userfaultfd', 'io_uring_setup', 'open_by_handle_at', 'init_module', 'acct', 'swapon', 'syslog', 'clock_settime', 'pidfd_getfd',
      'move_mount', 'fsopen', 'mbind', 'iopl', 'uselib', 'nfsservctl', '_sysctl', 'vhangup', 'lookup_dcookie', 'sethostname']) {
      expect(call(n), n).toBe(EPERM);
    }
    expect(call('clone', [SIGCHLD | CLONE_NEWUSER])).toBe(EPERM);
    expect(call('clone', [SIGCHLD | (1n << 32n)])).toBe(ALLOW); // the flags are an unsigned long: only the mask counts
    expect(call('clone3')).toBe(ENOSYS);
    for (const p of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) expect(call('personality', [p]), p.toString(16)).toBe(ALLOW);
    for (const p of [0x40000n, 0x400000n, 0x1_00000000n, -1n]) expect(call('personality', [p]), p.toString(16)).toBe(EPERM);
    for (const f of [1n, 2n, 10n, 16n, 17n, 37n, 39n, 41n, 44n, 0x1_00000000n]) expect(call('socket', [f]), `family ${f}`).toBe(ALLOW);
    for (const f of [38n, 40n]) expect(call('socket', [f]), `family ${f}`).toBe(EPERM);
    // Past the highest syscall the profile names: ENOSYS, as runc's stub gives; in a hole below it: EPERM.
    expect(call(1000)).toBe(ENOSYS);
    expect(call(0x3fffffff)).toBe(ENOSYS);
    expect(call(0xffffffff)).toBe(ENOSYS);
    expect(call(335)).toBe(EPERM); // uretprobe: newer than this build's headers, in the middle of the table
  });

  it('capabilities open their groups, as Docker\'s includes and excludes do', () => {
    const admin = checker(x64, 'x86_64', resolveCapabilities({ capAdd: ['SYS_ADMIN'] }));
    for (const n of ['mount', 'umount2', 'unshare', 'setns', 'bpf', 'perf_event_open', 'syslog', 'fsopen', 'move_mount', 'clone3', 'sethostname']) expect(admin(n), n).toBe(ALLOW);
    expect(admin('clone', [CLONE_NEWUSER])).toBe(ALLOW);
    for (const n of ['keyctl', 'add_key', 'kexec_load', 'reboot', 'userfaultfd', 'io_uring_setup', 'init_module']) expect(admin(n), n).toBe(EPERM);
    const groups: Array<[string, string[]]> = [
      ['SYS_PTRACE', ['kcmp', 'pidfd_getfd', 'process_madvise']], ['SYS_MODULE', ['init_module', 'finit_module', 'delete_module']],
      ['SYS_BOOT', ['reboot']], ['SYSLOG', ['syslog']], ['SYS_TIME', ['clock_settime', 'settimeofday']], ['SYS_NICE', ['mbind', 'set_mempolicy']],
      ['SYS_RAWIO', ['iopl', 'ioperm']], ['SYS_PACCT', ['acct']], ['BPF', ['bpf']], ['PERFMON', ['perf_event_open']],
      ['DAC_READ_SEARCH', ['open_by_handle_at']], ['SYS_TTY_CONFIG', ['vhangup']],
    ];
    for (const [cap, names] of groups) {
      const call = checker(x64, 'x86_64', resolveCapabilities({ capAdd: [cap] }));
      for (const n of names) expect(call(n), `${cap}: ${n}`).toBe(ALLOW);
      expect(call('mount'), `${cap}: mount`).toBe(EPERM);
    }
    // chroot is in Docker's default set; dropping everything takes it away.
    const none = checker(x64, 'x86_64', resolveCapabilities({ capDrop: ['ALL'] }));
    expect([none('chroot'), none('read'), none('clone3')]).toEqual([EPERM, ALLOW, ENOSYS]);
    // set_mempolicy_home_node (450) is the highest number with SYS_NICE: 450 itself is then allowed, not ENOSYS.
    expect(checker(x64, 'x86_64', resolveCapabilities({ capAdd: ['SYS_NICE'] }))(450)).toBe(ALLOW);
    expect(checker(x64, 'x86_64', resolveCapabilities({}))(450)).toBe(ENOSYS);
  });

  it('i386 and x32 are judged with their own numbers; any other architecture is killed', () => {
    const caps = resolveCapabilities({});
    const i386 = checker(x64, 'i386', caps);
    expect([i386('getpid'), i386('socketcall'), i386('mount'), i386('unshare'), i386('clone3'), i386(1000)]).toEqual([ALLOW, ALLOW, EPERM, EPERM, ENOSYS, ENOSYS]);
    expect([i386('socket', [40n]), i386('socket', [2n]), i386('personality', [0x40000n]), i386('personality', [8n])]).toEqual([EPERM, ALLOW, EPERM, ALLOW]);
    expect(i386('personality', [0xffffffffn | (1n << 32n)])).toBe(ALLOW); // 32-bit arguments: the high word is not looked at
    expect(i386('modify_ldt')).toBe(ALLOW);
    const x32 = checker(x64, 'x32', caps);
    expect([x32('getpid'), x32('rt_sigaction'), x32('mount'), x32('clone', [CLONE_NEWUSER]), x32('clone3'), x32(0x40000000 + 2000)]).toEqual([ALLOW, ALLOW, EPERM, EPERM, ENOSYS, ENOSYS]);
    const prog = defaultSeccompFilter(caps, x64);
    expect(runFilter(prog, 0x40000028 /* AUDIT_ARCH_ARM */, 20)).toBe(KILL);
  });

  it('arm64: the table the cross compiler\'s headers give, and the same decisions', () => {
    const out = mkdtempSync(join(tmpdir(), 'tsc-seccomp-arm64-'));
    try {
      execFileSync('make', ['-s', '-C', join(repoRoot, 'native'), `OUT=${out}`, 'CC=aarch64-linux-gnu-gcc', `${out}/syscalls`]);
      const table = parseSyscallTable(readFileSync(join(out, 'syscalls'), 'utf8'), 'arm64');
      expect([...table.keys()]).toEqual(['aarch64']);
      // Numbers of the generic table, not x86-64's: the proof that they come from the target's headers.
      expect([table.get('aarch64')!.get('mount'), table.get('aarch64')!.get('clone'), table.get('aarch64')!.get('personality')]).toEqual([40, 220, 92]);
      const call = checker(table, 'aarch64', resolveCapabilities({}));
      expect([call('read'), call('openat'), call('mount'), call('unshare'), call('clone3'), call('set_tid_address')]).toEqual([ALLOW, ALLOW, EPERM, EPERM, ENOSYS, ALLOW]);
      expect([call('clone', [SIGCHLD]), call('clone', [CLONE_NEWUSER]), call('socket', [40n]), call('socket', [2n]), call('personality', [0x40000n])]).toEqual([ALLOW, EPERM, EPERM, ALLOW, EPERM]);
      expect(call(1000)).toBe(ENOSYS);
      expect(runFilter(defaultSeccompFilter(resolveCapabilities({}), table), AUDIT.x86_64, 0)).toBe(KILL);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
