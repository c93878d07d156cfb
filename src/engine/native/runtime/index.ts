import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { StdioOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { ensurePrivateDir, runPath, stateRoot } from '../../../util/paths.js';
import { writeJsonAtomic, writeJsonAtomicAsync } from '../../../util/atomic.js';
import { withLock, processStartTime } from '../../../util/lock.js';
import { ConflictError, isNoSpace, UserError } from '../../../util/errors.js';
import { hostCgroups, type CgroupDriver } from './cgroups/index.js';
import { openImages, type RuntimeImages } from './images.js';
import { checkName, generatedName, newContainerId } from './names.js';
import { buildRecord, resolveMounts, validateConfig } from './create.js';
import { hostsFile, hostnameFile, resolvConfFile } from './etc-files.js';
import { startConfig, type AttachOptions } from './launch.js';
import { cgroupLimits, sharedProcesses } from './namespaces.js';
import { runHelper, type HelperRun } from './helper.js';
import { startDetached } from './start-server.js';
import { resolveUser } from './users.js';
import { parseSignal } from './signals.js';
import { killContainer, signalIfSame, stopContainer } from './stop.js';
import { exitInfo, waitNotRunning } from './wait.js';
import { readLogs } from './logs.js';
import { startExec, type ExecHandle, type ExecStdio } from './exec.js';
import { autoRemoveDue, inspectContainer, listedContainers, resolveContainer, summaries, type ListedContainer } from './listing.js';
import { topProcesses } from './top.js';
import { toDockerStats } from './stats.js';
import { checkKernel } from './kernel.js';
import { copyFromContainer, copyToContainer, type CopyOptions } from './cp.js';
import { VolumeStore } from './volumes.js';
import {
  ContainerPaths, abandonedCreates, containersDir, deriveStatus, namesLock, readRecord, readState, takenNames,
  type ContainerRecord, type RuntimeState,
} from './store.js';
import type {
  ContainerInspect, ContainerNetwork, ContainerConfig, ContainerResources, ContainerStats, ContainerSummary, ExecRequest, ExitInfo, ListOptions, LogEntry,
  LogOptions, RemoveOptions, StopOptions, TopResult,
} from './types.js';

export type * from './types.js';
export { VolumeStore, type Volume, type VolumeCreateOptions } from './volumes.js';
export type { ExecHandle, ExecStdio } from './exec.js';
export type { CopyOptions } from './cp.js';
export { checkDevice } from './namespaces.js';
export { closeStartServer } from './start-server.js';

/** A foreground start: the helper relays the caller's stdio until the container exits. */
export interface AttachedStart {
  pid: number;
  /** The container's exit code. */
  exit: Promise<number>;
  run: HelperRun;
}

export interface StartOptions {
  /** Relay stdio to the container (docker run without -d). 'inherit' hands the caller's terminal to it. */
  attach?: { stdio: 'inherit' | 'pipe'; stdin?: boolean; size?: { rows: number; cols: number }; resize?: boolean };
}

/**
 * The native container runtime: containers in namespaces and cgroups,
 * started by the C helper, supervised by a per-container monitor that
 * outlives this process. Every method works from any process: state is on
 * disk and in the kernel, never in memory.
 */
export class ContainerRuntime {
  readonly volumes = new VolumeStore();
  private readonly removedListeners: Array<(id: string) => Promise<void> | void> = [];

  private constructor(
    readonly images: RuntimeImages,
    readonly cgroups: CgroupDriver,
  ) {}

  static async open(opts: { images?: RuntimeImages; cgroups?: CgroupDriver } = {}): Promise<ContainerRuntime> {
    checkKernel();
    return new ContainerRuntime(opts.images ?? (await openImages()), opts.cgroups ?? hostCgroups());
  }

  /**
   * Called after every removal this runtime makes, explicit or not (an exited
   * `autoRemove` container found by `list`): the network detaches the
   * container's endpoints here. Listener errors are reported, not thrown.
   */
  onRemoved(listener: (id: string) => Promise<void> | void): void {
    this.removedListeners.push(listener);
  }

  // ---- lookup --------------------------------------------------------------

  /** A full id, a unique id prefix, or a name (with or without the leading slash). */
  resolve(ref: string): string {
    return resolveContainer(ref);
  }

  private record(ref: string): ContainerRecord {
    return readRecord(this.resolve(ref));
  }

  private lock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    ensurePrivateDir(runPath('containers'));
    return withLock(new ContainerPaths(id).lock, fn, 10 * 60_000);
  }

  // ---- create --------------------------------------------------------------

  async create(spec: ContainerConfig): Promise<string> {
    validateConfig(spec);
    const image = await this.images.get(spec.image);
    ensurePrivateDir(containersDir());
    const id = newContainerId();
    const paths = new ContainerPaths(id);
    const name = await withLock(namesLock(), () => {
      const taken = takenNames();
      let n = spec.name ? checkName(spec.name) : generatedName();
      for (let i = 1; !spec.name && taken.has(n); i++) n = generatedName(i);
      if (taken.has(n)) {
        throw new ConflictError(`Conflict. The container name "/${n}" is already in use by container "${taken.get(n)}".`,
          'You have to remove (or rename) that container to be able to reuse that name.');
      }
      // The dir with its name file reserves the name until config.json exists; a crashed creator's reservation lapses.
      mkdirSync(paths.dir, { mode: 0o700 });
      writeFileSync(paths.nameFile, `${n}\n${process.pid} ${processStartTime(process.pid)}\n`);
      return n;
    });
    try {
      const mounts = await resolveMounts(spec, image, this.volumes);
      const rootfs = await this.images.prepareRootfs(id, image.id);
      const rec = buildRecord({ id, name, spec, image, rootfs, mounts });
      const network = spec.network ?? { mode: 'none' };
      writeFileSync(paths.hosts, hostsFile(network, spec.extraHosts), { mode: 0o644 });
      writeFileSync(paths.hostname, hostnameFile(rec.hostname), { mode: 0o644 });
      writeFileSync(paths.resolvConf, resolvConfFile(network, spec.dns), { mode: 0o644 });
      await writeJsonAtomicAsync(paths.config, rec);
      return id;
    } catch (err) {
      await this.images.releaseRootfs(id).catch(() => undefined);
      rmSync(paths.dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Points a created (not running) container at another network; src/network calls this when it
   * wires one. Atomic but not synced: the network's own record of the attach (fsynced) is the
   * truth a power cut leaves, and the start after one (its namespace handle gone with the run
   * root) attaches again and calls this again (network/runtime-bridge.ts). 2 of ~8 syncs a
   * container of an `up` made.
   */
  async setNetwork(ref: string, network: ContainerNetwork): Promise<void> {
    const id = this.resolve(ref);
    await this.lock(id, async () => {
      const rec = readRecord(id);
      if (deriveStatus(id).status === 'running') throw new ConflictError(`container ${rec.name} is running`, 'stop it before changing its network');
      rec.spec = { ...rec.spec, network };
      const paths = new ContainerPaths(id);
      writeFileSync(paths.hosts, hostsFile(network, rec.spec.extraHosts), { mode: 0o644 });
      writeFileSync(paths.resolvConf, resolvConfFile(network, rec.spec.dns), { mode: 0o644 });
      writeJsonAtomic(paths.config, rec, 0o600, { durable: false });
    });
  }

  /**
   * docker rename: the new name must be free (names are reserved under the same
   * lock as at create); the record is rewritten in place, running or not.
   */
  async rename(ref: string, newName: string): Promise<void> {
    const id = this.resolve(ref);
    const name = checkName(newName.replace(/^\//, ''));
    await withLock(namesLock(), () =>
      this.lock(id, async () => {
        const rec = readRecord(id);
        if (rec.name === name) throw new ConflictError(`Renaming a container with the same name as its current name`);
        const holder = takenNames().get(name);
        if (holder !== undefined && holder !== id) {
          throw new ConflictError(`Conflict. The container name "/${name}" is already in use by container "${holder}".`,
            'You have to remove (or rename) that container to be able to reuse that name.');
        }
        writeJsonAtomic(new ContainerPaths(id).config, { ...rec, name });
      }),
    );
  }

  /**
   * docker update: new limits merged into the record (the next start applies
   * them) and written to the cgroup of a running container at once. A limit
   * the kernel refuses leaves the record as it was.
   */
  async update(ref: string, resources: ContainerResources): Promise<void> {
    const id = this.resolve(ref);
    await this.lock(id, async () => {
      const rec = readRecord(id);
      const merged: ContainerResources = { ...(rec.spec.resources ?? {}), ...resources };
      if (deriveStatus(id).status === 'running') this.cgroups.create(id, cgroupLimits(rec.spec, merged));
      writeJsonAtomic(new ContainerPaths(id).config, { ...rec, spec: { ...rec.spec, resources: merged } });
    });
  }

  // ---- start / stop ----------------------------------------------------------

  async start(ref: string, opts: StartOptions = {}): Promise<AttachedStart | undefined> {
    const id = this.resolve(ref);
    return this.lock(id, async () => {
      const rec = readRecord(id);
      const state = readState(id);
      if (deriveStatus(id, state).status === 'running') {
        if (opts.attach) throw new ConflictError(`container ${rec.name} is already running`, 'use logs -f to follow it');
        return undefined;
      }
      const paths = new ContainerPaths(id);
      const user = resolveUser([rec.rootfs.upperDir, ...rec.rootfs.lowerDirs], rec.user, rec.spec.groupAdd);
      const r = rec.spec.resources ?? {};
      const attach: AttachOptions | undefined = opts.attach && {
        stdin: opts.attach.stdin ?? false,
        ...(opts.attach.stdio === 'inherit' && process.stdout.isTTY ? { rows: process.stdout.rows, cols: process.stdout.columns } : {}),
        ...(opts.attach.stdio === 'pipe' && opts.attach.size ? { rows: opts.attach.size.rows, cols: opts.attach.size.cols } : {}),
        ...(opts.attach.resize ? { resize: true } : {}),
      };
      let conf: string;
      try {
        const shared = sharedProcesses(rec.spec, rec.name);
        this.cgroups.create(id, cgroupLimits(rec.spec, r));
        ensurePrivateDir(paths.runDir);
        try { unlinkSync(paths.exit); } catch { /* first start */ }
        // Handed over on a pipe, not written to a file: nothing to write, free (a discard on this kind of disk) or leave behind.
        conf = startConfig(rec, paths, this.cgroups, user, shared, attach);
      } catch (err) {
        // A limit the host cannot apply (or a config that cannot be made) leaves no cgroup behind.
        await this.cgroups.remove(id).catch(() => undefined);
        writeJsonAtomic(paths.state, { ...state, error: (err as Error).message }, 0o600, { durable: false });
        throw err;
      }
      const attached = opts.attach
        ? runHelper(['start', { text: conf }], [opts.attach.stdin ? opts.attach.stdio : 'ignore', opts.attach.stdio, opts.attach.stdio] as [StdioOptions, StdioOptions, StdioOptions], { resize: attach?.resize ?? false })
        : undefined;
      // Stamped as the start begins: a command that ends at once may have exited before the helper's
      // reply is read here (through the start server, one hop more), and FinishedAt must not precede it.
      const startedAt = new Date().toISOString();
      const run = attached ?? startDetached(conf);
      const reply = await run.first;
      if (!reply.ok) {
        await run.done.catch(() => undefined);
        await this.cgroups.remove(id).catch(() => undefined);
        const next: RuntimeState = { ...state, error: reply.message };
        writeJsonAtomic(paths.state, next, 0o600, { durable: false });
        throw new UserError(`failed to start container ${rec.name}: ${reply.message}`, reply.code);
      }
      const next: RuntimeState = {
        startCount: state.startCount + 1,
        restartCount: state.restartCount,
        startedAt,
      };
      try {
        writeJsonAtomic(paths.state, next, 0o600, { durable: false });
      } catch (err) {
        if (!isNoSpace(err)) throw err;
        // A full disk: a container whose start cannot be recorded is not left running behind an error.
        await killContainer(id, this.cgroups);
        throw new UserError(`failed to start container ${rec.name}: no space left on device (${stateRoot()})`, 1, 'free some space there and start it again');
      }
      if (!attached) return undefined;
      return { pid: reply.values[0]!, exit: attached.done, run: attached };
    });
  }

  async stop(ref: string, opts: StopOptions = {}): Promise<ExitInfo> {
    const id = this.resolve(ref);
    const rec = readRecord(id);
    const signal = parseSignal(opts.signal ?? rec.stopSignal, 'stop signal');
    const st = await stopContainer(id, this.cgroups, { signal, timeoutSec: opts.timeout ?? rec.stopTimeout });
    return exitInfo(st);
  }

  /** Sends a signal to PID 1 (docker kill); SIGKILL also clears the rest of the cgroup. */
  async kill(ref: string, signal: string | number = 'SIGKILL'): Promise<void> {
    const id = this.resolve(ref);
    const st = deriveStatus(id);
    if (st.status !== 'running' || !st.monitor) throw new ConflictError(`Container ${id} is not running`);
    const sig = parseSignal(signal);
    if (sig === 9) await killContainer(id, this.cgroups);
    else signalIfSame(st.pid, st.monitor.initStart, sig);
  }

  async restart(ref: string, opts: StopOptions = {}): Promise<void> {
    const id = this.resolve(ref);
    await this.stop(id, opts);
    await this.start(id);
  }

  /** Resolves with the exit status once the container is not running (immediately if it is not). */
  async waitExit(ref: string): Promise<ExitInfo> {
    const id = this.resolve(ref);
    return exitInfo((await waitNotRunning(id))!);
  }

  async wait(ref: string): Promise<number> {
    return (await this.waitExit(ref)).exitCode;
  }

  // ---- remove --------------------------------------------------------------

  async remove(ref: string, opts: RemoveOptions = {}): Promise<void> {
    const id = this.resolve(ref);
    await this.lock(id, async () => {
      const rec = readRecord(id);
      if (deriveStatus(id).status === 'running') {
        if (!opts.force) {
          throw new ConflictError(`You cannot remove a running container ${id}. Stop the container before attempting removal or force remove`);
        }
        await killContainer(id, this.cgroups);
      }
      await this.cgroups.remove(id);
      await this.images.releaseRootfs(id);
      const paths = new ContainerPaths(id);
      // The record goes first: from then on the container is not listed, and a crash leaves only debris.
      rmSync(paths.config, { force: true });
      // The rest in the thread pool: ~10 metadata operations a container, which on the main thread held
      // up everything else of a `down` (the next stop of a chain waited behind them).
      await Promise.all([rm(paths.dir, { recursive: true, force: true }), rm(paths.runDir, { recursive: true, force: true })]);
      if (opts.volumes || rec.spec.autoRemove) {
        for (const m of rec.mounts) if (m.type === 'volume' && m.anonymous && m.name) await this.volumes.remove(m.name, { force: true }).catch(() => undefined);
      }
    });
    rmSync(new ContainerPaths(id).lock, { force: true });
    for (const listener of this.removedListeners) {
      try {
        await listener(id);
      } catch (err) {
        process.emitWarning(`after removing container ${id}: ${(err as Error).message}`);
      }
    }
  }

  // ---- observe -------------------------------------------------------------

  async inspect(ref: string): Promise<ContainerInspect> {
    return inspectContainer(ref);
  }

  /** Containers, newest first. Exited `autoRemove` containers nobody waited for are removed on the way. */
  async list(opts: ListOptions = {}): Promise<ContainerSummary[]> {
    await this.collectAbandoned();
    const kept: ListedContainer[] = [];
    for (const c of listedContainers(opts)) {
      if (autoRemoveDue(c)) await this.remove(c.id, { force: false }).catch(() => undefined);
      else kept.push(c);
    }
    return summaries(kept, opts);
  }

  /** What a create that crashed half-way left: its dir, its root filesystem in the image store. */
  private async collectAbandoned(): Promise<void> {
    for (const id of abandonedCreates()) {
      await this.images.releaseRootfs(id).catch(() => undefined);
      rmSync(new ContainerPaths(id).dir, { recursive: true, force: true });
    }
  }

  logs(ref: string, opts: LogOptions = {}): AsyncGenerator<LogEntry> {
    return readLogs(this.resolve(ref), opts);
  }

  /** One reading of the container's cgroup counters (zeros for one that is not running, as Docker's). */
  async stats(ref: string): Promise<ContainerStats> {
    const id = this.resolve(ref);
    const running = deriveStatus(id).status === 'running';
    return toDockerStats(id, readRecord(id).name, this.cgroups.version, running ? this.cgroups.stats(id) : undefined);
  }

  async top(ref: string): Promise<TopResult> {
    const id = this.resolve(ref);
    if (deriveStatus(id).status !== 'running') throw new ConflictError(`Container ${id} is not running`);
    return topProcesses(this.cgroups.pids(id));
  }

  // ---- copy ----------------------------------------------------------------

  /** docker cp CONTAINER:SRC DEST; DEST "-" writes a tar to `out` (stdout by default). */
  async copyFrom(ref: string, src: string, dest: string, opts: CopyOptions = {}, out?: Writable): Promise<void> {
    await copyFromContainer(this.record(ref), src, dest, opts, out);
  }

  /** docker cp SRC CONTAINER:DEST; SRC "-" reads a tar from `input` (stdin by default) into the directory DEST. */
  async copyTo(ref: string, src: string, dest: string, opts: CopyOptions = {}, input?: Readable): Promise<void> {
    await copyToContainer(this.record(ref), src, dest, opts, input);
  }

  // ---- exec ----------------------------------------------------------------

  /** Starts a process in the running container; 'inherit' hands it this process's stdio. */
  async execStart(ref: string, spec: ExecRequest, stdio: ExecStdio = 'inherit'): Promise<ExecHandle> {
    return startExec(this.record(ref), this.cgroups, spec, stdio);
  }

  /** Runs a process in the container with this process's stdio and returns its exit code. */
  async exec(ref: string, spec: ExecRequest): Promise<number> {
    const h = await this.execStart(ref, spec, 'inherit');
    return spec.detach ? 0 : h.exit;
  }

  /** Runs a process to completion and collects its output (healthchecks, build steps). */
  async execCapture(ref: string, spec: ExecRequest): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const h = await this.execStart(ref, { ...spec, tty: false, detach: false }, 'pipe');
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    h.run.stdout?.on('data', (b: Buffer) => out.push(b));
    h.run.stderr?.on('data', (b: Buffer) => err.push(b));
    h.run.stdin?.end();
    const exitCode = await h.exit;
    return { exitCode, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  }
}
