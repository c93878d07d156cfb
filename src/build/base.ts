import { errorMessage } from '../util/errors.js';
import { familiarString, parseReference, withDefaultTag, type ImageRecord } from '../engine/native/image/index.js';
import type { ProgressFn } from '../engine/native/registry/index.js';
import { errorAt, type Position } from './dockerfile/errors.js';
import { pullImage } from '../engine/native/registry/index.js';
import { bootstrapDebianImage, debianSuiteOf } from './bootstrap-image.js';
import type { BuildDeps, BuildOptions } from './types.js';

/**
 * The image a `FROM` names: the store's when it has it (unless --pull),
 * pulled otherwise; and for `debian:<suite>` that cannot be pulled (no
 * registry reachable), a Debian base made here with debootstrap — said so
 * in the build's output.
 */
export async function resolveBaseImage(deps: BuildDeps, ref: string, opts: BuildOptions, pos: Position, say: (line: string) => void): Promise<ImageRecord> {
  let familiar: string;
  try {
    familiar = familiarString(withDefaultTag(parseReference(ref)));
  } catch (err) {
    throw errorAt(pos, `FROM ${ref}: ${errorMessage(err)}`, 'FROM takes an image reference, a build stage name, or scratch');
  }
  const present = await deps.store.resolve(familiar);
  if (present && !opts.pull) return present;
  try {
    const pulled = await pullImage(deps.store, familiar, {
      onProgress: pullLines(say),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.platform ? { platform: opts.platform } : {}),
    });
    return pulled.image;
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    if (present) {
      say(`WARNING: cannot pull ${familiar} (${errorMessage(err)}): using the image the store has`);
      return present;
    }
    const suite = debianSuiteOf(familiar);
    if (suite && opts.bootstrap !== false) {
      say(`${familiar} cannot be pulled (${errorMessage(err)})`);
      say(`Making ${familiar} here instead: debootstrap ${suite} from this host's Debian mirror (tscompose image bootstrap)`);
      return bootstrapDebianImage(deps.store, familiar, { ...(opts.bootstrap?.cacheDir ? { cacheDir: opts.bootstrap.cacheDir } : {}), onLine: say });
    }
    throw errorAt(pos, `FROM ${ref}: ${errorMessage(err)}`);
  }
}

/** Pull progress as build output lines: status changes only, not byte counts. */
function pullLines(say: (line: string) => void): ProgressFn {
  return (p) => {
    if (p.current !== undefined) return;
    say(p.id ? `${p.id}: ${p.status}` : p.status);
  };
}
