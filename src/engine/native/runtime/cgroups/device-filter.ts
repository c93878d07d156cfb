import { parseDeviceRule, type DeviceRule } from '../../../device-rules.js';

/**
 * The device allow-list of a container on cgroup v2, as an eBPF program of
 * type BPF_PROG_TYPE_CGROUP_DEVICE (v2 has no devices.allow file). The kernel
 * runs it on every open, mknod and access of a device node by a process of
 * the cgroup, with a context of three u32: access_type ((access << 16) |
 * type), major, minor; a return of 0 refuses with EPERM. The rules are the
 * same "TYPE MAJOR:MINOR ACCESS" lines v1 writes into devices.allow (Docker's
 * defaults, the container's `devices` and `device_cgroup_rules`), all of
 * them allow rules on a deny-everything base, so their order does not matter.
 * The helper loads the bytes as they are (native/devices.c).
 */

// The context's fields and values (linux/bpf.h: struct bpf_cgroup_dev_ctx, BPF_DEVCG_*).
const DEV_BLOCK = 1;
const DEV_CHAR = 2;
const ACCESS_BITS: Record<string, number> = { m: 1, r: 2, w: 4 };

// The few opcodes used (linux/bpf_common.h, linux/bpf.h): class | operation | source.
export const OP = {
  /** dst = *(u32 *)(src + off) */
  LDX_W: 0x61,
  /** 32-bit dst &= imm, dst >>= imm, dst = src */
  AND32_K: 0x54,
  RSH32_K: 0x74,
  MOV32_X: 0xbc,
  /** dst = imm (64-bit move, for r0) */
  MOV64_K: 0xb7,
  /** if dst != imm / dst != src: pc += off */
  JNE_K: 0x55,
  JNE_X: 0x5d,
  EXIT: 0x95,
} as const;

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

/**
 * The program for the rules. Registers: r1 the context on entry, then
 * scratch; r2 the device type, r3 the access asked, r4 major, r5 minor.
 * Each rule is a block of tests, each jumping past the block on a mismatch,
 * ending in "return 1"; after the last block, "return 0".
 */
export function deviceFilterProgram(rules: readonly DeviceRule[]): Insn[] {
  const prologue = [
    insn(OP.LDX_W, 2, 1, 0, 0),
    insn(OP.AND32_K, 2, 0, 0, 0xffff),
    insn(OP.LDX_W, 3, 1, 0, 0),
    insn(OP.RSH32_K, 3, 0, 0, 16),
    insn(OP.LDX_W, 4, 1, 4, 0),
    insn(OP.LDX_W, 5, 1, 8, 0),
  ];
  const allow = [insn(OP.MOV64_K, 0, 0, 0, 1), insn(OP.EXIT, 0, 0, 0, 0)];
  const blocks: Insn[][] = [];
  for (const rule of rules) {
    // Each test as (jump offset) => instructions; the offset is known once the block's length is.
    const tests: Array<(skip: number) => Insn[]> = [];
    if (rule.type !== 'a') tests.push((skip) => [insn(OP.JNE_K, 2, 0, skip, rule.type === 'b' ? DEV_BLOCK : DEV_CHAR)]);
    const mask = [...rule.access].reduce((bits, ch) => bits | (ACCESS_BITS[ch] ?? 0), 0);
    if (mask !== 7) {
      // Every access asked must be among the allowed: (asked & allowed) == asked.
      tests.push((skip) => [insn(OP.MOV32_X, 1, 3, 0, 0), insn(OP.AND32_K, 1, 0, 0, mask), insn(OP.JNE_X, 1, 3, skip, 0)]);
    }
    if (rule.major !== undefined) tests.push((skip) => [insn(OP.JNE_K, 4, 0, skip, rule.major!)]);
    if (rule.minor !== undefined) tests.push((skip) => [insn(OP.JNE_K, 5, 0, skip, rule.minor!)]);
    const sizes = tests.map((t) => t(0).length);
    let remaining = sizes.reduce((a, b) => a + b, 0) + allow.length;
    const block: Insn[] = [];
    for (const [i, test] of tests.entries()) {
      remaining -= sizes[i]!;
      // A jump is relative to the instruction after it: past the rest of the block, the allow included.
      block.push(...test(remaining));
    }
    blocks.push([...block, ...allow]);
    // A rule that matches everything makes the rest unreachable, and the verifier refuses dead code.
    if (!tests.length) return [...prologue, ...blocks.flat()];
  }
  return [...prologue, ...blocks.flat(), insn(OP.MOV64_K, 0, 0, 0, 0), insn(OP.EXIT, 0, 0, 0, 0)];
}

/** struct bpf_insn as the kernel reads it (little-endian hosts: dst in the low nibble). */
export function encodeProgram(program: readonly Insn[]): Buffer {
  const buf = Buffer.alloc(program.length * 8);
  program.forEach((i, n) => {
    buf.writeUInt8(i.code, n * 8);
    buf.writeUInt8((i.src << 4) | i.dst, n * 8 + 1);
    buf.writeInt16LE(i.off, n * 8 + 2);
    buf.writeInt32LE(i.imm, n * 8 + 4);
  });
  return buf;
}

/** The program for v1-style rule lines (all valid: Docker's defaults, or checked at create). */
export function deviceFilterFor(lines: readonly string[]): Buffer {
  const rules = lines.map((line) => {
    const rule = parseDeviceRule(line);
    if (!rule) throw new Error(`device rule "${line}" is malformed`);
    return rule;
  });
  return encodeProgram(deviceFilterProgram(rules));
}
