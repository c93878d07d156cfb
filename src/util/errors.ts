/**
 * Errors a user can cause. The CLI prints `message` (and `hint`, when there is
 * one) without a stack trace and exits with `exitCode`; anything that is not a
 * UserError is a bug and is printed with its stack under TSCOMPOSE_DEBUG.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** The object asked for does not exist (Docker answers 404; we exit 1 with its name). */
export class NotFoundError extends UserError {
  constructor(kind: string, name: string) {
    super(`No such ${kind}: ${name}`, 1);
    this.name = 'NotFoundError';
  }
}

/** The operation conflicts with the current state (in use, already exists, port taken...). */
export class ConflictError extends UserError {
  constructor(message: string, hint?: string) {
    super(message, 1, hint);
    this.name = 'ConflictError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Whether `err` is the disk being full (or the quota used up): the one write failure a cleanup may step over. */
export function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
