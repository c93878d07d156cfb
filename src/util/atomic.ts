import { closeSync, fsyncSync, openSync, renameSync, writeSync, unlinkSync, readFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes a file so that readers see either the old or the new content, never
 * a torn one, even after a crash: write a temp file in the same directory,
 * fsync it, rename it over the target, fsync the directory. `durable: false`
 * skips the fsyncs (still atomic, but a power cut may bring the old content
 * back): for records that can be rebuilt and are written on a hot path.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, opts: { durable?: boolean } = {}): void {
  const durable = opts.durable ?? true;
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (durable) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  if (durable) fsyncDir(dirname(path));
}

export function writeJsonAtomic(path: string, value: unknown, mode = 0o600, opts: { durable?: boolean } = {}): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n', mode, opts);
}

/** Reads JSON, or returns undefined when the file does not exist. */
export function readJsonIfExists<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}
