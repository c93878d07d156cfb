import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync, watch } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { ContainerPaths, deriveStatus } from './store.js';
import type { LogEntry, LogOptions } from './types.js';

/**
 * The monitor's log file, one record per line in the CRI format:
 * "<RFC3339Nano> <stdout|stderr> <F|P> <bytes>", P marking a record that no
 * newline ended. Following reads appended records until the container has
 * exited and its record is written (the monitor drains the pipes first).
 */

export function parseLogLine(line: string): LogEntry | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  return { time: line.slice(0, a), stream, partial: line.slice(b + 1, c) === 'P', line: line.slice(c + 1) };
}

/** Milliseconds since the epoch of an RFC 3339 time with nanoseconds (Date.parse stops at ms). */
export function logTimeMs(time: string): number {
  return Date.parse(time.replace(/(\.\d{3})\d*Z$/, '$1Z'));
}

function wanted(e: LogEntry, opts: LogOptions): boolean {
  if (opts.since === undefined && opts.until === undefined) return true;
  const t = logTimeMs(e.time);
  if (opts.since !== undefined && t < opts.since) return false;
  if (opts.until !== undefined && t >= opts.until) return false;
  return true;
}

class LogReader {
  private fd: number | undefined;
  private pos = 0;
  private rest = '';

  constructor(private readonly path: string) {}

  /**
   * Opens the log and places the reader at its end: `read()` then returns only what is appended
   * later. Returns the size it stopped at and the fd, for reading what came before (`lastLines`).
   */
  openAtEnd(): { fd: number; size: number } | undefined {
    if (!existsSync(this.path)) return undefined;
    this.fd = openSync(this.path, 'r');
    this.pos = fstatSync(this.fd).size;
    this.rest = '';
    return { fd: this.fd, size: this.pos };
  }

  /** A record being written when the reader was placed: its start belongs to the next read, not to the past. */
  keepUnfinished(text: string): void {
    this.rest = text;
  }

  /** Complete lines appended since the last call, across a rotation of the file (the monitor's cap). */
  read(): string[] {
    const lines: string[] = [];
    for (;;) {
      if (this.fd === undefined) {
        if (!existsSync(this.path)) return lines;
        this.fd = openSync(this.path, 'r');
        this.pos = 0;
        this.rest = '';
      }
      this.drain(this.fd, lines);
      // Rotated: what we hold is now LOG.1 and was read to its end; the new file starts afresh.
      const now = statSync(this.path, { throwIfNoEntry: false });
      const held = fstatSync(this.fd);
      if (now && now.ino === held.ino && now.size >= this.pos) return lines;
      if (now && now.ino === held.ino) {
        this.pos = 0; // emptied in place (max-file 1)
        this.rest = '';
        continue;
      }
      this.close();
      if (!now) return lines;
    }
  }

  private drain(fd: number, lines: string[]): void {
    const buf = Buffer.alloc(1 << 16);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, this.pos);
      if (n <= 0) break;
      this.pos += n;
      const text = this.rest + buf.subarray(0, n).toString('utf8');
      const parts = text.split('\n');
      this.rest = parts.pop()!;
      lines.push(...parts);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export async function* readLogs(id: string, opts: LogOptions = {}): AsyncGenerator<LogEntry> {
  const paths = new ContainerPaths(id);
  const reader = new LogReader(paths.log);
  try {
    if (opts.tail !== undefined && opts.tail >= 0) {
      // From the end backwards: a tail of a large log costs what its last lines cost.
      yield* lastLines(paths.log, reader, opts.tail, opts);
    } else {
      const earlier = rotatedLogs(paths.log).flatMap(rotatedRecords);
      yield* [...earlier, ...reader.read()].map(parseLogLine).filter((e): e is LogEntry => e !== undefined && wanted(e, opts));
    }
    if (!opts.follow) return;
    let wake: (() => void) | undefined;
    const watcher = (() => {
      try {
        return watch(paths.dir, () => wake?.());
      } catch {
        return undefined;
      }
    })();
    watcher?.on('error', () => wake?.());
    try {
      for (;;) {
        const running = deriveStatus(id).status === 'running';
        for (const l of reader.read()) {
          const e = parseLogLine(l);
          if (e && wanted(e, opts)) yield e;
        }
        if (!running) {
          // The monitor writes its exit record after the last log line: one more read gets everything.
          for (const l of reader.read()) {
            const e = parseLogLine(l);
            if (e && wanted(e, opts)) yield e;
          }
          return;
        }
        if (opts.until !== undefined && Date.now() >= opts.until) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
          void sleep(250).then(resolve);
        });
      }
    } finally {
      watcher?.close();
    }
  } finally {
    reader.close();
  }
}

/**
 * The files the monitor rotated the log into, oldest first (LOG.N ... LOG.1), gzipped ones
 * (LOG.N.gz, the `compress` option) among them. While the monitor compresses LOG.1, both it and
 * LOG.1.gz may exist: the plain one is whole, and is the one read.
 */
export function rotatedLogs(path: string): string[] {
  const base = basename(path);
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return [];
  }
  const byNumber = new Map<number, string>();
  for (const n of names) {
    const m = /^(\d+)(\.gz)?$/.exec(n.startsWith(`${base}.`) ? n.slice(base.length + 1) : '');
    if (!m) continue;
    const k = Number(m[1]);
    if (!m[2] || !byNumber.has(k)) byNumber.set(k, n);
  }
  return [...byNumber].sort((a, b) => b[0] - a[0]).map(([, n]) => join(dirname(path), n));
}

/** A rotated file's records, oldest first; a gzipped one is inflated whole (it is at most max-size). */
function rotatedRecords(file: string): string[] {
  const raw = readFileSync(file);
  return (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').split('\n').filter(Boolean);
}

const CHUNK = 1 << 16;

/** The records of one file from `end` backwards, newest first, in chunks (the file is not read whole). */
function* recordsBackwards(fd: number, end: number): Generator<string> {
  const buf = Buffer.alloc(CHUNK);
  let pos = end;
  let carry = Buffer.alloc(0); // the start of the record the previous chunk began inside
  while (pos > 0) {
    const start = Math.max(0, pos - CHUNK);
    const n = readSync(fd, buf, 0, pos - start, start);
    let text = Buffer.concat([buf.subarray(0, n), carry]);
    pos = start;
    let nl = text.lastIndexOf(10);
    while (nl >= 0) {
      const prev = text.lastIndexOf(10, nl - 1);
      if (prev < 0 && pos > 0) break; // its start is in the chunk before
      const record = text.subarray(prev + 1, nl).toString('utf8');
      if (record) yield record;
      text = text.subarray(0, prev + 1);
      nl = prev;
    }
    carry = text; // its own memory (concat copies), not buf's: the next read must not overwrite it
  }
}

/**
 * The last n lines of the log and its rotated files, read from the end; the reader is left at the
 * end of the current file, for following. A line split into partial records counts once, as
 * Docker's tail counts lines: going backwards, the (n+1)-th complete record ends the tail.
 */
function lastLines(path: string, reader: LogReader, n: number, opts: LogOptions): LogEntry[] {
  const newestFirst: LogEntry[] = [];
  let lineEnds = 0;
  const take = (record: string): boolean => {
    const e = parseLogLine(record);
    if (!e || !wanted(e, opts)) return true;
    if (!e.partial || newestFirst.length === 0) lineEnds++;
    if (lineEnds > n) return false;
    newestFirst.push(e);
    return true;
  };
  const current = reader.openAtEnd();
  let more = n > 0;
  if (current && more) {
    // A record still being written (no newline yet) is not part of the past: the reader gets it next.
    const tail = Buffer.alloc(Math.min(current.size, CHUNK));
    readSync(current.fd, tail, 0, tail.length, current.size - tail.length);
    const lastNl = tail.lastIndexOf(10);
    // No newline in the last chunk of a larger file: one record longer than a chunk, taken as written.
    const complete = lastNl < 0 && tail.length < current.size ? current.size : current.size - (tail.length - (lastNl + 1));
    if (complete < current.size) reader.keepUnfinished(tail.subarray(lastNl + 1).toString('utf8'));
    for (const record of recordsBackwards(current.fd, complete)) if (!(more = take(record))) break;
  }
  for (const file of rotatedLogs(path).reverse()) {
    if (!more) break;
    let fd: number | undefined;
    try {
      if (file.endsWith('.gz')) {
        const records = rotatedRecords(file);
        for (let i = records.length - 1; i >= 0 && more; i--) more = take(records[i]!);
        continue;
      }
      fd = openSync(file, 'r');
      for (const record of recordsBackwards(fd, fstatSync(fd).size)) if (!(more = take(record))) break;
    } catch {
      /* rotated away while we read: older than anything still kept */
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return newestFirst.reverse();
}

export function logSize(id: string): number {
  const log = new ContainerPaths(id).log;
  let size = 0;
  for (const f of [...rotatedLogs(log), log]) size += statSync(f, { throwIfNoEntry: false })?.size ?? 0;
  return size;
}
