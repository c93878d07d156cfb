import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync, watch } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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
    const earlier = rotatedLogs(paths.log).flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean));
    let entries = [...earlier, ...reader.read()].map(parseLogLine).filter((e): e is LogEntry => e !== undefined && wanted(e, opts));
    if (opts.tail !== undefined && opts.tail >= 0) entries = tailLines(entries, opts.tail);
    yield* entries;
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

/** The files the monitor rotated the log into, oldest first (LOG.N ... LOG.1). */
export function rotatedLogs(path: string): string[] {
  const base = basename(path);
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(`${base}.`) && /^\d+$/.test(n.slice(base.length + 1)))
    .sort((a, b) => Number(b.slice(base.length + 1)) - Number(a.slice(base.length + 1)))
    .map((n) => join(dirname(path), n));
}

/** The last n lines; a line split into partial records counts once, as Docker's tail counts lines. */
function tailLines(entries: LogEntry[], n: number): LogEntry[] {
  let start = entries.length;
  let end = entries.length - 1;
  for (let count = 0; end >= 0 && count < n; count++) {
    let k = end - 1;
    while (k >= 0 && entries[k]!.partial) k--;
    start = k + 1;
    end = k;
  }
  return entries.slice(start);
}

export function logSize(id: string): number {
  const log = new ContainerPaths(id).log;
  let size = 0;
  for (const f of [...rotatedLogs(log), log]) size += statSync(f, { throwIfNoEntry: false })?.size ?? 0;
  return size;
}
