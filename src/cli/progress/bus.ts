/**
 * Progress as events on a bus, decoupled from how they are shown (Compose's
 * pkg/api/event.go): operations say what happens to which resource; the tty,
 * plain, json and quiet renderers each listen and draw it their way.
 */
import type { ProgressEvent, ProgressSink } from '../../compose/progress.js';

export type { EventStatus, ProgressEvent, ProgressSink } from '../../compose/progress.js';

export interface Renderer {
  /** An operation begins (`up`, `down`...): the title of the tty block. */
  start(operation: string): void;
  event(e: ProgressEvent): void;
  /** A line of information outside the resource list (warnings, hints). */
  info(message: string): void;
  /** The operation is over: draw the last frame, release the terminal. */
  stop(): void;
}

export class ProgressBus {
  private readonly renderers: Renderer[] = [];
  private running = false;

  constructor(...renderers: Renderer[]) {
    this.renderers.push(...renderers);
  }

  add(r: Renderer): void {
    this.renderers.push(r);
  }

  start(operation: string): void {
    this.running = true;
    for (const r of this.renderers) r.start(operation);
  }

  readonly emit: ProgressSink = (e) => {
    const full: ProgressEvent = { ...e, time: e.time ?? Date.now() };
    for (const r of this.renderers) r.event(full);
  };

  info(message: string): void {
    for (const r of this.renderers) r.info(message);
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    for (const r of this.renderers) r.stop();
  }
}
