import { ConflictError, NotFoundError } from '../../util/errors.js';
import { EngineError } from '../types.js';

/** What docker-modem rejects with: the HTTP status and the daemon's JSON body. */
interface ModemError {
  statusCode?: number;
  json?: { message?: string } | string | null;
  reason?: string;
  message?: string;
  code?: string;
}

export function daemonMessage(err: unknown): string {
  const e = err as ModemError;
  if (e && typeof e.json === 'object' && e.json?.message) return e.json.message;
  if (e && typeof e.json === 'string' && e.json.trim()) return e.json.trim();
  return e?.message ?? String(err);
}

export function statusOf(err: unknown): number | undefined {
  return (err as ModemError)?.statusCode;
}

/**
 * Turns a daemon error into ours: 404 → NotFoundError(kind, name), 409 and
 * the daemon's "already allocated / in use" 500s → ConflictError, a daemon
 * that does not answer → an EngineError that says how to start it.
 */
export function toEngineError(err: unknown, kind: string, name: string, action: string): Error {
  const status = statusOf(err);
  const message = daemonMessage(err);
  if (status === 404) {
    const nf = new NotFoundError(kind, name);
    if (message && !/^no such/i.test(message)) Object.defineProperty(nf, 'message', { value: `${nf.message} (${message})` });
    return nf;
  }
  if (status === 409 || /already (allocated|in use)|address already in use|has active endpoints|is in use/i.test(message)) {
    return new ConflictError(`cannot ${action} ${kind} ${name}: ${message}`);
  }
  const code = (err as ModemError)?.code;
  if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES') {
    return new EngineError(
      `cannot reach the Docker Engine (${code}) to ${action} ${kind} ${name}`,
      undefined,
      'start dockerd, or set DOCKER_HOST to a daemon that answers',
    );
  }
  return new EngineError(`cannot ${action} ${kind} ${name}: ${message}`, status);
}

/** Runs a daemon call and maps its failure. */
export async function call<T>(kind: string, name: string, action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toEngineError(err, kind, name, action);
  }
}

/** Like `call`, but a 404 answers undefined (for inspect). */
export async function callOrUndefined<T>(kind: string, name: string, action: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw toEngineError(err, kind, name, action);
  }
}
