// The store's own file, not its index: the index also brings the archive and import code, which a runtime never runs.
import { ImageStore, type ImageRecord, type RootfsLayout } from '../image/store.js';
import type { OciImageConfig } from '../image/oci.js';

/**
 * What the runtime needs from the image store (src/engine/native/image):
 * resolving a reference to an image and its config, and a container's
 * overlay layout. Kept narrow so tests and other callers can pass the store
 * they already opened.
 */
export type RuntimeImages = Pick<ImageStore, 'get' | 'prepareRootfs' | 'releaseRootfs'>;

export type ImageConfig = OciImageConfig;
export type PreparedRootfs = RootfsLayout;
export type { ImageRecord };

export async function openImages(): Promise<RuntimeImages> {
  return ImageStore.open();
}

export function imageConfigOf(image: ImageRecord): ImageConfig {
  return image.config.config ?? {};
}
