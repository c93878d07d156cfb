import type { ServerResponse } from 'node:http';
import type { RegistryCredentials, TransferProgress } from '../../engine/types.js';
import { messageOf, sendError } from '../http.js';
import type { Call } from '../router.js';

/**
 * Docker's JSON message streams (pull, push, load, build): one JSON object
 * per line. The headers go out with the first message, so that a failure
 * before any progress (an unknown image, a registry that refuses) is a
 * plain HTTP error with its status; a failure after it is an `error`
 * message in the stream, as dockerd sends it.
 */
export class MessageStream {
  private started = false;

  constructor(private readonly res: ServerResponse) {}

  /** Whether the client is still there to read. */
  get open(): boolean {
    return !this.res.destroyed;
  }

  write(message: Record<string, unknown>): void {
    if (this.res.destroyed) return;
    if (!this.started) {
      this.started = true;
      this.res.writeHead(200, { 'Content-Type': 'application/json' });
    }
    this.res.write(`${JSON.stringify(message)}\n`);
  }

  progress(p: TransferProgress): void {
    this.write({
      status: p.status,
      ...(p.current !== undefined ? { progressDetail: { current: p.current, ...(p.total !== undefined ? { total: p.total } : {}) } } : { progressDetail: {} }),
      ...(p.id ? { id: p.id } : {}),
    });
  }

  /** Ends the stream; with an error, in band once it started, as an HTTP error before. */
  end(err?: unknown): void {
    if (err !== undefined && !this.started) {
      sendError(this.res, err);
      return;
    }
    if (err !== undefined) this.write({ errorDetail: { message: messageOf(err) }, error: messageOf(err) });
    if (!this.started) this.res.writeHead(200, { 'Content-Type': 'application/json' });
    this.res.end();
  }
}

/** Runs a job that reports into a message stream; the stream ends with the job (or its error). A client that leaves aborts it. */
export async function streamed(c: Call, job: (out: MessageStream, signal: AbortSignal) => Promise<void>): Promise<void> {
  const out = new MessageStream(c.res!);
  const stop = new AbortController();
  c.res!.once('close', () => stop.abort());
  const end = () => stop.abort();
  c.ctx.closing.addEventListener('abort', end);
  try {
    await job(out, stop.signal);
    out.end();
  } catch (err) {
    out.end(err);
  } finally {
    c.ctx.closing.removeEventListener('abort', end);
  }
}

/** X-Registry-Auth: base64url of {username, password, serveraddress}; none or empty means the server's own credentials. */
export function registryAuth(c: Call): RegistryCredentials | undefined {
  const header = c.req.headers['x-registry-auth'];
  if (typeof header !== 'string' || !header) return undefined;
  try {
    const json = JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as { username?: string; password?: string };
    return json.username && json.password ? { username: json.username, password: json.password } : undefined;
  } catch {
    return undefined;
  }
}
