#!/usr/bin/env node
// The C helper for every architecture the npm package ships, built when the
// package is packed (the prepack script): an `npm install` of the package
// runs no script and needs no compiler, so the binaries travel inside it, in
// dist/native/linux-<arch>/, and src/engine/native/runtime/helper.ts picks
// the one for process.arch.
//
// Both are linked statically against glibc, with Debian's own compiler for
// the host and its cross compiler for the other architecture
// (gcc-aarch64-linux-gnu + libc6-dev-arm64-cross on x86-64). Not musl: Debian
// has no musl cross toolchain for arm64 (musl-tools is the host's only), and
// musl-gcc does not see the kernel's UAPI headers the helper includes
// (linux/openat2.h, the mount API). The helper calls nothing of glibc's that
// needs NSS or dlopen at run time (no getpwnam, no getaddrinfo), which is
// what makes a static glibc binary unsafe; so the shipped binaries are the
// same code, linked the same way, as the native/build/ that every test runs.
//
// Usage: node scripts/prebuild-helpers.mjs [ARCH...]   (default: x64 arm64)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** Node's name of an architecture → the GNU triple, and the Debian packages of its cross compiler. */
const TARGETS = {
  x64: { triple: 'x86_64-linux-gnu', elfMachine: 62, packages: 'gcc-x86-64-linux-gnu libc6-dev-amd64-cross' },
  arm64: { triple: 'aarch64-linux-gnu', elfMachine: 183, packages: 'gcc-aarch64-linux-gnu libc6-dev-arm64-cross' },
};

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

function toolchain(arch) {
  const t = TARGETS[arch];
  if (!t) throw new Error(`prebuild-helpers: no target "${arch}" (known: ${Object.keys(TARGETS).join(', ')})`);
  // The host's own compiler builds for the host; a cross compiler for the others.
  if (arch === process.arch) return { cc: 'cc', strip: 'strip' };
  const cc = `${t.triple}-gcc`;
  if (!has(cc)) {
    throw new Error(`prebuild-helpers: no cross compiler for linux-${arch} (${cc}); install it: apt-get install -y ${t.packages}`);
  }
  return { cc, strip: `${t.triple}-strip` };
}

/** Checks what was built: an ELF executable for the target, with no program interpreter (static). */
function checkStatic(file, arch) {
  const b = readFileSync(file);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) throw new Error(`${file} is not a 64-bit ELF file`);
  if (b.readUInt16LE(18) !== TARGETS[arch].elfMachine) throw new Error(`${file} is not built for ${arch} (e_machine ${b.readUInt16LE(18)})`);
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    if (b.readUInt32LE(phoff + i * phentsize) === 3) throw new Error(`${file} is dynamically linked (it has a PT_INTERP)`);
  }
}

const arches = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(TARGETS);
for (const arch of arches) {
  const { cc, strip } = toolchain(arch);
  const out = join(root, 'dist', 'native', `linux-${arch}`);
  mkdirSync(out, { recursive: true });
  execFileSync('make', ['-s', '-C', join(root, 'native'), `OUT=${out}`, `CC=${cc}`, `STRIP=${strip}`], { stdio: 'inherit' });
  for (const name of ['tsc-helper', 'tsc-init']) {
    const file = join(out, name);
    if (!existsSync(file)) throw new Error(`prebuild-helpers: ${file} was not built`);
    checkStatic(file, arch);
  }
  // The seccomp filter's syscall numbers, from the target compiler's headers (native/syscalls.sh).
  const table = readFileSync(join(out, 'syscalls'), 'utf8');
  const abi = arch === 'x64' ? 'x86_64' : 'aarch64';
  if (!new RegExp(`^${abi} read \\d+$`, 'm').test(table)) throw new Error(`prebuild-helpers: ${out}/syscalls has no ${abi} table`);
  console.log(`prebuild-helpers: linux-${arch}: ${out} (${cc}, static)`);
}
