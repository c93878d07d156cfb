import { getgrnam } from './group.js';
import { openEngine } from '../compose/engine.js';
import { UserError } from '../util/errors.js';
import { runPath } from '../util/paths.js';
import { ApiServer } from './server.js';

/**
 * `tscompose system service`: the Docker Engine API served from the native
 * engine on a Unix socket, until stopped (or idle for `idleSeconds`). What
 * it starts is what the CLI sees, and the other way round: both go through
 * the same Engine, state and daemon.
 */

export { ApiServer } from './server.js';
export { API_VERSION, MIN_API_VERSION } from './router.js';

export interface ServiceOptions {
  /** `unix:///PATH` (default: docker.sock under the run root). */
  host?: string;
  /** A group that may use the socket too (0660); otherwise root only (0600). */
  group?: string;
  /** Exit after this many seconds without a connection (0: never). */
  idleSeconds?: number;
  /** A listening socket passed in (systemd's socket activation: fd 3). */
  listenFd?: number;
  debug?: boolean;
  log?: (line: string) => void;
}

export function defaultHost(): string {
  return `unix://${runPath('docker.sock')}`;
}

/** The path of a `unix://` host; other schemes are refused (the API gives root to whoever reaches it). */
export function socketPathOf(host: string): string {
  const m = /^unix:\/\/(\/.+)$/.exec(host);
  if (!m) {
    throw new UserError(`cannot serve on ${host}: only unix:///PATH is supported`, 1,
      'the API controls root-owned containers: serve it on a Unix socket, whose file permissions say who may use it');
  }
  return m[1]!;
}

export interface RunningService {
  server: ApiServer;
  /** Where it listens ("fd 3" for a socket passed in). */
  address: string;
  /** Resolves when the server has stopped (closed, or idle for long enough). */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

export async function startService(o: ServiceOptions = {}): Promise<RunningService> {
  const path = o.listenFd === undefined ? socketPathOf(o.host ?? defaultHost()) : undefined;
  const gid = o.group !== undefined ? getgrnam(o.group) : undefined;
  const engine = await openEngine('native');
  const server = new ApiServer({ engine, ...(o.debug ? { debug: true } : {}), ...(o.log ? { log: o.log } : {}) });
  if (path) await server.listen(path, gid !== undefined ? { group: gid } : {});
  else await server.listenFd(o.listenFd!);
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let timer: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(timer);
      await server.close();
      await engine.close();
      resolveStopped();
    })();
    return stopping;
  };
  if (o.idleSeconds) {
    let idleSince = Date.now();
    timer = setInterval(() => {
      if (server.connections() > 0) idleSince = Date.now();
      else if (Date.now() - idleSince >= o.idleSeconds! * 1000) void stop();
    }, 250);
    timer.unref();
  }
  return { server, address: path ?? `fd ${o.listenFd}`, stopped, stop };
}
