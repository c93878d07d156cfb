import { readdirSync, readFileSync } from 'node:fs';
import { readJsonCached, writeJsonAtomic } from '../../../util/atomic.js';
import { validateImageConfig, type OciImage } from './oci.js';
import type { StorePaths } from './layout.js';
import { byCodeUnits } from '../../../util/order.js';

/**
 * Image records and tags on disk. An image is its config blob (whose digest
 * is its id) plus a small record; tags and digest references live in one
 * file, repositories.json, replaced atomically under the store lock.
 */

/** What the store knows about an image, for every module that uses one. */
export interface ImageRecord {
  /** `sha256:` + hex digest of the config blob. */
  id: string;
  /** Familiar `name:tag` strings, as `docker image inspect` shows them. */
  repoTags: string[];
  /** Familiar `name@sha256:...` strings. */
  repoDigests: string[];
  /** When the image was created (the config's `created`, else when it was added here). */
  created: string;
  /** The full OCI image config. */
  config: OciImage;
  /** Chain ids of the layer stack, bottom first (one per rootfs.diff_ids entry). */
  chainIds: string[];
  /** Bytes of file content over all layers. */
  size: number;
}

/** The record file, images/<hex>.json. */
export interface StoredImage {
  id: string;
  chainIds: string[];
  size: number;
  /** When this store got the image. */
  added: string;
  lastTagTime?: string;
}

/** repositories.json: full references (`docker.io/library/busybox:latest`, `...@sha256:..`) → image id. */
export interface Repositories {
  tags: Record<string, string>;
  digests: Record<string, string>;
}

export function readRepositories(paths: StorePaths): Repositories {
  const r = readJsonCached<Repositories>(paths.repositories);
  return { tags: r?.tags ?? {}, digests: r?.digests ?? {} };
}

export function writeRepositories(paths: StorePaths, repos: Repositories): void {
  const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => byCodeUnits(a, b)));
  writeJsonAtomic(paths.repositories, { tags: sorted(repos.tags), digests: sorted(repos.digests) });
}

export function readStoredImage(paths: StorePaths, id: string): StoredImage | undefined {
  return readJsonCached<StoredImage>(paths.image(id));
}

export function storedImageIds(paths: StorePaths): string[] {
  return readdirSync(paths.images)
    .filter((n) => /^[0-9a-f]{64}\.json$/.test(n))
    .map((n) => `sha256:${n.slice(0, 64)}`);
}

export function readConfig(paths: StorePaths, id: string): OciImage {
  const config = readJsonCached<unknown>(paths.blob(id));
  if (config === undefined) readFileSync(paths.blob(id)); // missing: throws ENOENT, as a plain read did
  return validateImageConfig(config, `config blob ${id}`);
}

/** Tags and digests of one image, from a repositories snapshot. */
export function refsOf(repos: Repositories, id: string): { tags: string[]; digests: string[] } {
  const tags = Object.entries(repos.tags).filter(([, v]) => v === id).map(([k]) => k);
  const digests = Object.entries(repos.digests).filter(([, v]) => v === id).map(([k]) => k);
  return { tags, digests };
}
