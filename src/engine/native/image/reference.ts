import { UserError } from '../../../util/errors.js';

/**
 * Image references `[domain/]path[:tag][@digest]` with Docker's normalization
 * (distribution/reference): `busybox` is `docker.io/library/busybox:latest`,
 * `me/app` is `docker.io/me/app`, a first component with a dot, a colon or
 * named localhost is a registry. Printed back the familiar way, as `docker
 * images` does.
 */
export interface ImageReference {
  /** Registry host[:port]; `docker.io` for Docker Hub. */
  domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  path: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_MAX = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const ID_RE = /^[a-f0-9]{64}$/;

function invalid(ref: string, why: string): UserError {
  return new UserError(`invalid reference format: ${JSON.stringify(ref)}: ${why}`, 1,
    'A reference is [REGISTRY/]NAME[:TAG][@DIGEST], e.g. busybox, busybox:1.36, registry.local:5000/team/app:v2');
}

/** Parses and normalizes a reference; a bare name gets no tag (see withDefaultTag). */
export function parseReference(ref: string): ImageReference {
  if (ref === '') throw invalid(ref, 'it is empty');
  if (ID_RE.test(ref)) {
    throw new UserError(`invalid repository name (${ref}), cannot specify 64-byte hexadecimal strings`, 1,
      'To name an image by id, write sha256:<id> or use the id where an image is expected');
  }
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw invalid(ref, `"${digest}" is not a digest (algorithm:hex)`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid(ref, `"${tag}" is not a valid tag (letters, digits, _ . -, at most 128, not starting with . or -)`);
  }
  if (rest === '') throw invalid(ref, 'the repository name is empty');
  if (rest.length > NAME_TOTAL_MAX) throw invalid(ref, `the repository name is longer than ${NAME_TOTAL_MAX} characters`);

  const { domain, path } = splitDomain(rest);
  if (!DOMAIN_RE.test(domain)) throw invalid(ref, `"${domain}" is not a valid registry host`);
  if (path !== path.toLowerCase()) {
    throw new UserError(`invalid reference format: repository name (${path}) must be lowercase`);
  }
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT_RE.test(component)) {
      throw invalid(ref, `"${component}" is not a valid name component (lowercase letters and digits, separated by . _ __ or -)`);
    }
  }
  const out: ImageReference = { domain, path };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  let domain: string;
  let path: string;
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    path = name;
  } else {
    domain = first;
    path = name.slice(slash + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_REPO_PREFIX + path;
  return { domain, path };
}

/** Adds `:latest` to a reference that has neither tag nor digest. */
export function withDefaultTag(ref: ImageReference): ImageReference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** `docker.io/library/busybox` */
export function repositoryName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full normalized form: `docker.io/library/busybox:latest`, `...@sha256:...`. */
export function referenceString(ref: ImageReference): string {
  let s = repositoryName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The repository as `docker images` prints it: `busybox`, `me/app`, `registry.local:5000/app`. */
export function familiarName(ref: ImageReference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  const p = ref.path;
  if (p.startsWith(OFFICIAL_REPO_PREFIX) && !p.slice(OFFICIAL_REPO_PREFIX.length).includes('/')) {
    return p.slice(OFFICIAL_REPO_PREFIX.length);
  }
  return p;
}

/** `busybox:latest`, `me/app@sha256:...` */
export function familiarString(ref: ImageReference): string {
  let s = familiarName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** Normalizes a name[:tag] given by a user to its full stored form, `latest` by default. */
export function normalizeTaggedName(ref: string): string {
  const parsed = withDefaultTag(parseReference(ref));
  if (parsed.digest !== undefined) {
    throw new UserError(`refusing to create a tag with a digest reference: ${ref}`, 1, 'Give NAME[:TAG] without @DIGEST');
  }
  return referenceString(parsed);
}

/** Turns a stored full reference back into its familiar form; the argument must be one we normalized. */
export function familiarize(fullRef: string): string {
  return familiarString(parseReference(fullRef));
}
