import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Engine } from '../engine/types.js';
import type { ExecStore } from './containers/exec-store.js';
import { ApiError } from './http.js';

/**
 * Routes of the Docker Engine API and the versions we answer. Paths may
 * start with `/vX.Y`; without it a request speaks our newest version, as
 * with dockerd. A client that asks for a newer version than ours gets
 * dockerd's 400, and negotiates down from `/_ping`'s `API-Version`.
 */

/** The newest API version served: what Debian's docker 20.10 speaks (its dockerd's too), so clients negotiate to the same version with both. */
export const API_VERSION = '1.41';
/** The oldest: docker-compose 1.29 and docker-py ask for versions down to 1.25 for older compose files. */
export const MIN_API_VERSION = '1.24';

export interface ApiContext {
  engine: Engine;
  execs: ExecStore;
  /** Aborted when the server shuts down: followers (events, logs -f, wait) end. */
  closing: AbortSignal;
  /** Clients following /events, for /info's NEventsListener. */
  eventListeners: number;
}

export interface Call {
  req: IncomingMessage;
  /** Absent for an upgraded (hijacked) connection, which answers on `upgrade.socket`. */
  res?: ServerResponse;
  /** An upgraded connection: the socket, the bytes after the request's body (the client's first input), and the body. */
  upgrade?: { socket: Duplex; head: Buffer; body: Buffer };
  params: string[];
  query: URLSearchParams;
  /** The API version the client speaks ("1.41"). */
  version: string;
  ctx: ApiContext;
}

export type Handler = (call: Call) => Promise<void>;

export interface Route {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  path: RegExp;
  handle: Handler;
  /** The route takes the connection over when the client asks for an upgrade (attach, exec start). */
  hijack?: boolean;
}

/** Shorthand for a route: `{name}` stands for one path segment, `{name*}` for the rest (image names have slashes). */
export function route(method: Route['method'], pattern: string, handle: Handler, hijack = false): Route {
  const re = pattern.replace(/[.+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\*\}/g, '(.+)').replace(/\{\w+\}/g, '([^/]+)');
  return { method, path: new RegExp(`^${re}$`), handle, ...(hijack ? { hijack } : {}) };
}

export function compareVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am! - bm! || an! - bn!;
}

/** The version a path asks for and the path without it; 400 outside the versions served. */
export function splitVersion(pathname: string): { version: string; path: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(pathname);
  if (!m) return { version: API_VERSION, path: pathname };
  const version = m[1]!;
  if (compareVersions(version, API_VERSION) > 0) {
    throw new ApiError(400, `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  }
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw new ApiError(400, `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  return { version, path: m[2]! };
}

export function findRoute(routes: readonly Route[], method: string, path: string): { route: Route; params: string[] } | undefined {
  const m = method === 'HEAD' ? ['HEAD', 'GET'] : [method];
  for (const wanted of m) {
    for (const r of routes) {
      if (r.method !== wanted) continue;
      const hit = r.path.exec(path);
      if (hit) return { route: r, params: hit.slice(1).map(decodeURIComponent) };
    }
  }
  return undefined;
}
