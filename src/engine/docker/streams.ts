import type { Readable, Writable } from 'node:stream';
import type { LogLine } from '../types.js';

const HEADER = 8;

/**
 * Docker's multiplexed stream (non-tty containers): frames of an 8-byte
 * header {stream, 0, 0, 0, size (big-endian u32)} and a payload. A tty
 * container's stream is raw stdout. Yields whole lines per stream; a last
 * line without a newline is yielded when the stream ends.
 */
export async function* demuxLines(source: Readable | Buffer, tty: boolean, timestamps: boolean): AsyncGenerator<LogLine> {
  const partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  let pending: Buffer = Buffer.alloc(0);
  const chunks: AsyncIterable<Buffer> = Buffer.isBuffer(source) ? [source] as unknown as AsyncIterable<Buffer> : (source as AsyncIterable<Buffer>);

  function* emit(stream: 'stdout' | 'stderr', text: string): Generator<LogLine> {
    const all = partial[stream] + text;
    const lines = all.split('\n');
    partial[stream] = lines.pop()!;
    for (const line of lines) yield toLine(stream, line, timestamps);
  }

  for await (const chunk of chunks) {
    if (tty) {
      yield* emit('stdout', chunk.toString('utf8'));
      continue;
    }
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= HEADER) {
      const size = pending.readUInt32BE(4);
      if (pending.length < HEADER + size) break;
      const kind = pending[0] === 2 ? 'stderr' : 'stdout';
      const payload = pending.subarray(HEADER, HEADER + size).toString('utf8');
      pending = pending.subarray(HEADER + size);
      yield* emit(kind, payload);
    }
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    if (partial[stream] !== '') yield toLine(stream, partial[stream], timestamps);
  }
}

function toLine(stream: 'stdout' | 'stderr', raw: string, timestamps: boolean): LogLine {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (!timestamps) return { stream, text: line };
  const space = line.indexOf(' ');
  if (space <= 0) return { stream, text: line };
  return { stream, text: line.slice(space + 1), timestamp: line.slice(0, space) };
}

/**
 * Copies a multiplexed stream into two writers, frame by frame, keeping
 * backpressure; resolves when the source ends.
 */
export function demuxInto(source: Readable, stdout: Writable, stderr: Writable, tty: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending: Buffer = Buffer.alloc(0);
    source.on('data', (chunk: Buffer) => {
      if (tty) {
        if (!stdout.write(chunk)) {
          source.pause();
          stdout.once('drain', () => source.resume());
        }
        return;
      }
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= HEADER) {
        const size = pending.readUInt32BE(4);
        if (pending.length < HEADER + size) break;
        const target = pending[0] === 2 ? stderr : stdout;
        const ok = target.write(pending.subarray(HEADER, HEADER + size));
        pending = pending.subarray(HEADER + size);
        if (!ok) {
          source.pause();
          target.once('drain', () => source.resume());
        }
      }
    });
    source.once('end', () => resolve());
    source.once('close', () => resolve());
    source.once('error', reject);
  });
}
