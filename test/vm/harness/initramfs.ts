import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tmpdir } from 'node:os';
import { repoRoot } from '../../support/cache.js';
import type { VmKernel } from './kernels.js';

/**
 * The guest's initramfs: a static busybox, test/vm/guest/init.sh as /init,
 * and the modules its first stage needs for a 9p + overlay root, in load
 * order (modprobe resolves the dependencies against the unpacked kernel;
 * busybox's insmod takes no compressed modules, so .ko.xz are unpacked).
 */

const ROOT_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

export function moduleFiles(kernel: VmKernel): string[] {
  const out = execFileSync('modprobe', ['-d', kernel.root, '-S', kernel.release, '-a', '--show-depends', ...ROOT_MODULES], { encoding: 'utf8' });
  const files: string[] = [];
  for (const line of out.split('\n')) {
    const [verb, file] = line.trim().split(/\s+/);
    if (verb === 'insmod' && file && !files.includes(file)) files.push(file);
  }
  return files;
}

export function buildInitramfs(kernel: VmKernel, out: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-vm-initrd-'));
  try {
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'modules'));
    copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
    copyFileSync(join(repoRoot, 'test', 'vm', 'guest', 'init.sh'), join(dir, 'init'));
    chmodSync(join(dir, 'init'), 0o755);
    writeFileSync(join(dir, 'modules', 'order'), '');
    for (const file of moduleFiles(kernel)) {
      let name = basename(file);
      if (name.endsWith('.xz')) {
        name = name.slice(0, -3);
        writeFileSync(join(dir, 'modules', name), execFileSync('xz', ['-dc', file], { maxBuffer: 1 << 28 }));
      } else {
        copyFileSync(file, join(dir, 'modules', name));
      }
      appendFileSync(join(dir, 'modules', 'order'), `${name}\n`);
    }
    execFileSync('sh', ['-c', 'find . | cpio -o -H newc --quiet > "$1"', 'sh', out], { cwd: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
