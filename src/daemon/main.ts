import { createServer, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { chmodSync, renameSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { acquireLock, processStartTime } from '../util/lock.js';
import { ensurePrivateDir, runPath, runRoot } from '../util/paths.js';
import { daemonLockPath, daemonLogPath, daemonPidPath, daemonSocketPath, errorToWire, type DaemonRequest, type DaemonResponse } from '../network/daemon/protocol.js';
import type { DaemonService, ServiceFactory } from '../network/daemon/service.js';
import { networkService } from '../network/daemon/network-service.js';
import { supervisorService } from '../engine/native/supervisor/service.js';

/**
 * The long-lived daemon, a program of its own beside the CLI: it hosts the
 * network's service (DNS, published ports) and the native engine's
 * supervisor (healthchecks, restart policies), which is why it sits above
 * both. Started on demand by `callDaemon` (src/network/daemon/client.ts), detached from
 * whoever started it, one per run root. It holds `daemon.lock` for its whole
 * life (a second one started by a race waits, then leaves), answers on
 * `daemon.sock`, and exits once no service has anything left to do. Killing
 * it disturbs no container: namespaces, links and rules are the kernel's, and
 * a new daemon rebuilds DNS and port forwards from state.
 */

const SERVICES: ServiceFactory[] = [networkService, supervisorService];

/**
 * `--linger-ms N`: the daemon does not leave for lack of work in its first N ms, or until a request
 * other than a ping comes. A caller that starts it ahead of the network it is making
 * (startDaemonAhead) needs it there for the reload that follows.
 */
function lingerMs(argv: readonly string[]): number {
  const i = argv.indexOf('--linger-ms');
  const n = i >= 0 ? Number(argv[i + 1]) : 0;
  return Number.isFinite(n) && n > 0 ? Math.min(n, 60_000) : 0;
}

const LOG_ROTATE_BYTES = 1 << 20;
/** How soon a daemon whose last work could not be done (a lock held elsewhere) asks again. */
const WIND_DOWN_RETRY_MS = 100;

function log(msg: string): void {
  process.stdout.write(`${new Date().toISOString()} [${process.pid}] ${msg}\n`);
}

function rotateLog(): void {
  try {
    if (statSync(daemonLogPath()).size > LOG_ROTATE_BYTES) renameSync(daemonLogPath(), `${daemonLogPath()}.1`);
  } catch { /* no log yet */ }
}

/**
 * The daemon's memory, for `status`. With `collect`, after a full garbage collection: the heap then
 * holds only what is alive, the figure a leak shows in. The resident size alone does not: V8 grows and
 * shrinks its heap's reserve as it likes (18 to 26 MiB from one soak loop to the next with the same
 * 6 MiB alive).
 */
function memoryFigures(collect: boolean): NodeJS.MemoryUsage & { collected: boolean } {
  const collected = collect && collectGarbage();
  return { ...process.memoryUsage(), collected };
}

/**
 * A full collection, for `status` only. The daemon runs with no V8 flag, as the CLI does: a flag
 * (--expose-gc, as it once had) enters V8's flag hash, so the code cache entries the two write for the
 * bundle files they share (scripts/compile-cache.cjs) were each rejected by the other, and every daemon
 * start compiled those files again (callgrind: 305 M instructions to start and leave, 214 M without
 * the flag; a CLI command run after a daemon wrote its entries, 342 M where 310 M). So the flag is set
 * only for the moment it takes to make a context that has `gc`, and cleared again before anything
 * else compiles or the cache is written at exit.
 */
function collectGarbage(): boolean {
  setFlagsFromString('--expose-gc');
  let gc: unknown;
  try {
    gc = runInNewContext('typeof gc === "function" ? gc : undefined');
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  if (typeof gc !== 'function') return false;
  (gc as () => void)();
  return true;
}

async function main(): Promise<void> {
  process.umask(0o077);
  ensurePrivateDir(runRoot());
  let releaseLock: () => void;
  try {
    releaseLock = await acquireLock(daemonLockPath(), 15_000);
  } catch {
    // Another daemon holds the lock and is serving: nothing for us to do.
    return;
  }
  rotateLog();
  writeFileAtomic(daemonPidPath(), `${process.pid} ${processStartTime(process.pid)}\n`, 0o600, { durable: false });
  const services: DaemonService[] = SERVICES.map((f) => f(log));
  let exiting = false;
  // Until the first request that is not a ping (the caller's reload, with the work or without it).
  let lingerUntil = Date.now() + lingerMs(process.argv);
  let lingerTimer: NodeJS.Timeout | undefined;

  try {
    unlinkSync(daemonSocketPath());
  } catch { /* no stale socket */ }
  const server = createServer((sock) => serve(sock));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(daemonSocketPath(), () => resolve());
  });
  chmodSync(daemonSocketPath(), 0o600);
  server.on('error', (err) => log(`control socket: ${err.message}`));

  for (const s of services) {
    try {
      await s.start();
    } catch (err) {
      log(`${s.name}: start failed: ${(err as Error).stack ?? err}`);
    }
  }
  log(`started (run root ${runRoot()}, services: ${services.map((s) => s.name).join(', ')})`);
  await maybeExit();

  async function handle(req: DaemonRequest): Promise<unknown> {
    if (req.op === 'ping') return { pid: process.pid, services: services.map((s) => s.name) };
    lingerUntil = 0;
    if (req.op === 'status') return { ...Object.fromEntries(services.map((s) => [s.name, s.status()])), memory: memoryFigures(req.collect === true) };
    if (req.op === 'reload') {
      for (const s of services) await s.reload();
      return { reloaded: true };
    }
    if (req.op === 'shutdown') {
      setImmediate(() => void shutdown('asked to'));
      return { exiting: true };
    }
    for (const s of services) {
      const op = s.ops[req.op];
      if (op) return op(req);
    }
    throw new Error(`unknown operation "${req.op}"`);
  }

  function serve(sock: Socket): void {
    let buf = '';
    sock.on('error', () => sock.destroy());
    sock.on('data', (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      void (async () => {
        let res: DaemonResponse;
        try {
          const result = await handle(JSON.parse(line) as DaemonRequest);
          res = exiting ? { ok: false, error: { kind: 'exiting', message: 'the network daemon is exiting' } } : { ok: true, result };
        } catch (err) {
          res = errorToWire(err);
          if (res.ok === false && res.error.kind === 'internal') log(`request ${line.slice(0, 200)} failed: ${(err as Error).stack ?? err}`);
        }
        // Whether to leave is decided once the answer is out and the connection closed (the client
        // closes on the answer's newline): the last work (windDown) may hold the event loop a while.
        sock.once('close', () => {
          if (!exiting) void maybeExit();
        });
        sock.end(JSON.stringify(res) + '\n');
      })();
    });
  }

  /**
   * Leaves when no service has work, after each service's last work (windDown: the network service
   * removes an empty default network). The final decision and the stop of accepting happen in one
   * turn of the event loop: once we stop accepting, late requests are told to start a new daemon.
   */
  async function maybeExit(): Promise<void> {
    if (exiting || services.some((s) => s.keepsAlive())) return;
    const wait = lingerUntil - Date.now();
    if (wait > 0) {
      lingerTimer ??= setTimeout(() => {
        lingerTimer = undefined;
        void maybeExit();
      }, wait);
      return;
    }
    for (const s of services) {
      if (!s.windDown || (await s.windDown())) continue;
      // Not now (a lock another process holds): stay, and ask again shortly; a request may come first.
      lingerTimer ??= setTimeout(() => {
        lingerTimer = undefined;
        void maybeExit();
      }, WIND_DOWN_RETRY_MS);
      return;
    }
    if (exiting || services.some((s) => s.keepsAlive())) return;
    await shutdown('nothing left to serve');
  }

  async function shutdown(why: string): Promise<void> {
    if (exiting) return;
    exiting = true;
    server.close();
    for (const p of [daemonSocketPath(), daemonPidPath()]) {
      try {
        unlinkSync(p);
      } catch { /* already gone */ }
    }
    for (const s of services) {
      try {
        await s.stop();
      } catch (err) {
        log(`${s.name}: stop failed: ${(err as Error).message}`);
      }
    }
    // Leave no empty directories of ours in the run root.
    for (const d of ['netns', 'ports']) {
      try {
        rmdirSync(runPath(d));
      } catch { /* not empty, or not there */ }
    }
    log(`exiting: ${why}`);
    releaseLock();
    process.exit(0);
  }

  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    void (async () => {
      for (const s of services) await s.reload();
      await maybeExit();
    })();
  });
}

main().catch((err) => {
  log(`fatal: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
