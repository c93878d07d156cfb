import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ensurePrivateDir, statePath } from '../util/paths.js';
import { readJsonIfExists, writeJsonAtomic } from '../util/atomic.js';

/**
 * The build cache: one small record per build step, keyed by a hash of
 * everything the step's result depends on — the key of the step before it,
 * the layer stack it starts from, the instruction after variable
 * substitution, and for COPY/ADD the content of what is copied. A record
 * holds when the step first ran (so that an unchanged build makes the same
 * image id again) and the layer it produced, if any. Records are written
 * only once a step is complete; a record whose layer has left the store is
 * a miss.
 */

export interface CacheRecord {
  key: string;
  /** The step's history time, reused on every hit. */
  created: string;
  /** The layer the step made (chain id and DiffID), or none for a config-only step or an empty diff. */
  chainId?: string;
  diffId?: string;
}

export function stepKey(previous: string, parentChainId: string | null, description: string): string {
  return createHash('sha256').update(`${previous}\n${parentChainId ?? 'none'}\n${description}`).digest('hex');
}

export class BuildCache {
  constructor(readonly dir: string = statePath('build', 'cache')) {}

  private file(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`invalid cache key ${key}`);
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  get(key: string): CacheRecord | undefined {
    return readJsonIfExists<CacheRecord>(this.file(key));
  }

  put(rec: CacheRecord): void {
    const file = this.file(rec.key);
    ensurePrivateDir(join(file, '..'));
    writeJsonAtomic(file, rec);
  }
}
