import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { ConflictError, NotFoundError, UserError } from '../../../util/errors.js';
import type {
  AttachSession, CommitOptions, ContainerApi, ContainerUpdate, ContainerCreateRequest, StopOptions, ContainerDetails, ContainerStats, ContainerListOptions, ContainerSummary, DockerObject, ExecRequest, LogLine,
  LogOptions, PathStat, ProcessIO, TopResult, WaitCondition,
} from '../../types.js';
import type { ContainerRuntime, ContainerNetwork as RuntimeNetwork, ContainerSummary as RuntimeSummary } from '../runtime/index.js';
import type { EngineDeps } from './deps.js';
import type { CreatePlan } from './create-plan.js';
import { placeFiles, removeFiles } from './files.js';
import { endpointRequests } from './networks.js';
import { isPaused, setPaused } from './freezer.js';
import { journal } from './events.js';
import { dockerInspect, networksByContainer, toDetails, toSummary, type ContainerFacts } from './details.js';
import { generatedName } from '../runtime/names.js';
import { takenNames, type ContainerScan } from '../runtime/store.js';
import { inspectContainer, inspectListed, listedContainers, listingChores, resolveContainer, summaries, type ListedContainer } from '../runtime/listing.js';
import { daemonAlive, eventAttributes, needsSupervisor, notifySupervisor, recordStartIntent, recordStopIntent, startContainer, supervised } from './lifecycle.js';
import {
  hasEngineRecord, readEngineRecord, readIntent, readSupervisorState, removeEngineDirAsync, writeEngineRecord, type EngineRecord,
} from './records.js';
import type { ContainerIo } from './io.js';
import { markCreate, sweepDeadCreates, sweepRemovedRemnants } from './sweep.js';

/**
 * The Engine's containers on the native runtime: create wires the network
 * (src/network) and records what the runtime does not keep; start and stop
 * go through the network's lifecycle hooks; the supervisor (healthchecks,
 * restart policies, --rm) is told about the containers it looks after.
 */
export class NativeContainers implements ContainerApi {
  private ioPromise?: Promise<ContainerIo>;
  /**
   * What the destroy event says of containers this process is removing (their records are gone by the hook),
   * and how the last run ended, for followers that never saw it exit (a die they report before the destroy).
   */
  private readonly removing = new Map<string, { attributes: Record<string, string>; exitCode?: number }>();
  /**
   * What stops with `thenRemove` left to the container's removal (the network's release, a word to the
   * supervisor), by container id: dropped when the removal is done (its detach does more), paid when
   * it fails, when a start comes first, or at close() (the removal never came). A crash meanwhile
   * leaves what a crash between a stop and its release always left (see releaseOnStops).
   */
  private readonly owedAfterStop = new Map<string, () => Promise<void>>();

  constructor(private readonly deps: EngineDeps) {
    deps.onRemoved(async (id) => {
      const rec = readEngineRecord(id);
      await deps.batches.removed(id);
      removeFiles(rec.filesToken);
      const wasSupervised = hasEngineRecord(id) && supervised(rec);
      await removeEngineDirAsync(id);
      const removing = this.removing.get(id);
      journal('container', 'destroy', id, removing?.attributes ?? {}, removing?.exitCode !== undefined ? { exitCode: removing.exitCode } : {});
      this.removing.delete(id);
      if (wasSupervised) await notifySupervisor(deps, id, false).catch(() => undefined);
    });
  }

  private rt(): Promise<ContainerRuntime> {
    return this.deps.runtime();
  }

  /** Streams (logs, attach, exec, wait), loaded on first use; one instance, it holds pending attaches. */
  private io(): Promise<ContainerIo> {
    this.ioPromise ??= import('./io.js').then((m) => new m.ContainerIo(this.deps));
    return this.ioPromise;
  }

  /** A container's full id, or NotFoundError. */
  async resolve(ref: string): Promise<string> {
    return (await this.rt()).resolve(ref);
  }

  // ---- create ---------------------------------------------------------------

  async create(request: ContainerCreateRequest): Promise<{ id: string; name: string; warnings: string[] }> {
    const [rt, store, { planCreate }] = await Promise.all([this.rt(), this.deps.store(), import('./create-plan.js')]);
    const image = await store.resolve(request.image);
    if (!image) throw new NotFoundError('image', request.image);
    // Docker picks a free adjective_surname when none is given; the runtime checks it again under its names lock.
    const spec = { ...request, name: request.name ?? freeName() };
    const plan = await planCreate(spec, image, rt);
    // The network daemon's start (a Node process of its own, 0.1-0.2 s) then overlaps the rest of the
    // create, not only the attach: the attach waits for this same start. It never rejects.
    if (plan.network.kind === 'bridge') void this.deps.network().then((net) => net.startDaemonAhead(), () => undefined);
    const files = placeFiles(spec.files ?? [], spec.name);
    const unmark = markCreate(spec.name);
    let id: string | undefined;
    try {
      const initial = plan.network.kind === 'none' || plan.network.kind === 'host' ? { mode: plan.network.kind } : await this.sharedNetns(plan);
      id = await rt.create({ ...plan.runtime, mounts: [...(plan.runtime.mounts ?? []), ...(files?.mounts ?? [])], network: initial ?? { mode: 'none' } });
      // The record is written once the container is complete: until then the marker by name says a
      // create is under way (a process killed before this point leaves a container the sweep removes).
      if (plan.network.kind === 'bridge') await this.wire(rt, id, plan);
      writeEngineRecord({ id, ...plan.record, ...(files ? { filesToken: files.token } : {}) });
    } catch (err) {
      if (id) await rt.remove(id, { force: true, volumes: true }).catch(() => undefined);
      else removeFiles(files?.token);
      throw err;
    } finally {
      unmark();
    }
    journal('container', 'create', id, eventAttributes(spec.name, spec.image, plan.runtime.labels ?? {}));
    return { id, name: spec.name, warnings: plan.warnings };
  }

  /** `network_mode: container:x`: x's namespace, hosts and resolv.conf (x must be on a network of ours). */
  private async sharedNetns(plan: CreatePlan): Promise<RuntimeNetwork | undefined> {
    if (plan.network.kind !== 'container') return undefined;
    const { netnsPath } = await this.deps.network();
    const rt = await this.rt();
    const other = await rt.inspect(plan.network.id);
    const path = netnsPath(plan.network.id);
    const mounted = readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${path} `);
    if (!mounted) {
      throw new UserError(`container ${plan.runtime.name}: ${plan.network.name} has no network namespace to share`, 1,
        'give that container a network (not none or host), or use --backend docker');
    }
    return { mode: 'netns', path, hosts: readFileSync(other.HostsPath, 'utf8'), resolvConf: readFileSync(other.ResolvConfPath, 'utf8') };
  }

  private async wire(rt: ContainerRuntime, id: string, plan: CreatePlan): Promise<void> {
    if (plan.network.kind !== 'bridge') return;
    const net = await this.deps.network();
    const n = plan.network;
    const info = await rt.inspect(id);
    const linkHosts = await this.linkHosts(plan);
    const attach = await this.deps.batches.attach({
      containerId: id,
      containerName: info.Name.replace(/^\//, ''),
      endpoints: endpointRequests(n.endpoints),
      ports: n.ports,
      options: {
        hostname: info.Config.Hostname,
        extraHosts: [...n.extraHosts, ...linkHosts],
        ...(n.dns.length ? { dnsServers: n.dns } : {}),
        ...(n.dnsSearch ? { dnsSearch: n.dnsSearch } : {}),
        ...(n.dnsOptions ? { dnsOptions: n.dnsOptions } : {}),
      },
    });
    try {
      await rt.setNetwork(id, { mode: 'netns', path: attach.netnsPath, hosts: attach.hosts, resolvConf: attach.resolvConf });
    } catch (err) {
      await this.deps.netOp(() => net.detachContainer(id)).catch(() => undefined);
      throw err;
    }
  }

  /** Legacy links: "alias:address" lines for /etc/hosts, the address being the linked container's on one of its networks. */
  private async linkHosts(plan: CreatePlan): Promise<string[]> {
    if (!plan.links.length) return [];
    const net = await this.deps.network();
    const rt = await this.rt();
    const records = net.listNetworks();
    const out: string[] = [];
    for (const l of plan.links) {
      let id: string;
      try {
        id = rt.resolve(l.container);
      } catch {
        throw new UserError(`container ${plan.runtime.name}: the linked container ${l.container} does not exist`, 1, 'create it first, or drop the link');
      }
      const ep = records.map((r) => r.endpoints[id]).find((e) => e !== undefined);
      if (ep) out.push(`${l.alias}:${ep.ipv4}`);
    }
    return out;
  }

  // ---- lifecycle ------------------------------------------------------------

  async start(idOrName: string): Promise<void> {
    const id = await this.resolve(idOrName);
    // Released before it starts again: a release after the start would take its names and ports back.
    await this.settleStop(id);
    const attached = await (await this.io()).startAttached(id, (attach) => startContainer(this.deps, id, { explicit: true, attach }));
    if (!attached) await startContainer(this.deps, id, { explicit: true });
  }

  async stop(idOrName: string, timeoutSeconds?: number, signal?: string, options: StopOptions = {}): Promise<void> {
    const ended = this.deps.batches.stopping();
    try {
      await this.stopUnderWay(idOrName, timeoutSeconds, signal, options.thenRemove ?? false);
    } finally {
      ended();
    }
  }

  private async stopUnderWay(idOrName: string, timeoutSeconds: number | undefined, signal: string | undefined, thenRemove: boolean): Promise<void> {
    const rt = await this.rt();
    const id = rt.resolve(idOrName);
    const rec = readEngineRecord(id);
    if (supervised(rec)) recordStopIntent(id);
    const info = await rt.inspect(id);
    if (info.State.Running) {
      // A frozen process cannot act on its stop signal: thaw it first, as Docker does.
      if (isPaused(id)) await setPaused(id, info.Name, false);
      const attrs = eventAttributes(info.Name.replace(/^\//, ''), info.Config.Image, info.Config.Labels);
      // In Docker's order: kill as the signal goes, then die (seen by followers), then stop.
      journal('container', 'kill', id, { ...attrs, signal: signal ? normalizeSignal(signal) : (info.Config.StopSignal ?? 'SIGTERM') });
      await rt.stop(id, { ...(timeoutSeconds !== undefined ? { timeout: timeoutSeconds } : {}), ...(signal ? { signal } : {}) });
      journal('container', 'stop', id, attrs);
    }
    const afterStop = async () => {
      await this.deps.batches.stopped(id);
      if (supervised(rec)) await notifySupervisor(this.deps, id, false);
    };
    // In a chain of stops (a `down`: dependents first) this was a network lock, a record and a daemon
    // reload between every two stops, all of which the removal's detach does again anyway.
    if (thenRemove) this.owedAfterStop.set(id, afterStop);
    else await afterStop();
  }

  /** Pays what a stop with `thenRemove` left for the container's removal, when that removal cannot (it failed, or a start came first). */
  private async settleStop(id: string): Promise<void> {
    const owed = this.owedAfterStop.get(id);
    if (!owed) return;
    this.owedAfterStop.delete(id);
    await owed();
  }

  /** What stops with `thenRemove` left to removals that never came (the engine's close). */
  async settleStops(): Promise<void> {
    const ids = [...this.owedAfterStop.keys()];
    const failed: unknown[] = [];
    await Promise.all(ids.map((id) => this.settleStop(id).catch((err: unknown) => void failed.push(err))));
    if (failed.length) throw failed[0];
  }

  async restart(idOrName: string, timeoutSeconds?: number, signal?: string): Promise<void> {
    const id = await this.resolve(idOrName);
    await this.stop(id, timeoutSeconds, signal);
    await this.start(id);
  }

  async kill(idOrName: string, signal = 'SIGKILL'): Promise<void> {
    const rt = await this.rt();
    const id = rt.resolve(idOrName);
    const info = await rt.inspect(id);
    const name = info.Name.replace(/^\//, '');
    if (!info.State.Running) throw new ConflictError(`Cannot kill container: ${name}: Container ${id} is not running`);
    const rec = readEngineRecord(id);
    const sig = normalizeSignal(signal);
    // Docker: killing with the stop signal (any signal, when none was set) or SIGKILL cancels the restart policy.
    const final = sig === 'SIGKILL' || !rec.stopSignalSet || sig === normalizeSignal(info.Config.StopSignal ?? 'SIGTERM');
    if (supervised(rec)) recordStopIntent(id, final ? { wanted: 'stopped', manuallyStopped: true } : { manuallyStopped: true });
    if (final && isPaused(id)) await setPaused(id, name, false);
    await rt.kill(id, sig);
    journal('container', 'kill', id, { ...eventAttributes(name, info.Config.Image, info.Config.Labels), signal: sig });
    if (sig === 'SIGKILL') await this.deps.batches.stopped(id);
    if (supervised(rec)) await notifySupervisor(this.deps, id, false);
  }

  async remove(idOrName: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const rt = await this.rt();
    const id = rt.resolve(idOrName);
    if (options.force && supervised(readEngineRecord(id))) recordStopIntent(id);
    const info = await rt.inspect(id);
    // A running container is killed by the removal (SIGKILL: 137); one that never ran has no exit to report.
    const exitCode = info.State.Running ? 137 : info.State.Status === 'exited' ? info.State.ExitCode : undefined;
    this.removing.set(id, { attributes: eventAttributes(info.Name.replace(/^\//, ''), info.Config.Image, info.Config.Labels), ...(exitCode !== undefined ? { exitCode } : {}) });
    // The network, the Engine's records and the supervisor follow through the removal hook.
    try {
      await rt.remove(id, { force: options.force ?? false, volumes: options.volumes ?? false });
      // The removal hook's detach did what the stop left to it.
      this.owedAfterStop.delete(id);
    } catch (err) {
      await this.settleStop(id).catch(() => undefined);
      throw err;
    } finally {
      this.removing.delete(id);
    }
  }

  async rename(idOrName: string, newName: string): Promise<void> {
    const rt = await this.rt();
    const id = rt.resolve(idOrName);
    const old = (await rt.inspect(id)).Name.replace(/^\//, '');
    await rt.rename(id, newName);
    const net = await this.deps.network();
    await this.deps.netOp(() => net.renameContainer(id, old, newName));
    journal('container', 'rename', id, { name: newName, oldName: old });
  }

  /**
   * docker update: limits through the runtime (the cgroup of a running
   * container at once), the restart policy into the Engine record, and the
   * supervisor told when the container is (or was) one it looks after.
   */
  async update(idOrName: string, u: ContainerUpdate): Promise<{ warnings: string[] }> {
    const rt = await this.rt();
    const id = rt.resolve(idOrName);
    const info = await rt.inspect(id);
    const name = info.Name.replace(/^\//, '');
    const rec = readEngineRecord(id);
    if (u.restart && rec.autoRemove && u.restart.name !== 'no') {
      throw new ConflictError(`Restart policy cannot be updated because AutoRemove is enabled for the container ${name}`);
    }
    if (u.restart?.maxRetries && u.restart.name !== 'on-failure') {
      throw new UserError(`container ${name}: maximum retry count cannot be used with restart policy '${u.restart.name}'`, 1, 'use on-failure:N');
    }
    if (u.resources) {
      const r = u.resources;
      await rt.update(id, {
        ...(r.memory !== undefined ? { memory: r.memory } : {}),
        ...(r.memoryReservation !== undefined ? { memoryReservation: r.memoryReservation } : {}),
        ...(r.memorySwap !== undefined ? { memorySwap: r.memorySwap } : {}),
        ...(r.nanoCpus !== undefined ? { cpus: r.nanoCpus / 1e9 } : {}),
        ...(r.cpuShares !== undefined ? { cpuShares: r.cpuShares } : {}),
        ...(r.cpuPeriod !== undefined ? { cpuPeriod: r.cpuPeriod } : {}),
        ...(r.cpuQuota !== undefined ? { cpuQuota: r.cpuQuota } : {}),
        ...(r.cpusetCpus !== undefined ? { cpusetCpus: r.cpusetCpus } : {}),
        ...(r.cpusetMems !== undefined ? { cpusetMems: r.cpusetMems } : {}),
        ...(r.pidsLimit !== undefined ? { pidsLimit: r.pidsLimit } : {}),
        ...(r.blkioWeight !== undefined ? { blkioWeight: r.blkioWeight } : {}),
      });
    }
    if (u.restart) {
      const next = { ...rec, restart: u.restart.maxRetries ? { name: u.restart.name, maxRetries: u.restart.maxRetries } : { name: u.restart.name } };
      writeEngineRecord(next);
      // A running container that now has a policy is one the user wants running.
      if (!supervised(rec) && supervised(next) && info.State.Running) recordStartIntent(id);
      if (supervised(rec) || supervised(next)) await notifySupervisor(this.deps, id, supervised(next));
    }
    journal('container', 'update', id, eventAttributes(name, info.Config.Image, info.Config.Labels));
    return { warnings: [] };
  }

  async pause(idOrName: string): Promise<void> {
    await this.freeze(idOrName, true);
  }

  async unpause(idOrName: string): Promise<void> {
    await this.freeze(idOrName, false);
  }

  private async freeze(idOrName: string, paused: boolean): Promise<void> {
    const rt = await this.rt();
    const id = rt.resolve(idOrName);
    const info = await rt.inspect(id);
    const name = info.Name.replace(/^\//, '');
    if (!info.State.Running) throw new ConflictError(`Container ${id} is not running`);
    if (isPaused(id) === paused) throw new ConflictError(paused ? `Container ${id} is already paused` : `Container ${id} is not paused`);
    await setPaused(id, name, paused);
    journal('container', paused ? 'pause' : 'unpause', id, eventAttributes(name, info.Config.Image, info.Config.Labels));
  }

  // ---- observe --------------------------------------------------------------

  /** `listed`: what a listing read of the container a moment ago (its record, state and status), not read again. */
  private async facts(id: string, networks: Map<string, ContainerFacts['networks']>, listed?: ListedContainer): Promise<ContainerFacts> {
    const info = listed ? inspectListed(listed) : inspectContainer(id);
    const { publishedPorts } = await this.deps.networkReads();
    return {
      info,
      record: readEngineRecord(id),
      intent: readIntent(id),
      supervisor: readSupervisorState(id),
      paused: info.State.Running && isPaused(id),
      ports: info.State.Running ? publishedPorts(id) : [],
      networks: networks.get(id) ?? {},
    };
  }

  /** What the Engine knows of a container by name or id; undefined when there is none (or it went while we looked). */
  private async lookup(idOrName: string): Promise<ContainerFacts | undefined> {
    try {
      const id = resolveContainer(idOrName);
      return await this.facts(id, networksByContainer((await this.deps.networkReads()).listNetworks()));
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async inspect(idOrName: string): Promise<ContainerDetails | undefined> {
    const facts = await this.lookup(idOrName);
    return facts && toDetails(facts);
  }

  /** The runtime's inspect (Docker's shape) with what the Engine knows over it: paused, restarting, health, restart policy, networks, ports. */
  async inspectRaw(idOrName: string): Promise<DockerObject | undefined> {
    const facts = await this.lookup(idOrName);
    return facts && dockerInspect(facts, toDetails(facts));
  }

  async list(options: ContainerListOptions = {}): Promise<ContainerSummary[]> {
    await sweepDeadCreates(this.deps);
    const scan = await sweepRemovedRemnants(this.deps);
    const { rows, listed } = await this.rows(options.labels, scan);
    const names = options.names?.length ? new Set(options.names) : undefined;
    const wanted = rows.filter((r) => !names || names.has(r.Names[0]!.replace(/^\//, '')));
    if (wanted.length === 0) return [];
    const networks = networksByContainer((await this.deps.networkReads()).listNetworks());
    const now = Date.now();
    const out: ContainerSummary[] = [];
    let orphaned: string | undefined;
    for (const r of wanted) {
      let d: ContainerDetails;
      try {
        const facts = await this.facts(r.Id, networks, listed?.get(r.Id));
        d = toDetails(facts, now);
        const s = facts.info.State;
        if (!orphaned && needsSupervisor(facts.record, s.Running, s.FinishedAt, facts.supervisor?.handledFinish, facts.intent)) orphaned = r.Id;
      } catch (err) {
        if (err instanceof NotFoundError) continue;
        throw err;
      }
      if (!options.all && d.state !== 'running' && d.state !== 'paused' && d.state !== 'restarting') continue;
      out.push(toSummary(d));
    }
    // The daemon was killed: the supervisor starts again and catches up (exits that happened meanwhile included).
    if (orphaned && !(await daemonAlive())) await notifySupervisor(this.deps, orphaned, true);
    return out;
  }

  /**
   * The runtime's rows of the containers with `labels` (all states), from `scan`: read from their records
   * (runtime/listing.ts), and what was read by id (for facts, which then reads none of it again), unless
   * the listing has chores, which the runtime's own list does.
   */
  private async rows(labels: ContainerListOptions['labels'], scan: ContainerScan): Promise<{ rows: RuntimeSummary[]; listed?: Map<string, ListedContainer> }> {
    const filter = labels ? { labels } : {};
    const listed = listedContainers(filter, scan.ids);
    if (!listingChores(listed, scan)) return { rows: summaries(listed, { all: true }), listed: new Map(listed.map((c) => [c.id, c])) };
    return { rows: await (await this.rt()).list({ all: true, ...filter }) };
  }

  // ---- processes and files ---------------------------------------------------

  async *logs(id: string, options?: LogOptions): AsyncIterable<LogLine> {
    yield* (await this.io()).logs(id, options);
  }

  async attach(id: string, io: ProcessIO): Promise<AttachSession> {
    return (await this.io()).attach(id, io);
  }

  async exec(id: string, spec: ExecRequest, io: ProcessIO): Promise<{ exitCode: number }> {
    return (await this.io()).exec(id, spec, io);
  }

  async execDetached(id: string, spec: ExecRequest): Promise<void> {
    return (await this.io()).execDetached(id, spec);
  }

  async wait(id: string, condition?: WaitCondition, signal?: AbortSignal): Promise<{ exitCode: number }> {
    return (await this.io()).wait(id, condition, signal);
  }

  async top(idOrName: string): Promise<TopResult> {
    const rt = await this.rt();
    const r = await rt.top(idOrName);
    return { titles: r.Titles, processes: r.Processes };
  }

  async stats(idOrName: string): Promise<ContainerStats> {
    return (await this.rt()).stats(idOrName);
  }

  async getArchive(id: string, path: string): Promise<{ stream: Readable; stat: PathStat }> {
    return (await import('./archive.js')).getArchive(await this.rt(), id, path);
  }

  async export(id: string): Promise<Readable> {
    return (await import('./archive.js')).exportContainer(await this.rt(), id);
  }

  async putArchive(id: string, path: string, tar: Readable | Buffer): Promise<void> {
    await (await import('./archive.js')).putArchive(await this.rt(), id, path, tar);
  }

  async statPath(id: string, path: string): Promise<PathStat | undefined> {
    return (await import('./archive.js')).statPath(await this.rt(), id, path);
  }

  async commit(idOrName: string, options: CommitOptions = {}): Promise<string> {
    const [rt, store, { commitContainer }] = await Promise.all([this.rt(), this.deps.store(), import('../../../build/commit.js')]);
    const image = await commitContainer({ store, runtime: rt }, idOrName, {
      ...(options.tag ? { tag: options.tag } : {}),
      ...(options.author ? { author: options.author } : {}),
      ...(options.message ? { message: options.message } : {}),
      changes: options.changes ?? [],
    });
    const id = rt.resolve(idOrName);
    const info = await rt.inspect(id);
    journal('container', 'commit', id, { ...eventAttributes(info.Name.replace(/^\//, ''), info.Config.Image, info.Config.Labels), ...(options.tag ? { imageName: options.tag } : {}) });
    return image.id;
  }

  /** The Engine record of a container (for the supervisor and tests). */
  record(id: string): EngineRecord {
    return readEngineRecord(id);
  }
}

/** "TERM", "sigterm", "15" → "SIGTERM" (numbers as Linux numbers them). */
export function normalizeSignal(signal: string): string {
  const s = signal.trim().toUpperCase();
  if (/^\d+$/.test(s)) {
    const names: Record<string, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 9: 'SIGKILL', 10: 'SIGUSR1', 12: 'SIGUSR2', 15: 'SIGTERM', 28: 'SIGWINCH' };
    return names[s] ?? s;
  }
  return s.startsWith('SIG') ? s : `SIG${s}`;
}

/** A name no container has: Docker's adjective_surname, numbered on a clash. */
function freeName(): string {
  const taken = takenNames();
  let name = generatedName();
  for (let i = 1; taken.has(name); i++) name = generatedName(i);
  return name;
}
