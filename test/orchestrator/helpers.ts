import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfsTar } from '../support/images.js';
import { ensureDockerd } from '../support/docker.js';
import { cacheDir } from '../support/cache.js';
import { withLock } from '../../src/util/lock.js';
import type { BackendName } from '../../src/engine/types.js';

/** The image every orchestrator test runs: busybox-static, imported from test/support's rootfs tar. */
export const BUSYBOX = 'tsc-test/busybox:latest';

/**
 * Backends the scenarios run on. The native run is switched on (by adding
 * 'native' here) by whoever lands the native Engine.
 */
export const BACKENDS: BackendName[] = ['docker'];

/** Makes the backend ready for a test: a daemon that answers and the busybox image in its store. */
export async function prepareBackend(backend: BackendName): Promise<void> {
  if (backend !== 'docker') throw new Error(`no test preparation for backend ${backend}`);
  await ensureDockerd();
  const tar = await busyboxRootfsTar();
  await withLock(join(cacheDir(), 'docker-busybox-import.lock'), () => {
    try {
      execFileSync('docker', ['image', 'inspect', BUSYBOX], { stdio: 'ignore' });
      return;
    } catch {
      /* not there yet */
    }
    execFileSync('docker', ['import', '--change', 'CMD ["sh"]', tar, BUSYBOX], { stdio: ['ignore', 'ignore', 'pipe'] });
  });
}

/** A temp dir holding a test's own TSCOMPOSE_ROOT and TSCOMPOSE_RUN, removed by `dispose`. */
export function testRoots(prefix = 'tsc-orch-'): { dir: string; env: Record<string, string>; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env = { TSCOMPOSE_ROOT: join(dir, 'root'), TSCOMPOSE_RUN: join(dir, 'run') };
  return {
    dir,
    env,
    dispose: () => {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Unique per test run, so that parallel workers and leftovers from a crash never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}${process.pid.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Everything docker holds with a label key=value: the leak check every scenario ends with. */
export function dockerLeftovers(label: string): { containers: string[]; networks: string[]; volumes: string[] } {
  const q = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).split('\n').filter(Boolean);
  return {
    containers: q(['ps', '-aq', '--filter', `label=${label}`]),
    networks: q(['network', 'ls', '-q', '--filter', `label=${label}`]),
    volumes: q(['volume', 'ls', '-q', '--filter', `label=${label}`]),
  };
}

/** Removes whatever a test left with that label; for afterEach, after the assertions ran. */
export function dockerCleanup(label: string): void {
  const left = dockerLeftovers(label);
  const quiet = { stdio: 'ignore' as const };
  if (left.containers.length) execFileSync('docker', ['rm', '-fv', ...left.containers], quiet);
  for (const n of left.networks) execFileSync('docker', ['network', 'rm', n], quiet);
  if (left.volumes.length) execFileSync('docker', ['volume', 'rm', '-f', ...left.volumes], quiet);
}
