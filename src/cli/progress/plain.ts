import type { ChalkInstance } from 'chalk';
import type { ProgressEvent, Renderer } from './bus.js';

/** A line per event (`Container shop-web-1  Started`), for logs and CI: nothing is redrawn. */
export class PlainRenderer implements Renderer {
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly color: ChalkInstance,
  ) {}

  start(): void {}

  event(e: ProgressEvent): void {
    if (e.parentId) return;
    const paint = e.status === 'error' ? this.color.red : e.status === 'warning' ? this.color.yellow : (s: string) => s;
    const details = e.details ? ` ${e.details}` : '';
    this.out.write(`${e.id}  ${paint(e.text)}${details}\n`);
  }

  info(message: string): void {
    this.out.write(`${message}\n`);
  }

  stop(): void {}
}

/** One JSON object per line, for programs. */
export class JsonRenderer implements Renderer {
  constructor(private readonly out: NodeJS.WritableStream) {}

  start(): void {}

  event(e: ProgressEvent): void {
    this.out.write(JSON.stringify({ id: e.id, ...(e.parentId ? { parent_id: e.parentId } : {}), status: e.status, text: e.text, ...(e.details ? { details: e.details } : {}), ...(e.total ? { current: e.current ?? 0, total: e.total } : {}), time: new Date(e.time).toISOString() }) + '\n');
  }

  info(message: string): void {
    this.out.write(JSON.stringify({ level: 'info', message }) + '\n');
  }

  stop(): void {}
}

/** Nothing but errors (which the command reports itself). */
export class QuietRenderer implements Renderer {
  start(): void {}
  event(): void {}
  info(): void {}
  stop(): void {}
}
