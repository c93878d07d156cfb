import { UserError } from '../../../util/errors.js';
import type { LogConfig } from '../../types.js';

/**
 * How much of a container's output its log keeps: the json-file driver's
 * `max-size` and `max-file` options (Compose's `logging.options`, `docker run
 * --log-opt`), else the host's defaults, TSCOMPOSE_LOG_MAX_SIZE and
 * TSCOMPOSE_LOG_MAX_FILE, else 20m and 5 files (the defaults of Docker's
 * `local` driver). Unlike Docker's json-file, there is always a cap: a
 * chatty container must not fill the disk the engine's state lives on.
 * `max-size: -1` asks for no cap at all.
 */
export interface LogLimits {
  /** Bytes the live file may reach before it is rotated; 0: no cap. */
  maxSize: number;
  /** Files kept, the live one included (at least 1). */
  maxFiles: number;
  /** The json-file driver's `compress`: rotated files gzipped (container.log.1.gz ...). */
  compress: boolean;
}

export const DEFAULT_LOG_MAX_SIZE = '20m';
export const DEFAULT_LOG_MAX_FILE = '5';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function sizeOf(text: string, where: string): number {
  if (text.trim() === '-1') return 0;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$/i.exec(text);
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!) : NaN;
  if (!(bytes > 0)) throw new UserError(`${where}: max-size "${text}" is not a size`, 1, 'write it as a number with k, m or g, e.g. 10m (or -1 for no cap)');
  return bytes;
}

function countOf(text: string, where: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${where}: max-file "${text}" must be a whole number of at least 1`);
  return n;
}

function compressOf(value: unknown, where: string): boolean {
  if (value === undefined) return false;
  const text = String(value).trim().toLowerCase();
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0' || text === '') return false;
  throw new UserError(`${where}: compress "${String(value)}" must be true or false`);
}

export function logLimits(logging: LogConfig | undefined, name: string): LogLimits {
  const opts = logging?.options ?? {};
  const where = `container ${name}`;
  const envSize = process.env.TSCOMPOSE_LOG_MAX_SIZE;
  const envFile = process.env.TSCOMPOSE_LOG_MAX_FILE;
  const maxSize = opts['max-size'] !== undefined ? sizeOf(String(opts['max-size']), where) : sizeOf(envSize || DEFAULT_LOG_MAX_SIZE, envSize ? 'TSCOMPOSE_LOG_MAX_SIZE' : where);
  const maxFiles = opts['max-file'] !== undefined ? countOf(String(opts['max-file']), where) : countOf(envFile || DEFAULT_LOG_MAX_FILE, envFile ? 'TSCOMPOSE_LOG_MAX_FILE' : where);
  return { maxSize, maxFiles, compress: compressOf(opts.compress, where) };
}
