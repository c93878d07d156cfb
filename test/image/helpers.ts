import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync, execFileSync } from 'node:child_process';
import { ImageStore } from '../../src/engine/native/image/index.js';
import { mountPoints } from '../../src/engine/native/image/rootfs.js';
import { repoRoot } from '../support/cache.js';

/**
 * A private state/run root per test, and the leak check every image test
 * ends with: no mount of ours may remain under the temp dir.
 */
export interface TestRoot {
  dir: string;
  state: string;
  run: string;
  env: NodeJS.ProcessEnv;
  store(): Promise<ImageStore>;
  cleanup(): void;
}

export function makeTestRoot(prefix = 'tsc-image-'): TestRoot {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const state = join(dir, 'state');
  const run = join(dir, 'run');
  const env = { ...process.env, TSCOMPOSE_ROOT: state, TSCOMPOSE_RUN: run };
  return {
    dir,
    state,
    run,
    env,
    store: () => ImageStore.open(join(state, 'image')),
    cleanup() {
      // A mount left behind is a leak: the test fails, after its mounts are taken down and its dir removed.
      const left = mountsUnder(dir);
      for (const m of [...left].reverse()) spawnSync('umount', ['-l', m]);
      rmSync(dir, { recursive: true, force: true });
      if (left.length) throw new Error(`mounts left under ${dir}: ${left.join(', ')}`);
    },
  };
}

export function mountsUnder(dir: string): string[] {
  return [...mountPoints()].filter((m) => m === dir || m.startsWith(dir + '/'));
}

/** Runs the built CLI (dist/) with a test root's environment. */
export function cli(root: TestRoot, args: string[], input?: string | Buffer): { code: number; stdout: string; stderr: string; stdoutBytes: Buffer } {
  const r = spawnSync(join(repoRoot, 'bin', 'tscompose'), args, {
    env: root.env,
    input,
    encoding: 'buffer',
    maxBuffer: 1 << 30,
    cwd: root.dir,
  });
  return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString(), stdoutBytes: r.stdout };
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** A layer's size as Docker counts it: regular files' bytes plus symlinks' target lengths (from GNU tar's listing). */
export function dockerLayerSize(tarPath: string): number {
  const listing = execFileSync('tar', ['-tvf', tarPath, '--numeric-owner'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  let sum = 0;
  for (const line of listing.split('\n')) {
    if (line.startsWith('-')) sum += Number(line.split(/\s+/)[2]);
    else if (line.startsWith('l')) sum += Buffer.byteLength(line.slice(line.lastIndexOf(' -> ') + 4));
  }
  return sum;
}
