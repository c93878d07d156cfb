import { runPath, statePath } from '../../util/paths.js';
import { ConflictError, NotFoundError, UserError } from '../../util/errors.js';

/**
 * The daemon's control protocol: over `<run root>/daemon.sock` (0600, in a
 * 0700 directory: root only), one JSON request line per connection, one JSON
 * response line back. Errors keep their kind, so a port conflict found by
 * the daemon reaches the user as the same ConflictError as one found in the
 * CLI.
 */

export interface DaemonRequest {
  op: string;
  [key: string]: unknown;
}

export type ErrorKind = 'user' | 'conflict' | 'notfound' | 'exiting' | 'internal';

export type DaemonResponse =
  | { ok: true; result: unknown }
  | { ok: false; error: { kind: ErrorKind; message: string; hint?: string } };

export const daemonSocketPath = (): string => runPath('daemon.sock');
export const daemonPidPath = (): string => runPath('daemon.pid');
export const daemonLockPath = (): string => runPath('daemon.lock');
export const daemonSpawnLockPath = (): string => runPath('daemon.spawn.lock');
/** In the state root: a log outlives the daemon (and /run must hold nothing of ours once it is gone). */
export const daemonLogPath = (): string => statePath('network-daemon.log');

export function errorToWire(err: unknown): DaemonResponse {
  const e = err as Error & { hint?: string };
  const kind: ErrorKind =
    err instanceof ConflictError ? 'conflict' : err instanceof NotFoundError ? 'notfound' : err instanceof UserError ? 'user' : 'internal';
  return { ok: false, error: { kind, message: e?.message ?? String(err), ...(e?.hint ? { hint: e.hint } : {}) } };
}

/** The daemon is going away: the caller should start a new one and ask again. */
export class DaemonExitingError extends Error {}

export function errorFromWire(e: { kind: ErrorKind; message: string; hint?: string }): Error {
  switch (e.kind) {
    case 'conflict':
      return new ConflictError(e.message, e.hint);
    case 'user':
    case 'notfound':
      return new UserError(e.message, 1, e.hint);
    case 'exiting':
      return new DaemonExitingError(e.message);
    default:
      return new Error(`network daemon: ${e.message}`);
  }
}
