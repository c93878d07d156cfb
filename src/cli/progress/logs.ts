import type { ChalkInstance } from 'chalk';
import type { LogLine } from '../../engine/types.js';
import type { LogConsumer } from '../../compose/logs-consumer.js';

/** Compose's colour rotation for service prefixes. */
const PALETTE = ['cyan', 'yellow', 'green', 'magenta', 'blue', 'red', 'cyanBright', 'yellowBright', 'greenBright', 'magentaBright', 'blueBright', 'redBright'] as const;

/**
 * Prints container output prefixed `service-1  | `, padded to the widest
 * prefix, a colour per service (the same service always gets the same one
 * within a run). Lines from many containers interleave whole.
 */
export class LogPrinter {
  private width = 0;
  private readonly colors = new Map<string, (s: string) => string>();

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly color: ChalkInstance,
    private readonly options: { prefix?: boolean; timestamps?: boolean } = {},
  ) {}

  /** Widens the prefix column for a name that will print (so columns line up from the first line). */
  register(name: string, service: string): void {
    this.width = Math.max(this.width, name.length);
    if (!this.colors.has(service)) {
      const key = PALETTE[this.colors.size % PALETTE.length]!;
      this.colors.set(service, (s) => this.color[key](s));
    }
  }

  line(name: string, service: string, l: LogLine): void {
    this.register(name, service);
    const ts = this.options.timestamps && l.timestamp ? `${l.timestamp} ` : '';
    if (this.options.prefix === false) {
      this.out.write(`${ts}${l.text}\n`);
      return;
    }
    const paint = this.colors.get(service)!;
    this.out.write(`${paint(`${name.padEnd(this.width)}  |`)} ${ts}${l.text}\n`);
  }

  /** A message about a container, in its colour: "web-1 exited with code 0". */
  event(name: string, service: string, message: string): void {
    this.register(name, service);
    this.out.write(`${this.colors.get(service)!(`${name} ${message}`)}\n`);
  }
}

/**
 * The compose layer's LogConsumer printing through a LogPrinter: `logs`, and
 * a foreground `up` (which first says whom it attaches to).
 */
export function printingConsumer(printer: LogPrinter, o: { attaching?: NodeJS.WritableStream } = {}): LogConsumer {
  return {
    start(sources) {
      if (o.attaching) o.attaching.write(`Attaching to ${sources.map((s) => s.name).join(', ')}\n`);
      for (const s of sources) printer.register(s.name, s.service);
    },
    line: (s, l) => printer.line(s.name, s.service, l),
    exited: (s, code) => printer.event(s.name, s.service, `exited with code ${code}`),
  };
}
