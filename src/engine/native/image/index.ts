/**
 * The native engine's image store. Other modules import from here only.
 */
export { ImageStore } from './store.js';
export type { ImageRecord, RootfsLayout, LayerRecord, AddedLayer, AddLayerOptions, DeleteReport, AddImageOptions, AddedImage } from './store.js';
export type { OciImage, OciImageConfig, OciHealthConfig, OciHistory, OciRootFs, OciDescriptor, OciManifest, OciIndex, OciPlatform } from './oci.js';
export {
  MediaType, INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, LAYER_MEDIA_TYPES, ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME,
  chainIdOf, chainIds, sha256Digest, sha256Hex, digestHex, isDigest, ociArchitecture, validateImageConfig,
} from './oci.js';
export {
  parseReference, withDefaultTag, referenceString, repositoryName, familiarName, familiarString, normalizeTaggedName, familiarize,
  DEFAULT_DOMAIN, DEFAULT_TAG, type ImageReference,
} from './reference.js';
export { LayerRefusedError } from './extract.js';
// tar-stream, loaded at the first pack or extract (and with binary xattrs kept): no static import of the package.
export { tar, type TarHeader } from './tarlib.js';
export { importRootfsTar, type ImportOptions } from './import.js';
export { isMountPoint, mountPoints, overlayExtraOptions } from './rootfs.js';
export { applyChanges } from './changes.js';
export { loadArchive, type LoadedImage } from './archive/load.js';
export { saveImages } from './archive/save.js';
