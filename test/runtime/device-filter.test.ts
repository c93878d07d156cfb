import { describe, it, expect, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCgroupMounts } from '../../src/engine/native/runtime/cgroups/index.js';
import { DEFAULT_DEVICE_RULES } from '../../src/engine/native/runtime/cgroups/types.js';
import { deviceFilterProgram, encodeProgram, OP, type Insn } from '../../src/engine/native/runtime/cgroups/device-filter.js';
import { parseDeviceRule } from '../../src/engine/device-rules.js';
import { PROBE_DEVICE, PROBE_RULE, PROBE_SCRIPT, expectedProbe } from '../support/device-probe.js';

// The runtime tests below put their containers in the unified (v2) hierarchy, where the device list is
// the eBPF program alone: this host keeps its controllers in v1, whose devices cgroup is then the root's (all allowed).
const unified = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8')).v2;
if (unified) process.env.TSCOMPOSE_CGROUP_ROOT = unified;
const { checkNoLeaks, makeRuntimeRoot, runToEnd, sh } = await import('./helpers.js');

/**
 * The eBPF device program, run by a small interpreter of the opcodes it
 * uses (the kernel's semantics for them), then loaded for real.
 */
function run(program: Insn[], access: { type: 'b' | 'c'; major: number; minor: number; access: string }): number {
  const bits = [...access.access].reduce((b, ch) => b | ({ m: 1, r: 2, w: 4 } as Record<string, number>)[ch]!, 0);
  const ctx = [((bits << 16) | (access.type === 'b' ? 1 : 2)) >>> 0, access.major, access.minor];
  const r = new Array<number>(11).fill(0);
  r[1] = -1; // the context pointer: only loads from it are meaningful
  for (let pc = 0, steps = 0; pc < program.length && steps < 10_000; pc++, steps++) {
    const i = program[pc]!;
    switch (i.code) {
      case OP.LDX_W: expect(i.src).toBe(1); r[i.dst] = ctx[i.off / 4]!; break;
      case OP.AND32_K: r[i.dst] = (r[i.dst]! & i.imm) >>> 0; break;
      case OP.RSH32_K: r[i.dst] = r[i.dst]! >>> i.imm; break;
      case OP.MOV32_X: r[i.dst] = r[i.src]! >>> 0; break;
      case OP.MOV64_K: r[i.dst] = i.imm; break;
      case OP.JNE_K: if (r[i.dst] !== i.imm) pc += i.off; break;
      case OP.JNE_X: if (r[i.dst] !== r[i.src]) pc += i.off; break;
      case OP.EXIT: return r[0]!;
      default: throw new Error(`opcode ${i.code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('ran off the end of the program');
}

const program = (lines: string[]) => deviceFilterProgram(lines.map((l) => parseDeviceRule(l)!));

describe('device rules', () => {
  it('parses Docker\'s form and nothing else', () => {
    expect(parseDeviceRule('c 1:3 mr')).toEqual({ type: 'c', major: 1, minor: 3, access: 'mr' });
    expect(parseDeviceRule('a *:* rwm')).toEqual({ type: 'a', major: undefined, minor: undefined, access: 'rwm' });
    expect(parseDeviceRule('b 8:* r')).toEqual({ type: 'b', major: 8, minor: undefined, access: 'r' });
    for (const bad of ['c 1:3', 'x 1:3 r', 'c 1:3 rx', 'c 1 r', ' c 1:3 r', 'c 4096:0 r', 'c 1:1048576 r', 'c -1:3 r', 'c 1:3 rwmr']) {
      expect(parseDeviceRule(bad), bad).toBeUndefined();
    }
  });
});

describe('the device filter program', () => {
  it('encodes one rule as the kernel reads it: prologue, type, access, major, minor, allow, deny', () => {
    const insns = program(['c 1:3 r']);
    expect(insns.map((i) => [i.code, i.dst, i.src, i.off, i.imm])).toEqual([
      [0x61, 2, 1, 0, 0], [0x54, 2, 0, 0, 0xffff], [0x61, 3, 1, 0, 0], [0x74, 3, 0, 0, 16], [0x61, 4, 1, 4, 0], [0x61, 5, 1, 8, 0],
      [0x55, 2, 0, 7, 2], // not a character device: past the block's 7 other instructions
      [0xbc, 1, 3, 0, 0], [0x54, 1, 0, 0, 2], [0x5d, 1, 3, 4, 0], // asked & r != asked
      [0x55, 4, 0, 3, 1], [0x55, 5, 0, 2, 3],
      [0xb7, 0, 0, 0, 1], [0x95, 0, 0, 0, 0],
      [0xb7, 0, 0, 0, 0], [0x95, 0, 0, 0, 0],
    ]);
    expect(encodeProgram(insns).subarray(6 * 8, 7 * 8).toString('hex')).toBe('5502070002000000');
  });

  it('allows exactly Docker\'s defaults', () => {
    const p = program([...DEFAULT_DEVICE_RULES]);
    for (const [minor, ok] of [[3, true], [5, true], [7, true], [8, true], [9, true], [1, false], [4, false], [11, false]] as const) {
      expect(run(p, { type: 'c', major: 1, minor, access: 'rw' }), `c 1:${minor}`).toBe(ok ? 1 : 0);
    }
    expect(run(p, { type: 'c', major: 136, minor: 7, access: 'rw' })).toBe(1); // a pty
    expect(run(p, { type: 'c', major: 10, minor: 200, access: 'rwm' })).toBe(1); // tun
    expect(run(p, { type: 'c', major: 10, minor: 229, access: 'r' })).toBe(0); // fuse
    expect(run(p, { type: 'b', major: 8, minor: 0, access: 'r' })).toBe(0);
    expect(run(p, { type: 'b', major: 8, minor: 0, access: 'm' })).toBe(1); // mknod of anything, as Docker
    expect(run(p, { type: 'b', major: 8, minor: 0, access: 'mr' })).toBe(0);
  });

  it('honours each permission of a rule, and wildcards', () => {
    const p = program(['c 10:229 r', 'b 8:* rw', 'c *:7 m']);
    expect(run(p, { type: 'c', major: 10, minor: 229, access: 'r' })).toBe(1);
    expect(run(p, { type: 'c', major: 10, minor: 229, access: 'w' })).toBe(0);
    expect(run(p, { type: 'c', major: 10, minor: 229, access: 'rw' })).toBe(0);
    expect(run(p, { type: 'b', major: 8, minor: 17, access: 'rw' })).toBe(1);
    expect(run(p, { type: 'c', major: 8, minor: 17, access: 'r' })).toBe(0); // the type counts
    expect(run(p, { type: 'c', major: 99, minor: 7, access: 'm' })).toBe(1);
    expect(run(p, { type: 'c', major: 99, minor: 7, access: 'r' })).toBe(0);
  });

  it('a rule for everything ends the program (no dead code for the verifier)', () => {
    const p = program(['c 1:3 rwm', 'a *:* rwm', 'c 1:5 r']);
    expect(p.at(-2)).toEqual({ code: OP.MOV64_K, dst: 0, src: 0, off: 0, imm: 1 });
    expect(p.filter((i) => i.code === OP.EXIT)).toHaveLength(2);
    expect(run(p, { type: 'b', major: 259, minor: 0, access: 'rwm' })).toBe(1);
  });
});

describe('the device list on a v2 cgroup (real kernel)', () => {
  afterEach(checkNoLeaks);

  it('refuses what the list lacks with EPERM, honours devices permissions and device_cgroup_rules; privileged has no list', async () => {
    expect(unified, 'this host has a cgroup2 mount').toBeTruthy();
    const root = await makeRuntimeRoot();
    const node = join(root.dir, 'probe-node');
    execFileSync('mknod', [node, 'c', String(PROBE_DEVICE.major), String(PROBE_DEVICE.minor)]);
    const spec = {
      ...sh(PROBE_SCRIPT),
      devices: [{ host: node, container: PROBE_DEVICE.inContainer, permissions: 'r' }],
      deviceCgroupRules: [PROBE_RULE],
    };
    const filtered = await runToEnd(root, spec);
    expect(filtered.code, filtered.out).toBe(0);
    for (const line of expectedProbe(true)) expect(filtered.stdout.split('\n'), filtered.out).toContain(line);
    // A second start of the same cgroup replaces the program (attach, then detach the old one).
    await root.runtime.start(filtered.id);
    expect((await root.runtime.waitExit(filtered.id)).exitCode).toBe(0);
    let again = '';
    for await (const e of root.runtime.logs(filtered.id)) again += `${e.line}\n`;
    expect(again.split('\n').filter((l) => l === 'probe-write Operation not permitted')).toHaveLength(2);
    const privileged = await runToEnd(root, { ...spec, privileged: true });
    for (const line of expectedProbe(false)) expect(privileged.stdout.split('\n'), privileged.out).toContain(line);
    for (const id of [filtered.id, privileged.id]) await root.runtime.remove(id, { force: true });
  });
});
