import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { chmodSync, chownSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { Engine } from '../engine/types.js';
import { UserError, errorMessage } from '../util/errors.js';
import { VERSION } from '../util/version.js';
import { API_VERSION, findRoute, splitVersion, type ApiContext, type Call, type Route } from './router.js';
import { ApiError, JSON_BODY_LIMIT, messageOf, sendError, statusOf } from './http.js';
import { ExecStore } from './containers/exec-store.js';
import { systemRoutes } from './system.js';
import { containerRoutes } from './containers/routes.js';
import { imageRoutes } from './images/routes.js';
import { networkRoutes } from './networks.js';
import { volumeRoutes } from './volumes.js';

/**
 * The Docker Engine API on a Unix socket, served from one Engine (the
 * native engine's one entry point): what docker, docker-compose, dockerode
 * and testcontainers send becomes Engine calls, and their answers Docker's
 * JSON. Requests run side by side; streams (logs -f, events, attach, exec)
 * end when their client goes or the server closes.
 */

export interface ApiServerOptions {
  engine: Engine;
  /** Log every request (method, path, status, milliseconds) to `log`. */
  debug?: boolean;
  log?: (line: string) => void;
}

export class ApiServer {
  readonly server: Server;
  private readonly routes: Route[] = [...systemRoutes, ...containerRoutes, ...imageRoutes, ...networkRoutes, ...volumeRoutes];
  private readonly ctx: ApiContext;
  private readonly closing = new AbortController();
  private readonly sockets = new Set<Socket | Duplex>();
  private socketPath?: string;
  private readonly log: (line: string) => void;

  constructor(private readonly options: ApiServerOptions) {
    this.log = options.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.ctx = { engine: options.engine, execs: new ExecStore(), closing: this.closing.signal, eventListeners: 0 };
    this.server = createServer({ requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => void this.onRequest(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(req, socket, head));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    // A client that sends garbage gets dockerd's answer to it, and the server carries on.
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (socket.writable) socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify({ message: `bad request: ${err.code ?? err.message}` })}`);
      else socket.destroy();
    });
  }

  /** Listens on a Unix socket, 0600 (or 0660 for `group`), refusing to take over one another server answers on. */
  async listen(path: string, access: { group?: number } = {}): Promise<void> {
    await clearStaleSocket(path);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      // Created root-only from the start: no moment where another user could connect.
      const old = process.umask(0o177);
      this.server.listen(path, () => {
        process.umask(old);
        this.server.off('error', reject);
        resolve();
      });
    });
    this.socketPath = path;
    if (access.group !== undefined) {
      chownSync(path, 0, access.group);
      chmodSync(path, 0o660);
    }
  }

  /** Serves on a socket someone else made and passed as fd (systemd's socket activation). */
  async listenFd(fd: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ fd }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops accepting, ends the streams in flight, and removes the socket. */
  async close(): Promise<void> {
    this.closing.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    if (this.socketPath && existsSync(this.socketPath)) unlinkSync(this.socketPath);
    this.socketPath = undefined;
  }

  /** Requests in progress or connections open (for an idle timeout). */
  connections(): number {
    return this.sockets.size;
  }

  private prepare(req: IncomingMessage): { call: Omit<Call, 'res' | 'upgrade'>; route: Route } {
    const url = new URL(req.url ?? '/', 'http://docker');
    const { version, path } = splitVersion(url.pathname);
    const hit = findRoute(this.routes, req.method ?? 'GET', path);
    if (!hit) throw new ApiError(404, 'page not found');
    return { route: hit.route, call: { req, params: hit.params, query: url.searchParams, version, ctx: this.ctx } };
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = Date.now();
    res.setHeader('Api-Version', API_VERSION);
    res.setHeader('Docker-Experimental', 'false');
    res.setHeader('Ostype', 'linux');
    res.setHeader('Server', `tscompose/${VERSION} (linux)`);
    try {
      const { call, route } = this.prepare(req);
      await route.handle({ ...call, res });
    } catch (err) {
      this.failed(req, err);
      sendError(res, err);
    } finally {
      if (this.options.debug) res.once('finish', () => this.log(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - t0}ms`));
    }
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let upgraded = false;
    try {
      const { call, route } = this.prepare(req);
      if (!route.hijack) throw new ApiError(400, `${req.method} ${call.req.url} does not take the connection over; send it without Upgrade`);
      const { body, rest } = await upgradeBody(req, socket, head);
      await route.handle({ ...call, upgrade: { socket: markUpgrade(socket, () => (upgraded = true)), head: rest, body } });
    } catch (err) {
      this.failed(req, err);
      if (!upgraded && socket.writable) {
        const body = JSON.stringify({ message: messageOf(err) });
        socket.end(`HTTP/1.1 ${statusOf(err)} ${statusText(statusOf(err))}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      } else {
        socket.end();
      }
    }
    if (this.options.debug) this.log(`${req.method} ${req.url} (upgraded) ${upgraded ? 101 : 'refused'}`);
  }

  private failed(req: IncomingMessage, err: unknown): void {
    if (statusOf(err) >= 500) this.log(`${req.method} ${req.url}: ${err instanceof UserError ? errorMessage(err) : (err as Error)?.stack ?? String(err)}`);
  }
}

/** Watches the first write to an upgraded socket (the 101 line): from then on errors go in band. */
function markUpgrade(socket: Duplex, onFirstWrite: () => void): Duplex {
  const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
  socket.write = ((...args: unknown[]) => {
    onFirstWrite();
    return write(...args);
  }) as Duplex['write'];
  return socket;
}

/**
 * An upgraded request's body (Node leaves it unparsed): Content-Length
 * bytes, from what came with the headers and then from the socket; what
 * follows it is the client's first input.
 */
async function upgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<{ body: Buffer; rest: Buffer }> {
  if (req.headers['transfer-encoding']) throw new ApiError(400, 'a request that takes the connection over must give its body with Content-Length');
  const length = Number(req.headers['content-length'] ?? 0);
  if (!Number.isInteger(length) || length < 0) throw new ApiError(400, 'invalid Content-Length');
  if (length > JSON_BODY_LIMIT) throw new ApiError(413, `request body of ${length} bytes is over the limit of ${JSON_BODY_LIMIT} bytes`);
  let buf = head;
  while (buf.length < length) {
    const chunk = await new Promise<Buffer | undefined>((resolve) => {
      const onData = (b: Buffer) => done(b);
      const onEnd = () => done(undefined);
      const done = (b: Buffer | undefined) => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('close', onEnd);
        socket.pause();
        resolve(b);
      };
      socket.on('data', onData);
      socket.once('end', onEnd);
      socket.once('close', onEnd);
    });
    if (!chunk) throw new ApiError(400, 'the connection closed before the request body ended');
    buf = Buffer.concat([buf, chunk]);
  }
  return { body: buf.subarray(0, length), rest: buf.subarray(length) };
}

function statusText(status: number): string {
  return ({ 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large', 500: 'Internal Server Error', 501: 'Not Implemented' } as Record<number, string>)[status] ?? 'Error';
}

/** A socket file nobody answers on is left from a server that died: removed. One that answers is refused. */
async function clearStaleSocket(path: string): Promise<void> {
  let isSocket = false;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw new UserError(`${path} exists and is not a socket`, 1, 'remove it, or give another path with --host unix:///PATH');
  const answers = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (answers) throw new UserError(`another server answers on ${path}`, 1, 'stop it first, or give another path with --host unix:///PATH');
  unlinkSync(path);
}
