import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildImage } from '../../src/build/builder.js';
import type { BuildOptions, BuildResult } from '../../src/build/types.js';
import type { RuntimeRoot } from '../runtime/helpers.js';

/** Build contexts written by the tests, and builds that collect their output. */

const made: string[] = [];

export type ContextFiles = Record<string, string | { content: string | Buffer; mode?: number }>;

export function writeContext(files: ContextFiles, dir = mkdtempSync(join(tmpdir(), 'tsc-ctx-'))): string {
  if (!made.includes(dir)) made.push(dir);
  for (const [rel, spec] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    const { content, mode } = typeof spec === 'string' ? { content: spec, mode: undefined } : spec;
    writeFileSync(path, content);
    if (mode !== undefined) chmodSync(path, mode);
  }
  return dir;
}

export function removeContexts(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface Built {
  result: BuildResult;
  output: string;
  ms: number;
}

export async function build(root: RuntimeRoot, context: string, opts: Partial<BuildOptions> = {}): Promise<Built> {
  const lines: string[] = [];
  const t0 = performance.now();
  const result = await buildImage({ store: root.store, runtime: root.runtime }, { context, onLine: (l) => lines.push(l), ...opts });
  return { result, output: lines.join('\n'), ms: performance.now() - t0 };
}

/** Builds expecting a failure; gives the error and the output so far. */
export async function buildFails(root: RuntimeRoot, context: string, opts: Partial<BuildOptions> = {}): Promise<{ error: Error; output: string }> {
  const lines: string[] = [];
  try {
    await buildImage({ store: root.store, runtime: root.runtime }, { context, onLine: (l) => lines.push(l), ...opts });
  } catch (error) {
    return { error: error as Error, output: lines.join('\n') };
  }
  throw new Error(`the build succeeded:\n${lines.join('\n')}`);
}

/** What a store holds: image ids and tags, to show that a failed build left nothing. */
export async function storeSnapshot(root: RuntimeRoot): Promise<{ images: string[]; tags: string[]; tmp: string[] }> {
  const images = await root.store.list();
  return {
    images: images.map((i) => i.id).sort(),
    tags: images.flatMap((i) => i.repoTags).sort(),
    tmp: readdirSync(join(root.store.root, 'tmp')),
  };
}
