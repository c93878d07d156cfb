import { UserError } from '../../../util/errors.js';
import { CAPABILITIES } from './caps.js';

/**
 * The default seccomp filter, generated here as classic BPF and installed by
 * the helper with seccomp(2). Docker's profile is an allow-list of some 350
 * syscalls; this is the complement that matters: the syscalls Docker refuses
 * to a container lacking the capability that would make them legitimate
 * (namespaces, mounts, keyrings, modules, kexec, bpf, perf, userfaultfd,
 * io_uring...), clone with namespace flags, clone3 (ENOSYS, so libc falls
 * back to clone whose flags can be checked), AF_VSOCK sockets, and the x32
 * ABI. Every other syscall is left to the kernel's own permission checks.
 */

const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_I386 = 0x40000003;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const X32_SYSCALL_BIT = 0x40000000;
const CLONE_NS_FLAGS = 0x7e020000;
const AF_VSOCK = 40;
const EPERM = 1;
const ENOSYS = 38;

/** name: [x86_64, i386, aarch64] syscall numbers (-1: absent), and the capabilities that make it allowed. */
const DENIED: Record<string, [number, number, number, string[]]> = {
  acct: [163, 51, 89, ['SYS_PACCT']],
  add_key: [248, 286, 217, []],
  bpf: [321, 357, 280, ['SYS_ADMIN', 'BPF']],
  clock_adjtime: [305, 343, 266, ['SYS_TIME']],
  clock_settime: [227, 264, 112, ['SYS_TIME']],
  settimeofday: [164, 79, 170, ['SYS_TIME']],
  stime: [-1, 25, -1, ['SYS_TIME']],
  create_module: [174, 127, -1, ['SYS_MODULE']],
  init_module: [175, 128, 105, ['SYS_MODULE']],
  finit_module: [313, 350, 273, ['SYS_MODULE']],
  delete_module: [176, 129, 106, ['SYS_MODULE']],
  get_kernel_syms: [177, 130, -1, []],
  query_module: [178, 167, -1, []],
  get_mempolicy: [239, 275, 236, ['SYS_NICE']],
  set_mempolicy: [238, 276, 237, ['SYS_NICE']],
  mbind: [237, 274, 235, ['SYS_NICE']],
  move_pages: [279, 317, 239, ['SYS_NICE']],
  ioperm: [173, 101, -1, ['SYS_RAWIO']],
  iopl: [172, 110, -1, ['SYS_RAWIO']],
  kcmp: [312, 349, 272, ['SYS_PTRACE']],
  process_vm_readv: [310, 347, 270, ['SYS_PTRACE']],
  process_vm_writev: [311, 348, 271, ['SYS_PTRACE']],
  pidfd_getfd: [438, 438, 438, ['SYS_PTRACE']],
  userfaultfd: [323, 374, 282, ['SYS_PTRACE']],
  kexec_load: [246, 283, 104, ['SYS_BOOT']],
  kexec_file_load: [320, -1, 294, ['SYS_BOOT']],
  reboot: [169, 88, 142, ['SYS_BOOT']],
  keyctl: [250, 288, 219, []],
  request_key: [249, 287, 218, []],
  lookup_dcookie: [212, 253, 18, ['SYS_ADMIN']],
  mount: [165, 21, 40, ['SYS_ADMIN']],
  umount: [-1, 22, -1, ['SYS_ADMIN']],
  umount2: [166, 52, 39, ['SYS_ADMIN']],
  pivot_root: [155, 217, 41, ['SYS_ADMIN']],
  setns: [308, 346, 268, ['SYS_ADMIN']],
  unshare: [272, 310, 97, ['SYS_ADMIN']],
  open_tree: [428, 428, 428, ['SYS_ADMIN']],
  move_mount: [429, 429, 429, ['SYS_ADMIN']],
  fsopen: [430, 430, 430, ['SYS_ADMIN']],
  fsconfig: [431, 431, 431, ['SYS_ADMIN']],
  fsmount: [432, 432, 432, ['SYS_ADMIN']],
  fspick: [433, 433, 433, ['SYS_ADMIN']],
  mount_setattr: [442, 442, 442, ['SYS_ADMIN']],
  name_to_handle_at: [303, 341, 264, ['SYS_ADMIN']],
  open_by_handle_at: [304, 342, 265, ['DAC_READ_SEARCH']],
  fanotify_init: [300, 338, 262, ['SYS_ADMIN']],
  nfsservctl: [180, 169, 42, []],
  perf_event_open: [298, 336, 241, ['SYS_ADMIN', 'PERFMON']],
  quotactl: [179, 131, 60, ['SYS_ADMIN']],
  quotactl_fd: [443, 443, 443, ['SYS_ADMIN']],
  swapon: [167, 87, 224, ['SYS_ADMIN']],
  swapoff: [168, 115, 225, ['SYS_ADMIN']],
  sysfs: [139, 135, -1, []],
  _sysctl: [156, 149, -1, []],
  syslog: [103, 103, 116, ['SYS_ADMIN', 'SYSLOG']],
  uselib: [134, 86, -1, []],
  ustat: [136, 62, -1, []],
  vm86: [-1, 166, -1, []],
  vm86old: [-1, 113, -1, []],
  vhangup: [153, 111, 58, ['SYS_TTY_CONFIG']],
  io_uring_setup: [425, 425, 425, []],
  io_uring_enter: [426, 426, 426, []],
  io_uring_register: [427, 427, 427, []],
};

/** [clone, clone3, socket, personality] per arch; i386 multiplexes socket through socketcall, which cannot be inspected. */
const SPECIAL: Record<'x86_64' | 'i386' | 'aarch64', [number, number, number, number]> = {
  x86_64: [56, 435, 41, 135],
  i386: [120, 435, 359, 136],
  aarch64: [220, 435, 198, 92],
};

/**
 * The personality(2) values Docker's profile lets through: PER_LINUX, PER_LINUX32,
 * UNAME26 and both, and the query. ADDR_NO_RANDOMIZE and the rest are refused
 * (they weaken ASLR, or reach old ABI quirks). The kernel takes an unsigned int:
 * the low 32 bits of the argument are all that counts.
 */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

// ---- a tiny classic-BPF assembler with forward labels -------------------------------

type Insn = { code: number; jt: number | string; jf: number | string; k: number } | { label: string };

const LD_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const JSET = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const RET = 0x06; // BPF_RET | BPF_K
const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const retErrno = (e: number) => 0x00050000 | e;

const ld = (off: number): Insn => ({ code: LD_ABS, jt: 0, jf: 0, k: off });
const jmp = (code: number, k: number, jt: number | string, jf: number | string): Insn => ({ code, jt, jf, k });
const ret = (k: number): Insn => ({ code: RET, jt: 0, jf: 0, k });
const label = (name: string): Insn => ({ label: name });

function assemble(prog: Insn[]): Buffer {
  const positions = new Map<string, number>();
  const code: Exclude<Insn, { label: string }>[] = [];
  for (const i of prog) {
    if ('label' in i) positions.set(i.label, code.length);
    else code.push(i);
  }
  const buf = Buffer.alloc(code.length * 8);
  code.forEach((insn, pc) => {
    const rel = (t: number | string) => {
      if (typeof t === 'number') return t;
      const at = positions.get(t);
      if (at === undefined) throw new Error(`seccomp: unknown label ${t}`);
      const off = at - pc - 1;
      if (off < 0 || off > 255) throw new Error(`seccomp: jump to ${t} out of range (${off})`);
      return off;
    };
    buf.writeUInt16LE(insn.code, pc * 8);
    buf.writeUInt8(rel(insn.jt), pc * 8 + 2);
    buf.writeUInt8(rel(insn.jf), pc * 8 + 3);
    buf.writeUInt32LE(insn.k >>> 0, pc * 8 + 4);
  });
  return buf;
}

const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARG0 = 16; // args[0], low 32 bits on a little-endian machine

function archBlock(arch: 'x86_64' | 'i386' | 'aarch64', caps: Set<string>): Insn[] {
  const col = arch === 'x86_64' ? 0 : arch === 'i386' ? 1 : 2;
  const [clone, clone3, socket, personality] = SPECIAL[arch];
  const out: Insn[] = [label(arch), ld(OFF_NR)];
  if (arch === 'x86_64') out.push(jmp(JGE, X32_SYSCALL_BIT, 'deny', 0));
  for (const [, row] of Object.entries(DENIED)) {
    const nr = row[col] as number;
    const allowedBy = row[3];
    if (nr < 0 || allowedBy.some((c) => caps.has(c))) continue;
    out.push(jmp(JEQ, nr, 'deny', 0));
  }
  if (!caps.has('SYS_ADMIN')) {
    out.push(jmp(JEQ, clone3, 'enosys', 0));
    out.push(jmp(JEQ, clone, `${arch}_clone`, 0));
  }
  out.push(jmp(JEQ, personality, `${arch}_personality`, 0));
  out.push(jmp(JEQ, socket, `${arch}_socket`, 'allow'));
  if (!caps.has('SYS_ADMIN')) out.push(label(`${arch}_clone`), ld(OFF_ARG0), jmp(JSET, CLONE_NS_FLAGS, 'deny', 'allow'));
  out.push(label(`${arch}_socket`), ld(OFF_ARG0), jmp(JEQ, AF_VSOCK, 'deny', 'allow'));
  out.push(label(`${arch}_personality`), ld(OFF_ARG0));
  PERSONALITIES.forEach((p, i) => out.push(jmp(JEQ, p, 'allow', i === PERSONALITIES.length - 1 ? 'deny' : 0)));
  return out;
}

/** The filter for a container holding `capabilities` (a mask of capability bits), as bytes of struct sock_filter. */
export function defaultSeccompFilter(capabilities: bigint, machine: string = process.arch): Buffer {
  const caps = new Set(CAPABILITIES.filter((_, i) => (capabilities >> BigInt(i)) & 1n));
  let prog: Insn[];
  if (machine === 'x64') {
    prog = [
      ld(OFF_ARCH),
      jmp(JEQ, AUDIT_ARCH_X86_64, 'x86_64', 0),
      jmp(JEQ, AUDIT_ARCH_I386, 'i386', 'kill'),
      ...archBlock('x86_64', caps),
      ...archBlock('i386', caps),
    ];
  } else if (machine === 'arm64') {
    prog = [ld(OFF_ARCH), jmp(JEQ, AUDIT_ARCH_AARCH64, 'aarch64', 'kill'), ...archBlock('aarch64', caps)];
  } else {
    throw new UserError(`no default seccomp profile for the ${machine} architecture`, 1, 'run the container with seccomp unconfined');
  }
  prog.push(label('allow'), ret(RET_ALLOW), label('deny'), ret(retErrno(EPERM)), label('enosys'), ret(retErrno(ENOSYS)), label('kill'), ret(RET_KILL_PROCESS));
  return assemble(prog);
}
