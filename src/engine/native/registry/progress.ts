import type { TransferProgress } from '../../types.js';

/**
 * Progress of pulls and pushes, as the Engine interface reports it: one
 * record per status change of a layer (keyed by its short digest, as the
 * docker CLI shows them) and byte counts while it transfers, at most every
 * percent or half megabyte so that a renderer is not flooded.
 */
export type ProgressFn = (p: TransferProgress) => void;

export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

export class ByteProgress {
  private lastReported = -1;

  constructor(private readonly emit: ProgressFn | undefined, private readonly id: string, private readonly status: string, private readonly total: number | undefined) {}

  update(current: number): void {
    if (!this.emit) return;
    const step = Math.max(512 * 1024, Math.floor((this.total ?? 0) / 100));
    if (this.lastReported >= 0 && current - this.lastReported < step && current !== this.total) return;
    this.lastReported = current;
    this.emit({ id: this.id, status: this.status, current, ...(this.total !== undefined ? { total: this.total } : {}) });
  }
}

/** A counting semaphore: at most `n` holders at once (parallel downloads and uploads). */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly n: number) {}

  async acquire(): Promise<() => void> {
    if (this.active >= this.n) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiting.shift()?.();
    };
  }
}

/** A promise with its resolve/reject at hand, and whether it has settled. */
export class Deferred<T> {
  readonly promise: Promise<T>;
  settled = false;
  resolve!: (v: T) => void;
  reject!: (e: unknown) => void;

  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.resolve = (v) => { this.settled = true; res(v); };
      this.reject = (e) => { this.settled = true; rej(e); };
    });
    // A dependent may never ask (the pull failed before it started): no unhandled rejection for that.
    this.promise.catch(() => undefined);
  }
}
