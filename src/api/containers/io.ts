import type { Duplex, Writable } from 'node:stream';
import type { Engine, LogLine, WaitCondition } from '../../engine/types.js';
import { ConflictError, NotFoundError, errorMessage } from '../../util/errors.js';
import type { Call } from '../router.js';
import { badRequest, boolParam, intParam } from '../http.js';
import { streamResponse, streamWriter, upgradeSocket, type Sink } from '../stream.js';

/**
 * A container's streams: logs (framed without a tty, raw with one), attach
 * (the connection taken over; the native engine relays a container's stdio
 * from its start, so an attach to a running one follows its log instead),
 * wait with its conditions, and resize.
 */

/** Docker's time arguments (`since`, `until`): seconds since the epoch with fractions, or 0 for none. */
function seconds(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '' || v === '0') return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw badRequest(`invalid value for "${name}": ${JSON.stringify(v)} is not a Unix timestamp`);
  return Number(v);
}

async function containerOf(engine: Engine, ref: string) {
  const d = await engine.containers.inspect(ref);
  if (!d) throw new NotFoundError('container', ref);
  return d;
}

function lineBytes(l: LogLine, timestamps: boolean): Buffer {
  return Buffer.from(`${timestamps && l.timestamp ? `${l.timestamp} ` : ''}${l.text}${l.partial ? '' : '\n'}`);
}

/** Writes log lines to a sink, framed by stream or raw, until they end or `signal` aborts. */
async function pumpLogs(lines: AsyncIterable<LogLine>, sink: Sink, framed: boolean, timestamps: boolean): Promise<void> {
  const out = streamWriter(sink, 1, framed);
  const err = streamWriter(sink, 2, framed);
  for await (const l of lines) {
    if (sink.destroyed) break;
    const w: Writable = l.stream === 'stderr' ? err : out;
    if (!w.write(lineBytes(l, timestamps))) await new Promise((r) => w.once('drain', r));
  }
}

export async function logs(c: Call): Promise<void> {
  const { engine } = c.ctx;
  const q = c.query;
  const stdout = boolParam(q, 'stdout');
  const stderr = boolParam(q, 'stderr');
  if (!stdout && !stderr) throw badRequest("you must choose at least one stream: give stdout=1 and/or stderr=1");
  const tailText = q.get('tail');
  // "all", empty or negative (testcontainers sends -1): every line.
  const n = tailText === null || tailText === '' || tailText === 'all' ? undefined : Number(tailText);
  if (n !== undefined && !Number.isInteger(n)) throw badRequest(`invalid value for "tail": ${JSON.stringify(tailText)}`);
  const tail = n !== undefined && n >= 0 ? n : undefined;
  const since = seconds(q, 'since');
  const until = seconds(q, 'until');
  const d = await containerOf(engine, c.params[0]!);
  const stop = new AbortController();
  const res = streamResponse(c.res!);
  res.once('close', () => stop.abort());
  const end = () => stop.abort();
  c.ctx.closing.addEventListener('abort', end);
  try {
    const timestamps = boolParam(q, 'timestamps');
    const lines = engine.containers.logs(d.id, {
      follow: boolParam(q, 'follow'), stdout, stderr, timestamps, signal: stop.signal,
      ...(tail !== undefined ? { tail } : {}), ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}),
    });
    await pumpLogs(lines, res, !d.tty, timestamps);
  } catch (err) {
    if (!stop.signal.aborted) res.write(`Error grabbing logs: ${errorMessage(err)}\n`);
  } finally {
    c.ctx.closing.removeEventListener('abort', end);
    res.end();
  }
}

/**
 * `POST /containers/{id}/attach`: for a container that does not run yet,
 * its stdio from the start on (the client attaches, then starts it, as
 * `docker run` does); for a running one, its output from now on.
 */
export async function attach(c: Call): Promise<void> {
  const { engine } = c.ctx;
  const q = c.query;
  const d = await containerOf(engine, c.params[0]!);
  const wantIn = boolParam(q, 'stdin');
  const wantOut = boolParam(q, 'stdout');
  const wantErr = boolParam(q, 'stderr');
  const framed = !d.tty;
  const running = d.state === 'running' || d.state === 'paused' || d.state === 'restarting';
  if (running && wantIn && d.openStdin) {
    throw new ConflictError(`container ${d.name} is already running: the native engine connects stdin at start`, 'attach before starting it (docker start -a -i), or use exec');
  }
  const { sink, input, done } = hijack(c);
  try {
    if (running) {
      const stop = new AbortController();
      done.then(() => stop.abort());
      await pumpLogs(engine.containers.logs(d.id, { follow: true, tail: 0, stdout: wantOut, stderr: wantErr, signal: stop.signal }), sink, framed, false);
      return;
    }
    const session = await engine.containers.attach(d.id, {
      ...(wantIn && d.openStdin && input ? { stdin: input } : {}),
      stdout: wantOut ? streamWriter(sink, 1, framed) : devNull(),
      stderr: wantErr ? streamWriter(sink, 2, framed) : devNull(),
      tty: d.tty,
    });
    c.ctx.execs.attaches.set(d.id, session);
    done.then(() => session.close());
    await session.done;
    if (c.ctx.execs.attaches.get(d.id) === session) c.ctx.execs.attaches.delete(d.id);
  } finally {
    endSink(sink);
  }
}

function devNull(): Writable {
  return streamWriter({ write: () => true, once: () => undefined, destroyed: true }, 1, false);
}

/** The connection of an attach or exec: upgraded, or a plain streamed response (output only). */
export function hijack(c: Call): { sink: Duplex | NonNullable<Call['res']>; input?: Duplex; done: Promise<void> } {
  if (c.upgrade) {
    const socket = upgradeSocket(c.upgrade.socket, c.upgrade.head);
    const done = new Promise<void>((r) => socket.once('close', () => r()));
    return { sink: socket, input: socket, done };
  }
  const res = streamResponse(c.res!);
  const done = new Promise<void>((r) => res.once('close', () => r()));
  return { sink: res, done };
}

export function endSink(sink: Duplex | NonNullable<Call['res']>): void {
  if (!sink.destroyed && !sink.writableEnded) sink.end();
}

/**
 * `POST /containers/{id}/wait`: the headers go out at once (so that the
 * client knows the wait is registered before it starts the container),
 * the body when the condition is met.
 */
export async function wait(c: Call): Promise<void> {
  const { engine } = c.ctx;
  const condition = (c.query.get('condition') || 'not-running') as WaitCondition;
  if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw badRequest(`invalid condition: "${condition}"`);
  const d = await containerOf(engine, c.params[0]!);
  const stop = new AbortController();
  const end = () => stop.abort();
  c.ctx.closing.addEventListener('abort', end);
  // --rm: the container goes as soon as it exits, by this server (the daemon's supervisor would do it a moment later).
  const autoRemove = condition === 'removed' && ((await engine.containers.inspectRaw(d.id))?.HostConfig as { AutoRemove?: boolean } | undefined)?.AutoRemove === true;
  const waiting = autoRemove
    ? engine.containers.wait(d.id, d.state === 'created' ? 'next-exit' : 'not-running', stop.signal).then(async (r) => {
        await removeGone(engine, d.id);
        return r;
      })
    : engine.containers.wait(d.id, condition, stop.signal);
  waiting.catch(() => undefined);
  const res = c.res!;
  res.once('close', end);
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  try {
    const { exitCode } = await waiting;
    res.end(`${JSON.stringify({ StatusCode: exitCode, Error: null })}\n`);
  } catch (err) {
    if (stop.signal.aborted) res.destroy();
    else res.end(`${JSON.stringify({ StatusCode: -1, Error: { Message: errorMessage(err) } })}\n`);
  } finally {
    c.ctx.closing.removeEventListener('abort', end);
  }
}

/** Removes a container (with its anonymous volumes, as --rm does); one already gone is fine. */
async function removeGone(engine: Engine, id: string): Promise<void> {
  try {
    await engine.containers.remove(id, { force: true, volumes: true });
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}

export async function resize(c: Call): Promise<void> {
  const rows = intParam(c.query, 'h');
  const cols = intParam(c.query, 'w');
  if (rows === undefined || cols === undefined || rows < 0 || cols < 0) throw badRequest('resize needs h and w, the terminal\'s height and width');
  const d = await containerOf(c.ctx.engine, c.params[0]!);
  const session = c.ctx.execs.attaches.get(d.id);
  if (session) await session.resize(rows, cols);
  else if (d.state !== 'running') throw new ConflictError(`Container ${d.id} is not running`);
  c.res!.writeHead(200);
  c.res!.end();
}
