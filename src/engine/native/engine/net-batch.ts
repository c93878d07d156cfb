import { readFileSync } from 'node:fs';
import { attachContainers, setContainersRunning, type AttachItem } from '../../../network/batch.js';
import { netnsPath } from '../../../network/links.js';
import type { AttachResult } from '../../../network/types.js';

/**
 * Network work of many containers, gathered into batches: the attaches (and
 * the "names go live" after starts) that an `up` asks for side by side are
 * handed to the network module together, under one taking of its lock and
 * one daemon reload, instead of thirty in a row. A batch that fails (a port
 * taken, say) is retried one container at a time, so that only the container
 * at fault fails, with its own error.
 */
interface Waiting<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

export class NetworkBatcher {
  private attaches: Array<Waiting<AttachItem, AttachResult>> = [];
  private started: Array<Waiting<{ containerId: string; pid: number }, void>> = [];
  private scheduled = false;

  /** `serialize` runs network changes of this process one after another (EngineDeps.netOp). */
  constructor(private readonly serialize: <T>(fn: () => Promise<T>) => Promise<T>) {}

  attach(item: AttachItem): Promise<AttachResult> {
    return new Promise((resolve, reject) => {
      this.attaches.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** After a start: the container's names answer (when it has a network namespace of ours). */
  async running(containerId: string, pid: number): Promise<void> {
    if (!readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${netnsPath(containerId)} `)) return;
    return new Promise((resolve, reject) => {
      this.started.push({ item: { containerId, pid }, resolve, reject });
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
    if (attaches.length) {
      try {
        const results = await attachContainers(attaches.map((a) => a.item));
        attaches.forEach((a, i) => a.resolve(results[i]!));
      } catch (err) {
        if (attaches.length === 1) attaches[0]!.reject(err);
        else {
          for (const a of attaches) {
            await attachContainers([a.item]).then(([r]) => a.resolve(r!), a.reject);
          }
        }
      }
    }
    if (started.length) {
      try {
        await setContainersRunning(started.map((s) => s.item), true);
        for (const s of started) s.resolve();
      } catch (err) {
        for (const s of started) s.reject(err);
      }
    }
  }
}
