import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCacheDir, pruneOldest } from '../util/cache-dir.js';
import type { MapNode } from './tree.js';

/**
 * The trees a compose file parsed into (parseYaml's MapNode[]), remembered by
 * digest, so that a command run again on the same file (a no-op `up`) does not
 * parse its YAML again: the yaml library's lexer, parser and composer, run
 * cold in a fresh process, were ~9 % of a no-op `up`'s instructions (callgrind:
 * 319 M with the parse, 292 M with the tree read back).
 *
 * The key is a sha256 of the code that parses (`build`: the bundle's build id,
 * a hash of all its files, yaml library and converter included, so another
 * build gets other keys), the file's name, the directory its relative paths
 * start from (both are in every node's position), and its text. Only a parse
 * that reported nothing is kept (an error is reported again each time), and
 * only a tree that JSON carries exactly (a YAML .inf or .nan is not). An
 * entry is written by temp file and rename; losing one (a crash, a full disk,
 * a read-only state root) only means parsing again, so nothing is synced, and
 * an error in reading or writing is a miss. The directory is made only in an
 * existing grandparent (the state root), as validated-models.ts does.
 */
export class ParsedTrees {
  /** Past this many entries, a new one removes the oldest. */
  static readonly MAX_ENTRIES = 64;

  constructor(
    readonly dir: string,
    private readonly build: string,
  ) {}

  keyOf(text: string, file: string, baseDir: string): string {
    return createHash('sha256').update(this.build).update('\0').update(file).update('\0').update(baseDir).update('\0').update(text).digest('hex');
  }

  /** The trees remembered under `key`, each read afresh (callers change them); undefined on a miss. */
  get(key: string): MapNode[] | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, key), 'utf8'), revive) as MapNode[];
    } catch {
      return undefined;
    }
  }

  remember(key: string, trees: readonly MapNode[]): void {
    let text: string | undefined;
    try {
      text = JSON.stringify(trees, replace);
    } catch {
      return; // a value JSON cannot carry exactly
    }
    const path = join(this.dir, key);
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      makeCacheDir(this.dir);
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, path);
      pruneOldest(this.dir, ParsedTrees.MAX_ENTRIES);
    } catch {
      rmSync(tmp, { force: true });
    }
  }

}

/** A mapping's entries (a Map) as [key, entry] pairs; a number JSON would change (NaN, ±Infinity, -0) refuses the tree. */
function replace(_key: string, value: unknown): unknown {
  if (value instanceof Map) return { $entries: [...value] };
  if (typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0))) throw new RangeError('not carried by JSON');
  return value;
}

function revive(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && '$entries' in value) return new Map((value as { $entries: [string, unknown][] }).$entries);
  return value;
}
