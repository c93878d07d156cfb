import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { ensurePrivateDir, statePath, stateRoot } from '../../../util/paths.js';
import { UserError } from '../../../util/errors.js';
import { helperPath } from './helper.js';

/**
 * The kernel floor. Every kernel interface newer than Linux 5.10 that the
 * engine uses has a fallback (native/compat.c, docs/internals.md); the ones
 * without a fallback are tried by `tsc-helper probe`, and a kernel that
 * lacks one is refused here, in one sentence, before anything is made.
 * Features are tried, not versions compared: distro kernels backport them.
 * A kernel that passed is remembered for the boot (the state root's
 * `kernel-ok` holds the boot id: the run root stays empty when nothing
 * runs), so this costs one process per boot and state root.
 */

export const KERNEL_FLOOR = '5.10';

export interface MissingFeature {
  feature: string;
  /** The first Linux release that has it, or "-" for a filesystem the kernel may lack at any age. */
  since: string;
}

/** Parses the probe's "missing <feature> <since>" lines. */
export function parseProbe(output: string): MissingFeature[] {
  const out: MissingFeature[] = [];
  for (const line of output.split('\n')) {
    const m = /^missing (\S+) (\S+)$/.exec(line);
    if (m) out.push({ feature: m[1]!, since: m[2]! });
  }
  if (!/^ok \d+$/m.test(output)) throw new Error(`tsc-helper probe gave no answer: ${JSON.stringify(output)}`);
  return out;
}

/** The one sentence (and hint) for a kernel that lacks something the engine cannot do without. */
export function kernelRefusal(kernel: string, missing: MissingFeature[]): UserError {
  const calls = missing.filter((m) => m.since !== '-');
  if (calls.length) {
    const list = calls.map((m) => `${m.feature} (Linux ${m.since})`).join(', ');
    return new UserError(`Linux ${kernel} is too old for tscompose's engine, which needs Linux ${KERNEL_FLOOR} or later: this kernel lacks ${list}`, 1,
      'boot a newer kernel, or use --backend docker');
  }
  const list = missing.map((m) => m.feature).join(', ');
  return new UserError(`this kernel (Linux ${kernel}) has no ${list} filesystem, which tscompose's containers are made of`, 1,
    `load it (modprobe ${missing[0]!.feature}), or use --backend docker`);
}

function bootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}

export function checkKernel(): void {
  const marker = statePath('kernel-ok');
  const boot = bootId();
  try {
    if (readFileSync(marker, 'utf8').trim() === boot) return;
  } catch { /* first use in this boot */ }
  const r = spawnSync(helperPath(), ['probe'], { encoding: 'utf8' });
  if (r.error) throw r.error;
  const missing = parseProbe(r.stdout);
  if (missing.length) throw kernelRefusal(release(), missing);
  ensurePrivateDir(stateRoot());
  writeFileSync(marker, `${boot}\n`, { mode: 0o600 });
}
