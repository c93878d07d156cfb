import type { Engine } from '../engine/types.js';
import type { Project } from '../project/types.js';
import { serviceHash } from '../planner/hash.js';
import { imageRef, readContents } from '../planner/observe.js';
import { checkServices } from '../planner/reconcile.js';
import { UserError } from '../util/errors.js';

/**
 * What `config` reads from the engine: the services' config hashes (the
 * hash `up` labels each container with and recreates on, so it covers the
 * image the service's reference resolves to) and the images' registry digests.
 */

/** `config --hash`: each service's config hash, in the order given ("*": all, by name). */
export async function serviceConfigHashes(engine: Engine, project: Project, services: readonly string[]): Promise<Array<{ service: string; hash: string }>> {
  const names = services.includes('*') ? Object.keys(project.services).sort() : [...services];
  checkServices(project, names);
  const contents = readContents(project);
  const contentDigests = Object.fromEntries(Object.entries(contents).map(([k, v]) => [k, v.digest]));
  const out: Array<{ service: string; hash: string }> = [];
  for (const name of names) {
    const ref = imageRef(project, name);
    const image = await engine.images.inspect(ref);
    if (!image) throw new UserError(`the image ${ref} of service ${name} is not here, and its id is part of the service's config hash`, 1, `pull or build it first (tscompose pull ${name} / build ${name})`);
    out.push({ service: name, hash: serviceHash(project, project.services[name]!, { imageId: image.id, contentDigests }) });
  }
  return out;
}

/** The repository of a reference, without tag or digest: `localhost:5000/app:1` → `localhost:5000/app`. */
function repositoryOf(ref: string): string {
  const noDigest = ref.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/**
 * `config --resolve-image-digests` / `--lock-image-digests`: each service's
 * image pinned to the registry digest the engine's image store recorded
 * when it was pulled or pushed (`name:tag@sha256:…`, as Compose writes it).
 * An image that never came from or went to a registry has none: refused.
 */
export async function pinnedImages(engine: Engine, project: Project): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(project.services).sort()) {
    const ref = project.services[name]!.image;
    if (!ref) continue; // built and never pushed: Compose leaves it too
    if (ref.includes('@')) {
      out[name] = ref;
      continue;
    }
    const image = await engine.images.inspect(ref);
    const repo = repositoryOf(ref);
    const digest = image?.repoDigests.find((d) => repositoryOf(d) === repo || repositoryOf(d) === `docker.io/library/${repo}` || repositoryOf(d) === `docker.io/${repo}`);
    if (!digest) {
      throw new UserError(
        image ? `the image ${ref} of service ${name} has no registry digest (it was not pulled from or pushed to a registry)` : `the image ${ref} of service ${name} is not here`,
        1,
        `pull it first (tscompose pull ${name}), or push it`,
      );
    }
    out[name] = `${ref}@${digest.split('@')[1]}`;
  }
  return out;
}

/** The project with its services' images replaced by `pinned`. */
export function withImages(project: Project, pinned: Record<string, string>): Project {
  const services = Object.fromEntries(Object.entries(project.services).map(([n, s]) => [n, pinned[n] ? { ...s, image: pinned[n] } : s]));
  return { ...project, services };
}
