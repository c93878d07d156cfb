import { readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, statePath } from '../../../util/paths.js';
import { readJsonIfExists, writeJsonAtomic } from '../../../util/atomic.js';
import { isNoSpace } from '../../../util/errors.js';
import type { NetworkAttachment, PortMapping, RestartPolicy } from '../../types.js';

/**
 * What the native Engine keeps per container beside the runtime's own record
 * (`engine/<container id>/` under the state root), for what the runtime does
 * not know: the healthcheck and restart policy the supervisor carries out,
 * the networks and ports asked for, and the desired state. Three files, each
 * with one writer, so that the CLI and the supervisor never race on a file:
 *
 * - record.json: written once at create (by the Engine);
 * - intent.json: what the user last asked for (start/stop/kill), by the Engine;
 * - supervisor.json: health and restart bookkeeping, by the supervisor only.
 */

/** A healthcheck as the supervisor runs it: the image's merged in, durations in ms. */
export interface ResolvedHealthcheck {
  /** ["CMD", ...] or ["CMD-SHELL", cmd]. */
  test: string[];
  interval: number;
  timeout: number;
  retries: number;
  startPeriod: number;
  startInterval: number;
}

export interface EngineRecord {
  id: string;
  healthcheck?: ResolvedHealthcheck;
  restart: RestartPolicy;
  /** The container set its own stop signal (or its image did): kill with another signal leaves its policy alone. */
  stopSignalSet: boolean;
  autoRemove: boolean;
  /** "none", "host", "container:<id>", or undefined for bridge networks. */
  networkMode?: string;
  /** The networks asked for, in order (their aliases, addresses). */
  networks: NetworkAttachment[];
  ports: PortMapping[];
  /** "80/tcp", the image's and the request's. */
  exposedPorts: string[];
  /**
   * Files placed before the first start (configs and secrets with inline or
   * environment content): host copies under `engine/files/<token>/`,
   * bind-mounted at their targets. The token dir goes with the container.
   */
  filesToken?: string;
  /** Targets of `tmpfs:` entries: mounts Docker does not list (they are HostConfig.Tmpfs, not Mounts). */
  tmpfsTargets?: string[];
}

export interface Intent {
  /** Bumped by every explicit start: the supervisor's restart count belongs to one generation. */
  generation: number;
  wanted: 'running' | 'stopped';
  /** docker's HasBeenManuallyStopped: unless-stopped does not restart it. */
  manuallyStopped: boolean;
  /** /proc/sys/kernel/random/boot_id at the last explicit start: after a reboot, `always` starts it again. */
  bootId: string;
}

export interface HealthLogEntry {
  start: number;
  end: number;
  exitCode: number;
  output: string;
}

export interface SupervisorState {
  /** The intent generation this bookkeeping belongs to (an explicit start resets it). */
  generation: number;
  restartCount: number;
  /** Docker's restart manager timeout: 100 ms, doubled per restart up to a minute, reset after 10 s of running. */
  backoffMs: number;
  /** Waiting out the backoff before the next start (State.Restarting). */
  restarting: boolean;
  /** The policy gave up, or a restart failed: the reason is kept for inspect. */
  error?: string;
  /** The FinishedAt of the last exit acted on: each exit is handled once, across daemon restarts. */
  handledFinish?: string;
  health?: {
    /** The container run (its StartedAt) these results are about; another run starts over. */
    startedAt: string;
    status: 'starting' | 'healthy' | 'unhealthy';
    failingStreak: number;
    log: HealthLogEntry[];
  };
}

export function engineDir(): string {
  return statePath('engine');
}

export class EnginePaths {
  readonly dir: string;
  constructor(readonly id: string) {
    this.dir = join(engineDir(), id);
  }
  get record(): string { return join(this.dir, 'record.json'); }
  get intent(): string { return join(this.dir, 'intent.json'); }
  get supervisor(): string { return join(this.dir, 'supervisor.json'); }
}

/** Where a container's configs and secrets are kept (a token made before the container has an id). */
export function filesDir(token: string): string {
  return join(engineDir(), 'files', token);
}

const made = new Set<string>();

/** mkdir once per process and dir (each mkdir is a syscall that walks the path). */
function ensureDir(dir: string): void {
  if (made.has(dir)) return;
  ensurePrivateDir(dir);
  made.add(dir);
}

export function writeEngineRecord(rec: EngineRecord): void {
  const p = new EnginePaths(rec.id);
  ensureDir(p.dir);
  writeJsonAtomic(p.record, rec, 0o600, { durable: false });
}

/** The record, or a default one for a container made outside the Engine (`tscompose container create`). */
export function readEngineRecord(id: string): EngineRecord {
  return readJsonIfExists<EngineRecord>(new EnginePaths(id).record) ?? defaultRecord(id);
}

export function hasEngineRecord(id: string): boolean {
  return readJsonIfExists<EngineRecord>(new EnginePaths(id).record) !== undefined;
}

function defaultRecord(id: string): EngineRecord {
  return { id, restart: { name: 'no' }, stopSignalSet: false, autoRemove: false, networks: [], ports: [], exposedPorts: [] };
}

export function readIntent(id: string): Intent | undefined {
  const path = new EnginePaths(id).intent;
  // The file, as almost always; a full disk's symlink names no file, so it reads as absent first.
  const file = readJsonIfExists<Intent>(path);
  if (file) return file;
  try {
    return intentOfLink(readlinkSync(path));
  } catch {
    return undefined; // none
  }
}

/**
 * The intent is what stops the supervisor restarting a container its user
 * stopped, so it must be recorded on a full disk too: when there is no block
 * for the file, it becomes a symlink whose target is the intent on one short
 * line (a symlink under 60 bytes lives in its inode, on ext4 as on tmpfs),
 * as the monitor does with its exit record.
 */
export function writeIntent(id: string, intent: Intent): void {
  const p = new EnginePaths(id);
  ensureDir(p.dir);
  try {
    writeJsonAtomic(p.intent, intent, 0o600, { durable: false });
  } catch (err) {
    if (!isNoSpace(err)) throw err;
    const tmp = `${p.intent}.nospace`;
    rmSync(tmp, { force: true });
    symlinkSync(linkOfIntent(intent), tmp);
    renameSync(tmp, p.intent);
  }
}

/** "<wanted> <generation> <manually stopped 0|1> <boot id without dashes>": 50 bytes at most. */
export function linkOfIntent(i: Intent): string {
  return `${i.wanted} ${i.generation} ${i.manuallyStopped ? 1 : 0} ${i.bootId.replace(/-/g, '')}`;
}

export function intentOfLink(link: string): Intent | undefined {
  const m = /^(running|stopped) (\d+) ([01]) ([0-9a-f]{32})?$/.exec(link);
  if (!m) return undefined;
  const b = m[4] ?? '';
  const bootId = b ? `${b.slice(0, 8)}-${b.slice(8, 12)}-${b.slice(12, 16)}-${b.slice(16, 20)}-${b.slice(20)}` : '';
  return { wanted: m[1] as Intent['wanted'], generation: Number(m[2]), manuallyStopped: m[3] === '1', bootId };
}

export function readSupervisorState(id: string): SupervisorState | undefined {
  try {
    return readJsonIfExists<SupervisorState>(new EnginePaths(id).supervisor);
  } catch {
    return undefined; // a torn file cannot happen (atomic writes); a garbled one means "no bookkeeping"
  }
}

export function writeSupervisorState(id: string, state: SupervisorState): void {
  const p = new EnginePaths(id);
  ensureDir(p.dir);
  writeJsonAtomic(p.supervisor, state, 0o600, { durable: false });
}

/** The restart count a user sees: the supervisor's, for the current generation only. */
export function restartCountOf(intent: Intent | undefined, sup: SupervisorState | undefined): number {
  if (!sup) return 0;
  return sup.generation === (intent?.generation ?? 0) ? sup.restartCount : 0;
}

export function removeEngineDir(id: string): void {
  const dir = new EnginePaths(id).dir;
  made.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** removeEngineDir in the thread pool (a removal's hook: the main thread goes on with other containers meanwhile). */
export async function removeEngineDirAsync(id: string): Promise<void> {
  const dir = new EnginePaths(id).dir;
  made.delete(dir);
  await rm(dir, { recursive: true, force: true });
}

/** Ids that have an engine dir (for the supervisor's scan and for garbage collection). */
export function engineIds(): string[] {
  try {
    return readdirSync(engineDir()).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch {
    return [];
  }
}

let cachedBootId: string | undefined;

export function bootId(): string {
  cachedBootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return cachedBootId;
}
