import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { NotFoundError, errorMessage } from '../../../util/errors.js';
import type { ContainerInspect } from '../runtime/index.js';
import type { EngineDeps } from '../engine/deps.js';
import type { NativeContainers } from '../engine/containers.js';
import { journal } from '../engine/events.js';
import { startContainer, supervised } from '../engine/lifecycle.js';
import {
  hasEngineRecord, readEngineRecord, readIntent, readSupervisorState, writeSupervisorState, type EngineRecord, type Intent, type SupervisorState,
} from '../engine/records.js';
import { applyProbe, decideRestart, nextProbeDelay } from './policy.js';
import { runProbe } from './probe.js';

/**
 * One container the supervisor looks after: its healthcheck probes while it
 * runs, and when it exits, its restart policy (or its removal, for --rm).
 * Everything it decides from is on disk (the Engine's record and intent, the
 * runtime's state), so a daemon that restarts picks up where this one was.
 */

const EXIT_POLL_MS = 1000;

export interface WatcherContext {
  deps: EngineDeps;
  containers: NativeContainers;
  log: (msg: string) => void;
  /** Called when the watcher has nothing left to do. */
  done: (id: string, watcher: ContainerWatcher) => void;
}

function time(t: string): number {
  const ms = Date.parse(t.replace(/(\.\d{3})\d*Z$/, '$1Z'));
  return Number.isNaN(ms) ? 0 : ms;
}

export class ContainerWatcher {
  private probeTimer?: NodeJS.Timeout;
  private restartTimer?: NodeJS.Timeout;
  private exitWatch?: FSWatcher;
  private exitPoll?: NodeJS.Timeout;
  /** The run being probed (its StartedAt). */
  private probing?: string;
  private syncing?: Promise<void>;
  private again = false;
  private disposed = false;
  /** A restart in progress: the container is neither exited-and-handled nor running yet; sync waits for it. */
  private inRestart = false;

  constructor(readonly id: string, private readonly ctx: WatcherContext) {}

  /** Whether it still has work: a running container to watch, or a restart to carry out. */
  get active(): boolean {
    return !this.disposed;
  }

  /** Looks at the container again; concurrent calls collapse into one more pass. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.again = false;
        try {
          await this.syncOnce();
        } catch (err) {
          this.ctx.log(`supervisor: ${this.id.slice(0, 12)}: ${(err as Error).stack ?? err}`);
        }
      } while (this.again && !this.disposed);
    })().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    if (this.disposed || this.inRestart) return;
    const rt = await this.ctx.deps.runtime();
    let info: ContainerInspect;
    try {
      info = await rt.inspect(this.id);
    } catch (err) {
      if (err instanceof NotFoundError) return this.dispose();
      throw err;
    }
    if (!hasEngineRecord(this.id)) return this.dispose();
    const rec = readEngineRecord(this.id);
    if (!supervised(rec)) return this.dispose();
    const intent = readIntent(this.id);
    const state = this.state(intent);

    if (info.State.Running) {
      this.cancelRestart(state);
      this.watchExit(info);
      if (rec.healthcheck && this.probing !== info.State.StartedAt) this.startProbing(rec, info);
      return;
    }
    this.stopProbing();
    this.unwatchExit();
    if (this.restartTimer) {
      if (intent?.wanted === 'stopped') this.cancelRestart(state);
      return; // a restart is pending: its timer carries on
    }
    if (state.handledFinish === info.State.FinishedAt && state.restarting && intent?.wanted !== 'stopped') {
      // A daemon that died while it waited out (or carried out) a restart: what is left of the wait, then the restart.
      const delay = Math.max(0, time(info.State.FinishedAt) + state.backoffMs - Date.now());
      this.ctx.log(`supervisor: ${info.Name.replace(/^\//, '')}: resuming restart ${state.restartCount} in ${delay} ms`);
      this.restartTimer = setTimeout(() => void this.restart(state.generation), delay);
      return;
    }
    if (state.handledFinish === info.State.FinishedAt || info.State.Status === 'created') {
      return this.dispose();
    }
    await this.handleExit(rec, intent, state, info);
  }

  /** The bookkeeping for the current intent generation (an explicit start began a new one). */
  private state(intent: Intent | undefined): SupervisorState {
    const gen = intent?.generation ?? 0;
    const s = readSupervisorState(this.id);
    if (s && s.generation === gen) return s;
    return { generation: gen, restartCount: 0, backoffMs: 0, restarting: false, ...(s?.health ? { health: s.health } : {}), ...(s?.handledFinish ? { handledFinish: s.handledFinish } : {}) };
  }

  private async handleExit(rec: EngineRecord, intent: Intent | undefined, state: SupervisorState, info: ContainerInspect): Promise<void> {
    const finished = info.State.FinishedAt;
    if (rec.autoRemove) {
      writeSupervisorState(this.id, { ...state, handledFinish: finished, restarting: false });
      await this.ctx.containers.remove(this.id, { force: true, volumes: true }).catch((err: unknown) => {
        if (!(err instanceof NotFoundError)) this.ctx.log(`supervisor: removing ${info.Name} (--rm): ${errorMessage(err)}`);
      });
      return this.dispose();
    }
    const runMs = Math.max(0, time(finished) - time(info.State.StartedAt));
    const d = decideRestart(rec.restart, {
      exitCode: info.State.ExitCode,
      runMs,
      manuallyStopped: intent?.manuallyStopped ?? false,
      stopRequested: intent?.wanted === 'stopped',
    }, state);
    const next: SupervisorState = { ...state, ...d.next, restarting: d.restart, handledFinish: finished };
    delete next.error;
    writeSupervisorState(this.id, next);
    if (!d.restart) return this.dispose();
    this.ctx.log(`supervisor: ${info.Name.replace(/^\//, '')} exited (${info.State.ExitCode}); restart ${next.restartCount} (${rec.restart.name}) in ${d.delayMs} ms`);
    this.restartTimer = setTimeout(() => void this.restart(next.generation), d.delayMs);
  }

  private async restart(generation: number): Promise<void> {
    this.restartTimer = undefined;
    this.inRestart = true;
    try {
      await this.restartNow(generation);
    } finally {
      this.inRestart = false;
    }
    await this.sync();
  }

  private async restartNow(generation: number): Promise<void> {
    const intent = readIntent(this.id);
    const state = readSupervisorState(this.id);
    // Stopped, removed or started by the user meanwhile: their word wins.
    if (intent?.wanted === 'stopped' || (intent?.generation ?? 0) !== generation || !hasEngineRecord(this.id)) {
      if (state && state.generation === generation) writeSupervisorState(this.id, { ...state, restarting: false });
      return;
    }
    try {
      await startContainer(this.ctx.deps, this.id, { explicit: false });
      if (state) writeSupervisorState(this.id, { ...state, restarting: false });
      journal('container', 'restart', this.id, {});
      // A stop that came while we started: carry it out now.
      if (readIntent(this.id)?.wanted === 'stopped') await this.ctx.containers.stop(this.id);
    } catch (err) {
      this.ctx.log(`supervisor: restarting ${this.id.slice(0, 12)} failed: ${errorMessage(err)}`);
      if (state) writeSupervisorState(this.id, { ...state, restarting: false, error: `restart failed: ${errorMessage(err)}` });
    }
  }

  private cancelRestart(state: SupervisorState): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    if (state.restarting) writeSupervisorState(this.id, { ...state, restarting: false });
  }

  // ---- exits ------------------------------------------------------------------

  private watchExit(info: ContainerInspect): void {
    if (this.exitPoll) return;
    try {
      this.exitWatch = watch(dirname(info.LogPath), (_e, file) => {
        if (file === 'exit') void this.sync();
      });
      this.exitWatch.on('error', () => void this.sync());
    } catch { /* the poll covers it */ }
    // A monitor that dies without writing its record (kill -9) is noticed by the poll.
    this.exitPoll = setInterval(() => void this.sync(), EXIT_POLL_MS);
  }

  private unwatchExit(): void {
    this.exitWatch?.close();
    this.exitWatch = undefined;
    if (this.exitPoll) clearInterval(this.exitPoll);
    this.exitPoll = undefined;
  }

  // ---- health -----------------------------------------------------------------

  private startProbing(rec: EngineRecord, info: ContainerInspect): void {
    this.stopProbing();
    const h = rec.healthcheck!;
    const run = info.State.StartedAt;
    const startedMs = time(run);
    this.probing = run;
    const prev = readSupervisorState(this.id)?.health;
    const health = prev?.startedAt === run ? prev : { startedAt: run, status: 'starting' as const, failingStreak: 0, log: [] };
    // Counted from the start for a fresh run; from now for one a previous daemon was already probing.
    const since = prev?.startedAt === run ? Date.now() : startedMs;
    const first = Math.max(0, since + nextProbeDelay(h, since - startedMs, health.status) - Date.now());
    const tick = async () => {
      if (this.disposed || this.probing !== run) return;
      const rt = await this.ctx.deps.runtime();
      const result = await runProbe(rt, this.id, h);
      if (this.disposed || this.probing !== run) return;
      // The container may have stopped during the probe: its result then belongs to no run.
      const now = await rt.inspect(this.id).catch(() => undefined);
      if (!now?.State.Running || now.State.StartedAt !== run) return void this.sync();
      const current = this.state(readIntent(this.id));
      const before = current.health?.startedAt === run ? current.health : health;
      const after = applyProbe(h, before, result, startedMs);
      writeSupervisorState(this.id, { ...current, health: after });
      if (after.status !== before.status) {
        journal('container', `health_status: ${after.status}`, this.id, { ...now.Config.Labels, name: now.Name.replace(/^\//, ''), image: now.Config.Image });
      }
      if (this.probing === run && !this.disposed) {
        this.probeTimer = setTimeout(() => void tick(), nextProbeDelay(h, Date.now() - startedMs, after.status));
      }
    };
    this.probeTimer = setTimeout(() => void tick(), first);
  }

  private stopProbing(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.probing = undefined;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stopProbing();
    this.unwatchExit();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.ctx.done(this.id, this);
  }
}
