import { UserError } from '../../util/errors.js';

/**
 * An error a Dockerfile causes, naming `FILE:LINE` (and the column where it
 * helps), as `docker build` does: "Dockerfile:7: unknown instruction: RUNN".
 */
export class DockerfileError extends UserError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
    hint?: string,
    readonly column?: number,
  ) {
    super(`${file}:${line}${column !== undefined ? `:${column}` : ''}: ${problem}`, 1, hint);
    this.name = 'DockerfileError';
  }
}

/** Where an instruction is, for errors raised while it is checked or carried out. */
export interface Position {
  file: string;
  line: number;
}

export function errorAt(pos: Position, problem: string, hint?: string): DockerfileError {
  return new DockerfileError(pos.file, pos.line, problem, hint);
}
