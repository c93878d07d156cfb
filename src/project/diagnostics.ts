import { isAbsolute, relative } from 'node:path';
import { UserError } from '../util/errors.js';

/** A place in a user's file: 1-based line and column, as editors count them. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

/** One thing wrong with the user's input, at the place it was written. */
export interface Diagnostic extends SourcePos {
  message: string;
}

/**
 * Everything wrong with a compose project, reported at once: one
 * `file:line:col: message` line per diagnostic, in file order, so that a user
 * fixes them all in one pass instead of one per run.
 */
export class ComposeError extends UserError {
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[]) {
    const sorted = sortDiagnostics(diagnostics);
    super(sorted.map(formatDiagnostic).join('\n'), 1);
    this.name = 'ComposeError';
    this.diagnostics = sorted;
  }

  /** The first problem's file (absolute; '-' for stdin), line and column (1-based; 0 when the problem has no place in the file). */
  get file(): string {
    return this.diagnostics[0]?.file ?? '';
  }

  get line(): number {
    return this.diagnostics[0]?.line ?? 0;
  }

  get column(): number {
    return this.diagnostics[0]?.col ?? 0;
  }
}

/** `file:line:col: message`, with the file relative to the current directory when it lies under it. */
export function formatDiagnostic(d: Diagnostic): string {
  if (!d.file) return d.message;
  const where = d.line > 0 ? `${displayPath(d.file)}:${d.line}:${d.col}` : displayPath(d.file);
  return `${where}: ${d.message}`;
}

export function displayPath(file: string): string {
  if (file === '-') return '(stdin)';
  if (!isAbsolute(file)) return file;
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const unique: Diagnostic[] = [];
  for (const d of diagnostics) {
    const key = `${d.file}\0${d.line}\0${d.col}\0${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(d);
  }
  // Stable: files in first-seen order, then by position.
  const fileOrder = new Map<string, number>();
  for (const d of unique) if (!fileOrder.has(d.file)) fileOrder.set(d.file, fileOrder.size);
  return unique
    .map((d, i) => ({ d, i }))
    .sort((a, b) => fileOrder.get(a.d.file)! - fileOrder.get(b.d.file)! || a.d.line - b.d.line || a.d.col - b.d.col || a.i - b.i)
    .map(({ d }) => d);
}

/**
 * Collects diagnostics across a phase so that all of them are reported, and
 * warnings, which never stop a load.
 */
export class Diagnostics {
  readonly errors: Diagnostic[] = [];

  constructor(private readonly warn: (message: string) => void = () => {}) {}

  error(at: SourcePos | undefined, message: string): void {
    this.errors.push({ file: at?.file ?? '', line: at?.line ?? 0, col: at?.col ?? 0, message });
  }

  warning(at: SourcePos | undefined, message: string): void {
    this.warn(at ? formatDiagnostic({ ...at, message }) : message);
  }

  get failed(): boolean {
    return this.errors.length > 0;
  }

  /** Ends a phase: throws everything collected so far, if anything. */
  throwIfAny(): void {
    if (this.errors.length > 0) throw new ComposeError(this.errors);
  }
}
