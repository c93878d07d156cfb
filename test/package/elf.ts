import { readFileSync } from 'node:fs';

const MACHINES: Record<number, string> = { 62: 'x86-64', 183: 'aarch64' };

/** What a test needs to know of an executable: its architecture, and whether it is static (no program interpreter, PT_INTERP). */
export function elfFacts(file: string): { machine: string; static: boolean } {
  const b = readFileSync(file);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) throw new Error(`${file} is not a 64-bit little-endian ELF file`);
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  let interp = false;
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) interp = true;
  const machine = b.readUInt16LE(0x12);
  return { machine: MACHINES[machine] ?? `e_machine ${machine}`, static: !interp };
}
