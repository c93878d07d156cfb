import { existsSync, mkdtempSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { withLock } from '../../src/util/lock.js';
import { bootstrapDebianRootfs, hostDebianMirrors } from '../../src/build/debian-bootstrap.js';
import { cacheDir } from './cache.js';

/**
 * Root-filesystem tarballs for tests, made on this machine (no registry is
 * reachable): a busybox image from Debian's static busybox, and a Debian
 * image from debootstrap. Each is made once and cached under .cache/; a lock
 * keeps parallel test workers from making it twice.
 */

const BUSYBOX = '/bin/busybox';

/** A rootfs tar: /bin/busybox, a symlink per applet, /etc/passwd and group, the usual empty dirs. */
export async function busyboxRootfsTar(): Promise<string> {
  // v2: the root dir is 0755 (mkdtemp made it 0700, which locked non-root users out of the whole image).
  const out = join(cacheDir('images'), 'busybox-rootfs-v2.tar');
  return makeOnce(out, () => {
    if (!existsSync(BUSYBOX)) throw new Error('busybox-static is not installed (apt-get install -y busybox-static)');
    const dir = mkdtempSync(join(tmpdir(), 'tsc-bbroot-'));
    chmodSync(dir, 0o755);
    try {
      for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'tmp', 'proc', 'sys', 'dev', 'var', 'home']) {
        mkdirSync(join(dir, d), { recursive: true });
      }
      chmodSync(join(dir, 'tmp'), 0o1777);
      copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
      chmodSync(join(dir, 'bin/busybox'), 0o755);
      const applets = execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const applet of applets) {
        if (applet === 'bin/busybox') continue;
        const target = join(dir, applet);
        if (existsSync(target)) continue;
        mkdirSync(join(target, '..'), { recursive: true });
        // Absolute, as `busybox --install -s` makes them: they resolve inside the container's root.
        symlinkSync('/bin/busybox', target);
      }
      writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nuser:x:1000:1000:user:/home/user:/bin/sh\n');
      writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\nuser:x:1000:\nstaff:x:50:user\n');
      mkdirSync(join(dir, 'home/user'));
      execFileSync('chown', ['1000:1000', join(dir, 'home/user')]);
      return tarDir(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/**
 * A Debian (minbase) rootfs tar made like Docker Hub's debian image, from the
 * host's apt mirror (src/build/debian-bootstrap.ts). About 45 s the first
 * time; cached after that.
 */
export async function debianRootfsTar(suite = 'bookworm'): Promise<string> {
  return (await bootstrapDebianRootfs({ suite, cacheDir: cacheDir('images') })).tarPath;
}

/** The host's Debian mirror, from apt's sources (deb.debian.org otherwise). */
export function aptMirror(): string {
  return hostDebianMirrors().mirror;
}

function tarDir(dir: string): Buffer {
  return execFileSync('tar', ['--numeric-owner', '--xattrs', '-C', dir, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
}

async function makeOnce(out: string, make: () => Buffer): Promise<string> {
  if (existsSync(out)) return out;
  return withLock(`${out}.lock`, () => {
    if (existsSync(out)) return out;
    const tmp = `${out}.tmp`;
    writeFileSync(tmp, make());
    renameSync(tmp, out);
    return out;
  }, 10 * 60_000);
}
