import type { ContainerCreateRequest, Engine, ProcessIO } from '../engine/types.js';

/** A container `run` started in the foreground: what its caller can still do to it. */
export interface RunningContainer {
  id: string;
  /** Passes a signal on (`docker run` forwards the terminal's Ctrl-C this way without a tty). */
  kill(signal: string): Promise<void>;
  /** The tty's new size. */
  resize(rows: number, cols: number): Promise<void>;
}

/**
 * Sets the streams of a foreground run up around it (a CLI puts its terminal
 * in raw mode for just that long) and calls `use` with them.
 */
export type ProcessIOProvider = <T>(use: (io: ProcessIO) => Promise<T>) => Promise<T>;

export interface RunContainerOptions {
  /** Start it and return (`-d`); else run it in the foreground, wired to `io`, and wait for its exit. */
  detach?: boolean;
  io?: ProcessIO | ProcessIOProvider;
  /** Remove it when it has exited (foreground runs; a detached one has the request's autoRemove). */
  rm?: boolean;
  /** Called once it runs in the foreground. */
  onStart?: (c: RunningContainer) => void;
  /** What the engine cannot honour of the request but runs the container anyway (the docker CLI prints each). */
  onWarning?: (warning: string) => void;
}

/**
 * Creates a container and runs it, the way `docker run` does: attached
 * before it starts (so no output is lost), its exit waited for, its output
 * drained, and with `rm` removed however the run ends. `run` and `container
 * run` both run containers through this.
 */
export async function runContainer(engine: Engine, request: ContainerCreateRequest, o: RunContainerOptions): Promise<{ id: string; exitCode: number }> {
  const { id, warnings } = await engine.containers.create(request);
  for (const w of warnings) o.onWarning?.(w);
  if (o.detach || !o.io) {
    try {
      await engine.containers.start(id);
    } catch (err) {
      if (o.rm || request.autoRemove) await engine.containers.remove(id, { force: true, volumes: true }).catch(() => undefined);
      throw err;
    }
    return { id, exitCode: 0 };
  }
  const provide: ProcessIOProvider = typeof o.io === 'function' ? o.io : (use) => use(o.io as ProcessIO);
  return provide((io) => startAttached(engine, id, io, o));
}

/**
 * Starts a created container in the foreground (`run`, `container start
 * -a`): attached first, its exit waited for, its output drained; with `rm`
 * removed however it ends.
 */
export async function startAttached(engine: Engine, id: string, io: ProcessIO, o: Pick<RunContainerOptions, 'rm' | 'onStart'> = {}): Promise<{ id: string; exitCode: number }> {
  try {
    const session = await engine.containers.attach(id, io);
    const exited = engine.containers.wait(id, 'next-exit');
    exited.catch(() => undefined); // a start that fails is what the caller hears about
    await engine.containers.start(id);
    if (io.tty && io.size) await session.resize(io.size.rows, io.size.cols).catch(() => undefined);
    o.onStart?.({
      id,
      kill: (signal) => engine.containers.kill(id, signal),
      resize: (rows, cols) => session.resize(rows, cols),
    });
    const { exitCode } = await exited;
    // Output can trail the exit by a moment; the stream ends when all of it has been passed on.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([session.done, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    session.close();
    return { id, exitCode };
  } finally {
    if (o.rm) await engine.containers.remove(id, { force: true, volumes: true }).catch(() => undefined);
  }
}
