import { execFileSync, spawnSync } from 'node:child_process';
import { bootstrapDebianRootfs } from '../../src/build/debian-bootstrap.js';
import { withLock } from '../../src/util/lock.js';
import { cacheDir } from './cache.js';
import { ensureDockerd } from './docker.js';

/**
 * `debian:<suite>` in the Docker Engine, for Dockerfiles that start `FROM
 * debian:<suite>` (no registry is reachable): the rootfs from
 * src/build/debian-bootstrap.ts, imported with the official image's config.
 * Imported once and then left in place, because every build that starts from
 * it keys its layer cache on its image id: importing it again would throw
 * the whole cache away.
 */
export async function ensureDockerDebianBase(suite = 'bookworm'): Promise<string> {
  const ref = `debian:${suite}`;
  await ensureDockerd();
  if (dockerHasImage(ref)) return ref;
  return withLock(`${cacheDir()}/docker-${ref.replace(':', '-')}.lock`, async () => {
    if (dockerHasImage(ref)) return ref;
    const rootfs = await bootstrapDebianRootfs({ suite, cacheDir: cacheDir('images') });
    try {
      const changes = [
        ...rootfs.config.Env.map((e) => `ENV ${e}`),
        `CMD ${JSON.stringify(rootfs.config.Cmd)}`,
      ].flatMap((c) => ['--change', c]);
      execFileSync('docker', ['import', ...changes, '--message', `debootstrap ${suite} from ${rootfs.mirrors.mirror}`, rootfs.tarPath, ref], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } finally {
      rootfs.dispose();
    }
    return ref;
  }, 30 * 60_000);
}

function dockerHasImage(ref: string): boolean {
  return spawnSync('docker', ['image', 'inspect', ref], { stdio: 'ignore' }).status === 0;
}
