import { existsSync } from 'node:fs';
import { UserError } from '../../../util/errors.js';
import type { StorePaths } from './layout.js';
import { readConfig, readRepositories, readStoredImage, refsOf, storedImageIds, type ImageRecord, type Repositories } from './records.js';
import { familiarize, parseReference, referenceString, withDefaultTag } from './reference.js';

/**
 * Finding an image by reference in the store's records: the store's own
 * lookup (ImageStore.resolve is these), and what the Engine reads directly
 * when it only inspects (a no-op `up` comparing image ids), without the
 * layer, root filesystem and archive code that opening the store loads.
 */

/** The image id `ref` names: `sha256:<id>`, name[:tag] or name@digest (Docker's normalization), or a unique id prefix. */
export function resolveImageId(paths: StorePaths, ref: string, repos: Repositories): string | undefined {
  if (/^sha256:[0-9a-f]{64}$/.test(ref)) return existsSync(paths.image(ref)) ? ref : undefined;
  const byName = resolveImageName(paths, ref, repos);
  if (byName !== undefined) return byName;
  const m = /^(?:sha256:)?([0-9a-f]{1,64})$/.exec(ref);
  if (!m) return undefined;
  const matches = storedImageIds(paths).filter((id) => id.slice(7).startsWith(m[1]!));
  if (matches.length > 1) throw new UserError(`image id prefix ${ref} is ambiguous: it matches ${matches.length} images`, 1, 'Give more characters of the id');
  return matches[0];
}

/** The image id a tag or digest reference points at (not an id). */
export function resolveImageName(paths: StorePaths, ref: string, repos: Repositories): string | undefined {
  let parsed;
  try {
    parsed = withDefaultTag(parseReference(ref));
  } catch {
    return undefined;
  }
  const full = referenceString(parsed);
  const id = parsed.digest !== undefined ? repos.digests[full] : repos.tags[full];
  return id !== undefined && existsSync(paths.image(id)) ? id : undefined;
}

/** An image's record: its config, layers, size and the references that name it. */
export function imageRecord(paths: StorePaths, id: string, repos: Repositories): ImageRecord | undefined {
  const stored = readStoredImage(paths, id);
  if (!stored) return undefined;
  const config = readConfig(paths, id);
  const refs = refsOf(repos, id);
  return {
    id,
    repoTags: refs.tags.map(familiarize),
    repoDigests: refs.digests.map(familiarize),
    created: config.created ?? stored.added,
    config,
    chainIds: stored.chainIds,
    size: stored.size,
  };
}

/** The image `ref` names, or undefined. */
export function lookupImage(paths: StorePaths, ref: string): ImageRecord | undefined {
  const repos = readRepositories(paths);
  const id = resolveImageId(paths, ref, repos);
  return id === undefined ? undefined : imageRecord(paths, id, repos);
}
