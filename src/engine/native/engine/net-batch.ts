import { readFileSync } from 'node:fs';
import { attachContainers, detachRemoved, releaseOnStops, setContainersRunning, type AttachItem } from '../../../network/batch.js';
import { netnsPath } from '../../../network/links.js';
import type { AttachResult } from '../../../network/types.js';

/**
 * Network work of many containers, gathered into batches: the attaches, the
 * "names go live" after starts, the releases after stops and the detaches
 * after removals that an `up` or a `down` asks for side by side are handed
 * to the network module together, under one taking of its lock and one
 * daemon reload each, instead of thirty in a row (a `down` of 30 spent
 * ~4.5 s of its 7.5 s on them one at a time: a record written and the daemon
 * reloaded per stop, and per removal besides one `umount`). A batch that
 * fails (a port taken, say) is retried one container at a time, so that only
 * the container at fault fails, with its own error.
 */
interface Waiting<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

export class NetworkBatcher {
  private attaches: Array<Waiting<AttachItem, AttachResult>> = [];
  private started: Array<Waiting<{ containerId: string; pid: number }, void>> = [];
  private stops: Array<Waiting<string, void>> = [];
  private removals: Array<Waiting<string, void>> = [];
  private scheduled = false;

  /** `serialize` runs network changes of this process one after another (EngineDeps.netOp). */
  constructor(private readonly serialize: <T>(fn: () => Promise<T>) => Promise<T>) {}

  attach(item: AttachItem): Promise<AttachResult> {
    return this.enqueue(this.attaches, item);
  }

  /** After a start: the container's names answer (when it has a network namespace of ours). */
  async running(containerId: string, pid: number): Promise<void> {
    if (!readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${netnsPath(containerId)} `)) return;
    return this.enqueue(this.started, { containerId, pid });
  }

  /** After a stop: its names stop answering, its published ports are released. */
  stopped(containerId: string): Promise<void> {
    return this.enqueue(this.stops, containerId);
  }

  /** After a removal: off every network (veths, namespace, address, names, ports). */
  removed(containerId: string): Promise<void> {
    return this.enqueue(this.removals, containerId);
  }

  private enqueue<T, R>(queue: Array<Waiting<T, R>>, item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    void this.serialize(() => this.drain());
  }

  private async drain(): Promise<void> {
    this.scheduled = false;
    const attaches = this.attaches.splice(0);
    const started = this.started.splice(0);
    const stops = this.stops.splice(0);
    const removals = this.removals.splice(0);
    await settle(attaches, (items) => attachContainers(items));
    if (started.length) {
      try {
        await setContainersRunning(started.map((s) => s.item), true);
        for (const s of started) s.resolve();
      } catch (err) {
        for (const s of started) s.reject(err);
      }
    }
    await settle(stops, eachVoid(releaseOnStops));
    await settle(removals, eachVoid(detachRemoved));
  }
}

/** A batch operation that returns nothing, as one that returns nothing for each item. */
function eachVoid(fn: (ids: string[]) => Promise<void>): (ids: string[]) => Promise<void[]> {
  return async (ids) => {
    await fn(ids);
    return ids.map(() => undefined);
  };
}

/** Runs a batch; when it fails, each of its items alone, so that each waiter gets its own outcome. */
async function settle<T, R>(batch: Array<Waiting<T, R>>, run: (items: T[]) => Promise<R[]>): Promise<void> {
  if (batch.length === 0) return;
  try {
    const results = await run(batch.map((w) => w.item));
    batch.forEach((w, i) => w.resolve(results[i]!));
  } catch (err) {
    if (batch.length === 1) return batch[0]!.reject(err);
    for (const w of batch) {
      await run([w.item]).then(([r]) => w.resolve(r!), w.reject);
    }
  }
}
