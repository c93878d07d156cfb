import { Chalk, type ChalkInstance } from 'chalk';
import { ProgressBus, type Renderer } from './bus.js';
import { JsonRenderer, PlainRenderer, QuietRenderer } from './plain.js';
import { TtyRenderer } from './tty.js';

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'json' | 'quiet';
export type AnsiMode = 'never' | 'always' | 'auto';

export interface DisplayOptions {
  progress?: ProgressMode;
  ansi?: AnsiMode;
}

/**
 * Colours on stdout/stderr: `--ansi always` forces them, `never` and NO_COLOR
 * turn them off, `auto` follows whether the stream is a terminal.
 */
export function colorFor(stream: NodeJS.WriteStream, ansi: AnsiMode = 'auto'): ChalkInstance {
  if (ansi === 'always') return new Chalk({ level: 1 });
  if (ansi === 'never' || process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return new Chalk({ level: 0 });
  return new Chalk({ level: stream.isTTY ? 1 : 0 });
}

/**
 * The progress display for a command, on stderr as Compose does: tty when
 * stderr is a terminal (and neither CI nor `--ansi never` says otherwise),
 * plain lines otherwise; `--progress` (or COMPOSE_PROGRESS) picks explicitly.
 */
export function progressBus(options: DisplayOptions, stream: NodeJS.WriteStream = process.stderr): ProgressBus {
  return new ProgressBus(rendererFor(options, stream));
}

export function rendererFor(options: DisplayOptions, stream: NodeJS.WriteStream): Renderer {
  const mode = options.progress ?? ((process.env.COMPOSE_PROGRESS as ProgressMode | undefined) || 'auto');
  const color = colorFor(stream, options.ansi);
  switch (mode) {
    case 'quiet':
      return new QuietRenderer();
    case 'json':
      return new JsonRenderer(stream);
    case 'plain':
      return new PlainRenderer(stream, color);
    case 'tty':
      return new TtyRenderer(stream, color);
    default: {
      const ci = !!process.env.CI && process.env.CI !== 'false';
      return stream.isTTY && !ci && options.ansi !== 'never' ? new TtyRenderer(stream, color) : new PlainRenderer(stream, color);
    }
  }
}
