import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ConflictError, NotFoundError } from '../../../util/errors.js';
import type { AttachSession, ExecRequest, LogLine, LogOptions, ProcessIO, WaitCondition } from '../../types.js';
import { EngineError } from '../../types.js';
import type { AttachedStart, ContainerRuntime, LogEntry } from '../runtime/index.js';
import type { AttachRequest } from './lifecycle.js';
import type { EngineDeps } from './deps.js';
import { isPaused } from './freezer.js';

/**
 * A container's streams on the native runtime: logs (the monitor's log,
 * partial records joined into lines), attach (the next start of the
 * container relays its stdio through this process), exec, and wait.
 */

interface PendingAttach {
  io: ProcessIO;
  resolveDone: () => void;
  closed: boolean;
  started?: AttachedStart;
  /** The terminal's latest size, for a start still to come. */
  size?: { rows: number; cols: number };
}

export class ContainerIo {
  /** Attach sessions waiting for their container's start (same process: `run` attaches, then starts). */
  private readonly pending = new Map<string, PendingAttach>();

  constructor(private readonly deps: EngineDeps) {}

  private rt(): Promise<ContainerRuntime> {
    return this.deps.runtime();
  }

  async *logs(idOrName: string, o: LogOptions = {}): AsyncIterable<LogLine> {
    const rt = await this.rt();
    const id = rt.resolve(idOrName);
    const source = rt.logs(id, {
      follow: o.follow ?? false,
      ...(o.tail !== undefined ? { tail: o.tail } : {}),
      ...(o.since !== undefined && o.since > 0 ? { since: o.since * 1000 } : {}),
      ...(o.until !== undefined && o.until > 0 ? { until: o.until * 1000 } : {}),
    });
    const wantOut = o.stdout ?? true;
    const wantErr = o.stderr ?? true;
    // The runtime's follower only notices an end at its next line or at the container's exit: an abort
    // must not wait for either. It is raced here, and the follower is closed at its next step.
    const it = source[Symbol.asyncIterator]();
    const aborted = new Promise<'aborted'>((resolve) => {
      if (o.signal?.aborted) resolve('aborted');
      o.signal?.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    // Partial records (a line longer than the monitor's buffer, or output without a final newline) join the next one.
    let held: LogEntry | undefined;
    try {
      for (;;) {
        const next = it.next();
        next.catch(() => undefined); // a step that loses the race to an abort may still fail: nobody waits for it
        const r = o.signal ? await Promise.race([next, aborted]) : await next;
        if (r === 'aborted') return;
        if (r.done) break;
        const e = r.value;
        const line = held && held.stream === e.stream ? { ...e, line: held.line + e.line, time: held.time } : e;
        if (held && held.stream !== e.stream) yield* emit(held, true);
        held = undefined;
        if (line.partial) {
          held = line;
          continue;
        }
        yield* emit(line);
      }
      // Output that ended without a newline is passed on as such.
      if (held) yield* emit(held, true);
    } finally {
      void it.return?.(undefined);
    }

    function* emit(e: LogEntry, partial = false): Generator<LogLine> {
      if ((e.stream === 'stdout' && !wantOut) || (e.stream === 'stderr' && !wantErr)) return;
      yield { stream: e.stream, text: e.line, ...(o.timestamps ? { timestamp: e.time } : {}), ...(partial ? { partial: true } : {}) };
    }
  }

  /**
   * Docker attaches to a container's streams before it starts. Here the start
   * is what opens them: the session waits for `start` of that container in
   * this process, which then runs it attached and relays its stdio here.
   */
  async attach(idOrName: string, io: ProcessIO): Promise<AttachSession> {
    const rt = await this.rt();
    const id = rt.resolve(idOrName);
    const info = await rt.inspect(id);
    if (info.State.Running) throw new ConflictError(`container ${info.Name.replace(/^\//, '')} is already running: the native engine attaches at start`, 'use logs -f to follow it');
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const p: PendingAttach = { io, resolveDone, closed: false, ...(io.size ? { size: io.size } : {}) };
    this.pending.set(id, p);
    return {
      done,
      resize: async (rows, cols) => {
        // Our own terminal is followed by the helper through SIGWINCH; another's size goes on its resize channel.
        p.size = { rows, cols };
        p.started?.run.resize?.write(`${rows} ${cols}\n`);
      },
      close: () => {
        p.closed = true;
        this.pending.delete(id);
        if (p.started) {
          p.io.stdin?.unpipe(p.started.run.stdin ?? undefined);
          p.started.run.stdout?.unpipe(p.io.stdout);
          p.started.run.stderr?.unpipe(p.io.stderr);
        }
        resolveDone();
      },
    };
  }

  /** Starts a container some session of this process attached to; undefined when none did. */
  async startAttached(id: string, begin: (attach: AttachRequest) => Promise<AttachedStart | undefined>): Promise<boolean> {
    const p = this.pending.get(id);
    if (!p || p.closed) return false;
    this.pending.delete(id);
    const inherit = !!p.io.tty && p.io.stdout === process.stdout && (p.io.stdin === undefined || p.io.stdin === process.stdin);
    const sized = p.size;
    const started = await begin({
      stdio: inherit ? 'inherit' : 'pipe',
      stdin: p.io.stdin !== undefined,
      ...(!inherit && p.io.tty ? { resize: true, ...(sized ? { size: sized } : {}) } : {}),
    });
    if (!started) {
      p.resolveDone();
      return true;
    }
    p.started = started;
    // A size that came while the container was starting.
    if (p.size && p.size !== sized) started.run.resize?.write(`${p.size.rows} ${p.size.cols}\n`);
    if (inherit) {
      void started.exit.finally(() => p.resolveDone());
      return true;
    }
    const run = started.run;
    if (p.io.stdin && run.stdin) {
      run.stdin.on('error', () => undefined);
      p.io.stdin.pipe(run.stdin);
    }
    const ends = [relay(run.stdout, p.io.stdout), relay(run.stderr, p.io.stderr)];
    void Promise.all(ends).then(() => {
      if (p.io.stdin && run.stdin) p.io.stdin.unpipe(run.stdin);
      p.resolveDone();
    });
    return true;
  }

  async exec(idOrName: string, spec: ExecRequest, io: ProcessIO): Promise<{ exitCode: number }> {
    const rt = await this.rt();
    const id = await this.runningId(rt, idOrName);
    const inherit = !!spec.tty && io.stdout === process.stdout && (io.stdin === undefined || io.stdin === process.stdin);
    // Another's terminal (an API client's): its size at the start, then each change on the helper's resize channel.
    const resizable = !!spec.tty && !inherit;
    let latest = io.size;
    let channel: Writable | null = null;
    const onResize = (rows: number, cols: number) => {
      latest = { rows, cols };
      channel?.write(`${rows} ${cols}\n`);
    };
    if (resizable) io.resizes?.on('resize', onResize);
    const initial = latest;
    let h;
    try {
      h = await rt.execStart(id, { ...runtimeExec(spec, io.stdin !== undefined), ...(resizable ? { resize: true, ...(initial ? { size: initial } : {}) } : {}) }, inherit ? 'inherit' : 'pipe');
    } catch (err) {
      io.resizes?.off('resize', onResize);
      throw err;
    }
    channel = h.run.resize;
    if (latest && latest !== initial) channel?.write(`${latest.rows} ${latest.cols}\n`);
    void h.exit.finally(() => io.resizes?.off('resize', onResize));
    if (inherit) return { exitCode: await h.exit };
    const run = h.run;
    if (io.stdin && run.stdin) {
      run.stdin.on('error', () => undefined);
      io.stdin.pipe(run.stdin);
    }
    try {
      const [exitCode] = await Promise.all([h.exit, relay(run.stdout, io.stdout), relay(run.stderr, io.stderr)]);
      return { exitCode };
    } finally {
      if (io.stdin && run.stdin) io.stdin.unpipe(run.stdin);
    }
  }

  async execDetached(idOrName: string, spec: ExecRequest): Promise<void> {
    const rt = await this.rt();
    const id = await this.runningId(rt, idOrName);
    await rt.execStart(id, { ...runtimeExec(spec, false), detach: true }, 'ignore');
  }

  private async runningId(rt: ContainerRuntime, idOrName: string): Promise<string> {
    const id = rt.resolve(idOrName);
    const info = await rt.inspect(id);
    if (!info.State.Running) throw new ConflictError(`Container ${id} is not running`);
    if (isPaused(id)) throw new ConflictError(`Container ${id} is paused, unpause the container before exec`);
    return id;
  }

  /**
   * Docker's wait conditions: not-running (now, if it is not), next-exit (an
   * exit after this call, even of a container not yet started), removed.
   */
  async wait(idOrName: string, condition: WaitCondition = 'not-running', signal?: AbortSignal): Promise<{ exitCode: number }> {
    const rt = await this.rt();
    const id = rt.resolve(idOrName);
    const first = await rt.inspect(id);
    const seenFinish = first.State.FinishedAt;
    let last = first;
    const check = async (): Promise<{ exitCode: number } | undefined> => {
      try {
        last = await rt.inspect(id);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        if (condition === 'removed' || condition === 'next-exit') return { exitCode: last.State.ExitCode };
        throw err;
      }
      const s = last.State;
      if (s.Running) return undefined;
      if (condition === 'not-running') return { exitCode: s.ExitCode };
      if (condition === 'next-exit' && s.Status !== 'created' && s.FinishedAt !== seenFinish) return { exitCode: s.ExitCode };
      return undefined;
    };
    return waitFor(dirname(first.LogPath), check, signal, `wait for container ${id}`);
  }
}

function runtimeExec(spec: ExecRequest, stdin: boolean) {
  return {
    cmd: spec.cmd,
    ...(spec.env ? { env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`) } : {}),
    ...(spec.user ? { user: spec.user } : {}),
    ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
    tty: spec.tty ?? false,
    stdin,
    privileged: spec.privileged ?? false,
  };
}

/** Copies a child's output to a writable we do not own (never ends it); resolves when the output ends. */
function relay(from: Readable | null, to: Writable): Promise<void> {
  if (!from) return Promise.resolve();
  return new Promise((resolve) => {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.once('end', resolve);
    from.once('error', () => resolve());
    from.once('close', resolve);
  });
}

/** Re-checks on every change in the container's dir (the monitor's exit record), and every 250 ms. */
function waitFor<T>(dir: string, check: () => Promise<T | undefined>, signal: AbortSignal | undefined, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let watcher: FSWatcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    let busy = false;
    const finish = (v?: T, err?: unknown) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      watcher?.close();
      signal?.removeEventListener('abort', onAbort);
      if (err !== undefined) reject(err);
      else resolve(v as T);
    };
    const run = () => {
      if (done || busy) return;
      busy = true;
      check().then((v) => {
        busy = false;
        if (v !== undefined) finish(v);
      }, (err) => finish(undefined, err));
    };
    const onAbort = () => finish(undefined, new EngineError(`${what}: interrupted`));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      watcher = watch(dir, () => run());
      watcher.on('error', () => run());
    } catch { /* polled */ }
    timer = setInterval(run, 250);
    run();
  });
}
