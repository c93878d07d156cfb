import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { readPrivateFile } from '../../../util/private-files.js';
import { join } from 'node:path';
import { ensurePrivateDir, statePath, runPath } from '../../../util/paths.js';
import { readJsonCached, readJsonIfExists } from '../../../util/atomic.js';
import { processStartTime } from '../../../util/lock.js';
import { NotFoundError } from '../../../util/errors.js';
import type { ContainerConfig } from './types.js';
import type { ImageConfig, PreparedRootfs } from './images.js';

/**
 * A container on disk. config.json is written once at create; state.json
 * changes at start/stop; the monitor (C) writes `exit` when PID 1 ends and
 * keeps its pid file under the run root while it lives. The status is derived
 * from those files and the kernel, so it is right after a crash or a reboot
 * (the run root gone) without anyone having to fix it up.
 */

export interface ResolvedMount {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Host path for bind and volume mounts. */
  source: string;
  /** Volume name. */
  name?: string;
  anonymous?: boolean;
  target: string;
  readOnly: boolean;
  /** Fill an empty volume from the image on start. */
  copyUp: boolean;
  tmpfsSize?: number;
  tmpfsMode?: number;
}

export interface ContainerRecord {
  id: string;
  name: string;
  created: string;
  image: { ref: string; id: string; config: ImageConfig };
  spec: ContainerConfig;
  /** Entrypoint + cmd, resolved against the image. */
  path: string;
  args: string[];
  env: string[];
  workingDir: string;
  hostname: string;
  domainname: string;
  user: string;
  stopSignal: string;
  stopTimeout: number;
  rootfs: PreparedRootfs;
  mounts: ResolvedMount[];
}

export interface RuntimeState {
  startCount: number;
  restartCount: number;
  startedAt?: string;
  finishedAt?: string;
  /** The last exit recorded by an engine process (the monitor's record is the source of truth while present). */
  exitCode?: number;
  oomKilled?: boolean;
  error?: string;
}

export interface ExitRecord {
  code: number;
  signal: number;
  finishedNs: bigint;
  oom: boolean;
}

export interface MonitorPids {
  monitor: number;
  init: number;
  initStart: string;
}

export const ID_RE = /^[0-9a-f]{64}$/;

export function containersDir(): string {
  return statePath('containers');
}

export class ContainerPaths {
  readonly dir: string;
  readonly runDir: string;

  constructor(readonly id: string) {
    this.dir = statePath('containers', id);
    this.runDir = runPath('containers', id);
  }

  get config(): string { return join(this.dir, 'config.json'); }
  get state(): string { return join(this.dir, 'state.json'); }
  get exit(): string { return join(this.dir, 'exit'); }
  get log(): string { return join(this.dir, 'container.log'); }
  get hosts(): string { return join(this.dir, 'hosts'); }
  get hostname(): string { return join(this.dir, 'hostname'); }
  get resolvConf(): string { return join(this.dir, 'resolv.conf'); }
  /** Under the run root: a lock outlives no boot, and costs no disk write where /run is a tmpfs. */
  get lock(): string { return `${this.runDir}.lock`; }
  get nameFile(): string { return join(this.dir, 'name'); }
  get pidfile(): string { return join(this.runDir, 'monitor.pid'); }
}

/** The lock that makes a name's check-and-take atomic across processes. */
export function namesLock(): string {
  return join(ensurePrivateDir(runPath('containers')), '.names.lock');
}

/**
 * One reading of the containers' dir: the containers (a config.json) and the dirs without one (a create
 * in progress, or one that crashed). A listing takes one and hands it on (listing.ts), so that a no-op
 * `up` reads the dir once, not three times with an existence check per container each time.
 */
export interface ContainerScan {
  ids: string[];
  incomplete: string[];
}

export function scanContainers(): ContainerScan {
  let entries: string[];
  try {
    entries = readdirSync(containersDir());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ids: [], incomplete: [] };
    throw err;
  }
  const scan: ContainerScan = { ids: [], incomplete: [] };
  for (const n of entries) {
    if (!ID_RE.test(n)) continue;
    (existsSync(join(containersDir(), n, 'config.json')) ? scan.ids : scan.incomplete).push(n);
  }
  return scan;
}

export function listContainerIds(): string[] {
  return scanContainers().ids;
}

/**
 * Names in use: every container's, and those reserved by a create still in
 * progress (a dir with a name file but no config yet, whose creator lives).
 */
export function takenNames(): Map<string, string> {
  const taken = new Map<string, string>();
  let entries: string[];
  try {
    entries = readdirSync(containersDir());
  } catch {
    return taken;
  }
  for (const id of entries) {
    if (!ID_RE.test(id)) continue;
    const paths = new ContainerPaths(id);
    try {
      const rec = readJsonIfExists<ContainerRecord>(paths.config);
      if (rec) {
        taken.set(rec.name, id);
        continue;
      }
      const [name, owner] = readPrivateFile(paths.nameFile, 4096).split('\n');
      const [pid, start] = (owner ?? '').split(' ');
      if (name && processStartTime(Number(pid)) === start) taken.set(name, id);
    } catch { /* removed meanwhile, or debris */ }
  }
  return taken;
}

/** Dirs a crashed create left behind: no config.json, and a creator that is gone (among `incomplete`, a scan's). */
export function abandonedCreates(incomplete = scanContainers().incomplete): string[] {
  return incomplete.filter((id) => {
    const paths = new ContainerPaths(id);
    if (existsSync(paths.config)) return false;
    try {
      const [, owner] = readPrivateFile(paths.nameFile, 4096).split('\n');
      const [pid, start] = (owner ?? '').split(' ');
      return processStartTime(Number(pid)) !== start;
    } catch {
      return true;
    }
  });
}

export function readRecord(id: string): ContainerRecord {
  const rec = readJsonCached<ContainerRecord>(new ContainerPaths(id).config);
  if (!rec) throw new NotFoundError('container', id);
  return rec;
}

export function readState(id: string): RuntimeState {
  return readJsonIfExists<RuntimeState>(new ContainerPaths(id).state) ?? { startCount: 0, restartCount: 0 };
}

export function readExit(path: string): ExitRecord | undefined {
  let text: string;
  try {
    // On a full disk the monitor writes the record as a symlink's target, on one line (native/monitor.c).
    text = readHelperRecord(path, 'exit').replace(/ (?=(?:signal|finished|oom) )/g, '\n');
  } catch {
    return undefined;
  }
  const field = (k: string) => new RegExp(`^${k} (\\S+)$`, 'm').exec(text)?.[1];
  const code = field('code');
  if (code === undefined) return undefined;
  return { code: Number(code), signal: Number(field('signal') ?? 0), finishedNs: BigInt(field('finished') ?? '0'), oom: field('oom') === '1' };
}

/**
 * A record the helper writes (the monitor's pid file, the exit record): a
 * symlink whose target is the record on one line (native/monitor.c says
 * why), or a regular file of ours, as helpers before that wrote them.
 */
function readHelperRecord(path: string, what: string): string {
  try {
    return readlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
  }
  return readPrivateFile(path, 4096, what);
}

/** The monitor's pids, when it is alive (pid and start time both match); a reused pid is not our monitor. */
export function liveMonitor(paths: ContainerPaths): MonitorPids | undefined {
  let text: string;
  try {
    text = readHelperRecord(paths.pidfile, 'pid');
  } catch {
    return undefined;
  }
  const [mon, monStart, init, initStart] = text.trim().split(' ');
  if (!mon || processStartTime(Number(mon)) !== monStart) return undefined;
  return { monitor: Number(mon), init: Number(init), initStart: initStart ?? '' };
}

export function nsToIso(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(Number(ms)).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface DerivedStatus {
  status: 'created' | 'running' | 'exited';
  pid: number;
  exitCode: number;
  oomKilled: boolean;
  startedAt: string;
  finishedAt: string;
  error: string;
  monitor?: MonitorPids;
}

export function deriveStatus(id: string, state = readState(id)): DerivedStatus {
  const paths = new ContainerPaths(id);
  // Liveness first, the record second: the monitor writes its record before it removes its pid file and
  // exits, so a monitor seen gone here with no record after really left none (never "unknown" by a race).
  const alive = liveMonitor(paths);
  const exit = readExit(paths.exit);
  const monitor = exit ? undefined : alive;
  const startedAt = state.startedAt ?? ZERO_TIME;
  if (monitor) {
    return { status: 'running', pid: monitor.init, exitCode: 0, oomKilled: false, startedAt, finishedAt: ZERO_TIME, error: '', monitor };
  }
  if (exit) {
    return { status: 'exited', pid: 0, exitCode: exit.code, oomKilled: exit.oom, startedAt, finishedAt: nsToIso(exit.finishedNs), error: state.error ?? '' };
  }
  if (state.startCount > 0 || state.exitCode !== undefined) {
    // Started, but no monitor and no record: the host rebooted or the monitor was killed.
    return {
      status: 'exited',
      pid: 0,
      exitCode: state.exitCode ?? 255,
      oomKilled: state.oomKilled ?? false,
      startedAt,
      finishedAt: state.finishedAt ?? startedAt,
      error: state.error ?? (state.exitCode === undefined ? 'the container\'s monitor is gone (host reboot or crash); its exit status is unknown' : ''),
    };
  }
  return { status: 'created', pid: 0, exitCode: 0, oomKilled: false, startedAt: ZERO_TIME, finishedAt: ZERO_TIME, error: state.error ?? '' };
}
