import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { run, type RunResult } from '../../src/util/proc.js';
import { repoRoot } from '../support/cache.js';
import type { BackendName } from '../../src/engine/types.js';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { BUSYBOX, dockerCleanup, dockerLeftovers, nativeLeftovers, prepareBackend, releaseBackend, uniqueName } from './helpers.js';
import { forceRemoveRoot, hostLeftovers, importBusybox } from '../native-engine/support.js';

let cliMain = join(repoRoot, 'dist/cli/main.js');
let snapshot: string | undefined;

/**
 * The CLI the scenarios drive: a private build of the tree (tsc into
 * .cache/), so that another engineer rebuilding dist/ in the middle of a run
 * cannot pull modules out from under it. `disposeBuild` removes it.
 */
export async function ensureBuilt(): Promise<void> {
  if (snapshot) return;
  const dir = join(repoRoot, '.cache', `orch-dist-${process.pid}`);
  const r = await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', dir], { cwd: repoRoot });
  if (!existsSync(join(dir, 'cli/main.js'))) throw new Error(`building the CLI failed:\n${r.stdout}${r.stderr}`);
  snapshot = dir;
  cliMain = join(dir, 'cli/main.js');
}

export function disposeBuild(): void {
  if (snapshot) rmSync(snapshot, { recursive: true, force: true });
  snapshot = undefined;
}

/**
 * A compose project in its own temp dir, with its own TSCOMPOSE_ROOT and
 * TSCOMPOSE_RUN, run through the CLI on one backend. `dispose` removes the
 * project's engine objects (whatever a failed test left) and the dir.
 */
export class Scenario {
  readonly name = uniqueName('tscs');
  readonly dir = mkdtempSync(join(tmpdir(), 'tsc-scenario-'));
  readonly env: Record<string, string>;

  /** Native: the busybox image imported into this scenario's own root, before its first command. */
  private ready?: Promise<unknown>;

  constructor(readonly backend: BackendName) {
    this.env = {
      TSCOMPOSE_ROOT: join(this.dir, 'state'),
      TSCOMPOSE_RUN: join(this.dir, 'run'),
      COMPOSE_PROJECT_NAME: this.name,
      TSCOMPOSE_BACKEND: backend,
      NO_COLOR: '1',
    };
    if (backend === 'native') {
      // The Engine the test reads state through follows its process's roots: this scenario's.
      process.env.TSCOMPOSE_ROOT = this.env.TSCOMPOSE_ROOT;
      process.env.TSCOMPOSE_RUN = this.env.TSCOMPOSE_RUN;
      this.ready = importBusybox(BUSYBOX);
    }
  }

  /** Writes compose.yaml (and any other file) into the project dir. */
  write(file: string, text: string): void {
    writeFileSync(join(this.dir, file), text);
  }

  async compose(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
    await this.ready;
    return run(process.execPath, [cliMain, '--progress', 'plain', ...args], { cwd: this.dir, env: { ...process.env, CI: '1', ...this.env, ...opts.env }, input: opts.input });
  }

  /** Like compose, but a non-zero exit fails with its output. */
  async ok(args: string[], opts: { input?: string } = {}): Promise<RunResult> {
    const r = await this.compose(args, opts);
    if (r.code !== 0) throw new Error(`tscompose ${args.join(' ')} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
    return r;
  }

  /** A long-running CLI process (foreground `up`), for signals. */
  spawn(args: string[], o: { stdin?: 'ignore' | 'pipe' } = {}): ChildProcess {
    return spawn(process.execPath, [cliMain, '--progress', 'plain', ...args], { cwd: this.dir, env: { ...process.env, CI: '1', ...this.env }, stdio: [o.stdin ?? 'ignore', 'pipe', 'pipe'] });
  }

  /** What the backend holds for this project. */
  leftovers(): { containers: string[]; networks: string[]; volumes: string[] } {
    const label = `com.docker.compose.project=${this.name}`;
    return this.backend === 'native' ? nativeLeftovers(label, this.env.TSCOMPOSE_ROOT) : dockerLeftovers(label);
  }

  /**
   * Removes what the project left and the dir. On the native engine, first
   * the leak check of the test's own end (its last `down`): nothing of the
   * root may be left in the kernel or running; it throws after cleaning up.
   */
  dispose(): void {
    if (this.backend === 'docker') {
      dockerCleanup(`com.docker.compose.project=${this.name}`);
      rmSync(this.dir, { recursive: true, force: true });
      return;
    }
    const root = { dir: this.dir, state: this.env.TSCOMPOSE_ROOT, run: this.env.TSCOMPOSE_RUN };
    const sleep = new Int32Array(new SharedArrayBuffer(4));
    let left = hostLeftovers(root);
    for (let i = 0; i < 100 && left.length; i++) {
      Atomics.wait(sleep, 0, 0, 50);
      left = hostLeftovers(root);
    }
    if (this.leftovers().containers.length || left.length) {
      spawnSync(process.execPath, [cliMain, '--progress', 'quiet', 'down', '-v', '--remove-orphans', '-t', '0'], {
        cwd: this.dir, env: { ...process.env, ...this.env }, stdio: 'ignore', timeout: 120_000,
      });
    }
    forceRemoveRoot(root);
    if (left.length) throw new Error(`scenario ${this.name} left behind on the native engine:\n  ${left.join('\n  ')}`);
  }
}


/**
 * The set-up a describe block of CLI scenarios shares: the backend prepared
 * and the CLI built before its tests, every scenario disposed after each test
 * (its leak check included), the backend released at the end. Returns the
 * factory the tests make their scenarios with.
 */
export function useScenarios(backend: BackendName): () => Scenario {
  const scenarios: Scenario[] = [];
  beforeAll(async () => {
    await Promise.all([prepareBackend(backend), ensureBuilt()]);
  });
  afterEach(() => {
    for (const s of scenarios.splice(0)) s.dispose();
  });
  afterAll(async () => {
    disposeBuild();
    await releaseBackend(backend);
  });
  return () => {
    const s = new Scenario(backend);
    scenarios.push(s);
    return s;
  };
}
