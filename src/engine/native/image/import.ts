import type { Readable } from 'node:stream';
import { applyChanges } from './changes.js';
import { ociArchitecture, type OciImage } from './oci.js';
import type { AddedImage, ImageStore } from './store.js';

/**
 * `docker import`: a root filesystem tar becomes a one-layer image with an
 * empty config (which `configure` may edit: --change instructions) and the
 * history comment Docker writes ("Imported from -" for stdin).
 */
export interface ImportOptions {
  /** NAME[:TAG] to give the image. */
  tags?: string[];
  /** Dockerfile instructions applied to the config: those `docker import --change` takes (CMD, ENV, ...). */
  changes?: string[];
  /**
   * Edits the assembled config before it is stored (after `changes`); the CLI
   * applies its --change instructions here with the Dockerfile builder's
   * semantics, the same as `commit --change`.
   */
  configure?: (config: OciImage) => OciImage;
  /** The history comment; Docker's default is `Imported from <source>`. */
  message?: string;
  /** What the tar is, for the default message and errors: a file name or `-`. */
  source?: string;
}

export async function importRootfsTar(store: ImageStore, tar: Readable | string, opts: ImportOptions = {}): Promise<AddedImage> {
  const source = opts.source ?? (typeof tar === 'string' ? tar : '-');
  // As Docker: the root is 0755 whatever the tar's `./` entry says (a 0700 root would lock every non-root user out of the image).
  const layer = await store.addLayerFromTar(tar, { what: `the root filesystem tar ${source === '-' ? 'on stdin' : source}`, rootMode: 0o755 });
  const created = new Date().toISOString();
  const message = opts.message ?? `Imported from ${source}`;
  const config: OciImage = {
    architecture: ociArchitecture(),
    os: 'linux',
    created,
    config: applyChanges({}, opts.changes ?? []),
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [{ created, comment: message }],
  };
  if (message) config.comment = message;
  return store.addImage(opts.configure ? opts.configure(config) : config, { tags: opts.tags ?? [] });
}
