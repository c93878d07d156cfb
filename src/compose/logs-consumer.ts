import type { LogLine } from '../engine/types.js';

/** A container whose output a verb passes on: its id, its full name, the name Compose shows, its service. */
export interface LogSource {
  id: string;
  container: string;
  /** The name in front of its lines: without the project prefix, as Compose v2 shows it. */
  name: string;
  service: string;
}

/**
 * Where `logs` and a foreground `up` send containers' output (Compose's
 * api.LogConsumer): the containers first, so that columns line up from the
 * first line, then their lines, and for `up` each exit as it happens.
 */
export interface LogConsumer {
  start?(sources: readonly LogSource[]): void;
  line(source: LogSource, line: LogLine): void;
  exited?(source: LogSource, exitCode: number): void;
}
