import { errorMessage } from '../util/errors.js';
import { familiarString, parseReference, withDefaultTag, type ImageRecord, type ImageStore } from '../engine/native/image/index.js';
import type { ProgressFn } from '../engine/native/registry/index.js';
import type { PullOptions } from '../engine/types.js';
import { errorAt, type Position } from './dockerfile/errors.js';
import type { BuildDeps, BuildOptions } from './types.js';

/**
 * The registry client and the Debian bootstrap, loaded when a build first
 * needs them: a base image the store lacks, --pull, or a platform to check.
 * A build whose bases are stored (every rebuild) never runs them; loaded with
 * every build, they were 3 of the 46 files (83 of 690 KiB) a no-op rebuild
 * through the CLI loaded (docs/internals.md, "Lazy loading").
 */
const registry = () => import('../engine/native/registry/index.js');
const bootstrap = () => import('./bootstrap-image.js');

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
    const { pullImage } = await registry();
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
    const { bootstrapDebianImage, debianSuiteOf } = await bootstrap();
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

/** Only this host's platform can be built (RUN runs here); the registry's platform parser says what that is. */
export async function checkPlatform(platform: string, error: (host: string) => Error): Promise<void> {
  const { hostPlatform, parsePlatform, platformString } = await registry();
  const host = platformString(hostPlatform());
  let wanted: string;
  try {
    wanted = platformString(parsePlatform(platform));
  } catch {
    throw error(host);
  }
  if (wanted !== host) throw error(host);
}

/** `images.pull` of the native Engine (it takes the Engine interface's PullOptions). */
export async function pullWithOptions(store: ImageStore, ref: string, options: PullOptions = {}): Promise<void> {
  const { pullImage } = await registry();
  await pullImage(store, ref, {
    ...(options.platform ? { platform: options.platform } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
}
