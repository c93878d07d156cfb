import { existsSync, openSync, mkdirSync } from 'node:fs';
import { spawn, execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { withLock } from '../../src/util/lock.js';
import { cacheDir } from './cache.js';

/**
 * A real Docker Engine for the docker backend and parity tests. Debian's
 * docker.io must be installed (.ci/run does it); when no daemon answers on
 * /var/run/docker.sock, one is started in the background and left running
 * for later tests (its log is .cache/dockerd.log).
 */
export const DOCKER_SOCKET = '/var/run/docker.sock';

export async function ensureDockerd(): Promise<void> {
  if (await dockerAnswers()) return;
  await withLock(`${cacheDir()}/dockerd.lock`, async () => {
    if (await dockerAnswers()) return;
    if (!existsSync('/usr/sbin/dockerd')) throw new Error('dockerd is not installed (apt-get install -y docker.io)');
    mkdirSync('/var/lib/docker', { recursive: true });
    const log = openSync(`${cacheDir()}/dockerd.log`, 'a');
    const child = spawn('/usr/sbin/dockerd', ['--host', `unix://${DOCKER_SOCKET}`], {
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.unref();
    for (let i = 0; i < 300; i++) {
      if (await dockerAnswers()) return;
      await sleep(100);
    }
    throw new Error(`dockerd did not answer within 30 s; see ${cacheDir()}/dockerd.log`);
  }, 120_000);
}

async function dockerAnswers(): Promise<boolean> {
  if (!existsSync(DOCKER_SOCKET)) return false;
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}
