import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';
import { ComposeError, type Diagnostic } from '../../src/project/diagnostics.js';
import { loadProject, type LoadOptions } from '../../src/project/load.js';
import type { Project } from '../../src/project/types.js';

/** Temp directories made by a test, removed after it whatever happens. */
const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A project directory named `name` (the project name comes from it) holding `files`. */
export function projectDir(files: Record<string, string>, name = 'proj'): string {
  const root = mkdtempSync(join(tmpdir(), 'tsc-spec-'));
  made.push(root);
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

export interface Loaded {
  project: Project;
  warnings: string[];
  dir: string;
}

/** Loads compose.yaml (plus any other files) from a fresh directory, with a controlled environment. */
export async function load(compose: string, opts: Partial<LoadOptions> & { files?: Record<string, string> } = {}): Promise<Loaded> {
  const { files, ...rest } = opts;
  const dir = projectDir({ 'compose.yaml': compose, ...files });
  const warnings: string[] = [];
  const project = await loadProject({ cwd: dir, environment: {}, onWarning: (m) => warnings.push(m), ...rest });
  return { project, warnings, dir };
}

/** Loads expecting a ComposeError; returns its diagnostics. */
export async function loadErrors(compose: string, opts: Partial<LoadOptions> & { files?: Record<string, string> } = {}): Promise<Diagnostic[]> {
  try {
    await load(compose, opts);
  } catch (err) {
    if (err instanceof ComposeError) return [...err.diagnostics];
    throw err;
  }
  throw new Error('expected the project to be rejected, but it loaded');
}

/** `line:col: message` for each diagnostic, for compact assertions. */
export function brief(diags: Diagnostic[]): string[] {
  return diags.map((d) => `${d.line}:${d.col}: ${d.message}`);
}
