import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { helperPath, parseReply, runHelper, type HelperReply } from './helper.js';

/**
 * Detached starts through one resident helper (`tsc-helper serve`,
 * native/serve.c). Spawning a helper forks this whole Node process: its page
 * tables are copied, it then takes copy-on-write faults, and spawn() waits
 * for the child's exec; about 7 ms of this machine's time per start, more
 * than the container's own setup. The server is spawned once and forks
 * itself (1 MB) for each start instead.
 *
 * A lone start spawns `tsc-helper start` as before (a CLI that starts one
 * container would pay for the server and use it once); a start within a
 * second of the previous one goes through the server, which is closed after
 * a second without starts. It never outlives this process (its stdin is our
 * pipe; PR_SET_PDEATHSIG besides) nor keeps it alive: its pipes count for the
 * event loop only while a start waits for its reply. A server that died is
 * replaced at the next start.
 */

export interface DetachedStart {
  /** "ok <pid 1> <monitor pid>" or the error. */
  first: Promise<HelperReply>;
  /** The exit code of the start's helper process. */
  done: Promise<number>;
}

/** Written over by the monitors' names ("tsc-monitor <12 hex>"), which take the room of the server's argv. */
const ARGV_ROOM = 'room-for-the-monitor-names';

interface Waiting {
  first?: (r: HelperReply) => void;
  done: (code: number) => void;
}

class StartServer {
  private readonly child: ChildProcess;
  private readonly stdin: Writable;
  private readonly stdout: Readable & { ref?: () => void; unref?: () => void };
  private readonly waiting = new Map<number, Waiting>();
  private nextTag = 1;
  private buffered = '';
  alive = true;

  constructor(readonly path: string, readonly key: string) {
    this.child = spawn(path, ['serve', ARGV_ROOM], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.stdin = this.child.stdin!;
    this.stdout = this.child.stdout!;
    this.stdin.on('error', () => undefined); // a server that died: its exit fails what waits
    this.stdout.setEncoding('utf8');
    this.stdout.on('data', (chunk: string) => this.onData(chunk));
    this.child.on('error', (err) => this.end(`the start server could not run: ${err.message}`));
    this.child.on('exit', (code, signal) => this.end(`the start server ended (${signal ?? `exit ${code}`})`));
    this.child.unref();
    this.idle();
  }

  start(conf: string): DetachedStart {
    const tag = this.nextTag++;
    let w!: Waiting;
    const first = new Promise<HelperReply>((resolve) => { w = { first: resolve, done: () => undefined }; });
    const done = new Promise<number>((resolve) => { w.done = resolve; });
    this.waiting.set(tag, w);
    this.stdout.ref?.();
    this.stdin.write(`${tag} ${Buffer.byteLength(conf)}\n${conf}`);
    return { first, done };
  }

  /** Its stdin closed: it ends once the starts under way have replied. */
  close(): void {
    this.stdin.end();
  }

  private idle(): void {
    if (this.waiting.size > 0) return;
    this.stdout.unref?.();
    (this.stdin as Writable & { unref?: () => void }).unref?.();
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const space = line.indexOf(' ');
      const w = this.waiting.get(Number(line.slice(0, space)));
      if (!w) continue;
      const rest = line.slice(space + 1);
      if (rest.startsWith('done ')) {
        const code = Number(rest.slice(5));
        w.first?.({ ok: false, values: [], code: 125, message: `the native helper exited with ${code} without a reply`, text: '' });
        w.done(code);
        this.waiting.delete(Number(line.slice(0, space)));
        this.idle();
        continue;
      }
      const reply = parseReply(rest);
      if (reply && w.first) {
        w.first(reply);
        w.first = undefined;
      }
    }
  }

  private end(why: string): void {
    this.alive = false;
    for (const w of this.waiting.values()) {
      w.first?.({ ok: false, values: [], code: 125, message: why, text: '' });
      w.done(125);
    }
    this.waiting.clear();
  }
}

/** A server with no start for this long is closed; a start after a longer pause spawns its helper directly. */
const IDLE_MS = 1000;

let server: StartServer | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let lastStart = -Infinity;

/**
 * Starts a container detached (no stdio of ours): the helper's reply and its
 * exit code. A start that follows another within IDLE_MS goes through the
 * server (spawned then); a lone one spawns `tsc-helper start` itself.
 */
export function startDetached(conf: string): DetachedStart {
  const now = performance.now();
  const burst = now - lastStart < IDLE_MS;
  lastStart = now;
  const path = helperPath();
  // The helper's environment is the one it was spawned with: a server of another helper or state root is not reused.
  const key = [path, process.env.TSCOMPOSE_ROOT ?? '', process.env.TSCOMPOSE_RUN ?? ''].join('\0');
  if (server && (!server.alive || server.key !== key)) closeStartServer();
  if (!server && !burst) return runHelper(['start', { text: conf }]);
  server ??= new StartServer(path, key);
  clearTimeout(idleTimer);
  idleTimer = setTimeout(closeStartServer, IDLE_MS).unref();
  return server.start(conf);
}

/** Ends the start server, if any, once the starts it runs have replied (tests call it before looking for leftovers). */
export function closeStartServer(): void {
  clearTimeout(idleTimer);
  server?.close();
  server = undefined;
}
