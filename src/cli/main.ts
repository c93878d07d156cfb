import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { UserError } from '../util/errors.js';
import { endOnClosedStdout } from './objects.js';

/**
 * Entry point: parse, run, and turn errors into an exit code. A UserError is
 * the user's to fix and prints as a sentence; anything else is our bug and
 * prints its stack when TSCOMPOSE_DEBUG is set.
 */
async function main(argv: string[]): Promise<number> {
  // `exec … | head`, `logs | head`, `ps | head`: a reader that goes away ends the command quietly, as docker's.
  endOnClosedStdout();
  try {
    const program = await buildProgram(argv.slice(2));
    program.exitOverride();
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander has already printed help, the version, or its own message.
    return err.exitCode;
  }
  if (err instanceof UserError) {
    process.stderr.write(`${err.message}\n`);
    if (err.hint) process.stderr.write(`${err.hint}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`tscompose: ${e?.message ?? String(err)}\n`);
  if (process.env.TSCOMPOSE_DEBUG && e?.stack) process.stderr.write(`${e.stack}\n`);
  return 1;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.exitCode = reportError(err);
  },
);
