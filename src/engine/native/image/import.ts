import type { Readable } from 'node:stream';
import { applyChanges } from './changes.js';
import { ociArchitecture, type OciImage } from './oci.js';
import type { AddedImage, ImageStore } from './store.js';

/**
 * `docker import`: a root filesystem tar becomes a one-layer image whose
 * config is empty but for --change instructions, with the history comment
 * Docker writes ("Imported from -" for stdin).
 */
export interface ImportOptions {
  /** NAME[:TAG] to give the image. */
  tags?: string[];
  /** Dockerfile instructions applied to the config (CMD, ENV, ...). */
  changes?: string[];
  /** The history comment; Docker's default is `Imported from <source>`. */
  message?: string;
  /** What the tar is, for the default message and errors: a file name or `-`. */
  source?: string;
}

export async function importRootfsTar(store: ImageStore, tar: Readable | string, opts: ImportOptions = {}): Promise<AddedImage> {
  const source = opts.source ?? (typeof tar === 'string' ? tar : '-');
  const layer = await store.addLayerFromTar(tar, { what: `the root filesystem tar ${source === '-' ? 'on stdin' : source}` });
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
  return store.addImage(config, { tags: opts.tags ?? [] });
}
