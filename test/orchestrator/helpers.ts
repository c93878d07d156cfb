import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfsTar } from '../support/images.js';
import { ensureDockerd } from '../support/docker.js';
import { cacheDir } from '../support/cache.js';
import { withLock } from '../../src/util/lock.js';
import type { BackendName } from '../../src/engine/types.js';
import { disposeNativeBuild, forceRemoveRoot, hostLeftovers, importBusybox, nativeBuild, nativeRoot, type NativeRoot } from '../native-engine/support.js';

/** The image every orchestrator test runs: busybox-static, imported from test/support's rootfs tar. */
export const BUSYBOX = 'tsc-test/busybox:latest';

/** Backends the scenarios run on, each with the same assertions. */
export const BACKENDS: BackendName[] = ['docker', 'native'];

let fileRoot: NativeRoot | undefined;

/**
 * Makes the backend ready for a test: a daemon that answers and the busybox
 * image in its store. On the native engine that store is a root of the test
 * file's own (a Scenario makes one of its own, see cli.ts), and the daemon
 * is a private build; `releaseBackend` removes both.
 */
export async function prepareBackend(backend: BackendName): Promise<void> {
  if (backend === 'native') {
    await nativeBuild();
    if (!fileRoot) {
      fileRoot = nativeRoot('tsc-orch-native-');
      await importBusybox(BUSYBOX);
    }
    return;
  }
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

/** Undoes prepareBackend: the native root (with a check that nothing of it is left in the kernel) and the private build. */
export async function releaseBackend(backend: BackendName): Promise<void> {
  if (backend !== 'native') return;
  try {
    if (fileRoot) {
      const root = fileRoot;
      fileRoot = undefined;
      const left = await settle(root);
      forceRemoveRoot(root);
      if (left.length) throw new Error(`left behind on the native engine:\n  ${left.join('\n  ')}`);
    }
  } finally {
    disposeNativeBuild();
  }
}

async function settle(root: NativeRoot): Promise<string[]> {
  let left = hostLeftovers(root);
  for (let i = 0; i < 100 && left.length; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = hostLeftovers(root);
  }
  return left;
}

/** What the backend holds with a label key=value (ids of containers and networks, names of volumes). */
export function backendLeftovers(backend: BackendName, label: string): { containers: string[]; networks: string[]; volumes: string[] } {
  return backend === 'native' ? nativeLeftovers(label) : dockerLeftovers(label);
}

/** Removes whatever a test left with that label. */
export async function backendCleanup(backend: BackendName, label: string): Promise<void> {
  if (backend === 'docker') return dockerCleanup(label);
  const { openEngine } = await import('../../src/engine/index.js');
  const engine = await openEngine('native');
  const [k, v] = label.split('=') as [string, string];
  for (const c of await engine.containers.list({ all: true, labels: { [k]: v } })) await engine.containers.remove(c.id, { force: true, volumes: true });
  for (const n of await engine.networks.list({ labels: { [k]: v } })) await engine.networks.remove(n.id);
  for (const vol of await engine.volumes.list({ labels: { [k]: v } })) await engine.volumes.remove(vol.name, true);
}

/**
 * The native engine's objects with a label, read from its state on disk
 * (docs/internals.md, "State on disk"): synchronous, like the docker check.
 */
export function nativeLeftovers(label: string, state = process.env.TSCOMPOSE_ROOT!): { containers: string[]; networks: string[]; volumes: string[] } {
  const [k, v] = label.split('=') as [string, string | undefined];
  const has = (labels: Record<string, string> | undefined) => labels !== undefined && k in labels && (v === undefined || labels[k] === v);
  const read = <T>(path: string): T | undefined => {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as T;
    } catch {
      return undefined;
    }
  };
  const entries = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
  return {
    containers: entries(join(state, 'containers')).filter((id) => /^[0-9a-f]{64}$/.test(id) && has(read<{ spec: { labels?: Record<string, string> } }>(join(state, 'containers', id, 'config.json'))?.spec.labels)),
    networks: entries(join(state, 'networks')).filter((f) => f.endsWith('.json')).map((f) => read<{ id: string; labels: Record<string, string> }>(join(state, 'networks', f))).filter((n) => n && has(n.labels)).map((n) => n!.id),
    volumes: entries(join(state, 'volumes')).filter((name) => has(read<{ Labels: Record<string, string> }>(join(state, 'volumes', name, 'meta.json'))?.Labels)),
  };
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
