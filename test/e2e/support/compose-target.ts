import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type RunResult } from '../../../src/util/proc.js';
import { repoRoot } from '../../support/cache.js';
import { ensureDockerDebianBase } from '../../support/debian-base.js';
import { dockerInventory, type ProjectInventory } from './docker-inventory.js';
import { nativeInventory } from './native-inventory.js';
import { cacheDir, privateRoots } from '../../support/cache.js';
import { forceRemoveRoot, nativeRoot, settledLeftovers, type NativeRoot } from '../../native-engine/support.js';

/**
 * A compose CLI the end-to-end scenarios drive, and the engine under it. The
 * scenario only speaks the compose CLI (up, down, exec, logs...) and reads
 * what the engine holds through `inventory`; everything else that differs
 * between Docker Compose and tscompose, or between engines, is here.
 */
export interface ComposeTarget {
  /** Shown in test names. */
  name: string;
  /** The program and the options that come before the compose options (-f, -p). */
  argv: string[];
  /** `up -d --wait` waits for the services to be running and healthy (docker-compose 1.29 has no --wait). */
  upWaits: boolean;
  /** Makes the engine ready for `build`: a daemon, the `debian:<suite>` base image. */
  prepare(): Promise<void>;
  /** Reads the project's containers, networks and volumes from the engine, by the compose labels. */
  inventory: ProjectInventory;
  /** The iptables chain that sees the containers' forwarded traffic first (the egress guard hooks in there). */
  firewallHook: string;
  /** Variables the target's commands run with besides the scenario's (a state root of the test's own). */
  env?(): Record<string, string>;
  /** After the tests: what the engine keeps of its own is removed, and whatever of the test was left is reported. */
  dispose?(): Promise<string[]>;
}

async function prepareDocker(): Promise<void> {
  await ensureDockerDebianBase('bookworm');
}

/** The reference: Debian's docker-compose 1.29 on Debian's dockerd 20.10. */
export const dockerCompose: ComposeTarget = {
  name: 'docker-compose 1.29 on dockerd',
  argv: ['docker-compose'],
  upWaits: false,
  prepare: prepareDocker,
  inventory: dockerInventory,
  firewallHook: 'DOCKER-USER',
};

let dockerBackendRoot: string | undefined;

/**
 * tscompose driving the same dockerd through its docker backend, with a state root of the test's own:
 * the CLI remembers the compose files it parsed and validated there, which in the host's default root
 * would outlive the test.
 */
export const tscomposeOnDocker: ComposeTarget = {
  name: 'tscompose --backend docker',
  argv: [join(repoRoot, 'bin/tscompose'), '--backend', 'docker'],
  upWaits: true,
  async prepare() {
    dockerBackendRoot ??= mkdtempSync(join(tmpdir(), 'tsc-e2e-docker-'));
    await prepareDocker();
  },
  env: () => (dockerBackendRoot ? privateRoots(dockerBackendRoot) : {}),
  inventory: dockerInventory,
  firewallHook: 'DOCKER-USER',
  async dispose() {
    if (dockerBackendRoot) rmSync(dockerBackendRoot, { recursive: true, force: true });
    dockerBackendRoot = undefined;
    return [];
  },
};

let nativeTestRoot: NativeRoot | undefined;

/**
 * The native engine in a state root of the test's own; its `debian:bookworm`
 * made by `tscompose image bootstrap` (from the rootfs tar cached in .cache/,
 * debootstrap the first time), which the example's `FROM debian:bookworm`
 * then finds in the store instead of a registry.
 */
async function prepareNative(): Promise<void> {
  nativeTestRoot ??= nativeRoot('tsc-e2e-native-');
  const r = await run(join(repoRoot, 'bin/tscompose'), ['image', 'bootstrap', 'debian:bookworm', '--cache-dir', cacheDir('images')], { env: { ...process.env } });
  if (r.code !== 0) throw new Error(`tscompose image bootstrap failed (${r.code}):\n${r.stderr}`);
}

/**
 * tscompose on its own engine: images built by the native builder, the
 * egress guard in FORWARD ahead of our rules (the guard moves itself first
 * whenever it watches a new subnet, since our rules insert their jump first).
 */
export const tscomposeNative: ComposeTarget = {
  name: 'tscompose on the native engine',
  argv: [join(repoRoot, 'bin/tscompose'), '--backend', 'native'],
  upWaits: true,
  prepare: prepareNative,
  inventory: nativeInventory,
  firewallHook: 'FORWARD',
  async dispose() {
    const root = nativeTestRoot;
    nativeTestRoot = undefined;
    if (!root) return [];
    const left = await settledLeftovers(root, 15_000);
    forceRemoveRoot(root);
    return left;
  },
};

export interface ComposeCli {
  /** Runs `<cli> -f <file> -p <project> ...args`; never throws on a non-zero exit. */
  run(args: string[], timeoutMs?: number): Promise<RunResult>;
  /** The same, and throws (with the command's output) when it fails. */
  ok(args: string[], timeoutMs?: number): Promise<string>;
}

export function composeCli(target: ComposeTarget, file: string, project: string, env: Record<string, string>): ComposeCli {
  const cli: ComposeCli = {
    async run(args, timeoutMs = 10 * 60_000) {
      const [cmd, ...pre] = target.argv;
      return run(cmd!, [...pre, '-f', file, '-p', project, ...args], {
        env: { ...process.env, ...target.env?.(), ...env },
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
      });
    },
    async ok(args, timeoutMs) {
      const r = await cli.run(args, timeoutMs);
      if (r.code !== 0) {
        const how = r.signal ? `was killed (${r.signal}, timeout ${timeoutMs ?? 600_000} ms)` : `exited ${r.code}`;
        throw new Error(`${target.name}: \`${args.join(' ')}\` ${how}\n--- stderr\n${r.stderr.trim()}\n--- stdout\n${r.stdout.trim()}`);
      }
      return r.stdout;
    },
  };
  return cli;
}
