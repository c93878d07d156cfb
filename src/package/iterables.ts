import { Writable } from 'node:stream';

/**
 * An async iterable fed by a producer: `produce` pushes items until it
 * settles (its rejection is the loop's error). Leaving the loop early
 * (`break`, `return`, a throw in its body) aborts the producer's signal and
 * waits for it to end, so that nothing keeps following after the caller
 * stopped listening; so does aborting `outer`, which ends the loop quietly.
 */
export function pushIterable<T>(produce: (push: (item: T) => void, signal: AbortSignal) => Promise<void>, outer?: AbortSignal): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const stop = new AbortController();
      const onOuter = () => stop.abort();
      if (outer?.aborted) stop.abort();
      else outer?.addEventListener('abort', onOuter, { once: true });
      const queue: T[] = [];
      let settled = false;
      let failure: unknown;
      let wake: (() => void) | undefined;
      const producing = produce(
        (item) => {
          queue.push(item);
          wake?.();
        },
        stop.signal,
      ).then(
        () => undefined,
        (err: unknown) => {
          failure = err;
        },
      ).finally(() => {
        settled = true;
        outer?.removeEventListener('abort', onOuter);
        wake?.();
      });
      return {
        async next(): Promise<IteratorResult<T>> {
          for (;;) {
            if (queue.length) return { value: queue.shift()!, done: false };
            if (settled) {
              // An error after the caller asked to stop is the stop itself (a follow cut short).
              if (failure !== undefined && !stop.signal.aborted) throw failure;
              return { value: undefined, done: true };
            }
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
          }
        },
        async return(): Promise<IteratorResult<T>> {
          stop.abort();
          await producing;
          queue.length = 0;
          return { value: undefined, done: true };
        },
      };
    },
  };
}

/** A Writable that keeps what is written, for a process's output read back as text. */
export class Capture extends Writable {
  private readonly chunks: Buffer[] = [];

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    done();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
