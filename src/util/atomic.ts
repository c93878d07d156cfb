import { closeSync, fsyncSync, openSync, readdirSync, renameSync, writeSync, unlinkSync, readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { processStartTime } from './lock.js';
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
  // The writer's pid and start time in the name: a sweep can tell a dead writer's leftover from a write in progress.
  const tmp = tempPathFor(path);
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

/**
 * writeFileAtomic of many files at once, as durable: every file is written and synced before any is
 * renamed into place, their syncs side by side on the thread pool (the file system can commit them
 * together, and the event loop goes on meanwhile), then each directory is synced once, not once per
 * file. A failure renames nothing and leaves no temp file.
 */
export async function writeFilesAtomic(files: readonly { path: string; data: string | Uint8Array }[], mode = 0o600): Promise<void> {
  const temps = files.map((f) => tempPathFor(f.path));
  const written = await Promise.allSettled(
    files.map(async (f, i) => {
      const fh = await open(temps[i]!, 'wx', mode);
      try {
        await fh.writeFile(f.data);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }),
  );
  const failed = written.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const t of temps) {
      try { unlinkSync(t); } catch { /* not made */ }
    }
    throw failed.reason;
  }
  files.forEach((f, i) => renameSync(temps[i]!, f.path));
  await Promise.all([...new Set(files.map((f) => dirname(f.path)))].map(fsyncDirAsync));
}

/**
 * writeFileAtomic, durable, with its syncs on the thread pool: the many creates of one `up` each
 * write their record at once, and the file system commits their syncs together, where the
 * synchronous form held the event loop for each in turn (~11 ms a sync on this machine's disk,
 * ~2 ms each when 20 go side by side).
 */
export async function writeFileAtomicAsync(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  await writeFilesAtomic([{ path, data }], mode);
}

export async function writeJsonAtomicAsync(path: string, value: unknown, mode = 0o600): Promise<void> {
  await writeFileAtomicAsync(path, JSON.stringify(value, null, 2) + '\n', mode);
}

/** A temp file beside `path`, named with the writer's pid and start time (see sweepDeadTemps). */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${writerTag()}.${randomBytes(6).toString('hex')}.tmp`);
}

let tag: string | undefined;
function writerTag(): string {
  return (tag ??= `${process.pid}-${processStartTime(process.pid) ?? 0}`);
}

const TEMP_RE = /^\..+?\.(?:(\d+)-(\d+)\.)?[0-9a-f]{12}\.tmp$/;
/** Temp files of the format without a writer tag are judged by age. */
const UNTAGGED_TEMP_GRACE_MS = 10 * 60_000;

/**
 * Removes the temp files of writeFileAtomic in `dir` whose writer is dead (a
 * process killed -9 between writing and renaming left them for ever).
 * Returns how many went.
 */
export function sweepDeadTemps(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    let dead: boolean;
    if (m[1] !== undefined) dead = processStartTime(Number(m[1])) !== m[2];
    else dead = Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > UNTAGGED_TEMP_GRACE_MS;
    if (!dead) continue;
    try {
      unlinkSync(path);
      removed++;
    } catch { /* gone meanwhile */ }
  }
  return removed;
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

/**
 * readJsonIfExists for records a process reads again and again (a container's
 * config, an image's record and config): the text is kept and read anew only
 * when the file's inode, size or modification time (ns) changed. Every writer
 * here replaces files by rename, so a change always shows in the inode. A
 * stat costs a tenth of an open+read+close on this kind of disk, and an `up`
 * of 30 containers read each config about 20 times. Parsed anew on each
 * call: callers may change what they get.
 */
const cachedTexts = new Map<string, { key: string; text: string }>();
const CACHE_LIMIT = 4096;

export function readJsonCached<T>(path: string): T | undefined {
  const st = statSync(path, { bigint: true, throwIfNoEntry: false });
  if (!st) {
    cachedTexts.delete(path);
    return undefined;
  }
  const key = `${st.ino}:${st.size}:${st.mtimeNs}`;
  let hit = cachedTexts.get(path);
  if (hit?.key !== key) {
    const text = readFileSync(path, 'utf8');
    // Cached only if the file did not change while it was read (else read it again next time).
    const after = statSync(path, { bigint: true, throwIfNoEntry: false });
    hit = { key: after ? `${after.ino}:${after.size}:${after.mtimeNs}` : '', text };
    if (hit.key === key) {
      // A bound for the long-lived daemon, which sees containers come and go: start over past it.
      if (cachedTexts.size >= CACHE_LIMIT) cachedTexts.clear();
      cachedTexts.set(path, hit);
    } else cachedTexts.delete(path);
  }
  return JSON.parse(hit.text) as T;
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

export async function fsyncDirAsync(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}
