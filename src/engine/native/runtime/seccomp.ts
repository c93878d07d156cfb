import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../../util/errors.js';
import { CAPABILITIES } from './caps.js';
import { helperDir } from './helper.js';
import { DEFAULT_PROFILE, type ArgTest, type HostArch, type ProfileRule } from './seccomp-profile.js';

/**
 * The default seccomp filter: Docker's profile (seccomp-profile.ts) compiled
 * to classic BPF for a container's capabilities, installed by the helper with
 * seccomp(2).
 *
 * Syscall numbers are not written here. They come from the table the helper's
 * build writes beside it (native/syscalls.sh: the target compiler's own
 * <asm/unistd*.h>), so the filter always speaks the ABI of the helper that
 * installs it: the arm64 package's table is made by the cross compiler that
 * builds its helper, and a syscall the headers do not know is simply not
 * allowed (it then gets ENOSYS when numbered past the highest one the
 * profile names, as runc does for syscalls its libseccomp does not know).
 *
 * Each ABI's numbers are sorted into ranges of one outcome, and the filter
 * finds a number's range by binary search: ~20 instructions a syscall rather
 * than a walk down 370 comparisons.
 */

export type Abi = 'x86_64' | 'i386' | 'x32' | 'aarch64';
export type SyscallTable = Map<Abi, Map<string, number>>;

const ABIS: readonly Abi[] = ['x86_64', 'i386', 'x32', 'aarch64'];
const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_I386 = 0x40000003;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const X32_SYSCALL_BIT = 0x40000000;
const EPERM = 1;
const ENOSYS = 38;

/** "ABI NAME NUMBER", blanks around and after; a line that does not match is malformed unless blank. */
const TABLE_LINE = /^\s*(\S+)\s+(\S+)\s+(\d+)(?:\s|$)/;

/**
 * The syscall table of a helper build ("ABI NAME NUMBER" lines). Read at every container start, and
 * 1100-odd lines long: one regular expression per line (a split and two tests per line cost a
 * `container run` ~10 M instructions more).
 */
export function parseSyscallTable(text: string, source: string): SyscallTable {
  const table: SyscallTable = new Map();
  let current: Map<string, number> | undefined;
  let currentAbi = '';
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    const m = TABLE_LINE.exec(line);
    if (!m || !ABIS.includes(m[1] as Abi)) {
      if (!m && !line.trim()) continue;
      throw new UserError(`${source}: malformed line "${line}"`, 1, 'rebuild the helper: make -C native clean all');
    }
    const abi = m[1] as Abi;
    if (abi !== currentAbi) {
      current = table.get(abi);
      if (!current) table.set(abi, (current = new Map()));
      currentAbi = abi;
    }
    current!.set(m[2]!, Number(m[3]));
  }
  return table;
}

/**
 * The version of this compiler, part of the key of every filter cached across processes
 * (seccomp-cache.ts). BUMP IT with any change here or in seccomp-profile.ts's semantics that could
 * change the bytes made for the same profile data, syscall table and capabilities: an old entry
 * would otherwise be installed as the new compiler's filter.
 */
export const SECCOMP_COMPILER_VERSION = 1;

const texts = new Map<string, string>();
const tables = new Map<string, SyscallTable>();

/** The text of the table beside the helper (read once): what the filter cache digests instead of parsing it. */
export function helperSyscallTableText(dir: string = helperDir()): string {
  const path = join(dir, 'syscalls');
  let text = texts.get(path);
  if (text === undefined) {
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new UserError(`the native helper's syscall table ${path} is missing`, 1, 'run `npm run build` (make -C native writes it)');
    }
    texts.set(path, text);
  }
  return text;
}

/** The table beside the helper this process uses (read and parsed once). */
export function helperSyscallTable(dir: string = helperDir()): SyscallTable {
  const path = join(dir, 'syscalls');
  let t = tables.get(path);
  if (!t) tables.set(path, (t = parseSyscallTable(helperSyscallTableText(dir), path)));
  return t;
}

// ---- a tiny classic-BPF assembler with labels -----------------------------------------

type Target = number | string;
type Insn = { code: number; jt: Target; jf: Target; k: number | string } | { label: string };

const LD_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
const AND = 0x54; // BPF_ALU | BPF_AND | BPF_K
const JA = 0x05; // BPF_JMP | BPF_JA: k is the offset, 32 bits
const JEQ = 0x15;
const JGT = 0x25;
const JGE = 0x35;
const RET = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const retErrno = (e: number) => 0x00050000 | e;

const ld = (off: number): Insn => ({ code: LD_ABS, jt: 0, jf: 0, k: off });
const and = (mask: number): Insn => ({ code: AND, jt: 0, jf: 0, k: mask });
const jmp = (code: number, k: number, jt: Target, jf: Target): Insn => ({ code, jt, jf, k });
const ja = (to: string): Insn => ({ code: JA, jt: 0, jf: 0, k: to });
const ret = (k: number): Insn => ({ code: RET, jt: 0, jf: 0, k });
const label = (name: string): Insn => ({ label: name });

function assemble(prog: Insn[]): Buffer {
  const positions = new Map<string, number>();
  const code: Exclude<Insn, { label: string }>[] = [];
  for (const i of prog) {
    if ('label' in i) positions.set(i.label, code.length);
    else code.push(i);
  }
  if (code.length > 4096) throw new Error(`seccomp: the filter has ${code.length} instructions, more than the kernel's 4096`);
  const buf = Buffer.alloc(code.length * 8);
  code.forEach((insn, pc) => {
    const rel = (t: Target, max: number) => {
      if (typeof t === 'number') return t;
      const at = positions.get(t);
      if (at === undefined) throw new Error(`seccomp: unknown label ${t}`);
      const off = at - pc - 1;
      if (off < 0 || off > max) throw new Error(`seccomp: jump to ${t} out of range (${off})`);
      return off;
    };
    buf.writeUInt16LE(insn.code, pc * 8);
    buf.writeUInt8(rel(insn.jt, 255), pc * 8 + 2);
    buf.writeUInt8(rel(insn.jf, 255), pc * 8 + 3);
    buf.writeUInt32LE((insn.code === JA ? rel(insn.k, 0xffffffff) : (insn.k as number)) >>> 0, pc * 8 + 4);
  });
  return buf;
}

// ---- the profile, for one set of capabilities, per ABI --------------------------------

/** What happens to one syscall number: allowed, an errno, or its arguments decide. */
type Outcome = { kind: 'allow' } | { kind: 'errno'; errno: number } | { kind: 'args'; when: ArgTest[] };
// Shared, not made per number: a filter is compiled at every container start, and its garbage was most of its cost.
const ALLOW: Outcome = Object.freeze({ kind: 'allow' });
const DENY_EPERM: Outcome = Object.freeze({ kind: 'errno', errno: EPERM });
const DENY_ENOSYS: Outcome = Object.freeze({ kind: 'errno', errno: ENOSYS });

/** Whether two numbers' outcomes make one range: the same errno, both allowed, never two argument checks. */
function sameOutcome(a: Outcome, aNr: number, b: Outcome, bNr: number): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'args') return aNr === bNr;
  return a.kind === 'allow' || a.errno === (b as { errno: number }).errno;
}

function applies(rule: ProfileRule, caps: Set<string>, host: HostArch): boolean {
  if (rule.cap && !caps.has(rule.cap)) return false;
  if (rule.unlessCap && caps.has(rule.unlessCap)) return false;
  return !rule.hosts || rule.hosts.includes(host);
}

/** Each named number's outcome in one ABI, and the highest number named (past it: ENOSYS). */
function outcomes(numbers: Map<string, number>, rules: ProfileRule[]): { byNr: Map<number, Outcome>; last: number } {
  const byNr = new Map<number, Outcome>();
  let last = -1;
  for (const rule of rules) {
    for (const name of rule.names) {
      const nr = numbers.get(name);
      if (nr === undefined) continue;
      last = Math.max(last, nr);
      const had = byNr.get(nr);
      if (had?.kind === 'allow') continue; // an unconditional allow wins over anything narrower
      if (rule.action !== 'allow') byNr.set(nr, { kind: 'errno', errno: rule.action });
      else if (!rule.when) byNr.set(nr, ALLOW);
      else byNr.set(nr, { kind: 'args', when: [...(had?.kind === 'args' ? had.when : []), ...rule.when] });
    }
  }
  return { byNr, last };
}

interface Segment { lo: number; hi: number; outcome: Outcome; nr: number }

/** [base, end] cut into ranges of one outcome: named numbers as decided, the rest EPERM up to `last`, ENOSYS after. */
function segments(base: number, end: number, o: { byNr: Map<number, Outcome>; last: number }): Segment[] {
  const out: Segment[] = [];
  const push = (lo: number, hi: number, outcome: Outcome, nr: number) => {
    if (lo > hi) return;
    const prev = out[out.length - 1];
    if (prev && prev.hi === lo - 1 && sameOutcome(prev.outcome, prev.nr, outcome, nr)) prev.hi = hi;
    else out.push({ lo, hi, outcome, nr });
  };
  let at = base;
  // A typed array sorts numerically without calling back into JavaScript (every number here fits 32 bits).
  for (const nr of Uint32Array.from(o.byNr.keys()).sort()) {
    push(at, nr - 1, DENY_EPERM, -1);
    push(nr, nr, o.byNr.get(nr)!, nr);
    at = nr + 1;
  }
  push(at, Math.max(o.last, at - 1), DENY_EPERM, -1);
  push(Math.max(o.last + 1, at), end, DENY_ENOSYS, -1);
  return out;
}

// seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8i (little-endian on both our machines: low word first).
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLo = (i: number) => 16 + 8 * i;
const argHi = (i: number) => 20 + 8 * i;
const hi32 = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
const lo32 = (v: bigint) => Number(v & 0xffffffffn);

/** One argument test: jumps to `pass` or `fail`. 64-bit ABIs compare all 64 bits, high word first, as libseccomp does. */
function argTest(t: ArgTest, wide: boolean, pass: string, fail: string, id: string): Insn[] {
  const lo: Insn[] = [ld(argLo(t.arg))];
  if (t.op === 'masked-eq') lo.push(and(lo32(t.mask ?? 0n)));
  lo.push(t.op === 'lt' ? jmp(JGE, lo32(t.value), fail, pass) : jmp(t.op === 'gt' ? JGT : JEQ, lo32(t.value), pass, fail));
  if (!wide) return lo;
  const low = `${id}_lo`;
  const v = hi32(t.value);
  switch (t.op) {
    case 'eq': return [ld(argHi(t.arg)), jmp(JEQ, v, low, fail), label(low), ...lo];
    case 'masked-eq': return [ld(argHi(t.arg)), and(hi32(t.mask ?? 0n)), jmp(JEQ, v, low, fail), label(low), ...lo];
    case 'lt': return [ld(argHi(t.arg)), jmp(JGT, v, fail, 0), jmp(JEQ, v, low, pass), label(low), ...lo];
    case 'gt': return [ld(argHi(t.arg)), jmp(JGT, v, pass, 0), jmp(JEQ, v, low, fail), label(low), ...lo];
  }
}

/**
 * The binary search over one audit architecture's ranges segs[from, to), appended to `out`; argument
 * checks go to `tails`. Returns how many instructions (labels aside) it appended. Appending rather
 * than returning arrays spread into their parents' saves copying every level of the tree.
 */
function searchTree(segs: Segment[], from: number, to: number, prefix: string, wide: (nr: number) => boolean, tails: Insn[], out: Insn[]): number {
  if (to - from === 1) {
    const s = segs[from]!;
    if (s.outcome.kind !== 'args') {
      out.push(ret(s.outcome.kind === 'allow' ? RET_ALLOW : retErrno(s.outcome.errno)));
      return 1;
    }
    const at = `${prefix}_${s.nr}`;
    const when = s.outcome.when;
    tails.push(label(at));
    when.forEach((t, i) => {
      const fail = i === when.length - 1 ? `${at}_deny` : `${at}_${i + 1}`;
      tails.push(...argTest(t, wide(s.nr), `${at}_allow`, fail, `${at}_${i}`), label(fail));
    });
    tails.push(ret(retErrno(EPERM)), label(`${at}_allow`), ret(RET_ALLOW));
    out.push(ja(at));
    return 1;
  }
  const mid = (from + to) >> 1;
  const left: Insn[] = [];
  const leftSize = searchTree(segs, from, mid, prefix, wide, tails, left);
  const r = `${prefix}_r${segs[mid]!.lo}`;
  // A conditional jump reaches 255 instructions; past a bigger left half, go through a 32-bit `ja`.
  const head = leftSize <= 255 ? [jmp(JGE, segs[mid]!.lo, r, 0)] : [jmp(JGE, segs[mid]!.lo, 0, 1), ja(r)];
  out.push(...head);
  for (const i of left) out.push(i);
  out.push(label(r));
  return head.length + leftSize + searchTree(segs, mid, to, prefix, wide, tails, out);
}

/** The search tree of one audit architecture, from the load of the syscall number on. */
function abiSearch(name: string, segs: Segment[], wide: (nr: number) => boolean, tails: Insn[]): Insn[] {
  const out: Insn[] = [label(name), ld(OFF_NR)];
  searchTree(segs, 0, segs.length, name, wide, tails, out);
  return out;
}

/** The filter for a container holding `capabilities` (a mask of capability bits), as bytes of struct sock_filter. */
export function defaultSeccompFilter(capabilities: bigint, table: SyscallTable = helperSyscallTable()): Buffer {
  const caps = new Set(CAPABILITIES.filter((_, i) => (capabilities >> BigInt(i)) & 1n));
  const host: HostArch = table.has('x86_64') ? 'x64' : 'arm64';
  if (!table.has('x86_64') && !table.has('aarch64')) {
    throw new UserError(`no default seccomp profile for the helper's architecture (${[...table.keys()].join(', ')})`, 1, 'run the container with seccomp unconfined');
  }
  const rules = DEFAULT_PROFILE.filter((r) => applies(r, caps, host));
  const forAbi = (abi: Abi) => outcomes(table.get(abi) ?? new Map(), rules);
  const tails: Insn[] = [];
  // Another audit arch (arm's 32-bit ABI on arm64, which Docker allows but for which the arm64 cross compiler
  // brings no headers) cannot be judged: the process is killed, as libseccomp does for an architecture
  // missing from its filter.
  const prog: Insn[] = [ld(OFF_ARCH)];
  if (host === 'x64') {
    // One audit arch for x86_64 and x32 (whose numbers carry X32_SYSCALL_BIT); i386 (int 0x80) apart.
    const x86 = [...segments(0, X32_SYSCALL_BIT - 1, forAbi('x86_64')), ...segments(X32_SYSCALL_BIT, 0xffffffff, forAbi('x32'))];
    const i386 = segments(0, 0xffffffff, forAbi('i386'));
    prog.push(jmp(JEQ, AUDIT_ARCH_X86_64, 0, 1), ja('x86_64'), jmp(JEQ, AUDIT_ARCH_I386, 0, 1), ja('i386'), ret(RET_KILL_PROCESS));
    prog.push(...abiSearch('x86_64', x86, (nr) => nr < X32_SYSCALL_BIT, tails));
    prog.push(...abiSearch('i386', i386, () => false, tails));
  } else {
    prog.push(jmp(JEQ, AUDIT_ARCH_AARCH64, 1, 0), ret(RET_KILL_PROCESS));
    prog.push(...abiSearch('aarch64', segments(0, 0xffffffff, forAbi('aarch64')), () => true, tails));
  }
  prog.push(...tails);
  return assemble(prog);
}
