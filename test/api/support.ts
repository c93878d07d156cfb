import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, type RunResult } from '../../src/util/proc.js';
import { withLock } from '../../src/util/lock.js';
import { repoRoot, cacheDir } from '../support/cache.js';
import { busyboxRootfsTar } from '../support/images.js';
import { DOCKER_SOCKET, ensureDockerd } from '../support/docker.js';
import { forceRemoveRoot, settledLeftovers, type NativeRoot } from '../native-engine/support.js';

/**
 * What the API tests share: `tscompose system service` started as users
 * start it (bin/tscompose, on a socket in a temp dir, with a state root of
 * its own), and dockerd beside it, each as a target that real clients (the
 * docker CLI, docker-compose, dockerode, testcontainers) are pointed at
 * with DOCKER_HOST. One server per test file; the same busybox image on
 * both (imported through each API).
 */

/** Debian's docker.io client (20.10): the one CI installs; a newer static CLI elsewhere on PATH is not used. */
export const DOCKER = '/usr/bin/docker';
export const IMAGE = 'tsc-test/busybox:latest';

export interface ApiTarget {
  name: string;
  /** Our server, or dockerd. */
  native: boolean;
  /** unix:///... */
  host: string;
  socket: string;
  /** DOCKER_HOST and a DOCKER_CONFIG of the test's own, for client processes. */
  env: NodeJS.ProcessEnv;
  docker(args: string[], opts?: { input?: string; timeout?: number }): Promise<RunResult>;
  /** The same, and throws with the command's output when it fails. */
  ok(args: string[], opts?: { input?: string; timeout?: number }): Promise<string>;
}

function target(name: string, native: boolean, socket: string, configDir: string): ApiTarget {
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: configDir };
  const t: ApiTarget = {
    name, native, socket, host: `unix://${socket}`, env,
    docker: (args, o = {}) => run(DOCKER, args, { env, timeout: o.timeout ?? 120_000, killSignal: 'SIGKILL', ...(o.input !== undefined ? { input: o.input } : {}) }),
    async ok(args, o) {
      const r = await t.docker(args, o);
      if (r.code !== 0) throw new Error(`[${name}] docker ${args.join(' ')} exited ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stderr\n${r.stderr}\n--- stdout\n${r.stdout}`);
      return r.stdout;
    },
  };
  return t;
}

/** GET /_ping on a Unix socket: whether something answers OK. */
export function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body === 'OK'));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export interface Service {
  target: ApiTarget;
  root: NativeRoot;
  /** The server's TMPDIR. */
  tmp: string;
  child: ChildProcess;
  /** What the server wrote to stderr (its log), for failures. */
  log(): string;
  /** Removes what the tests made, stops the server (SIGTERM, by its pid) and returns what it left on the host. */
  stop(): Promise<string[]>;
}

/** `tscompose system service` on a socket of its own, with the busybox image imported through its API. */
export async function startService(): Promise<Service> {
  // A root of its own, given to the server only: this process's environment stays as it was (the registry,
  // the clients it starts must not look like processes of the root to the leak check).
  const dir = mkdtempSync(join(tmpdir(), 'tsc-api-'));
  const root: NativeRoot = { dir, state: join(dir, 'state'), run: join(dir, 'run'), env: { TSCOMPOSE_ROOT: join(dir, 'state'), TSCOMPOSE_RUN: join(dir, 'run') } };
  const socket = join(root.dir, 'api.sock');
  const config = join(root.dir, 'docker-config');
  // Its temp dirs (build contexts) in a dir of its own too: a test can see that none is left.
  const tmp = join(root.dir, 'tmp');
  mkdirSync(tmp, { mode: 0o700 });
  const child = spawn(join(repoRoot, 'bin/tscompose'), ['system', 'service', '--host', `unix://${socket}`], {
    env: { ...process.env, ...root.env, TMPDIR: tmp },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const err: Buffer[] = [];
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const log = () => Buffer.concat(err).toString();
  const t = target('tscompose system service', true, socket, config);
  const svc: Service = {
    target: t, root, tmp, child, log,
    async stop() {
      await removeEverything(t);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(10_000)]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      const left = await settledLeftovers(root, 15_000);
      forceRemoveRoot(root);
      return left;
    },
  };
  try {
    for (let i = 0; !(await ping(socket)); i++) {
      if (child.exitCode !== null) throw new Error(`tscompose system service exited ${child.exitCode}:\n${log()}`);
      if (i > 300) throw new Error(`tscompose system service did not answer within 30 s:\n${log()}`);
      await sleep(100);
    }
    await t.ok(['import', '--change', 'CMD ["sh"]', await busyboxRootfsTar(), IMAGE]);
  } catch (err) {
    child.kill('SIGKILL');
    forceRemoveRoot(root);
    throw err;
  }
  return svc;
}

/** Everything on our server goes at the end of a file: its containers, networks and volumes. */
async function removeEverything(t: ApiTarget): Promise<void> {
  const ids = (await t.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await t.docker(['rm', '-f', '-v', ...ids]);
  await t.docker(['network', 'prune', '-f']);
  await t.docker(['volume', 'prune', '-f']);
}

/** dockerd (started if it is not running), with the busybox image the other test files use there too. */
export async function dockerdTarget(): Promise<{ target: ApiTarget; dispose(): void }> {
  await ensureDockerd();
  const tar = await busyboxRootfsTar();
  await withLock(join(cacheDir(), 'docker-busybox-import.lock'), () => {
    try {
      execFileSync(DOCKER, ['image', 'inspect', IMAGE], { stdio: 'ignore' });
    } catch {
      execFileSync(DOCKER, ['import', '--change', 'CMD ["sh"]', tar, IMAGE], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
  });
  const config = mkdtempSync(join(tmpdir(), 'tsc-api-dockercfg-'));
  return { target: target('dockerd', false, DOCKER_SOCKET, config), dispose: () => rmSync(config, { recursive: true, force: true }) };
}

/** Removes what a test made on dockerd: containers by label, networks and volumes by name prefix. */
export async function cleanDockerd(t: ApiTarget, label: string, prefix: string): Promise<void> {
  const ids = (await t.docker(['ps', '-aq', '--filter', `label=${label}`])).stdout.split('\n').filter(Boolean);
  if (ids.length) await t.docker(['rm', '-f', '-v', ...ids]);
  const nets = (await t.docker(['network', 'ls', '-q', '--filter', `name=${prefix}`])).stdout.split('\n').filter(Boolean);
  if (nets.length) await t.docker(['network', 'rm', ...nets]);
  const vols = (await t.docker(['volume', 'ls', '-q', '--filter', `name=${prefix}`])).stdout.split('\n').filter(Boolean);
  if (vols.length) await t.docker(['volume', 'rm', '-f', ...vols]);
}

/** Polls until `fn` returns a value (or throws its last error after `ms`). */
export async function eventually<T>(fn: () => Promise<T | undefined>, ms = 10_000, what = 'condition'): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() - t0 > ms) throw new Error(`${what} not met within ${ms} ms${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(100);
  }
}
