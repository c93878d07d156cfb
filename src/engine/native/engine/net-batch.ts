import type * as NetworkBatch from '../../../network/batch.js';
import type { AttachItem } from '../../../network/batch.js';
import { isNetnsMounted, netnsPath } from '../../../network/links.js';
import { onOurNetworks, withNetworkRemnants } from '../../../network/presence.js';
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
  /** Stops of this process under way, and since when the oldest removal waiting has waited (see stopping()). */
  private stopsUnderWay = 0;
  private removalsSince: number | undefined;
  /** When the stops under way last came to none (a drain right after holds on for the next). */
  private lastStopEnded: number | undefined;
  private holdTimer: NodeJS.Timeout | undefined;

  /**
   * `serialize` runs network changes of this process one after another (EngineDeps.netOp); `batch`
   * loads network/batch.ts, when there is a first batch to run (a command that changes no network never does).
   */
  constructor(
    private readonly serialize: <T>(fn: () => Promise<T>) => Promise<T>,
    private readonly batch: () => Promise<typeof NetworkBatch>,
  ) {}

  attach(item: AttachItem): Promise<AttachResult> {
    return this.enqueue(this.attaches, item);
  }

  /** After a start: the container's names answer (when it has a network namespace of ours). */
  async running(containerId: string, pid: number): Promise<void> {
    if (!isNetnsMounted(netnsPath(containerId))) return;
    return this.enqueue(this.started, { containerId, pid });
  }

  /** After a stop: its names stop answering, its published ports are released. */
  stopped(containerId: string): Promise<void> {
    return this.enqueue(this.stops, containerId);
  }

  /** After a removal: off every network (veths, namespace, address, names, ports). */
  removed(containerId: string): Promise<void> {
    this.removalsSince ??= Date.now();
    return this.enqueue(this.removals, containerId);
  }

  /**
   * A stop is under way in this process until the returned function is
   * called. Meanwhile removals wait (up to REMOVAL_HOLD_MS), so that a
   * stop's release never queues behind a detach: a `down` of a chain stops
   * one container after another, each removed as soon as it is stopped, and
   * the detaches (a `umount` process each) otherwise sat between every two
   * stops. A `down`'s stops release nothing themselves (thenRemove), but its
   * detaches still take the main thread (a process spawned, a record, a
   * daemon reload per batch): held, they go together once the stops are over.
   */
  stopping(): () => void {
    this.stopsUnderWay++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      // A little later: the stop of a dependency that this one's end lets start comes first (not always
      // in the same turn of the event loop: 1-8 ms later, measured), and the removals wait on for it.
      // Until then a drain that comes (one a removal queued meanwhile) holds them as well.
      if (--this.stopsUnderWay === 0) {
        this.lastStopEnded = Date.now();
        if (this.removals.length) setTimeout(() => this.schedule(), NEXT_STOP_GRACE_MS + 1);
      }
    };
  }

  private enqueue<T, R>(queue: Array<Waiting<T, R>>, item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** True while removals should wait for the stops under way; then a drain is due when the hold runs out. */
  private holdRemovals(): boolean {
    if (this.removals.length === 0) return false;
    const now = Date.now();
    const betweenStops = this.stopsUnderWay === 0 && this.lastStopEnded !== undefined && now - this.lastStopEnded < NEXT_STOP_GRACE_MS;
    if (this.stopsUnderWay === 0 && !betweenStops) return false;
    const left = this.removalsSince! + REMOVAL_HOLD_MS - now;
    if (left <= 0) return false;
    if (betweenStops) {
      // Looked at again when the grace is over (unless the next stop has begun by then).
      setTimeout(() => this.schedule(), NEXT_STOP_GRACE_MS - (now - this.lastStopEnded!) + 1);
      return true;
    }
    this.holdTimer ??= setTimeout(() => {
      this.holdTimer = undefined;
      this.schedule();
    }, left);
    return true;
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
    const removals = this.holdRemovals() ? [] : this.removals.splice(0);
    if (removals.length) this.removalsSince = undefined;
    // Containers the network holds nothing of (network none or host) are done without it: the
    // batches would find nothing to release or detach, and loading them costs a short command.
    const networkStops = onNetwork(stops, onOurNetworks);
    const networkRemovals = onNetwork(removals, withNetworkRemnants);
    if (!attaches.length && !started.length && !networkStops.length && !networkRemovals.length) return;
    const { attachContainers, detachRemoved, releaseOnStops, setContainersRunning } = await this.batch();
    await settle(attaches, (items) => attachContainers(items));
    if (started.length) {
      try {
        await setContainersRunning(started.map((s) => s.item), true);
        for (const s of started) s.resolve();
      } catch (err) {
        for (const s of started) s.reject(err);
      }
    }
    await settle(networkStops, eachVoid(releaseOnStops));
    await settle(networkRemovals, eachVoid(detachRemoved));
  }
}

/** How long removals wait for the stops under way at most (a stop may wait out a grace period of seconds). */
const REMOVAL_HOLD_MS = 1000;
/** How long after the last stop ends removals wait for another to begin. */
const NEXT_STOP_GRACE_MS = 20;

/** The waiters whose containers `holds` finds on the network; the others are resolved at once. */
function onNetwork(batch: Array<Waiting<string, void>>, holds: (ids: readonly string[]) => string[]): Array<Waiting<string, void>> {
  if (batch.length === 0) return batch;
  const ids = new Set(holds(batch.map((w) => w.item)));
  for (const w of batch) if (!ids.has(w.item)) w.resolve();
  return batch.filter((w) => ids.has(w.item));
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
