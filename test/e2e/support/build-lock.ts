import { join } from 'node:path';
import { withLock } from '../../../src/util/lock.js';
import { cacheDir } from '../../support/cache.js';

/**
 * Test files that build the example's images run in parallel workers; the
 * legacy Docker builder would build the same layers twice at once. Under this
 * lock the second build finds the first one's layers in the cache.
 */
export function withExampleBuildLock<T>(fn: () => Promise<T>): Promise<T> {
  return withLock(join(cacheDir(), 'wordpress-example-build.lock'), fn, 40 * 60_000);
}
