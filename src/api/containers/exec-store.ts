import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { AttachSession, ExecRequest } from '../../engine/types.js';
import { NotFoundError } from '../../util/errors.js';

/**
 * The exec instances and attach sessions this server holds. dockerd keeps
 * an exec's config from `POST /containers/{id}/exec` until its start, and
 * its state (running, exit code) for `GET /exec/{id}/json` afterwards; ours
 * live in this process, as dockerd's live in the daemon. Finished ones are
 * forgotten after a while so that a busy client cannot grow the server.
 */

export interface ExecInstance {
  id: string;
  containerId: string;
  request: ExecRequest;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  detachKeys: string;
  started: boolean;
  running: boolean;
  exitCode: number | null;
  /** Window sizes for the exec's terminal: `resize` events of (rows, cols). */
  resizes: EventEmitter;
  /** The first size asked for (before the process started, or with the start). */
  size?: { rows: number; cols: number };
  finishedAt?: number;
}

const KEEP_FINISHED_MS = 10 * 60_000;
const MAX_INSTANCES = 4096;

export class ExecStore {
  private readonly execs = new Map<string, ExecInstance>();
  /** Attach sessions by container id: where a container's resize goes. */
  readonly attaches = new Map<string, AttachSession>();

  create(containerId: string, request: ExecRequest, streams: { stdin: boolean; stdout: boolean; stderr: boolean }, detachKeys = ''): ExecInstance {
    this.forgetOld();
    const e: ExecInstance = {
      id: randomBytes(32).toString('hex'),
      containerId,
      request,
      attachStdin: streams.stdin,
      attachStdout: streams.stdout,
      attachStderr: streams.stderr,
      detachKeys,
      started: false,
      running: false,
      exitCode: null,
      resizes: new EventEmitter(),
    };
    this.execs.set(e.id, e);
    return e;
  }

  get(id: string): ExecInstance {
    const e = this.execs.get(id) ?? [...this.execs.values()].find((x) => id.length >= 12 && x.id.startsWith(id));
    if (!e) throw new NotFoundError('exec instance', id);
    return e;
  }

  /** The instances of one container (inspect's ExecIDs). */
  ofContainer(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.containerId === containerId && (e.running || !e.started)).map((e) => e.id);
  }

  finish(e: ExecInstance, exitCode: number): void {
    e.running = false;
    e.exitCode = exitCode;
    e.finishedAt = Date.now();
    e.resizes.removeAllListeners();
  }

  private forgetOld(): void {
    const now = Date.now();
    for (const [id, e] of this.execs) if (e.finishedAt !== undefined && now - e.finishedAt > KEEP_FINISHED_MS) this.execs.delete(id);
    // Never started ones go too when there are too many: a client that creates without starting cannot fill memory.
    if (this.execs.size >= MAX_INSTANCES) {
      for (const [id, e] of this.execs) {
        if (!e.running) this.execs.delete(id);
        if (this.execs.size < MAX_INSTANCES / 2) break;
      }
    }
  }
}
