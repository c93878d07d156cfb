import { readFileSync } from 'node:fs';
import type { AttachItem, AttachResult } from '../../../network/index.js';
import type { EngineDeps } from './deps.js';

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

  constructor(private readonly deps: EngineDeps) {}

  attach(item: AttachItem): Promise<AttachResult> {
    return new Promise((resolve, reject) => {
      this.attaches.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** After a start: the container's names answer (when it has a network namespace of ours). */
  async running(containerId: string, pid: number): Promise<void> {
    const { netnsPath } = await this.deps.network();
    if (!readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${netnsPath(containerId)} `)) return;
    return new Promise((resolve, reject) => {
      this.started.push({ item: { containerId, pid }, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    void this.deps.netOp(() => this.drain());
  }

  private async drain(): Promise<void> {
    this.scheduled = false;
    const net = await this.deps.network();
    const attaches = this.attaches.splice(0);
    const started = this.started.splice(0);
    if (attaches.length) {
      try {
        const results = await net.attachContainers(attaches.map((a) => a.item));
        attaches.forEach((a, i) => a.resolve(results[i]!));
      } catch (err) {
        if (attaches.length === 1) attaches[0]!.reject(err);
        else {
          for (const a of attaches) {
            await net.attachContainers([a.item]).then(([r]) => a.resolve(r!), a.reject);
          }
        }
      }
    }
    if (started.length) {
      try {
        await net.setContainersRunning(started.map((s) => s.item), true);
        for (const s of started) s.resolve();
      } catch (err) {
        for (const s of started) s.reject(err);
      }
    }
  }
}
