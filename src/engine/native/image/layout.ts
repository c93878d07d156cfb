import { join } from 'node:path';
import { digestHex } from './oci.js';

/**
 * Where the image store keeps what (all under its root, created 0700):
 *
 *   lock                      the store lock (records, tags, refs, gc)
 *   blobs/sha256/<hex>        image configs, byte for byte (the id is their digest)
 *   images/<hex>.json         image records (layers' chain ids, size, times)
 *   repositories.json         tags and digests → image id
 *   layers/<chainhex>/        one per layer stack: diff/ (the unpacked layer),
 *                             layer.json, tar-split.gz + contents.json (the tar
 *                             recipe), orphans/
 *   l/<short>                 short symlinks to layers' diff dirs (overlay's
 *                             mount data must fit in a page, as Docker's l/)
 *   empty/                    the lower dir of images with no layer
 *   rw/<container>/           a container's upper/, work/, merged/ and
 *                             layout.json (which is also its image reference)
 *   holds/<pid>-<start>       layers a live process added and has not yet
 *                             given an image (gc keeps them)
 *   tmp/<pid>-<start>-<rand>  staging dirs, and a released container's rw dir
 *                             on its way out; a dead process's are swept
 */
export class StorePaths {
  constructor(readonly root: string) {}

  get lock(): string { return join(this.root, 'lock'); }
  get blobs(): string { return join(this.root, 'blobs', 'sha256'); }
  get images(): string { return join(this.root, 'images'); }
  get repositories(): string { return join(this.root, 'repositories.json'); }
  get layers(): string { return join(this.root, 'layers'); }
  get links(): string { return join(this.root, 'l'); }
  get empty(): string { return join(this.root, 'empty'); }
  get rw(): string { return join(this.root, 'rw'); }
  get holds(): string { return join(this.root, 'holds'); }
  get tmp(): string { return join(this.root, 'tmp'); }

  blob(digest: string): string { return join(this.blobs, digestHex(digest)); }
  image(id: string): string { return join(this.images, `${digestHex(id)}.json`); }
  layer(chainId: string): string { return join(this.layers, digestHex(chainId)); }
  layerDiff(chainId: string): string { return join(this.layer(chainId), 'diff'); }
  container(containerId: string): string { return join(this.rw, containerId); }

  /** Dirs that open() creates. */
  get all(): string[] {
    return [this.root, this.blobs, this.images, this.layers, this.links, this.empty, this.rw, this.holds, this.tmp];
  }
}
