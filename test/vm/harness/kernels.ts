import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/cache.js';

/**
 * The kernels the VM suite boots: Debian packages that test/vm/setup.sh
 * unpacked into .cache/vm/<package>/ (never installed into the host's
 * /boot). Each tree holds boot/vmlinuz-<release> and lib/modules/<release>
 * with depmod's index, which the guest's modprobe reads.
 */

export interface VmKernel {
  /** What the tests call it: "6.1", "6.12", "5.10". */
  series: string;
  /** uname -r in the guest. */
  release: string;
  /** The Debian package and its version. */
  packageName: string;
  packageVersion: string;
  /** The unpacked package. */
  root: string;
  vmlinuz: string;
}

export const KERNEL_CACHE = join(repoRoot, '.cache', 'vm');

export function vmKernel(series: string): VmKernel {
  const candidates = existsSync(KERNEL_CACHE) ? readdirSync(KERNEL_CACHE) : [];
  for (const pkg of candidates) {
    const root = join(KERNEL_CACHE, pkg);
    const stamp = join(root, '.unpacked');
    if (!existsSync(stamp) || !existsSync(join(root, 'lib', 'modules'))) continue;
    for (const release of readdirSync(join(root, 'lib', 'modules'))) {
      if (!release.startsWith(`${series}.`)) continue;
      const vmlinuz = join(root, 'boot', `vmlinuz-${release}`);
      if (!existsSync(vmlinuz)) continue;
      return { series, release, packageName: pkg, packageVersion: readFileSync(stamp, 'utf8').trim(), root, vmlinuz };
    }
  }
  throw new Error(`no Linux ${series} kernel in ${KERNEL_CACHE}: run test/vm/setup.sh as root (scripts/setup.sh runs it)`);
}
