import { connect } from 'node:net';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensurePrivateDir, runRoot, stateRoot } from '../../util/paths.js';
import { lockHolder, tryLock, withLock } from '../../util/lock.js';
import { helperPath } from '../../engine/native/runtime/helper.js';
import {
  DaemonExitingError,
  daemonLockPath,
  daemonLogPath,
  daemonPidPath,
  daemonSocketPath,
  daemonSpawnLockPath,
  errorFromWire,
  type DaemonRequest,
  type DaemonResponse,
} from './protocol.js';

/**
 * Talking to the network daemon, and starting it when it is not there. Any
 * caller that needs it calls `callDaemon`: a missing or exiting daemon is
 * started again (detached, outliving the caller), and the request retried.
 * The daemon runs under the helper's keeper (`tsc-helper keep`, native/keep.c),
 * which starts it again at once whenever it dies other than by leaving on
 * purpose (exit 0), so DNS, port proxies and restart policies come back
 * without waiting for a user's command.
 */

const READY_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * The keeper's policy: a daemon that ran this long is started again at once
 * (it was killed, or crashed while serving); one that died sooner is waited
 * for (100 ms, doubling to 3.2 s), and after five such deaths in a row the
 * keeper gives up and says so in the log: a daemon that cannot start (a bad
 * build, a broken state root) is not started in a loop.
 */
export const KEEPER_POLICY = { quickMs: 2000, backoffMinMs: 100, backoffMaxMs: 3200, maxQuick: 5 } as const;

/** The keeper's command line around the daemon's (its argv shows the daemon's, so `ps` says what it keeps). */
export function keeperArgs(daemonArgv: readonly string[]): string[] {
  const k = KEEPER_POLICY;
  return ['keep', String(k.quickMs), String(k.backoffMinMs), String(k.backoffMaxMs), String(k.maxQuick), '--', ...daemonArgv];
}

class NotListening extends Error {}

/** The daemon started and left at once, having nothing to serve (see `leftIsDone`). */
class DaemonLeftError extends Error {}

function requestOnce(req: DaemonRequest): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = connect(daemonSocketPath());
    let buf = '';
    sock.setTimeout(REQUEST_TIMEOUT_MS, () => sock.destroy(new Error(`network daemon did not answer "${req.op}" within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      // The answer is one line: done with it at once, not when the daemon's end of the socket closes
      // (which it may do only after work the answer does not wait for).
      if (buf.includes('\n')) sock.destroy();
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') return reject(new NotListening(err.message));
      // A daemon that left (nothing to serve) with our request unread resets the connection: as one that
      // closed it without answering, it is asked again, or started again.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return reject(new DaemonExitingError(`the network daemon went away: ${err.message}`));
      reject(err);
    });
    sock.on('close', () => {
      const line = buf.split('\n')[0];
      if (!line) return reject(new DaemonExitingError('the network daemon closed the connection without answering'));
      let res: DaemonResponse;
      try {
        res = JSON.parse(line) as DaemonResponse;
      } catch {
        return reject(new Error(`network daemon sent a malformed answer: ${line.slice(0, 200)}`));
      }
      if (res.ok) resolve(res.result);
      else reject(errorFromWire(res.error));
    });
  });
}

/**
 * Sends a request; starts the daemon when needed (unless `start` is false, then undefined means "not running").
 * `leftIsDone`: a daemon started for the request that leaves at once, having found nothing to serve, has
 * done what the request asked (the supervisor acts on every container when it starts): undefined, at once.
 * Otherwise a daemon that leaves is waited for, in case another one is starting.
 */
export async function callDaemon<T>(req: DaemonRequest, opts: { start?: boolean; leftIsDone?: boolean; lingerMs?: number } = {}): Promise<T | undefined> {
  const start = opts.start ?? true;
  for (let attempt = 0; ; attempt++) {
    try {
      return (await requestOnce(req)) as T;
    } catch (err) {
      const retriable = err instanceof NotListening || err instanceof DaemonExitingError;
      if (!retriable) throw err;
      if (!start) {
        if (err instanceof NotListening) {
          cleanUpAfterDeadDaemon();
          return undefined;
        }
        await sleep(20);
        continue;
      }
      if (attempt >= 3) throw new Error(`the network daemon is not answering (${(err as Error).message}); see ${daemonLogPath()}`);
      try {
        await startDaemon(opts.leftIsDone ?? false, opts.lingerMs ?? 0);
      } catch (left) {
        if (left instanceof DaemonLeftError) return undefined;
        throw left;
      }
    }
  }
}

/**
 * A daemon killed with -9 leaves its socket, pid and lock files; once its
 * pid is gone (or reused by another process) they are removed, so /run holds
 * nothing of ours when no network is left.
 */
export function cleanUpAfterDeadDaemon(): void {
  if (!existsSync(daemonLockPath())) return;
  // Holding the daemon's lock ourselves proves no daemon lives (or is starting) in this run root.
  const release = tryLock(daemonLockPath());
  if (!release) return; // alive (perhaps starting up): its files are its own
  try {
    for (const p of [daemonSocketPath(), daemonPidPath()]) {
      try {
        unlinkSync(p);
      } catch { /* not there */ }
    }
  } finally {
    release(); // and the lock file goes with it
  }
}

/** Whether a daemon answers now (no cleanup, no start: safe while one is starting). */
export async function daemonPing(): Promise<{ pid: number; services: string[] } | undefined> {
  try {
    return (await requestOnce({ op: 'ping' })) as { pid: number; services: string[] };
  } catch {
    return undefined;
  }
}

/** The start ahead under way in this process, if any. */
let aheadInFlight: Promise<void> | undefined;

/** How long a daemon started ahead waits for the work it was started for (the network being made, ~0.1-0.3 s). */
const AHEAD_LINGER_MS = 2000;

/**
 * Starts the daemon, when it is not running, without making the caller wait for it: its start (a
 * Node process loading its code, 0.1-0.2 s) then overlaps the caller's network work (a bridge,
 * firewall rules, a namespace and veths) instead of following it. Such a daemon does not leave for
 * lack of work until the caller's next request (the reload that brings it the new network), 2 s at
 * most: a caller that failed first sends none. Never rejects: the caller's own reload reports a daemon
 * that cannot start.
 */
export function startDaemonAhead(): Promise<void> {
  // Its socket there: running (or dead with its files left, which the caller's reload sorts out).
  if (existsSync(daemonSocketPath())) return Promise.resolve();
  // One start in flight per process: a create starts it early, its attach then waits for the same one.
  aheadInFlight ??= spawnAhead().finally(() => {
    aheadInFlight = undefined;
  });
  return aheadInFlight;
}

function spawnAhead(): Promise<void> {
  // Spawned before this returns, not after the caller's next await: the caller goes on with synchronous
  // work (the bridge's and namespace's commands), which would otherwise run first and hold the spawn back.
  // With the spawn lock taken by another caller (a daemon starting for it), its daemon is the one to wait for.
  let release: (() => void) | undefined;
  let spawned: Spawned | undefined;
  try {
    ensurePrivateDir(runRoot());
    release = tryLock(daemonSpawnLockPath());
    if (release && !existsSync(daemonSocketPath())) spawned = spawnDaemon(AHEAD_LINGER_MS);
  } catch {
    // Cannot spawn here (not built, the run root refused): the caller's reload reports it.
  }
  if (!spawned) {
    // Not ours to wait for under the lock: callDaemon takes it again if it must start one.
    release?.();
    release = undefined;
  }
  const ready = spawned ? waitReady(spawned, false) : callDaemon({ op: 'ping' }, { lingerMs: AHEAD_LINGER_MS });
  return ready.then(
    () => undefined,
    () => undefined,
  ).finally(() => release?.());
}

export async function ensureDaemon(): Promise<number> {
  const r = await callDaemon<{ pid: number }>({ op: 'ping' });
  return r!.pid;
}

/**
 * The compiled entry point: in the bundle (dist/bundle/network-daemon.cjs)
 * when this code runs from it, else next to this file, or in dist/ when this
 * file runs from src/. TSCOMPOSE_DAEMON_ENTRY overrides it (tests run a build
 * of their own, which a concurrent `npm run build` cannot rewrite under them).
 */
export function daemonEntry(): string {
  if (process.env.TSCOMPOSE_DAEMON_ENTRY) return process.env.TSCOMPOSE_DAEMON_ENTRY;
  const here = fileURLToPath(import.meta.url);
  if (basename(dirname(here)) === 'bundle') return join(dirname(here), 'network-daemon.cjs');
  // src/daemon/main.ts, the daemon's program: two folders up from this file.
  const js = join(dirname(here), '..', '..', 'daemon', 'main.js');
  if (here.endsWith('.js')) return js;
  return js.replace(`${sep}src${sep}`, `${sep}dist${sep}`);
}

async function startDaemon(leftIsDone: boolean, lingerMs: number): Promise<void> {
  ensurePrivateDir(runRoot());
  await withLock(daemonSpawnLockPath(), async () => {
    if ((await daemonPing()) !== undefined) return;
    await waitReady(spawnDaemon(lingerMs), leftIsDone);
  });
}

/** A daemon spawned (its keeper, detached) and what waiting for it needs. */
interface Spawned {
  exited: () => number | null | undefined;
  logPath: string;
  logStart: number;
}

/** Spawns the daemon under its keeper, synchronously; the caller holds the spawn lock. */
function spawnDaemon(lingerMs: number): Spawned {
  const entry = daemonEntry();
  if (!existsSync(entry)) throw new Error(`the network daemon is not built (${entry} is missing): run \`npm run build\``);
  ensurePrivateDir(stateRoot());
  const logPath = daemonLogPath();
  const logStart = existsSync(logPath) ? statSync(logPath).size : 0;
  const log = openSync(logPath, 'a', 0o600);
  // No V8 flag: one would make the daemon's code cache entries and the CLI's reject each other (src/daemon/main.ts).
  const linger = lingerMs > 0 ? ['--linger-ms', String(lingerMs)] : [];
  let child;
  try {
    child = spawn(helperPath(), keeperArgs([process.execPath, entry, ...linger, '--run-root', runRoot()]), {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, TSCOMPOSE_ROOT: stateRoot(), TSCOMPOSE_RUN: runRoot() },
    });
  } finally {
    closeSync(log);
  }
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  child.unref();
  return { exited: () => exited, logPath, logStart };
}

/** Until the spawned daemon answers a ping; throws with its log's tail when it does not start. */
async function waitReady(spawned: Spawned, leftIsDone: boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if ((await daemonPing()) !== undefined) return;
    const exited = spawned.exited();
    // Exit 0 without answering: another daemon holds the lock and will answer soon; or, with no live
    // holder, it had nothing to serve and left (for a caller that takes that as done, waiting would
    // only run into the timeout: an --rm container that exited before the supervisor heard of it).
    if (leftIsDone && exited === 0 && !lockHolder(daemonLockPath()).held) throw new DaemonLeftError('the network daemon started and left: nothing to serve');
    if (exited !== undefined && exited !== 0) break;
    await sleep(exited === 0 ? 50 : 10);
  }
  const exited = spawned.exited();
  const tail = readFileSync(spawned.logPath, 'utf8').slice(spawned.logStart).trim().split('\n').slice(-10).join('\n');
  throw new Error(`the network daemon did not start${exited !== undefined ? ` (exit ${exited})` : ''}; its log (${spawned.logPath}):\n${tail}`);
}
