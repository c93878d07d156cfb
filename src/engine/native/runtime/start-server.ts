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
 * A process's first detached start spawns `tsc-helper start` as before (a
 * CLI that starts one container would pay for the server and use it once);
 * from the second on, starts go through the server. It lives while this
 * process does (its stdin is our pipe; PR_SET_PDEATHSIG besides) and never
 * keeps this process alive: its pipes count for the event loop only while a
 * start waits for its reply. A server that died is replaced at the next start.
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

  constructor(readonly path: string) {
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

let server: StartServer | undefined;
let startsSeen = 0;

/** Starts a container detached (no stdio of ours): the helper's reply and its exit code. */
export function startDetached(conf: string): DetachedStart {
  const path = helperPath();
  if (startsSeen++ === 0) return runHelper(['start', { text: conf }]);
  // A helper elsewhere (TSCOMPOSE_HELPER_DIR changed) gets a server of its own.
  if (!server?.alive || server.path !== path) {
    server?.close();
    server = new StartServer(path);
  }
  return server.start(conf);
}
