import type { ProgressEvent, ProgressSink } from '../planner/progress.js';

export type { EventStatus, ProgressEvent, ProgressSink } from '../planner/progress.js';

/**
 * What a compose verb reports while it works, in order: a block of work
 * begins (its title: Running, Stopping...), resources make progress (the
 * planner's executor and the image actions report these), warnings and
 * notices, lines of output (a build's steps), and the block ends. How it is
 * shown is the listener's business: the CLI draws it on a terminal, prints
 * lines, or JSON; a Node API user may collect it, or pass no listener.
 */
export type ComposeEvent =
  | { type: 'begin'; title: string }
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'warning'; message: string }
  | { type: 'info'; message: string }
  | { type: 'output'; text: string }
  | { type: 'end' };

export type ComposeListener = (e: ComposeEvent) => void;

/** The listener of a verb called without one. */
export const ignoreEvents: ComposeListener = () => undefined;

/** A verb's side of the listener: typed helpers that build the events. */
export class Reporter {
  constructor(readonly listener: ComposeListener = ignoreEvents) {}

  readonly progress: ProgressSink = (e) => this.listener({ type: 'progress', event: { ...e, time: e.time ?? Date.now() } });

  warning(message: string): void {
    this.listener({ type: 'warning', message });
  }

  info(message: string): void {
    this.listener({ type: 'info', message });
  }

  output(text: string): void {
    this.listener({ type: 'output', text });
  }

  /** Runs `work` between a `begin` with this title and its `end`, however it ends. */
  async block<T>(title: string, work: () => Promise<T>): Promise<T> {
    this.listener({ type: 'begin', title });
    try {
      return await work();
    } finally {
      this.listener({ type: 'end' });
    }
  }
}
