import { PassThrough } from 'node:stream';
import { ConflictError, NotFoundError, errorMessage } from '../../util/errors.js';
import type { Call } from '../router.js';
import { badRequest, intParam, readJson, sendJson } from '../http.js';
import { Fields } from '../body.js';
import { streamWriter } from '../stream.js';
import { endSink, hijack } from './io.js';

/**
 * `exec`: create (the config kept by this server), start (the connection
 * taken over, the process's streams framed or raw as attach's), inspect
 * (running, exit code), resize (the process's terminal).
 */

const EXEC_CREATE = [
  'AttachStdin', 'AttachStdout', 'AttachStderr', 'ConsoleSize', 'Detach', 'DetachKeys', 'Tty', 'Env', 'Cmd', 'Privileged', 'User', 'WorkingDir',
];
/** dockerode sends its own options in the body of a start too: `hijack` and `stdin` say how it reads the answer. */
const EXEC_START = ['Detach', 'Tty', 'ConsoleSize', 'hijack', 'stdin'];

export async function execCreate(c: Call): Promise<void> {
  const { engine, execs } = c.ctx;
  const f = new Fields(await readJson(c.req, 'exec config'), '', EXEC_CREATE);
  const cmd = f.strings('Cmd', true);
  if (!cmd?.length) throw badRequest('No exec command specified');
  const d = await engine.containers.inspect(c.params[0]!);
  if (!d) throw new NotFoundError('container', c.params[0]!);
  if (d.state === 'paused') throw new ConflictError(`Container ${d.id} is paused, unpause the container before exec`);
  if (d.state !== 'running') throw new ConflictError(`Container ${d.id} is not running`);
  const env: Record<string, string> = {};
  for (const e of f.strings('Env') ?? []) {
    const i = e.indexOf('=');
    if (i > 0) env[e.slice(0, i)] = e.slice(i + 1);
  }
  const size = f.list('ConsoleSize');
  const e = execs.create(d.id, {
    cmd,
    ...(Object.keys(env).length ? { env } : {}),
    ...(f.text('User') ? { user: f.text('User')! } : {}),
    ...(f.text('WorkingDir') ? { workingDir: f.text('WorkingDir')! } : {}),
    ...(f.bool('Privileged') ? { privileged: true } : {}),
    tty: f.bool('Tty') ?? false,
  }, { stdin: f.bool('AttachStdin') ?? false, stdout: f.bool('AttachStdout') ?? true, stderr: f.bool('AttachStderr') ?? true }, f.text('DetachKeys') ?? '');
  if (size?.length === 2 && typeof size[0] === 'number' && typeof size[1] === 'number' && size[0] > 0) e.size = { rows: size[0], cols: size[1] };
  sendJson(c.res!, 201, { Id: e.id });
}

export async function execStart(c: Call): Promise<void> {
  const { engine, execs } = c.ctx;
  const f = new Fields(await readJson(c.upgrade?.body ?? c.req, 'exec start config'), '', EXEC_START);
  const e = execs.get(c.params[0]!);
  if (e.started) throw new ConflictError(`Error: Exec command ${e.id} has already run`);
  const size = f.list('ConsoleSize');
  if (size?.length === 2 && typeof size[0] === 'number' && typeof size[1] === 'number' && size[0] > 0) e.size = { rows: size[0], cols: size[1] };
  e.started = true;
  e.running = true;
  if (f.bool('Detach')) {
    try {
      await engine.containers.execDetached(e.containerId, e.request);
    } catch (err) {
      execs.finish(e, 126);
      throw err;
    }
    // The process runs on its own: its exit code is not known to this server.
    e.running = false;
    c.res!.writeHead(200, { 'Content-Type': 'application/json' });
    c.res!.end();
    return;
  }
  const { sink, input, done } = hijack(c);
  const tty = e.request.tty ?? false;
  // stdin only when asked for at create; a client that closes its side ends the process's input.
  const stdin = e.attachStdin && input ? input.pipe(new PassThrough()) : undefined;
  void done.then(() => stdin?.end());
  try {
    const { exitCode } = await engine.containers.exec(e.containerId, e.request, {
      ...(stdin ? { stdin } : {}),
      stdout: streamWriter(sink, 1, !tty),
      stderr: streamWriter(sink, 2, !tty),
      tty,
      ...(e.size ? { size: e.size } : {}),
      resizes: e.resizes,
    });
    execs.finish(e, exitCode);
  } catch (err) {
    execs.finish(e, 126);
    if (!sink.destroyed) sink.write(`${errorMessage(err)}\r\n`);
  } finally {
    endSink(sink);
  }
}

export async function execInspect(c: Call): Promise<void> {
  const e = c.ctx.execs.get(c.params[0]!);
  const [cmd, ...args] = e.request.cmd;
  sendJson(c.res!, 200, {
    CanRemove: false,
    ContainerID: e.containerId,
    DetachKeys: e.detachKeys,
    ExitCode: e.exitCode,
    ID: e.id,
    OpenStderr: e.attachStderr,
    OpenStdin: e.attachStdin,
    OpenStdout: e.attachStdout,
    ProcessConfig: { arguments: args, entrypoint: cmd, privileged: e.request.privileged ?? false, tty: e.request.tty ?? false, user: e.request.user ?? '' },
    Running: e.running,
    Pid: 0,
  });
}

export async function execResize(c: Call): Promise<void> {
  const rows = intParam(c.query, 'h');
  const cols = intParam(c.query, 'w');
  if (rows === undefined || cols === undefined || rows < 0 || cols < 0) throw badRequest('resize needs h and w, the terminal\'s height and width');
  const e = c.ctx.execs.get(c.params[0]!);
  if (e.started && !e.running) throw new ConflictError(`exec ${e.id} is not running`);
  // The size is kept for a process still starting, and sent to one that runs.
  e.size = { rows, cols };
  e.resizes.emit('resize', rows, cols);
  c.res!.writeHead(200);
  c.res!.end();
}
