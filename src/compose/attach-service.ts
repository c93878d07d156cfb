import { Transform } from 'node:stream';
import type { Engine, ProcessIO } from '../engine/types.js';
import { UserError } from '../util/errors.js';
import { serviceContainer } from './containers.js';
import type { ProjectRef } from './project.js';
import type { RunningContainer } from './run-container.js';

export interface AttachOptions {
  service: string;
  /** The replica, from 1 (default 1). */
  index?: number;
  /** The caller's streams; stdin is passed on only when the container keeps its input open (stdin_open), as Docker does. */
  io: ProcessIO;
  /** The key sequence that detaches and leaves the container running (default ctrl-p,ctrl-q, Docker's). */
  detachKeys?: string;
  /** Called once attached: what the caller can do to the container (pass its signals on, resize its tty). */
  onAttached?: (c: RunningContainer) => void;
}

export interface AttachResult {
  container: { id: string; name: string };
  /** The user typed the detach keys: the container still runs. */
  detached: boolean;
  /** The container's exit code (0 when detached). */
  exitCode: number;
}

/**
 * `attach`: this process's streams wired to a running service container
 * until it exits or the detach keys are typed. Without input to pass on,
 * its output is followed from now on (the same route on every engine); with
 * input, the engine's own attach carries both ways.
 */
export async function attach(engine: Engine, project: ProjectRef, o: AttachOptions): Promise<AttachResult> {
  const keys = parseDetachKeys(o.detachKeys ?? 'ctrl-p,ctrl-q');
  const c = await serviceContainer(engine, project.name, o.service, o.index ?? 1);
  const d = await engine.containers.inspect(c.id);
  if (!d) throw new UserError(`container ${c.name} is gone`, 1);
  const container = { id: c.id, name: c.name };
  const handle: RunningContainer = { id: c.id, kill: (s) => engine.containers.kill(c.id, s), resize: async () => undefined };

  if (!o.io.stdin || !d.openStdin) {
    const exited = engine.containers.wait(c.id, 'not-running');
    exited.catch(() => undefined);
    const abort = new AbortController();
    const since = Date.now() / 1000;
    const following = (async () => {
      for await (const line of engine.containers.logs(c.id, { follow: true, since, signal: abort.signal })) {
        (line.stream === 'stderr' && !d.tty ? o.io.stderr : o.io.stdout).write(line.partial ? line.text : `${line.text}\n`);
      }
    })();
    o.onAttached?.(handle);
    try {
      const { exitCode } = await exited;
      // The output can trail the exit by a moment; the stream ends once all of it is passed on.
      await Promise.race([following, new Promise((r) => setTimeout(r, 2000).unref())]);
      return { container, detached: false, exitCode };
    } finally {
      abort.abort();
      await following.catch(() => undefined);
    }
  }

  let detach!: () => void;
  const detachedByKeys = new Promise<'detached'>((r) => (detach = () => r('detached')));
  const stdin = o.io.stdin.pipe(escapeFilter(keys, () => detach()));
  let session;
  try {
    session = await engine.containers.attach(c.id, { ...o.io, stdin, tty: d.tty });
  } catch (err) {
    o.io.stdin.unpipe(stdin);
    throw err;
  }
  // Aborted when attach ends first (detached): a pending wait would hold the connection, and this process, open.
  const stopWaiting = new AbortController();
  const exited = engine.containers.wait(c.id, 'not-running', stopWaiting.signal);
  exited.catch(() => undefined);
  o.onAttached?.({ ...handle, resize: (rows, cols) => session.resize(rows, cols) });
  try {
    const outcome = await Promise.race([exited, detachedByKeys]);
    if (outcome === 'detached') return { container, detached: true, exitCode: 0 };
    await Promise.race([session.done, new Promise((r) => setTimeout(r, 2000).unref())]);
    return { container, detached: false, exitCode: outcome.exitCode };
  } finally {
    stopWaiting.abort();
    o.io.stdin.unpipe(stdin);
    session.close();
  }
}

/**
 * Docker's --detach-keys: comma-separated keys, each one character or
 * `ctrl-<c>` with c one of a-z @ [ \ ] ^ _ (ctrl-a is byte 1, ctrl-@ byte 0).
 */
export function parseDetachKeys(spec: string): number[] {
  const bad = () => new UserError(`invalid detach keys "${spec}"`, 1, 'give keys as Docker does: one character or ctrl-<a-z @ [ \\ ] ^ _> each, separated by commas, e.g. ctrl-p,ctrl-q');
  if (spec === '') throw bad();
  return spec.split(',').map((key) => {
    if (key.length === 1) return key.charCodeAt(0);
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(key);
    if (!m) throw bad();
    const ch = m[1]!;
    return /[a-z]/.test(ch) ? ch.charCodeAt(0) - 96 : '@[\\]^_'.indexOf(ch) + (ch === '@' ? 0 : 26);
  });
}

/**
 * Passes input on, but for the detach key sequence: a partial match is held
 * back and passed on when the next byte breaks it, as Docker's escape
 * reader does; the whole sequence calls `onDetach` and ends the stream.
 */
export function escapeFilter(keys: readonly number[], onDetach: () => void): Transform {
  let matched = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const out: number[] = [];
      for (const byte of chunk) {
        if (matched === keys.length) break;
        if (byte === keys[matched]) {
          matched++;
          if (matched === keys.length) {
            if (out.length) this.push(Buffer.from(out));
            onDetach();
            this.push(null);
            return done();
          }
          continue;
        }
        out.push(...keys.slice(0, matched));
        matched = 0;
        if (byte === keys[0]) matched = 1;
        else out.push(byte);
      }
      if (out.length) this.push(Buffer.from(out));
      done();
    },
  });
}
