import type Docker from 'dockerode';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type {
  ContainerUpdate,
  CommitOptions, DockerObject, AttachSession,
  ContainerApi,
  ContainerCreateRequest,
  ContainerDetails,
  ContainerListOptions,
  ContainerStats,
  ContainerSummary,
  ExecRequest,
  FileRequest,
  LogLine,
  LogOptions,
  PathStat,
  ProcessIO,
  TopResult,
  WaitCondition,
} from '../types.js';
import { EngineError } from '../types.js';
import { createBody, dropUndefined, endpointConfig } from './create-body.js';
import { detailsFromInspect, statsFromDocker, summaryFromList, type DockerStatsReading } from './convert.js';
import { demuxInto, demuxLines } from './streams.js';
import { call, callOrUndefined, statusOf, toEngineError } from './errors.js';
import { labelFilters } from './filters.js';
import { tarOfFiles } from './tar.js';
import { splitReference } from './images.js';

const KIND = 'container';

export class DockerContainers implements ContainerApi {
  constructor(private readonly docker: Docker) {}

  private c(id: string): Docker.Container {
    return this.docker.getContainer(id);
  }

  async create(spec: ContainerCreateRequest): Promise<{ id: string; name: string; warnings: string[] }> {
    const body = createBody(spec);
    const label = spec.name ?? spec.image;
    const created = await call(KIND, label, 'create', async () => {
      // dockerode hides the daemon's answer (Id, Warnings) behind a Container object; ask the modem directly.
      return (await dial(this.docker, {
        path: '/containers/create?',
        method: 'POST',
        options: body,
        statusCodes: { 200: true, 201: true, 404: 'no such image', 409: 'conflict', 500: 'server error' },
        query: { ...(spec.name ? { name: spec.name } : {}), ...(spec.platform ? { platform: spec.platform } : {}) },
      })) as { Id: string; Warnings?: string[] | null };
    });
    try {
      // Networks beyond the first are joined before the first start, so the process sees them all.
      if (!spec.networkMode) {
        for (const extra of spec.networks?.slice(1) ?? []) {
          await call('network', extra.network, `connect ${label} to`, () =>
            this.docker.getNetwork(extra.network).connect({ Container: created.Id, EndpointConfig: endpointConfig(extra) }),
          );
        }
      }
      if (spec.files?.length) await this.putFiles(created.Id, label, spec.files);
    } catch (err) {
      // Nothing half-created: a container that could not be fully set up is removed.
      await this.c(created.Id).remove({ force: true, v: true }).catch(() => undefined);
      throw err;
    }
    // The daemon names a container asked for without one; its answer says only the id.
    const name = spec.name ?? ((await this.c(created.Id).inspect()) as { Name: string }).Name.replace(/^\//, '');
    return { id: created.Id, name, warnings: created.Warnings ?? [] };
  }

  private async putFiles(id: string, name: string, files: FileRequest[]): Promise<void> {
    const tar = await tarOfFiles(files);
    await call(KIND, name, 'copy configs and secrets into', () => this.c(id).putArchive(tar, { path: '/' }));
  }

  async start(id: string): Promise<void> {
    await call(KIND, id, 'start', async () => {
      try {
        await this.c(id).start();
      } catch (err) {
        if (statusOf(err) === 304) return; // already started
        throw err;
      }
    });
  }

  async stop(id: string, timeoutSeconds?: number, signal?: string): Promise<void> {
    await call(KIND, id, 'stop', async () => {
      try {
        await this.c(id).stop({ ...(timeoutSeconds !== undefined ? { t: timeoutSeconds } : {}), ...(signal ? { signal } : {}) });
      } catch (err) {
        if (statusOf(err) === 304) return; // already stopped
        throw err;
      }
    });
  }

  async restart(id: string, timeoutSeconds?: number, signal?: string): Promise<void> {
    await call(KIND, id, 'restart', () => this.c(id).restart({ ...(timeoutSeconds !== undefined ? { t: timeoutSeconds } : {}), ...(signal ? { signal } : {}) }));
  }

  async inspectRaw(idOrName: string): Promise<DockerObject | undefined> {
    return (await callOrUndefined(KIND, idOrName, 'inspect', () => this.c(idOrName).inspect())) as DockerObject | undefined;
  }

  async commit(idOrName: string, options: CommitOptions = {}): Promise<string> {
    const { repo, tag } = options.tag ? splitReference(options.tag) : { repo: undefined, tag: undefined };
    const r = (await call(KIND, idOrName, 'commit', () =>
      this.c(idOrName).commit({
        ...(repo ? { repo, tag } : {}),
        ...(options.author ? { author: options.author } : {}),
        ...(options.message ? { comment: options.message } : {}),
        ...(options.changes?.length ? { changes: options.changes } : {}),
      }),
    )) as { Id: string };
    return r.Id;
  }

  async kill(id: string, signal?: string): Promise<void> {
    await call(KIND, id, 'kill', () => this.c(id).kill(signal ? { signal } : {}));
  }

  async remove(id: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    await call(KIND, id, 'remove', async () => {
      try {
        await this.c(id).remove({ force: options.force ?? false, v: options.volumes ?? false });
      } catch (err) {
        // A removal already in progress (autoRemove, a concurrent down) ends the same way.
        if (statusOf(err) === 409 && /already in progress/.test(String((err as Error).message))) return;
        throw err;
      }
    });
  }

  async rename(id: string, newName: string): Promise<void> {
    await call(KIND, id, `rename to ${newName}:`, () => this.c(id).rename({ name: newName }));
  }

  async update(id: string, u: ContainerUpdate): Promise<{ warnings: string[] }> {
    const r = u.resources ?? {};
    const body = dropUndefined({
      Memory: r.memory, MemoryReservation: r.memoryReservation, MemorySwap: r.memorySwap, NanoCpus: r.nanoCpus, CpuShares: r.cpuShares,
      CpuPeriod: r.cpuPeriod, CpuQuota: r.cpuQuota, CpusetCpus: r.cpusetCpus, CpusetMems: r.cpusetMems, PidsLimit: r.pidsLimit, BlkioWeight: r.blkioWeight,
      RestartPolicy: u.restart ? { Name: u.restart.name === 'no' ? '' : u.restart.name, MaximumRetryCount: u.restart.maxRetries ?? 0 } : undefined,
    });
    const res = (await call(KIND, id, 'update', () => this.c(id).update(body))) as { Warnings?: string[] | null } | undefined;
    return { warnings: res?.Warnings ?? [] };
  }

  async pause(id: string): Promise<void> {
    await call(KIND, id, 'pause', () => this.c(id).pause());
  }

  async unpause(id: string): Promise<void> {
    await call(KIND, id, 'unpause', () => this.c(id).unpause());
  }

  async inspect(idOrName: string): Promise<ContainerDetails | undefined> {
    const info = await callOrUndefined(KIND, idOrName, 'inspect', () => this.c(idOrName).inspect());
    return info ? detailsFromInspect(info) : undefined;
  }

  async list(options: ContainerListOptions = {}): Promise<ContainerSummary[]> {
    const filters: Record<string, string[]> = labelFilters(options.labels);
    if (options.names?.length) filters.name = options.names.map((n) => `^/${escapeRegExp(n)}$`);
    const rows = await call(KIND, 'list', 'list', () => this.docker.listContainers({ all: options.all ?? false, filters: JSON.stringify(filters) }));
    return rows.map(summaryFromList);
  }

  async *logs(id: string, options: LogOptions = {}): AsyncIterable<LogLine> {
    const info = await call(KIND, id, 'read logs of', () => this.c(id).inspect());
    const query = {
      follow: options.follow ?? false,
      stdout: options.stdout ?? true,
      stderr: options.stderr ?? true,
      since: options.since ?? 0,
      until: options.until,
      tail: options.tail === undefined ? 'all' : String(options.tail),
      timestamps: options.timestamps ?? false,
      abortSignal: options.signal,
    };
    let source: Readable | Buffer;
    try {
      source = (await this.c(id).logs(query as unknown as Docker.ContainerLogsOptions & { follow: true })) as unknown as Readable | Buffer;
    } catch (err) {
      if (options.signal?.aborted) return;
      throw toEngineError(err, KIND, id, 'read logs of');
    }
    try {
      yield* demuxLines(source, info.Config.Tty, query.timestamps);
    } catch (err) {
      if (options.signal?.aborted) return;
      throw err;
    } finally {
      if (!Buffer.isBuffer(source)) source.destroy();
    }
  }

  async attach(id: string, io: ProcessIO): Promise<AttachSession> {
    const withStdin = io.stdin !== undefined;
    const stream = (await call(KIND, id, 'attach to', () =>
      this.c(id).attach({ stream: true, stdout: true, stderr: true, stdin: withStdin, hijack: withStdin, logs: false }),
    )) as unknown as NodeJS.ReadWriteStream & Readable;
    if (withStdin) io.stdin!.pipe(stream);
    const done = demuxInto(stream, io.stdout, io.stderr, io.tty ?? false);
    return {
      done,
      resize: (rows, cols) => call(KIND, id, 'resize', () => this.c(id).resize({ h: rows, w: cols })).then(() => undefined),
      close: () => {
        if (withStdin) io.stdin!.unpipe(stream);
        stream.destroy();
      },
    };
  }

  async exec(id: string, spec: ExecRequest, io: ProcessIO): Promise<{ exitCode: number }> {
    const exec = await this.createExec(id, spec, io.stdin !== undefined);
    const withStdin = io.stdin !== undefined;
    const stream = (await call(KIND, id, 'exec in', () =>
      exec.start({ hijack: true, stdin: withStdin, Tty: spec.tty ?? false }),
    )) as unknown as NodeJS.ReadWriteStream & Readable;
    if (io.size && spec.tty) await exec.resize({ h: io.size.rows, w: io.size.cols }).catch(() => undefined);
    if (withStdin) io.stdin!.pipe(stream);
    try {
      await demuxInto(stream, io.stdout, io.stderr, spec.tty ?? false);
    } finally {
      if (withStdin) io.stdin!.unpipe(stream);
    }
    // The stream may end a moment before the daemon records the exit code.
    for (let i = 0; i < 200; i++) {
      const state = await exec.inspect();
      if (!state.Running && state.ExitCode !== null) return { exitCode: state.ExitCode };
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new EngineError(`exec in ${id}: the daemon did not report an exit code`);
  }

  async execDetached(id: string, spec: ExecRequest): Promise<void> {
    const exec = await this.createExec(id, spec, false);
    await call(KIND, id, 'exec in', () => exec.start({ Detach: true, Tty: spec.tty ?? false }));
  }

  private createExec(id: string, spec: ExecRequest, stdin: boolean): Promise<Docker.Exec> {
    return call(KIND, id, 'exec in', () =>
      this.c(id).exec({
        Cmd: spec.cmd,
        Env: spec.env ? Object.entries(spec.env).map(([k, v]) => `${k}=${v}`) : undefined,
        User: spec.user,
        WorkingDir: spec.workingDir,
        Privileged: spec.privileged ?? false,
        Tty: spec.tty ?? false,
        AttachStdin: stdin,
        AttachStdout: true,
        AttachStderr: true,
      }),
    );
  }

  async wait(id: string, condition: WaitCondition = 'not-running', signal?: AbortSignal): Promise<{ exitCode: number }> {
    const r = (await call(KIND, id, 'wait for', () => this.c(id).wait({ condition, abortSignal: signal }))) as { StatusCode: number };
    return { exitCode: r.StatusCode };
  }

  async top(id: string, psArgs?: string): Promise<TopResult> {
    const r = (await call(KIND, id, 'list processes of', () => this.c(id).top(psArgs ? { ps_args: psArgs } : {}))) as {
      Titles: string[];
      Processes: string[][];
    };
    return { titles: r.Titles ?? [], processes: r.Processes ?? [] };
  }

  async stats(id: string): Promise<ContainerStats> {
    const r = (await call(KIND, id, 'read the stats of', () => this.c(id).stats({ stream: false }))) as unknown as DockerStatsReading;
    return statsFromDocker(r);
  }

  async getArchive(id: string, path: string): Promise<{ stream: Readable; stat: PathStat }> {
    const res = (await call(KIND, id, `copy ${path} from`, () => this.c(id).getArchive({ path }))) as unknown as IncomingMessage;
    return { stream: res, stat: parseStat(res.headers['x-docker-container-path-stat']) };
  }

  async export(id: string): Promise<Readable> {
    return (await call(KIND, id, 'export', () => this.c(id).export())) as unknown as Readable;
  }

  async putArchive(id: string, path: string, tar: Readable | Buffer): Promise<void> {
    await call(KIND, id, `copy into ${path} of`, () => this.c(id).putArchive(tar as NodeJS.ReadableStream, { path }));
  }

  async statPath(id: string, path: string): Promise<PathStat | undefined> {
    try {
      const res = (await this.c(id).infoArchive({ path })) as unknown as IncomingMessage;
      res.resume();
      return parseStat(res.headers['x-docker-container-path-stat']);
    } catch (err) {
      if (statusOf(err) === 404) {
        // 404 means either no container or no such path: tell them apart.
        if (!(await this.inspect(id))) throw toEngineError(err, KIND, id, 'stat');
        return undefined;
      }
      throw toEngineError(err, KIND, id, `stat ${path} in`);
    }
  }
}

function parseStat(header: string | string[] | undefined): PathStat {
  const raw = Array.isArray(header) ? header[0] : header;
  if (!raw) return { name: '', size: 0, mode: 0, mtime: '', linkTarget: '' };
  const s = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as { name: string; size: number; mode: number; mtime: string; linkTarget: string };
  return { name: s.name, size: s.size, mode: s.mode, mtime: s.mtime, linkTarget: s.linkTarget };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface DialOptions {
  path: string;
  method: string;
  options?: unknown;
  statusCodes: Record<number, boolean | string>;
  query?: Record<string, string>;
}

/** A raw daemon call through dockerode's modem, for answers dockerode does not hand back. */
export function dial(docker: Docker, o: DialOptions): Promise<unknown> {
  const modem = (docker as unknown as { modem: { dial: (o: unknown, cb: (err: unknown, data: unknown) => void) => void } }).modem;
  // The modem sends `_query` as the query string and `_body` as the JSON body.
  const options = { _query: o.query ?? {}, _body: o.options ?? {} };
  return new Promise((resolve, reject) => {
    modem.dial({ path: o.path, method: o.method, options, statusCodes: o.statusCodes }, (err, data) =>
      err ? reject(err) : resolve(data),
    );
  });
}
